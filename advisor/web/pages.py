"""How every learner-facing view answers: a page or its htmx partial, and a redirect after a POST.

One template per page; htmx requests (other than history restores) get its `page` partial. The response varies on
both headers that choose between the two, so no cache hands one to a request that asked for the other.
"""

from django import forms
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def htmx_shape(request) -> str:
    """Which of a page's three shapes the request asks for, from django-htmx's request.htmx: "partial" (the
    `page` partial, for htmx), "restore" (an htmx history restore: the full page, or Back would show a fragment
    without layout, django-htmx #410) or "full" (everything else)."""
    if not request.htmx:
        return "full"
    return "restore" if request.htmx.history_restore_request else "partial"


def wants_partial(request) -> bool:
    return htmx_shape(request) == "partial"


def render_page(request, template, context, status=200):
    """The page, or its `page` partial for htmx. htmx swaps only 2xx responses, so a partial carrying an error
    (a form to correct, a bad parameter, a rate limit) is sent as 200; the full page keeps its status."""
    if wants_partial(request):
        response = render(request, f"{template}#page", context)
    else:
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


def see_other(url) -> HttpResponseRedirect:
    """303 after a POST, so Back and reload never resubmit (Post/Redirect/Get); htmx follows it too."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def bad_plan_link(request, errors):
    """400 for plan parameters that do not make a plan: `errors` is [{"field": readable label, "messages": [...]}]."""
    return render(request, "400.html", {"errors": errors}, status=400)


def error_summary(form) -> list[dict]:
    """Error summary entries linking each message to its field; a group links to its first option."""
    entries = []
    for name, errors in form.errors.items():
        # Errors of the form as a whole, or of a hidden field nobody can focus, point at the page itself.
        if name not in form.fields or form[name].is_hidden:
            entries.extend({"id": "main", "message": message} for message in errors)
            continue
        field = form[name]
        widget = field.field.widget
        anchor = f"{field.auto_id}_0" if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple) else None
        entries.extend({"id": anchor or field.id_for_label, "message": message} for message in errors)
    return entries
