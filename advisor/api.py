"""The plan as JSON, and the OpenAPI document that describes it."""

from django.http import Http404


def plan_json(request):
    raise Http404("Not built yet")


def openapi(request):
    raise Http404("Not built yet")
