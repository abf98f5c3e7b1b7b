"""A fixed-window rate limit shared by every worker process.

By default the counters live in the database (RateLimitBucket): one atomic
INSERT ... ON CONFLICT DO UPDATE ... RETURNING per hit, which SQLite (3.35+) and PostgreSQL both run
as a single statement, so two workers can never both read 4 and both write 5. When REDIS_URL is
set the Django cache (Redis, atomic INCR) holds them instead; if Redis is down or slow (any error from the
cache, its socket timeouts included), the hit is counted in the database instead and the log says so once a
minute (logger advisor.cache). A per-process cache such as LocMem would multiply the limit by the number of
workers, so it is never used.

A refusal says when to come back: `retry_after()` gives the seconds until every window that refused has reset,
the 429's Retry-After.
"""

import hashlib
import hmac
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from advisor.enquiries.models import RateLimitBucket
from advisor.web.client_address import client_ip
from advisor.web.logs import warn_every

log = logging.getLogger("advisor.cache")
CACHE_DOWN = "the shared cache is unavailable: the enquiry rate limit counts in the database"


def client_key(request) -> str:
    """A keyed hash of the client's address (behind trusted proxies, the one they forwarded), never the
    address itself. IPv6 is keyed on its /64, the block one subscriber usually gets."""
    address = client_ip(request) or "unknown"
    try:
        ip = ipaddress.ip_address(address)
        if ip.version == 6:
            address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def _hit_database(key: str, window: int) -> int:
    # "window" is a reserved word in PostgreSQL: quote every name.
    table, k, w, h = map(connection.ops.quote_name, (RateLimitBucket._meta.db_table, "key", "window", "hits"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {w}, {h}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({k}, {w}) DO UPDATE SET {h} = {table}.{h} + 1 RETURNING {h}",
            [key, window],
        )
        return cursor.fetchone()[0]


def _hit_cache(key: str, window: int, seconds: int) -> int:
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=seconds + 60)
    return cache.incr(cache_key)


def _count(key: str, window: int, seconds: int) -> int:
    if settings.REDIS_URL:
        try:
            return _hit_cache(key, window, seconds)
        except Exception as exc:
            # Redis is a cache here, never the only guard: the database counts while it is away (counts
            # start again in Redis when it is back, as for a new window).
            warn_every(log, CACHE_DOWN, exc_info=exc)
    return _hit_database(key, window)


def hit(key: str, limit: int, seconds: int, now: float | None = None) -> bool:
    """Count one hit for `key`; True while it is within `limit` hits per `seconds`."""
    return _wait(key, limit, seconds, time.time() if now is None else now) == 0


def _wait(key: str, limit: int, seconds: int, now: float) -> int:
    """Count one hit; 0 within the limit, else the whole seconds until this window resets (1 to `seconds`)."""
    window = int(now // seconds * seconds)
    if _count(f"{key}:{seconds}", window, seconds) <= limit:
        return 0
    return min(seconds, max(1, math.ceil(window + seconds - now)))


def retry_after(scope: str, request, limits=None, now: float | None = None) -> int:
    """Count this request against every (limit, seconds) window: 0 when every window allows it, else the seconds
    until each window that refused it has reset (the 429's Retry-After)."""
    limits = settings.ENQUIRY_RATE_LIMITS if limits is None else limits
    now = time.time() if now is None else now
    key = f"{scope}:{client_key(request)[:32]}"
    # Every window is counted even after one says no, so the longer windows stay honest.
    return max((_wait(key, limit, seconds, now) for limit, seconds in limits), default=0)


def sweep(older_than_seconds: int = 2 * 86400) -> int:
    """Delete counters for windows long past."""
    cutoff = int(time.time()) - older_than_seconds
    deleted, _ = RateLimitBucket.objects.filter(window__lt=cutoff).delete()
    return deleted
