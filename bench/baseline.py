"""The benchmark's baseline: a bare Django view returning HttpResponse("ok").

A single-file Django project (no apps, no middleware, no database) that make bench serves
under the same gunicorn options as make serve: `gunicorn bench.baseline:application`.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="baseline-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
)


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("", ok), path("healthz", ok)]

application = get_wsgi_application()
