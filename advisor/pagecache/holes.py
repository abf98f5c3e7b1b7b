"""Blank form pages cached with holes for the values that must differ on every response.

`form_page()` caches the rendered body of a blank form page with holes where per-request values go: the CSRF
token, and whatever the caller adds (the enquiry form's submission id and signed time-trap token). The page is
rendered once with placeholders in place of those values; every request then gets the cached text with fresh
values filled in, so no two visitors ever share a token. Forms bound to a POST are never cached: they hold
what someone typed. A page is only stored when asked for by its canonical URL (the query string the caller names
with canonical()): unknown parameters never make an entry of their own.
"""

import hashlib
import re

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.csp import CSP

from advisor.pagecache import store
from advisor.pagecache.store import key_prefix

# Per deployment (shared, like the cache, by every worker), so no page content can spell a placeholder.
_SECRET = hashlib.sha256(f"form-holes:{settings.SECRET_KEY}".encode()).hexdigest()[:16]


def placeholder(name: str) -> str:
    return f"@@hole-{name}-{_SECRET}@@"


_HOLE = re.compile(rf"@@hole-(\w+)-{_SECRET}@@")


def _policy_uses_nonce() -> bool:
    policies = (getattr(settings, "SECURE_CSP", None) or {}, getattr(settings, "SECURE_CSP_REPORT_ONLY", None) or {})
    return any(CSP.NONCE in values for policy in policies for values in policy.values())


def canonical(response, query: str):
    """Name the query string of the one URL this rendered form page may be stored under."""
    response.form_cache_query = query
    return response


def form_page(request, key, render, holes=(), fill=None):
    """The response `render(values)` gives, from a cache of its body keyed on `key` and the reference data.

    `render` gets {name: placeholder} for "csrf_token" and each of `holes`, to put in its context in place
    of the real values; `fill()` returns the real per-request values of `holes` for each response. Only
    200 responses are cached; a page without holes (an error page) is returned as rendered. The key's version
    is read before rendering, so an edit saved meanwhile leaves this copy under the old version.
    """
    values = {"csrf_token": get_token(request), **(fill() if fill else {})}
    if "form-cache" in settings.SPEED_OFF:
        return render(values)
    key = f"form.{key_prefix()}.{hashlib.md5(repr(key).encode(), usedforsecurity=False).hexdigest()}"
    entry = store.get(key)
    if entry is None:
        response = render({name: placeholder(name) for name in ("csrf_token", *holes)})
        parts = _HOLE.split(response.content.decode(response.charset))
        if len(parts) == 1:
            return response
        entry = (response.status_code, response["Content-Type"], parts)
        canonical_url = getattr(response, "form_cache_query", None) == request.META.get("QUERY_STRING", "")
        if response.status_code == 200 and canonical_url and not response.cookies and not _policy_uses_nonce():
            store.put(key, entry)
    status, content_type, parts = entry
    # parts alternates text and hole names: text, name, text, name, ..., text.
    body = "".join(values[part] if i % 2 else part for i, part in enumerate(parts))
    return HttpResponse(body, status=status, content_type=content_type)
