"""Learner-facing pages: start, questions, check answers, plan, compare; and /healthz."""

from django.db import connection
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def start(request):
    raise Http404("Not built yet")


def question(request, step):
    raise Http404("Not built yet")


def check(request):
    raise Http404("Not built yet")


def plan(request):
    raise Http404("Not built yet")


def compare(request):
    raise Http404("Not built yet")


@require_GET
@never_cache
def healthz(request):
    """200 when the app and its database answer, 503 when the database does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
