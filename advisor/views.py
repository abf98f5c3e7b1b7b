"""Learner-facing pages: start, questions, check answers, plan, compare; and /healthz.

Every page works as plain HTML forms and links. htmx only swaps the `page` partial of the same template: views
render "<template>#page" for htmx requests that are not history restores, and say so with Vary: HX-Request.
Pages without personal state (start, plan, compare) are cached by URL and reference-data version; question and
check pages carry the learner's answers and are never cached.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from advisor import questionnaire
from pathways.reference import load_reference

PUBLIC_MAX_AGE = 600  # seconds browsers and proxies may keep a public page


def _wants_partial(request):
    # A history restore must get the full page, or Back would show a fragment without layout (django-htmx #410).
    return bool(request.htmx and not request.htmx.history_restore_request)


def _render(request, template, context, status=200):
    if _wants_partial(request):
        template = f"{template}#page"
    return render(request, template, context, status=status)


def _see_other(url):
    """303 after a POST, so Back and reload never resubmit (Post/Redirect/Get); htmx follows it too."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _public_page(view):
    """Cache a page with no personal state by its full URL, the reference-data version and whether htmx asked.

    Cached at the view, before middleware, so security headers are still added to every response.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        version = load_reference().version
        raw = f"{version}|{_wants_partial(request)}|{request.get_full_path()}"
        key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code in (200, 400):
                patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
                patch_vary_headers(response, ["HX-Request"])
                cache.set(key, response, PUBLIC_MAX_AGE)
        return response

    return wrapper


# --- Start ------------------------------------------------------------------------------------------------------


@require_GET
def start(request):
    # The start page is public and cached for everyone without a session cookie. Only a visitor who has a session
    # can have unfinished answers, so only they get a personal copy with a "continue" link (Vary: Cookie keeps
    # shared caches from mixing the two).
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        answers = questionnaire.get_answers(request.session)
        if questionnaire.is_started(answers) and not questionnaire.is_complete(answers):
            response = _start_page(request, resume_url=questionnaire.step_url(questionnaire.first_unanswered(answers)))
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
            return response
    response = _public_start(request)
    patch_vary_headers(response, ["Cookie"])
    return response


@_public_page
def _public_start(request):
    return _start_page(request)


def _start_page(request, resume_url=None):
    reference = load_reference()
    countries = sorted(reference.countries.values(), key=lambda c: c.name)
    return render(
        request,
        "advisor/start.html",
        {"page_title": "Plan your move as a clinical coder", "countries": countries, "resume_url": resume_url},
    )


# --- Questions --------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@never_cache
def question(request, step):
    if step not in questionnaire.STEPS:
        raise Http404("No such question")
    reference = load_reference()
    answers = questionnaire.get_answers(request.session)
    returning = request.GET.get("next") == "check"
    if not questionnaire.is_reachable(step, answers):
        pending = questionnaire.first_unanswered(answers)
        url = questionnaire.step_url(pending, returning=returning and pending != "check")
        return _see_other(url) if request.method == "POST" else redirect(url)

    form_class = questionnaire.FORMS[step]
    if request.method == "POST":
        form = form_class(request.POST, reference=reference, answers=answers)
        if form.is_valid():
            answers = questionnaire.save_answer(request.session, step, form.cleaned_data, reference)
            return _see_other(questionnaire.next_url(step, answers, returning))
    else:
        form = form_class(initial=questionnaire.initial_for(step, answers), reference=reference, answers=answers)

    context = {
        "page_title": ("Error: " if form.errors else "") + form.heading,
        "form": form,
        "step": step,
        "caption": questionnaire.CAPTIONS[step],
        "back_url": questionnaire.back_url(step, answers, returning),
        "error_summary": questionnaire.error_summary(form),
    }
    # Invalid submissions answer 200: htmx does not swap 4xx responses, and the errors must be seen.
    return _render(request, "advisor/question.html", context)


@require_GET
@vary_on_headers("HX-Request")
@never_cache
def check(request):
    reference = load_reference()
    answers = questionnaire.get_answers(request.session)
    if not questionnaire.is_complete(answers):
        return redirect(questionnaire.step_url(questionnaire.first_unanswered(answers)))
    context = {
        "page_title": "Check your answers",
        "rows": questionnaire.summary_rows(answers, reference),
        "plan_query": questionnaire.plan_query(answers),
        "back_url": questionnaire.step_url(questionnaire.steps_for(answers)[-1]),
    }
    return _render(request, "advisor/check.html", context)


# --- Plan and compare -------------------------------------------------------------------------------------------


def plan(request):
    raise Http404("Not built yet")


def compare(request):
    raise Http404("Not built yet")


# --- Small things -----------------------------------------------------------------------------------------------


@require_GET
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; send them to the static file (cached for a year).
    return redirect(static("favicon.ico"), permanent=True)


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
