"""The 400 page for a request too large to read: Django's default would call it a problem with a link."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.shortcuts import render
from django.views import defaults

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def bad_request(request, exception):
    if not isinstance(exception, TOO_LARGE):
        return defaults.bad_request(request, exception)
    context = {
        "too_many_fields": not isinstance(exception, RequestDataTooBig),
        "max_fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        "max_megabytes": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024:g}",
    }
    return render(request, "400_too_large.html", context, status=400)
