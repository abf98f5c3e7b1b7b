"""Structured logs: one JSON object per line on stderr, with no personal data.

Two pieces:
- JsonFormatter renders every record as JSON with a UTC timestamp. It copies only the
  scalar `extra` fields a caller passes on purpose (enquiry_id, status, ...), never
  objects such as the request Django attaches, and masks anything shaped like an email
  address or a phone number, so a careless log call cannot leak an enquirer's details.
- RequestLogMiddleware writes one line per request: method, path (never the query
  string: admin searches and enquiry links can carry personal data), status and
  duration. It never reads the request body.
"""

import json
import logging
import re
import time
import traceback
from datetime import UTC, datetime

from django.conf import settings

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# Extra keys that name personal data are dropped whatever their value.
_PERSONAL_KEYS = {"name", "email", "phone", "message_body", "body", "post", "data", "ip", "remote_addr"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Seven or more digits, possibly split by spaces, dashes, dots or brackets, with an optional +.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


# One cheap search first: most lines (every request line) hold neither, and skip both substitutions.
_MAYBE_PERSONAL = re.compile(r"@|\d[\d\s().-]{5,}\d")
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def scrub(text: str) -> str:
    """Mask email addresses and phone-like numbers in free text."""
    if not _MAYBE_PERSONAL.search(text):
        return text
    return _PHONE.sub("[number]", _EMAIL.sub("[email]", text))


_SLOW = "log-fast" in settings.SPEED_OFF
_second: list = [None, ""]  # the last whole second formatted, and its text


def _utc_iso(created: float) -> str:
    """Like datetime.isoformat(timespec="milliseconds") in UTC, formatting each second only once."""
    if _SLOW:
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    whole = int(created)
    if _second[0] != whole:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((created - whole) * 1000):03d}+00:00"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRS or key in _PERSONAL_KEYS or key.startswith("_"):
                continue
            if isinstance(value, bool | int | float) or value is None:
                entry[key] = value
            elif isinstance(value, str):
                entry[key] = scrub(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["traceback"] = scrub("".join(traceback.format_exception(*record.exc_info)))
        return _encode(entry)


request_logger = logging.getLogger("advisor.request")


class RequestLogMiddleware:
    """One log line per request; outermost, so it also times static files and redirects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if _SLOW:
            method, path, status = request.method, request.path, response.status_code
            extra = {"method": method, "path": path, "status": status}
            extra["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            request_logger.info("%s %s %s", method, path, status, extra=extra)
        elif request_logger.isEnabledFor(logging.INFO):
            method, path, status = request.method, request.path, response.status_code
            # makeRecord + handle is logger.info without its stack walk for the caller's file and line,
            # which this one call site does not need (a third of the cost of a line).
            record = request_logger.makeRecord(
                request_logger.name,
                logging.INFO,
                __file__,
                0,
                "%s %s %s",
                (method, path, status),
                None,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_logger.handle(record)
        return response
