"""Where cached pages live, and the reference-data version their keys begin with.

Both the public pages (front.py) and the blank form pages (holes.py) live in Django's cache framework,
caches["pages"]: a bounded per-process LocMemCache, or Redis when REDIS_URL is set. Every key begins with the
reference-data version, so an edit to the reference data leaves every stored page behind.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from pathways.reference import current_stamp
from pathways.signals import reference_changed

# Paths whose views gave a shareable response (a handful: one per public view), each with the request headers
# (as META keys) those responses vary on.
public_paths: dict[str, tuple[str, ...]] = {}
_stamp: list = [0.0, None]  # [monotonic time read, (version, changed_at)]


def pages():
    return caches["pages"]


def clear() -> None:
    pages().clear()
    _forget()


def _forget() -> None:
    public_paths.clear()
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


def key_prefix() -> str:
    """The reference-data version as a cache key prefix: a new version leaves every stored page behind."""
    return "ref" + hashlib.md5(repr(reference_stamp()).encode(), usedforsecurity=False).hexdigest()[:16]
