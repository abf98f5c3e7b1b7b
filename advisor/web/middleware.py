"""Response headers Django's SecurityMiddleware does not set, and the answer when the database is away."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

from advisor.web.logs import warn_every

log = logging.getLogger("advisor.request")


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response: the site uses no camera, microphone, location, payment or sensors,
    so no page (nor anything injected into one) may ask for them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached (restarting, failing over; SQLite locked past its busy timeout) gets the
    "briefly unavailable" page as a 503 with Retry-After, logged once a minute, instead of a 500 and a traceback
    per request: monitors, proxies and people all learn it will pass. The connection is health-checked at the
    next request (CONN_HEALTH_CHECKS), so once the database is back nothing more fails."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        warn_every(log, "database unavailable: answering 503", exc_info=exception)
        # No context processors: they read the database too.
        page = loader.get_template("500.html").render({"unavailable": True})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
