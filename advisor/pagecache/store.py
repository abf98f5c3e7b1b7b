"""Where cached pages live, and the release and reference-data version their keys begin with.

Both the public pages (front.py) and the blank form pages (holes.py) live in Django's cache framework,
caches["pages"]: a bounded per-process LocMemCache, or Redis when REDIS_URL is set (shared by a fleet). Every key
begins with the release (a new deploy leaves the old release's pages behind) and the reference-data version (so
does an edit). The store is a cache, never needed: get() and put() treat a store that is down or slow as empty,
stop asking it for a few seconds, and the log says so once a minute.
"""

import hashlib
import logging
import time
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.dispatch import receiver

from advisor.web.logs import warn_every
from pathways.reference import current_stamp
from pathways.signals import reference_changed

log = logging.getLogger("advisor.cache")
# After a failure, the store is left alone this long: a Redis that is down costs one request a refused
# connection (or one REDIS_TIMEOUT when it hangs) every few seconds, not every request.
PAUSE_SECONDS = 5.0
_paused_until = [0.0]

# Paths whose views gave a shareable response (a handful: one per public view), each with the request headers
# (as META keys) those responses vary on.
public_paths: dict[str, tuple[str, ...]] = {}
_stamp: list = [0.0, None]  # [monotonic time read, (version, changed_at)]


def pages():
    return caches["pages"]


def get(key: str):
    """The stored entry, or None when there is none or the store cannot be asked."""
    if time.monotonic() < _paused_until[0]:
        return None
    try:
        return pages().get(key)
    except Exception:
        _failed()
        return None


def put(key: str, entry) -> None:
    if time.monotonic() < _paused_until[0]:
        return
    try:
        pages().set(key, entry)
    except Exception:
        _failed()


def _failed() -> None:
    _paused_until[0] = time.monotonic() + PAUSE_SECONDS
    warn_every(log, "page cache unavailable: pages are rendered without it", exc_info=True)


def clear() -> None:
    pages().clear()
    _forget()


def _forget() -> None:
    public_paths.clear()
    _stamp[:] = [0.0, None]
    _paused_until[0] = 0.0


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    # Pages carry settings (operator details, security headers): tests that change them start afresh
    # (new CACHES are a new store: only what this process learned about the old one goes).
    # A new RELEASE is a deploy: the store keeps the old release's pages, as a shared Redis would.
    if setting == "RELEASE":
        _release.clear()
    _forget() if setting in ("CACHES", "RELEASE") else clear()


@receiver(reference_changed)
def _reference_changed(**kwargs):
    # This process changed the reference data: its next page reads the new version at once (other workers
    # within PAGE_CACHE_VERSION_SECONDS).
    _stamp[:] = [0.0, None]


def reference_stamp() -> tuple:
    """(version, changed_at) of the reference data, read at most every PAGE_CACHE_VERSION_SECONDS.

    While the database cannot be read (restarting, failing over), the last version read stands: nothing can
    change the reference data meanwhile, and stored pages go on being served. The failed connection is closed,
    so the next read opens a new one."""
    ttl = getattr(settings, "PAGE_CACHE_VERSION_SECONDS", 0)
    now = time.monotonic()
    if _stamp[1] is None or ttl <= 0 or now - _stamp[0] >= ttl:
        try:
            _stamp[:] = [now, current_stamp()]
        except DatabaseError:
            connection.close_if_unusable_or_obsolete()
            if _stamp[1] is None:
                raise
            warn_every(log, "database unavailable: cached pages served from the last reference version read")
    return _stamp[1]


def key_prefix() -> str:
    """The release and the reference-data version as a cache key prefix: a deploy or an edit leaves every stored
    page behind. Callers take it before rendering, so a page is never stored under a version newer than its data."""
    stamp = (release(), reference_stamp())
    if _prefix[0] != stamp:
        _prefix[:] = [stamp, "v" + hashlib.md5(repr(stamp).encode(), usedforsecurity=False).hexdigest()[:16]]
    return _prefix[1]


_prefix: list = [None, ""]  # [(release, stamp), its key prefix]: worked out once per version


# What make up a release's pages: the code, the templates and the static files (whose hashed names pages link).
RELEASE_SOURCES = ("advisor", "pathways", "templates", "static")
_release: list[str] = []


def release() -> str:
    """settings.RELEASE (the operator's name for the deploy), else a digest of RELEASE_SOURCES and Django's version,
    computed once per process: two servers on the same tree agree, and any changed file makes a new release."""
    if not _release:
        _release.append(settings.RELEASE or source_digest(settings.BASE_DIR, RELEASE_SOURCES))
    return _release[0]


def source_digest(root: Path, folders) -> str:
    digest = hashlib.sha256(django.__version__.encode())
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"\0{path.relative_to(root)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
