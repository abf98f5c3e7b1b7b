"""Caches that keep pages cheap to serve, built on Django's cache framework (caches["pages"]: a bounded
per-process LocMemCache, or Redis when REDIS_URL is set), and what may never be cached.

- PageCache is the WSGI application in front of Django's (advisor/wsgi.py). It stores only the responses
  views mark with share() (start, plan, compare, /api/plan/), in caches["pages"], keyed on the reference-data
  version, the URL (scheme, host, path and query) and the request headers that page's responses vary on
  (learned from their Vary header, as django.utils.cache does, but kept in the process: a handful of paths).
  A hit is answered with the status, headers and body Django gave the first time (Content-Security-Policy
  and security headers included), counted in the funnel and logged like any request. A response is only
  stored if it is a 200 or 400, sets no cookie, is not private and carries no CSP nonce; one that varies on
  Cookie (start) only when the request has no cookies, and then only answers requests without cookies, so
  no visitor's cookies become a key of their own. Conditional requests go to the view (the API answers 304).
- `form_page()` caches the rendered body of a blank form page with holes where per-request values go:
  the CSRF token, and whatever the caller adds (the enquiry form's submission id and signed time-trap
  token). The page is rendered once with placeholders in place of those values; every request then
  gets the cached text with fresh values filled in, so no two visitors ever share a token. Forms bound
  to a POST are never cached: they hold what someone typed.
"""

import hashlib
import logging
import re
import time

from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import has_vary_header
from django.utils.csp import CSP
from django.utils.http import split_header_value

from advisor import funnel, logs
from pathways.reference import current_stamp
from pathways.signals import reference_changed

log = logging.getLogger(__name__)
# Paths whose views gave a shareable response (a handful: one per public view), each with the request headers
# (as META keys) those responses vary on.
_public_paths: dict[str, tuple[str, ...]] = {}
_stamp: list = [0.0, None]  # [monotonic time read, (version, changed_at)]
# Request headers that make the answer conditional: let the view decide (the API answers 304).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def pages():
    return caches["pages"]


def clear() -> None:
    pages().clear()
    _forget()


def _forget() -> None:
    _public_paths.clear()
    _stamp[:] = [0.0, None]


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    # Pages carry settings (operator details, security headers): tests that change them start afresh
    # (new CACHES are a new store: only what this process learned about the old one goes).
    _forget() if setting == "CACHES" else clear()


@receiver(reference_changed)
def _reference_changed(**kwargs):
    # This process changed the reference data: its next page reads the new version at once (other workers
    # within PAGE_CACHE_VERSION_SECONDS).
    _stamp[:] = [0.0, None]


def reference_stamp() -> tuple:
    """(version, changed_at) of the reference data, read at most every PAGE_CACHE_VERSION_SECONDS."""
    ttl = getattr(settings, "PAGE_CACHE_VERSION_SECONDS", 0)
    now = time.monotonic()
    if _stamp[1] is None or ttl <= 0 or now - _stamp[0] >= ttl:
        _stamp[:] = [now, current_stamp()]
    return _stamp[1]


def _key_prefix() -> str:
    """The reference-data version as a cache key prefix: a new version leaves every stored page behind."""
    return "ref" + hashlib.md5(repr(reference_stamp()).encode(), usedforsecurity=False).hexdigest()[:16]


def htmx_mode(request) -> str:
    """The three shapes of a page, the same test django-htmx makes: a history restore gets the full page
    (with the htmx <title>), other htmx requests the `page` partial, everything else the plain page."""
    meta = request.META
    if meta.get("HTTP_HX_REQUEST") != "true":
        return "full"
    return "restore" if meta.get("HTTP_HX_HISTORY_RESTORE_REQUEST") == "true" else "partial"


# --- Public pages, answered before Django's handler -----------------------------------------------------


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
    known = _public_paths.get(request.path, ())
    if not names <= set(known):
        _public_paths[request.path] = known = tuple(sorted(names | set(known)))
    return known


def _page_key(request, prefix: str, headers: tuple[str, ...]) -> str:
    meta = request.META
    url = f"{request.scheme}://{meta.get('HTTP_HOST', '')}{request.path}?{meta.get('QUERY_STRING', '')}"
    varies = "\n".join(meta.get(name, "") for name in headers)
    return f"page.{prefix}.{hashlib.md5(f'{url}\n{varies}'.encode(), usedforsecurity=False).hexdigest()}"


def _cached(request) -> tuple | None:
    """The stored (status line, headers, body) for this request, or None to let Django answer it."""
    headers = _public_paths.get(request.path) if request.method == "GET" else None
    if headers is None or any(h in request.META for h in _CONDITIONAL):
        return None
    if "HTTP_COOKIE" in headers and request.COOKIES:
        return None  # a page that depends on cookies, asked with cookies
    return pages().get(_page_key(request, _key_prefix(), headers))


def _store(request, response) -> None:
    if not getattr(response, "page_cache_public", False):
        return
    headers = _learn(request, response)
    if request.method == "GET" and not any(h in request.META for h in _CONDITIONAL) and _storable(request, response):
        entry = (f"{response.status_code} {response.reason_phrase}", list(response.items()), response.content)
        pages().set(_page_key(request, _key_prefix(), headers), entry)


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


# --- Blank form pages with per-request holes ------------------------------------------------------------

# Per deployment (shared, like the cache, by every worker), so no page content can spell a placeholder.
_SECRET = hashlib.sha256(f"form-holes:{settings.SECRET_KEY}".encode()).hexdigest()[:16]


def placeholder(name: str) -> str:
    return f"@@hole-{name}-{_SECRET}@@"


_HOLE = re.compile(rf"@@hole-(\w+)-{_SECRET}@@")


def _policy_uses_nonce() -> bool:
    policies = (getattr(settings, "SECURE_CSP", None) or {}, getattr(settings, "SECURE_CSP_REPORT_ONLY", None) or {})
    return any(CSP.NONCE in values for policy in policies for values in policy.values())


def form_page(request, key, render, holes=(), fill=None):
    """The response `render(values)` gives, from a cache of its body keyed on `key` and the reference data.

    `render` gets {name: placeholder} for "csrf_token" and each of `holes`, to put in its context in place
    of the real values; `fill()` returns the real per-request values of `holes` for each response. Only
    200 responses are cached; a page without holes (an error page) is returned as rendered.
    """
    values = {"csrf_token": get_token(request), **(fill() if fill else {})}
    if "form-cache" in settings.SPEED_OFF:
        return render(values)
    cache = pages()
    key = f"form.{_key_prefix()}.{hashlib.md5(repr(key).encode(), usedforsecurity=False).hexdigest()}"
    entry = cache.get(key)
    if entry is None:
        response = render({name: placeholder(name) for name in ("csrf_token", *holes)})
        parts = _HOLE.split(response.content.decode(response.charset))
        if len(parts) == 1:
            return response
        entry = (response.status_code, response["Content-Type"], parts)
        if response.status_code == 200 and not response.cookies and not _policy_uses_nonce():
            cache.set(key, entry)
    status, content_type, parts = entry
    # parts alternates text and hole names: text, name, text, name, ..., text.
    body = "".join(values[part] if i % 2 else part for i, part in enumerate(parts))
    return HttpResponse(body, status=status, content_type=content_type)
