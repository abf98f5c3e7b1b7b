"""Caches that keep pages cheap to serve, and what may never be cached.

Two pieces, both per process (a hit must cost less than a round trip to a shared cache would):

- PageCacheMiddleware answers repeat GETs of pages without personal state (start, plan, compare,
  /api/plan/) before the rest of the middleware stack runs. It stores the complete response as it left
  the stack (Content-Security-Policy and security headers included) under the full URL
  (scheme, host, path, query string), the reference-data version, the htmx mode (full page, partial, or
  history restore) and whether the client accepts gzip. A view opts in with `share(response)`; a response
  is only stored if it is a 200 or 400, says `public`, sets no cookie, and varies on nothing the key
  does not cover, and never if the policy carries a nonce (one that must change on every response; the
  nonce="..." attribute django-htmx's script tag prints is unused while the policy has none). A page that
  varies on Cookie (start) is served from the cache only to visitors without
  a session cookie: only they are sure to see the public copy.

  The reference-data version row is read with one plain-SQL query per request, or at most once per
  PAGE_CACHE_VERSION_SECONDS per process when that setting is above 0 (a change saved through the admin
  then shows on cached pages within that many seconds).

- `form_page()` caches the rendered body of a blank form page with holes where per-request values go:
  the CSRF token, and whatever the caller adds (the enquiry form's submission id and signed time-trap
  token). The page is rendered once with placeholders in place of those values; every request then
  gets the cached text with fresh values filled in, so no two visitors ever share a token. Forms bound
  to a POST are never cached: they hold what someone typed.
"""

import re
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.csp import CSP

from pathways.reference import current_stamp

MAX_ENTRIES = 500  # per cache, per process; least recently used go first
MAX_BODY = 512 * 1024  # bigger responses are served normally, never stored

_lock = threading.Lock()
_pages: OrderedDict = OrderedDict()
_shared_paths: set[str] = set()
_forms: OrderedDict = OrderedDict()
_forms_owner: list = [None]  # the Reference the form pages were rendered from
_stamp: list = [0.0, None]  # [monotonic time read, (version, changed_at)]

_GZIP = re.compile(r"\bgzip\b")
# Request headers that make the answer conditional: let the view decide (the API answers 304).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
# What a stored response may vary on: all part of the key, or (Cookie) checked before serving.
_VARY_COVERED = {"hx-request", "accept-encoding", "cookie"}


def clear() -> None:
    with _lock:
        _pages.clear()
        _shared_paths.clear()
        _forms.clear()
        _stamp[:] = [0.0, None]


@receiver(setting_changed)
def _settings_changed(**kwargs):
    # Pages carry settings (operator details, security headers): tests that change them start afresh.
    clear()


def _put(store: OrderedDict, key, value) -> None:
    with _lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > MAX_ENTRIES:
            store.popitem(last=False)


def reference_stamp() -> tuple:
    """(version, changed_at) of the reference data, read at most every PAGE_CACHE_VERSION_SECONDS."""
    ttl = getattr(settings, "PAGE_CACHE_VERSION_SECONDS", 0)
    now = time.monotonic()
    if _stamp[1] is None or ttl <= 0 or now - _stamp[0] >= ttl:
        _stamp[:] = [now, current_stamp()]
    return _stamp[1]


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


class _Entry:
    __slots__ = ("status", "headers", "content", "varies_on_cookie")

    def __init__(self, response):
        self.status = response.status_code
        self.headers = list(response.items())
        self.content = response.content
        self.varies_on_cookie = "cookie" in _vary(response)

    def response(self):
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response.headers[name] = value
        return response


def _vary(response) -> set[str]:
    return {name.strip().lower() for name in response.get("Vary", "").split(",") if name.strip()}


def _storable(response) -> bool:
    if not getattr(response, "page_cache_public", False) or response.status_code not in (200, 400):
        return False
    if response.streaming or response.cookies or len(response.content) > MAX_BODY:
        return False
    policies = response.get("Content-Security-Policy", "") + response.get("Content-Security-Policy-Report-Only", "")
    if "'nonce-" in policies:
        return False  # a nonce must differ on every response
    control = {part.strip().split("=")[0].lower() for part in response.get("Cache-Control", "").split(",")}
    if "public" not in control or control & {"private", "no-store", "no-cache"}:
        return False
    return _vary(response) <= _VARY_COVERED


class PageCacheMiddleware:
    """Second in MIDDLEWARE, just inside the request log: a hit skips everything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if request.path not in _shared_paths or request.method != "GET" or any(name in meta for name in _CONDITIONAL):
            # Only paths that gave a shareable response before pay for reading the version row
            # (not /healthz, static files or the admin).
            response = self.get_response(request)
            if getattr(response, "page_cache_public", False):
                _shared_paths.add(request.path)
            return response
        try:
            stamp = reference_stamp()
        except DatabaseError:
            return self.get_response(request)  # the view says what happened, as it would uncached
        key = (
            request.scheme,
            meta.get("HTTP_HOST", ""),
            request.path,
            meta.get("QUERY_STRING", ""),
            htmx_mode(request),
            bool(_GZIP.search(meta.get("HTTP_ACCEPT_ENCODING", ""))),
            stamp,
        )
        entry = _pages.get(key)
        if entry is not None and not (entry.varies_on_cookie and settings.SESSION_COOKIE_NAME in request.COOKIES):
            return entry.response()
        response = self.get_response(request)
        if _storable(response):
            _put(_pages, key, _Entry(response))
        return response


# --- Blank form pages with per-request holes ------------------------------------------------------------

_SECRET = secrets.token_hex(8)  # per process, so no page content can spell a placeholder


def placeholder(name: str) -> str:
    return f"@@hole-{name}-{_SECRET}@@"


_HOLE = re.compile(rf"@@hole-(\w+)-{_SECRET}@@")


def _policy_uses_nonce() -> bool:
    policies = (getattr(settings, "SECURE_CSP", None) or {}, getattr(settings, "SECURE_CSP_REPORT_ONLY", None) or {})
    return any(CSP.NONCE in values for policy in policies for values in policy.values())


def form_page(request, key, reference, render, holes=(), fill=None):
    """The response `render(placeholders)` gives, from a cache of its body keyed on `key` and `reference`.

    `render` gets {name: placeholder} for "csrf_token" and each of `holes`, to put in its context in place
    of the real values; `fill()` returns the real per-request values of `holes` for each response. Only
    200 responses are cached; a page without holes (an error page) is returned as rendered.
    """
    if "form-cache" in settings.SPEED_OFF:
        values = {"csrf_token": get_token(request), **(fill() if fill else {})}
        return render(values)
    if _forms_owner[0] is not reference:
        with _lock:
            _forms.clear()
            _forms_owner[0] = reference
    entry = _forms.get(key)
    if entry is None:
        response = render({name: placeholder(name) for name in ("csrf_token", *holes)})
        parts = _HOLE.split(response.content.decode(response.charset))
        if len(parts) == 1:
            return response
        entry = (response.status_code, response["Content-Type"], parts)
        if response.status_code == 200 and not response.cookies and not _policy_uses_nonce():
            _put(_forms, key, entry)
    values = {"csrf_token": get_token(request), **(fill() if fill else {})}
    status, content_type, parts = entry
    # parts alternates text and hole names: text, name, text, name, ..., text.
    body = "".join(values[part] if i % 2 else part for i, part in enumerate(parts))
    return HttpResponse(body, status=status, content_type=content_type)
