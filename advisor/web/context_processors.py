from django.conf import settings


def operator(request):
    """The training provider's name and contacts, shown in every page's footer."""
    return {"operator": settings.OPERATOR}
