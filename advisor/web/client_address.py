"""The client's address, for the enquiry rate limit and django-axes (AXES_CLIENT_IP_CALLABLE).

With no proxy configured (TRUSTED_PROXY_COUNT = 0, the default) it is the connection's own address,
REMOTE_ADDR, and X-Forwarded-For counts for nothing: any client can send that header. Behind N trusted
proxies, each of which appends the address it received the request from to X-Forwarded-For (nginx's
$proxy_add_x_forwarded_for, Caddy and most load balancers do), the client is the Nth entry from the
right: entries further left were written by the client itself and may be forged.

The address is only ever used as a key (hashed for the rate limit); it is never logged.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote  # a request that did not come through the proxies (a health probe on the private network)
    # Fewer entries than proxies: the request entered the chain part-way; the leftmost is the furthest known.
    candidate = forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # not an address (a proxy misconfigured to pass something else): key on the connection
