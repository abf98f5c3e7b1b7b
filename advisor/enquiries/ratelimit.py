"""A fixed-window rate limit shared by every worker process.

By default the counters live in the database (RateLimitBucket): one atomic
INSERT ... ON CONFLICT DO UPDATE ... RETURNING per hit, which SQLite (3.35+) and PostgreSQL both run
as a single statement, so two workers can never both read 4 and both write 5. When REDIS_URL is
set the Django cache (Redis, atomic INCR) holds them instead. A per-process cache such as LocMem
would multiply the limit by the number of workers, so it is never used.
"""

import hashlib
import hmac
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from advisor.enquiries.models import RateLimitBucket
from advisor.web.client_address import client_ip


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


def hit(key: str, limit: int, seconds: int, now: float | None = None) -> bool:
    """Count one hit for `key`; True while it is within `limit` hits per `seconds`."""
    now = time.time() if now is None else now
    window = int(now // seconds * seconds)
    full_key = f"{key}:{seconds}"
    count = _hit_cache(full_key, window, seconds) if settings.REDIS_URL else _hit_database(full_key, window)
    return count <= limit


def allow(scope: str, request, limits=None) -> bool:
    """Count this request against every (limit, seconds) window; False if any is exceeded."""
    limits = settings.ENQUIRY_RATE_LIMITS if limits is None else limits
    key = f"{scope}:{client_key(request)[:32]}"
    # Every window is counted even after one says no, so the longer windows stay honest.
    results = [hit(key, limit, seconds) for limit, seconds in limits]
    return all(results)


def sweep(older_than_seconds: int = 2 * 86400) -> int:
    """Delete counters for windows long past."""
    cutoff = int(time.time()) - older_than_seconds
    deleted, _ = RateLimitBucket.objects.filter(window__lt=cutoff).delete()
    return deleted
