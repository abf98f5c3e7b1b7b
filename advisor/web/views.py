"""Pages that are about the site rather than a learner: the health check and the favicon."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; send them to the static file (cached for a year).
    return redirect(static("favicon.ico"), permanent=True)


@require_safe
@never_cache
def healthz(request):
    """200 when the app and its database answer, 503 when the database does not. HEAD too: load balancers and
    monitors often check with it (the same headers, no body)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
