from pathways.checks import current_problems


def reference_problems(request):
    """On admin pages, for content editors: the reference data's integrity problems, for the banner.

    The value is the function itself: the template calls it only where it shows the banner, so other
    pages and other users pay nothing.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.app_name != "admin" or not request.user.has_perm("pathways.change_route"):
        return {}
    return {"reference_problems": current_problems}
