"""The anonymous questionnaire funnel: how many times each step happened per day, and nothing about who.

FunnelMiddleware counts what Django answers, and the page cache in front of Django (advisor.pagecache)
counts its hits with count(), so cached pages are counted too. Each response's request is classified by its
resolved URL name, method and status (never by anything about the visitor: no cookie, address, session or
user agent is read, and none is set) and adds one to a counter in this process's memory. Nothing touches the
database on the request path, and a failure to count is logged and dropped: it can never slow or fail a
learner's page.

Each worker flushes its counters in a background thread every FUNNEL_FLUSH_SECONDS, sooner once
FUNNEL_FLUSH_HITS hits are waiting, and once more when the process exits (atexit: gunicorn's workers leave
through sys.exit on a graceful stop or restart). The flush is one INSERT ... ON CONFLICT DO UPDATE
SET hits = hits + excluded.hits per batch, which SQLite and PostgreSQL both understand, so workers never
overwrite each other. A worker killed outright (SIGKILL, out of memory) loses the counts it had not
flushed yet: at most a few seconds' worth.
"""

import atexit
import functools
import logging
import os
import re
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.signals import setting_changed
from django.db import close_old_connections, connection, transaction
from django.dispatch import receiver
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from advisor.funnel.models import FunnelCount, FunnelStep
from pathways.choices import NEW_TO_CODING

log = logging.getLogger("advisor.funnel")

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PAGE_VIEWS = {
    "advisor:start": FunnelStep.START,
    "advisor:check": FunnelStep.CHECK,
    "advisor:enquire": FunnelStep.ENQUIRY_FORM,
}

# The questionnaire's steps whose answer (a POST that redirects) is counted.
ANSWER_STEPS = {FunnelStep.ORIGIN, FunnelStep.CREDENTIALS, FunnelStep.EXPERIENCE, FunnelStep.DESTINATION}

_lock = threading.Lock()
_counts: Counter = Counter()
_pending: list = [0]  # hits in _counts
_day: list = [0.0, None]  # [monotonic time until which the cached local date holds, the date]
_flusher_pid: list = [None]  # the process whose background thread is running (threads do not survive fork)
_wake = threading.Event()
_stop = threading.Event()
_thread: list = [None]
_exit_hook: list = [False]
_last_error_log: list = [0.0]


def classify(request, status: int) -> tuple[str, str, str] | None:
    """(step, origin, destination) for a request that is a funnel step, else None."""
    if request.method not in ("GET", "POST"):
        return None
    match = getattr(request, "resolver_match", None)
    # Answered by the page cache, before URL resolution: resolve it here (no database involved).
    name, step = (match.view_name, match.kwargs.get("step")) if match else _resolve(request.path_info)
    if name is None:
        return None
    if request.method == "GET" and status == 200:
        if name in _PAGE_VIEWS:
            return _PAGE_VIEWS[name], "", ""
        if name == "advisor:plan":
            return FunnelStep.PLAN, *_move(request.META.get("QUERY_STRING", ""))
        return None
    # A valid answer or a sent enquiry redirects (303); a form with errors answers 200 and is not counted.
    # htmx follows the same redirect, so a journey with JavaScript counts exactly like one without.
    if request.method == "POST" and status in (302, 303):
        if name == "advisor:question" and step in ANSWER_STEPS:
            return FunnelStep(step), "", ""
        if name == "advisor:enquire":
            return FunnelStep.ENQUIRY_SENT, "", ""
    return None


@functools.lru_cache(maxsize=512)
def _resolve(path: str) -> tuple[str | None, str | None]:
    """(view name, question step) of a path; remembered, as the same few pages make up nearly every hit."""
    try:
        match = resolve(path)
    except Resolver404:
        return None, None
    return match.view_name, match.kwargs.get("step")


@receiver(setting_changed)
def _urls_changed(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _resolve.cache_clear()


@functools.lru_cache(maxsize=1024)
def _move(query: str) -> tuple[str, str]:
    """(origin, destination) of a plan link; remembered, as cached plan pages repeat the same few links."""
    params = QueryDict(query)
    return _origin(params.get("origin", "")), _country(params.get("destination", ""))


def _country(value: str) -> str:
    # Only ever a two-letter code: whatever else a URL carries is not stored.
    value = value.strip().upper()
    return value if _COUNTRY.match(value) else ""


def _origin(value: str) -> str:
    return NEW_TO_CODING if value.strip().lower() == NEW_TO_CODING else _country(value)


def add(step, origin: str = "", destination: str = "", day=None) -> None:
    """Count one hit in this process's memory."""
    key = (day or _today(), str(step), origin, destination)
    with _lock:
        _counts[key] += 1
        _pending[0] += 1
        waiting = _pending[0]
    if waiting >= settings.FUNNEL_FLUSH_HITS:
        _wake.set()
    if _flusher_pid[0] != os.getpid():
        _start_flusher()


def _today():
    # The local date, worked out at most once a second (time zone arithmetic costs more than the count itself).
    now = time.monotonic()
    if now >= _day[0]:
        _day[:] = [now + 1.0, timezone.localdate()]
    return _day[1]


def pending() -> int:
    with _lock:
        return _pending[0]


def reset() -> None:
    """Forget unflushed counts (tests)."""
    with _lock:
        _counts.clear()
        _pending[0] = 0
    _day[0] = 0.0
    _wake.clear()


def flush() -> int:
    """Write the counts gathered so far to the database; returns how many hits were written.

    On failure the batch is dropped and logged: counts are statistics, never worth a retry queue.
    """
    with _lock:
        batch = dict(_counts)
        _counts.clear()
        _pending[0] = 0
    if not batch:
        return 0
    table = connection.ops.quote_name(FunnelCount._meta.db_table)
    sql = (
        f"INSERT INTO {table} (day, step, origin, destination, hits) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT (day, step, origin, destination) DO UPDATE SET hits = {table}.hits + excluded.hits"
    )
    rows = [
        (connection.ops.adapt_datefield_value(day), step, origin, destination, hits)
        for (day, step, origin, destination), hits in sorted(batch.items())
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    except Exception:
        log.exception("funnel counts dropped", extra={"rows": len(rows), "hits": sum(batch.values())})
        return 0
    return sum(batch.values())


def _start_flusher() -> None:
    if settings.FUNNEL_FLUSH_SECONDS <= 0:
        return
    with _lock:
        if _flusher_pid[0] == os.getpid():
            return
        _flusher_pid[0] = os.getpid()
        _stop.clear()
        _wake.clear()  # a wake-up from before there was a thread (or from the parent process) is stale
        _thread[0] = threading.Thread(target=_flush_forever, name="funnel-flush", daemon=True)
    _thread[0].start()
    if not _exit_hook[0]:
        _exit_hook[0] = True
        atexit.register(shutdown)


def _flush_forever() -> None:
    while not _stop.is_set():
        _wake.wait(settings.FUNNEL_FLUSH_SECONDS if settings.FUNNEL_FLUSH_SECONDS > 0 else 60)
        _wake.clear()
        try:
            # This thread's connection outlives requests: drop it if it broke or grew too old.
            close_old_connections()
            flush()
        except Exception:
            log.exception("funnel flush crashed")
    connection.close()


def shutdown(timeout: float = 10) -> int:
    """Stop this process's flushing thread and write what is left (at exit; tests)."""
    _stop.set()
    _wake.set()
    thread = _thread[0]
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout)
    _flusher_pid[0] = None
    _thread[0] = None
    return flush()


class FunnelMiddleware:
    """Counts funnel steps; never changes, delays or fails the response it sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        count(request, response.status_code)
        return response


def count(request, status: int) -> None:
    """Count the request if it is a funnel step (also for pages the page cache answers)."""
    try:
        if key := classify(request, status):
            add(*key)
    except Exception:
        # Never more than one log line a minute, however often it fails.
        if time.monotonic() - _last_error_log[0] > 60:
            _last_error_log[0] = time.monotonic()
            log.exception("funnel count dropped")
