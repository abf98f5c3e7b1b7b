"""The enquiry form, its confirmation page and the privacy page."""

from django.http import Http404


def enquire(request):
    raise Http404("Not built yet")


def enquiry_sent(request, reference):
    raise Http404("Not built yet")


def privacy(request):
    raise Http404("Not built yet")
