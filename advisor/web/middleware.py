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


class PublicApiMiddleware:
    """CORS for the public, read-only, cookie-free API (/api/plan/, /api/openapi.json), and its 304s as RFC 9110
    has them. Nothing else gets CORS headers: the pages with forms and admin stay same-origin.

    - Every answer of those paths, whatever its status, carries Access-Control-Allow-Origin: * (never with
      credentials: the API reads no cookie), so a partner's page can read plans and errors alike. The value does not
      depend on the request's Origin, so the responses need no Vary: Origin and the page cache may share them.
    - ETag is exposed to scripts (Cache-Control and Content-Type are readable anyway), so a page can revalidate.
    - OPTIONS is answered here, 204: a preflight (a script sending If-None-Match triggers one) or a plain OPTIONS.
    - A 304 goes out without CommonMiddleware's Content-Length: 0, which would claim the plan is empty.

    It sits above GZipMiddleware and CommonMiddleware, so it sees the response as it leaves, and inside the page
    cache (advisor/pagecache/), which stores these headers with the 200 and sends them again on every hit.
    """

    PATHS = ("/api/plan/", "/api/openapi.json")
    ALLOW = "GET, HEAD, OPTIONS"
    PREFLIGHT_MAX_AGE = "86400"  # browsers cap it lower (Chromium: 2 hours): ask again at most once a day

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in self.PATHS:
            return self.get_response(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            del response["Content-Type"]
            response["Allow"] = self.ALLOW
            if "access-control-request-method" in request.headers:
                response["Access-Control-Allow-Methods"] = self.ALLOW
                response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since, Cache-Control"
                response["Access-Control-Max-Age"] = self.PREFLIGHT_MAX_AGE
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = "ETag"
            if response.status_code == 304:
                del response["Content-Length"]
        response["Access-Control-Allow-Origin"] = "*"
        return response
