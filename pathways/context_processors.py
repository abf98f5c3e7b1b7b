from django.db import DatabaseError
from django.utils.functional import lazy

from pathways.checks import current_problems
from pathways.presenter import countries_phrase, systems_phrase
from pathways.reference import last_loaded


def reference_problems(request):
    """On admin pages, for content editors: the reference data's integrity problems, for the banner.

    The value is the function itself: the template calls it only where it shows the banner, so other
    pages and other users pay nothing.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.app_name != "admin" or not request.user.has_perm("pathways.change_route"):
        return {}
    return {"reference_problems": current_problems}


def _from_reference(words, fallback: str) -> str:
    try:
        return words(last_loaded())
    except DatabaseError:  # the "briefly unavailable" pages must still render
        return fallback


def coding_systems(request):
    """Wording that counts or names the coding systems, from the reference data: "the six coding systems".

    Lazy: read only where a template shows it, from the reference the worker already holds.
    """
    return {
        "coding_systems": lazy(lambda: _from_reference(systems_phrase, "the coding systems"), str)(),
        "coding_countries": lazy(lambda: _from_reference(countries_phrase, "several countries"), str)(),
    }
