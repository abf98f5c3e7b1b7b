"""PageCache, the WSGI application in front of Django's (advisor/wsgi.py), and what it may keep.

It stores only the responses views mark with share() (start, plan, compare, /api/plan/), in caches["pages"]
(store.py), keyed on the release and reference-data version, the URL (scheme, host, path and query) and the
request headers that page's responses vary on (learned from their Vary header, as django.utils.cache does, but
kept in the process: a handful of paths). A hit is answered with the status, headers and body Django gave the
first time (Content-Security-Policy and security headers included), counted in the funnel and logged like
any request; a HEAD gets the same headers and no body.

A response is only stored if it is a 200 asked for by its canonical URL (the query string share() names:
unknown parameters, another order or another spelling never make an entry of their own, so the number of
entries is bounded by the reference data), sets no cookie, is not private and carries no CSP nonce; one that
varies on Cookie (start) only when the request has no cookies, and then only answers requests without cookies,
so no visitor's cookies become a key of their own. Its key takes the version read before the view ran: an edit
saved while the page renders leaves it under the old version. Conditional requests go to the view (the API
answers 304).
"""

import hashlib
import time

from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.utils.cache import has_vary_header
from django.utils.http import split_header_value

from advisor.funnel import counting as funnel
from advisor.pagecache import store
from advisor.pagecache.store import key_prefix, public_paths
from advisor.web import logs

# Request headers that make the answer conditional: let the view decide (the API answers 304).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def share(response, query: str):
    """Mark a response of a page without personal state as fit for PageCache, under the URL with this query
    string (its canonical form) only."""
    response.page_cache_query = query
    return response


def _storable(request, response) -> bool:
    if request.method != "GET" or any(h in request.META for h in _CONDITIONAL):
        return False
    if response.status_code != 200 or request.META.get("QUERY_STRING", "") != response.page_cache_query:
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


def _prefix(request) -> str | None:
    """The key prefix for a request of a path known to be public, read before the view runs; else None."""
    if request.method not in ("GET", "HEAD") or request.path not in public_paths:
        return None
    try:
        return key_prefix()
    except DatabaseError:
        return None  # the version cannot be read: the view says what happened, as it would uncached


def _cached(request, prefix: str) -> tuple | None:
    """The stored (status line, headers, body) for this request, or None to let Django answer it."""
    headers = public_paths[request.path]
    if any(h in request.META for h in _CONDITIONAL):
        return None
    if "HTTP_COOKIE" in headers and request.COOKIES:
        return None  # a page that depends on cookies, asked with cookies
    return store.get(_page_key(request, prefix, headers))


def _store(request, response, prefix: str) -> None:
    if not hasattr(response, "page_cache_query"):
        return
    headers = _learn(request, response)
    if prefix and _storable(request, response):
        entry = (f"{response.status_code} {response.reason_phrase}", list(response.items()), response.content)
        store.put(_page_key(request, prefix, headers), entry)


class PageCache:
    """The WSGI application in front of Django's (advisor/wsgi.py): a hit never reaches Django's handler.

    Django's cache machinery, even first in MIDDLEWARE, answered a hit in about 285 µs in process against
    86 µs for a bare view (request signals, the middleware chain, get_cache_key's i18n and header-list
    lookups, unpickling a whole HttpResponse), too slow for the 60% budget (bench/RESULTS.md). Here a hit
    is a dictionary lookup, one cache read of bytes, the funnel count and the request log line. A store that
    is down or slow is an empty one (store.get), and a version that cannot be read lets Django answer (the view
    says what happened, as it would uncached).
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request = WSGIRequest(environ)
        prefix = _prefix(request)
        entry = _cached(request, prefix) if prefix else None
        if entry is None:
            response = self.application(environ, start_response)
            _store(request, response, prefix)
            return response
        status, headers, body = entry
        status_code = int(status[:3])
        funnel.count(request, status_code)
        logs.log_request(request, status_code, started)
        start_response(status, headers)
        return [b"" if request.method == "HEAD" else body]
