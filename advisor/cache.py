"""Caches that keep pages cheap to serve, built on Django's cache framework (caches["pages"]: a bounded
per-process LocMemCache, or Redis when REDIS_URL is set), and what may never be cached.

- PageCacheMiddleware is Django's own page cache (django.utils.cache: get_cache_key and learn_cache_key, so
  the key covers the full URL and every header the response varies on), applied only to the responses views
  mark with share() (start, plan, compare, /api/plan/), keyed also on the reference-data version, and placed
  just inside the request log so a hit skips the rest of the middleware. It stores the complete response as
  it left the stack, Content-Security-Policy and security headers included. A response is only stored if it
  is a 200 or 400, sets no cookie, is not private and carries no CSP nonce; one that varies on Cookie
  (start) only when the request has no cookies, so no visitor's cookies become a key of their own.
  Conditional requests go to the view (the API answers them with 304).
- `form_page()` caches the rendered body of a blank form page with holes where per-request values go:
  the CSRF token, and whatever the caller adds (the enquiry form's submission id and signed time-trap
  token). The page is rendered once with placeholders in place of those values; every request then
  gets the cached text with fresh values filled in, so no two visitors ever share a token. Forms bound
  to a POST are never cached: they hold what someone typed.
"""

import hashlib
import re
import time

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import get_cache_key, has_vary_header, learn_cache_key
from django.utils.csp import CSP

from pathways.reference import current_stamp

_public_paths: set[str] = set()  # paths whose views gave a shareable response (a handful: one per public view)
_stamp: list = [0.0, None]  # [monotonic time read, (version, changed_at)]
# Request headers that make the answer conditional: let the view decide (the API answers 304).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def pages():
    return caches["pages"]


def clear() -> None:
    pages().clear()
    _public_paths.clear()
    _stamp[:] = [0.0, None]


@receiver(setting_changed)
def _settings_changed(**kwargs):
    # Pages carry settings (operator details, security headers): tests that change them start afresh.
    clear()


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


# --- Public pages, answered before the middleware stack -----------------------------------------------


def share(response):
    """Mark a response of a page without personal state as fit for PageCacheMiddleware."""
    response.page_cache_public = True
    return response


def _storable(request, response) -> bool:
    if not getattr(response, "page_cache_public", False) or response.status_code not in (200, 400):
        return False
    if response.streaming or response.cookies or "private" in response.get("Cache-Control", ""):
        return False
    if request.COOKIES and has_vary_header(response, "Cookie"):
        return False
    policies = response.get("Content-Security-Policy", "") + response.get("Content-Security-Policy-Report-Only", "")
    return "'nonce-" not in policies  # a nonce must differ on every response


class PageCacheMiddleware:
    """Second in MIDDLEWARE, just inside the request log: a hit skips everything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or request.path not in _public_paths or any(h in request.META for h in _CONDITIONAL):
            # Only paths that gave a shareable response before pay for reading the version row
            # (not /healthz, static files, the questions or the admin).
            response = self.get_response(request)
            if getattr(response, "page_cache_public", False):
                _public_paths.add(request.path)
            return response
        try:
            prefix = _key_prefix()
        except DatabaseError:
            return self.get_response(request)  # the view says what happened, as it would uncached
        cache = pages()
        key = get_cache_key(request, prefix, "GET", cache=cache)
        if key is not None and (response := cache.get(key)) is not None:
            return response
        response = self.get_response(request)
        if _storable(request, response):
            key = learn_cache_key(request, response, cache.default_timeout, prefix, cache=cache)
            cache.set(key, response)
        return response


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
