"""PageCache, the WSGI application in front of Django's (advisor/wsgi.py), and what it may keep.

It stores only the responses views mark with share() (start, plan, compare, /api/plan/), in caches["pages"]
(store.py), keyed on the reference-data version, the URL (scheme, host, path and query) and the request
headers that page's responses vary on (learned from their Vary header, as django.utils.cache does, but kept
in the process: a handful of paths). A hit is answered with the status, headers and body Django gave the
first time (Content-Security-Policy and security headers included), counted in the funnel and logged like
any request. A response is only stored if it is a 200 or 400, sets no cookie, is not private and carries no
CSP nonce; one that varies on Cookie (start) only when the request has no cookies, and then only answers
requests without cookies, so no visitor's cookies become a key of their own. Conditional requests go to the
view (the API answers 304).
"""

import hashlib
import logging
import time

from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.utils.cache import has_vary_header
from django.utils.http import split_header_value

from advisor.funnel import counting as funnel
from advisor.pagecache.store import key_prefix, pages, public_paths
from advisor.web import logs

log = logging.getLogger("advisor.cache")
# Request headers that make the answer conditional: let the view decide (the API answers 304).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def share(response):
    """Mark a response of a page without personal state as fit for PageCache."""
    response.page_cache_public = True
    return response


def _storable(request, response) -> bool:
    if not getattr(response, "page_cache_public", False) or response.status_code not in (200, 400):
        return False
    if response.streaming or response.cookies or "private" in response.get("Cache-Control", ""):
        return False
    if has_vary_header(response, "*") or (request.COOKIES and has_vary_header(response, "Cookie")):
        return False
    policies = response.get("Content-Security-Policy", "") + response.get("Content-Security-Policy-Report-Only", "")
    return "'nonce-" not in policies  # a nonce must differ on every response


def _learn(request, response) -> tuple[str, ...]:
    """Remember the request headers this path's responses vary on (all of them seen so far) and return them."""
    names = {"HTTP_" + name.upper().replace("-", "_") for name in split_header_value(response.get("Vary", ""))}
    known = public_paths.get(request.path, ())
    if not names <= set(known):
        public_paths[request.path] = known = tuple(sorted(names | set(known)))
    return known


def _page_key(request, prefix: str, headers: tuple[str, ...]) -> str:
    meta = request.META
    url = f"{request.scheme}://{meta.get('HTTP_HOST', '')}{request.path}?{meta.get('QUERY_STRING', '')}"
    varies = "\n".join(meta.get(name, "") for name in headers)
    return f"page.{prefix}.{hashlib.md5(f'{url}\n{varies}'.encode(), usedforsecurity=False).hexdigest()}"


def _cached(request) -> tuple | None:
    """The stored (status line, headers, body) for this request, or None to let Django answer it."""
    headers = public_paths.get(request.path) if request.method == "GET" else None
    if headers is None or any(h in request.META for h in _CONDITIONAL):
        return None
    if "HTTP_COOKIE" in headers and request.COOKIES:
        return None  # a page that depends on cookies, asked with cookies
    return pages().get(_page_key(request, key_prefix(), headers))


def _store(request, response) -> None:
    if not getattr(response, "page_cache_public", False):
        return
    headers = _learn(request, response)
    if request.method == "GET" and not any(h in request.META for h in _CONDITIONAL) and _storable(request, response):
        entry = (f"{response.status_code} {response.reason_phrase}", list(response.items()), response.content)
        pages().set(_page_key(request, key_prefix(), headers), entry)


class PageCache:
    """The WSGI application in front of Django's (advisor/wsgi.py): a hit never reaches Django's handler.

    Django's cache machinery, even first in MIDDLEWARE, answered a hit in about 285 µs in process against
    86 µs for a bare view (request signals, the middleware chain, get_cache_key's i18n and header-list
    lookups, unpickling a whole HttpResponse), too slow for the 60% budget (bench/RESULTS.md). Here a hit
    is a dictionary lookup, one cache read of bytes, the funnel count and the request log line. Anything
    unexpected (the database or a shared cache unreachable) lets Django answer as if uncached.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request = WSGIRequest(environ)
        try:
            entry = _cached(request)
        except DatabaseError:
            entry = None  # the version cannot be read: the view says what happened, as it would uncached
        except Exception:
            log.exception("page cache unavailable")
            entry = None
        if entry is None:
            response = self.application(environ, start_response)
            try:
                _store(request, response)
            except Exception:
                log.exception("page cache unavailable")
            return response
        status, headers, body = entry
        status_code = int(status[:3])
        funnel.count(request, status_code)
        logs.log_request(request, status_code, started)
        start_response(status, headers)
        return [body]
