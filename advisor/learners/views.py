"""Learner-facing pages: start, questions, check answers, plan, compare.

Every page works as plain HTML forms and links. htmx only swaps the `page` partial of the same template: views
render "<template>#page" for htmx requests that are not history restores, and say so with Vary: HX-Request.
Pages without personal state (start, plan, compare) are cached by URL and reference-data version; question and
check pages carry the learner's answers and are never cached.
"""

import datetime
from functools import wraps

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from advisor.learners import journey, questions
from advisor.learners.forms import CompareQueryForm, PlanQueryForm
from advisor.pagecache.front import share
from advisor.pagecache.holes import canonical, form_page
from advisor.web.pages import bad_plan_link, error_summary, htmx_shape, render_page, see_other
from pathways import presenter, timeline
from pathways.choices import NEW_TO_CODING, ClassificationKind
from pathways.ranking import rank_destinations
from pathways.reference import load_reference, source_provenance
from pathways.rules import PlanError, build_plan, plan_setting

PUBLIC_MAX_AGE = 600  # seconds browsers and proxies may keep a public page


def _public_page(view):
    """Mark a page with no personal state as shareable: public for PUBLIC_MAX_AGE, varying on HX-Request.

    The view returns (response, its canonical query string). advisor.pagecache's PageCache then keeps the complete
    response (security headers included) by canonical URL, release, reference-data version and the headers it
    varies on, and answers repeats before Django's handler runs.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response, query = view(request, *args, **kwargs)
        if response.status_code in (200, 400):
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
            patch_vary_headers(response, ["HX-Request"])
            share(response, query)
        return response

    return wrapper


def _canonical_url(request, query: str):
    """A permanent redirect to the page's one URL when the query string is another spelling of it (unknown
    parameters such as utm_source, another order, lower-case countries), else None: every link to a page shares
    one cached copy, and junk parameters cannot fill the cache."""
    if request.META.get("QUERY_STRING", "") != query:
        return redirect(f"{request.path}?{query}" if query else request.path, permanent=True)
    return None


def _seed_sources() -> dict:
    """What a page whose own copy cites the source article needs: `seed_cite`, the article's [n] (0, so no
    link, if the reference data lacks it), and the numbered `sources` the page ends with."""
    numbers, sources = presenter.copy_sources({"seed": source_provenance("seed")})
    return {"seed_cite": numbers.get("seed", 0), "sources": sources}


# --- Start ------------------------------------------------------------------------------------------------------


@require_safe
def start(request):
    # The start page is public and cached for everyone without an answers cookie. Only a visitor who has one can
    # have unfinished answers, so only they get a personal copy with a "continue" link (Vary: Cookie keeps shared
    # caches from mixing the two).
    if settings.ANSWERS_COOKIE_NAME in request.COOKIES:
        reference = load_reference()
        answers = journey.get_answers(request, reference)
        if journey.is_started(answers) and not journey.is_complete(answers, reference):
            resume_url = journey.step_url(journey.first_unanswered(answers, reference))
            response = _start_page(request, resume_url=resume_url)
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
            return response
    response = _public_start(request)
    patch_vary_headers(response, ["Cookie"])
    return response


@_public_page
def _public_start(request):
    return _canonical_url(request, "") or _start_page(request), ""


def _start_page(request, resume_url=None):
    reference = load_reference()
    countries = sorted(reference.countries.values(), key=lambda c: c.name)
    return render(
        request,
        "advisor/start.html",
        {
            "page_title": "Plan your move as a clinical coder",
            "countries": countries,
            "resume_url": resume_url,
            **_seed_sources(),
        },
    )


# --- Questions --------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
@never_cache
def question(request, step):
    if step not in questions.STEPS:
        raise Http404("No such question")
    reference = load_reference()
    answers = journey.get_answers(request, reference)
    returning = request.GET.get("next") == "check"
    if not journey.is_reachable(step, answers, reference):
        pending = journey.first_unanswered(answers, reference)
        url = journey.step_url(pending, returning=returning and pending != "check")
        return see_other(url) if request.method == "POST" else redirect(url)

    form_class = questions.FORMS[step]
    if request.method == "POST":
        form = form_class(request.POST, reference=reference, answers=answers)
        if form.is_valid():
            answers = journey.save_answer(answers, step, form.cleaned_data, reference)
            return journey.keep_answers(see_other(journey.next_url(step, answers, returning, reference)), answers)
        # Invalid submissions answer 200: htmx does not swap 4xx responses, and the errors must be seen.
        return _question_page(request, step, form, answers, returning)

    # The blank question is the same page for everyone with the same answers so far: rendered once, with
    # only the CSRF token filled in per request (answers are never contact details).
    key = ("question", htmx_shape(request), request.get_full_path(), repr(sorted(answers.items())))

    def render(values):
        form = form_class(initial=journey.initial_for(step, answers), reference=reference, answers=answers)
        page = _question_page(request, step, form, answers, returning, values)
        return canonical(page, "next=check" if returning else "")

    return form_page(request, key, render)


def _question_page(request, step, form, answers, returning, extra=None):
    context = {
        "page_title": ("Error: " if form.errors else "") + form.heading,
        "form": form,
        "step": step,
        "caption": questions.CAPTIONS[step],
        "back_url": journey.back_url(step, answers, returning, form.reference),
        "error_summary": error_summary(form),
        **(extra or {}),
    }
    return render_page(request, "advisor/question.html", context)


@require_safe
@vary_on_headers("HX-Request")
@never_cache
def check(request):
    reference = load_reference()
    if "destination" in request.GET:
        # "Change your answers" on a plan permalink: take the plan's parameters as this learner's answers, then
        # show the clean check page. Only the learner's own cookie changes.
        form = PlanQueryForm.from_request(request, reference=reference)
        response = redirect("advisor:check")
        if form.is_valid():
            journey.keep_answers(response, journey.answers_from_profile(form.profile, reference))
        return response
    answers = journey.get_answers(request, reference)
    if not journey.is_complete(answers, reference):
        return redirect(journey.step_url(journey.first_unanswered(answers, reference)))
    context = {
        "page_title": "Check your answers",
        "rows": journey.summary_rows(answers, reference),
        "plan_query": journey.plan_query(answers, reference),
        "back_url": journey.step_url(journey.steps_for(answers, reference)[-1]),
    }
    return render_page(request, "advisor/check.html", context)


# --- Plan and compare -------------------------------------------------------------------------------------------


KIND_LABELS = dict(ClassificationKind.choices)


@require_safe
@_public_page
def plan(request):
    form = PlanQueryForm.from_request(request)
    if not form.is_valid():
        return bad_plan_link(request, form.labelled_errors()), None
    query = form.canonical_query()
    if redirect_to := _canonical_url(request, query):
        return redirect_to, query
    reference = load_reference()
    try:
        result = build_plan(form.profile, reference)
    except PlanError as error:
        return bad_plan_link(request, [{"field": "Plan", "messages": [str(error)]}]), None
    words = presenter.present(result)
    context = {
        # The title names the move, like the h1: headlines alone ("OPCS-4 from scratch") don't say whose plan it is.
        "page_title": "Your plan: " + words.move,
        "plan": result,
        "words": words,
        "timeline": timeline.draw(words, result),
        "gap_rows": [
            {**row, "source": source}
            for row, source in zip(_gap_rows(result, reference), words.gap_sources, strict=True)
        ],
        "credentials": list(
            zip(result.credentials, words.credential_sources, words.credential_duration_sources, strict=True)
        ),
        "skills": list(zip(result.transferable_skills, words.skill_sources, strict=True)),
        # Each source with its last-checked date as a date, shown in the one format the page uses for dates.
        "sources": [
            (source, datetime.date.fromisoformat(source.last_checked) if source.last_checked else None)
            for source in words.sources
        ],
        "query": query,
        "difficulty_bars": _difficulty_bars(result.difficulty),
    }
    return render(request, "advisor/plan.html", context), query


def _gap_rows(plan, reference):
    """The classification table: each classification, then the gaps that are not one classification."""
    names = {code: info.name for code, info in reference.classifications.items()}
    rows = [
        {
            "name": c.name,
            "edition": c.edition,
            "used_for": KIND_LABELS.get(c.kind, c.kind),
            "gap": c.gap,
            "known_from": names.get(c.known_from or "", "Nothing you know"),
            "note": c.note,
        }
        for c in plan.classifications
    ]
    for gap in plan.other_gaps:
        # A change of setting is explained under "Before you start": said once.
        note = "" if any(w.code == gap.code for w in plan.warnings) else gap.note
        rows.append({"name": gap.title, "used_for": "Local practice", "gap": gap.gap, "known_from": "–", "note": note})
    for row in rows:
        row["gap_label"] = reference.gap_labels.get(row["gap"], row["gap"])
    return rows


def _difficulty_bars(rank):
    """Four rising bars, the first `rank` filled: the picture beside the difficulty's text label."""
    return [{"x": 4 + i * 29, "y": 30 - i * 9, "height": 10 + i * 9, "on": i < rank} for i in range(4)]


COMPARE_ROWS = [
    ("Name of the profession", "profession"),
    ("Diagnosis classification", "diagnosis"),
    ("Procedure classification", "procedure"),
    ("Supplies and services", "supplies"),
    ("Coding standards", "standard"),
    ("Grouper and funding", "grouper"),
    ("Who maintains them", "governing_body"),
    ("Credential employers expect", "credential"),
]


@require_safe
@vary_on_headers("HX-Request")
@_public_page
def compare(request):
    reference = load_reference()
    columns = sorted(reference.countries.values(), key=lambda c: c.name)
    origin_choices = [(c.code, c.name) for c in columns] + [(NEW_TO_CODING, "I have not trained yet")]
    origin, origin_error, ranking, origin_name, query = "", "", [], "", ""
    if "origin" in request.GET:
        form = CompareQueryForm(request.GET, reference=reference)
        if form.is_valid():
            rank_from = form.cleaned_data["origin"]
            query = f"origin={rank_from or NEW_TO_CODING}"
            ranking = [
                {
                    "item": r,
                    "reasons": presenter.ranking_reasons(r),
                    "setting": plan_setting(reference, rank_from, r.code, "both"),  # the plan's canonical link
                }
                for r in rank_destinations(rank_from, reference)
            ]
            origin = rank_from or NEW_TO_CODING
            origin_name = reference.countries[rank_from].in_sentence if rank_from else "no coding training"
        else:
            origin_error, query = form.errors["origin"][0], None
    if query is not None and (redirect_to := _canonical_url(request, query)):
        return redirect_to, query
    context = {
        "page_title": ("Error: " if origin_error else "") + f"Compare {presenter.systems_phrase(reference)}",
        "columns": columns,
        "rows": [
            {"label": label, "cells": [_compare_cell(reference, c, key) for c in columns]}
            for label, key in COMPARE_ROWS
        ],
        "origin_choices": origin_choices,
        "origin": origin,
        "origin_name": origin_name,
        "origin_error": origin_error,
        "error_summary": [{"id": "id_origin", "message": origin_error}] if origin_error else [],
        "ranking": ranking,
        **_seed_sources(),
    }
    return render_page(request, "advisor/compare.html", context, status=400 if origin_error else 200), query


def _compare_cell(reference, country, key):
    if key in ("profession", "governing_body"):
        return getattr(country, key)
    if key == "grouper":
        return country.grouper
    if key == "credential":
        entry = reference.route(None, country.code)
        if entry is None:
            return ""
        first = [rc for rc in entry.credentials if rc.step == min(r.step for r in entry.credentials)]
        by_setting: dict[str, list[str]] = {}
        for rc in first:
            if rc.credential in reference.credentials:
                # "CPC – Certified Professional Coder" reads as CPC in a table cell; the plan gives the whole name.
                name = reference.credentials[rc.credential].name.split(" – ")[0]
                by_setting.setdefault(rc.setting, []).append(name)
        return "; ".join(
            " or ".join(dict.fromkeys(names)) + ("" if setting == "all" else f" ({setting})")
            for setting, names in by_setting.items()
        )
    codes = country.classifications.get(key, ())
    return ", ".join(reference.classifications[code].name for code in codes if code in reference.classifications)
