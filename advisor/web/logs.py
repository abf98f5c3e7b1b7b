"""Logs without personal data: one filter on the log handler, and one line per request.

- PersonalDataFilter runs on every record before it is written, whatever the format (python-json-logger's
  JsonFormatter, one JSON object a line, or LOG_FORMAT=plain for people). It keeps only the plain `extra`
  fields a caller passes on purpose (enquiry_id, status, ...), never objects such as the request Django
  attaches nor fields named like personal data, and masks anything shaped like an email address or a phone
  number in the message, the kept text fields and the traceback, so a careless log call cannot leak an
  enquirer's details.
- RequestLogMiddleware writes one line per request: method, path (never the query string: admin searches
  and enquiry links can carry personal data), status and duration. It never reads the request body.
"""

import logging
import re
import time

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# Extra keys that name personal data are dropped whatever their value.
_PERSONAL_KEYS = {"name", "email", "phone", "message_body", "body", "post", "data", "ip", "remote_addr"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Seven or more digits, possibly split by spaces, dashes, dots or brackets, with an optional +.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


def scrub(text: str) -> str:
    """Mask email addresses and phone-like numbers in free text."""
    return _PHONE.sub("[number]", _EMAIL.sub("[email]", text))


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        for key, value in list(vars(record).items()):
            if key in _RECORD_ATTRS:
                continue
            if key in _PERSONAL_KEYS or key.startswith("_") or not isinstance(value, str | int | float | None):
                delattr(record, key)
            elif isinstance(value, str):
                setattr(record, key, scrub(value))
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted here, once, so both formats print the masked text (they reuse exc_text).
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


request_logger = logging.getLogger("advisor.request")


class RequestLogMiddleware:
    """One log line per request; outermost, so it also times static files, cached pages and redirects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        log_request(request, response.status_code, started)
        return response


def log_request(request, status: int, started: float) -> None:
    """The request's line (also for pages the page cache answers, before Django's handler)."""
    method, path = request.method, request.path
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    extra = {"method": method, "path": path, "status": status, "duration_ms": duration_ms}
    request_logger.info("%s %s %s", method, path, status, extra=extra)


_last_warned: dict[tuple[str, str], float] = {}
_suppressed: dict[tuple[str, str], int] = {}


def warn_every(logger: logging.Logger, message: str, seconds: float = 60, exc_info=None) -> bool:
    """Log `message` as a warning at most once per `seconds` in this process (a fault that lasts, such as the
    shared cache being down, says so once a minute rather than on every request); True when it was logged.
    The count of warnings held back since the last line goes with it, as `suppressed`."""
    now = time.monotonic()
    key = (logger.name, message)
    last = _last_warned.get(key)
    if last is not None and now - last < seconds:
        _suppressed[key] = _suppressed.get(key, 0) + 1
        return False
    _last_warned[key] = now
    logger.warning(message, exc_info=exc_info, extra={"suppressed": _suppressed.pop(key, 0)})
    return True
