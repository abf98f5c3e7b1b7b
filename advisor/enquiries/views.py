"""The enquiry form, its confirmation page and the privacy page.

The plan parameters ride along in the query string (no personal data there): the form page shows the
plan it is about and never asks again what the questionnaire answered. Contact details only ever
travel in the POST body, and the confirmation URL carries an opaque reference.
"""

import logging
import math
import uuid

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from advisor.enquiries import ratelimit, services
from advisor.enquiries.forms import EnquiryForm, new_form_ids
from advisor.enquiries.models import Enquiry
from advisor.learners.forms import PlanQueryForm
from advisor.pagecache.holes import canonical, form_page
from advisor.web.pages import bad_plan_link, error_summary, htmx_shape, render_page, see_other
from pathways import presenter, rules
from pathways.reference import load_reference

log = logging.getLogger("advisor.enquiry")

PERSONAL_FIELDS = ("name", "email", "phone", "best_time", "message", "extra_reference")


def _plan_context(request) -> tuple[dict, list]:
    """(the plan this enquiry is about, errors in the plan parameters). No parameters at all is a
    general enquiry, with no plan."""
    if not any(request.GET.get(name) for name in ("origin", "destination")):
        return {}, []
    query = PlanQueryForm.from_request(request)
    if not query.is_valid():
        return {}, query.labelled_errors()
    reference = load_reference()
    try:
        plan = presenter.plan_json(rules.build_plan(query.profile, reference), reference)
    except rules.PlanError as exc:
        return {}, [{"field": "Plan", "messages": [str(exc)]}]
    params = query.canonical_query()
    # The information pack on offer is the first credential the plan recommends the learner gets.
    recommended = next((c for c in plan.get("credentials", []) if not c.get("held")), None)
    return {
        "plan": plan,
        "plan_query": params,
        "plan_url": reverse("advisor:plan") + "?" + params,
        "reference_version": str(reference.version),
        "recommended": recommended,
    }, []


def _sent(enquiry):
    """Post/Redirect/Get to the confirmation: reload and Back never send the form again."""
    return see_other(reverse("advisor:enquiry-sent", kwargs={"reference": enquiry.reference}))


@sensitive_variables("form")
def _submit(request, form, plan_context) -> Enquiry:
    now = timezone.now()
    plan = plan_context.get("plan") or {}
    fields = form.contact_details
    enquiry, _ = services.submit(
        submission_id=form.cleaned_data["submission_id"],
        spam_reason=form.spam_reason,
        plan_params={"query": plan_context.get("plan_query", "")},
        plan_snapshot=plan,
        reference_version=plan_context.get("reference_version", ""),
        origin_code=(plan.get("origin") or {}).get("code", "none" if plan else ""),
        destination_code=(plan.get("destination") or {}).get("code", ""),
        notice_version=settings.CURRENT_NOTICE_VERSION,
        contact_consent_at=now,
        marketing_consent_at=now if fields["marketing_opt_in"] else None,
        ip_hash=ratelimit.client_key(request),
        **fields,
    )
    return enquiry


@sensitive_variables("form")
@sensitive_post_parameters(*PERSONAL_FIELDS)
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def enquire(request):
    if request.method != "POST":
        return _blank_form(request)
    if existing := _already_sent(request):
        # A double click, a retry or Back-and-resubmit: the same enquiry, the same confirmation (not counted).
        return _sent(existing)
    # Every other POST counts, valid or not, and once over the limit nothing is validated or rendered but the
    # short 429 page: a flood of bad forms costs a counter each, not a form render.
    if wait := ratelimit.retry_after("enquiry", request):
        log.warning("enquiry rate limit hit")
        return _rate_limited(request, wait)
    plan_context, plan_errors = _plan_context(request)
    if plan_errors:
        return bad_plan_link(request, plan_errors)
    form = EnquiryForm(request.POST, info_pack_credential=plan_context.get("recommended"))
    if form.is_valid():
        enquiry = _submit(request, form, plan_context)
        log.info(
            "enquiry received",
            extra={"enquiry_id": enquiry.pk, "reference": enquiry.reference, "spam": enquiry.is_spam},
        )
        return _sent(enquiry)
    if form.token_problem:
        form.refresh_token()
    return _private(_form_page(request, form, plan_context))


def _already_sent(request) -> Enquiry | None:
    try:
        submission_id = uuid.UUID(request.POST.get("submission_id", ""))
    except ValueError:
        return None
    return Enquiry.objects.filter(submission_id=submission_id).first()


def _private(response):
    # What the person typed is in this page: keep it out of every cache.
    patch_cache_control(response, no_cache=True, no_store=True, must_revalidate=True, private=True)
    return response


# The fields the 429 page carries over, so "Send enquiry again" sends what was typed (never other parameters).
KEPT_FIELDS = tuple(EnquiryForm.base_fields)
SHOWN_FIELDS = ("name", "email", "phone", "best_time", "message")


@sensitive_variables()
def _rate_limited(request, wait: int):
    """The 429 page: what the person typed, kept in a plain form to send again later, and other ways to get in
    touch. No form validation, no plan and no crispy render."""
    kept = [(name, request.POST[name]) for name in KEPT_FIELDS if name in request.POST]
    labels = {name: EnquiryForm.base_fields[name].label for name in SHOWN_FIELDS}
    has_plan = any(request.GET.get(name) for name in ("origin", "destination"))
    query = request.META.get("QUERY_STRING", "")
    context = {
        "page_title": "Error: Talk to a course adviser",
        "kept": kept,
        "shown": [(labels[name], value) for name, value in kept if name in labels and value.strip()],
        "plan_url": reverse("advisor:plan") + "?" + query if has_plan else "",
        "wait": _in_words(wait),
    }
    response = _private(render_page(request, "advisor/429.html", context, status=429))
    response["Retry-After"] = str(wait)
    return response


def _in_words(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "a minute"
    if minutes <= 90:
        return f"{minutes} minutes"
    return f"about {math.ceil(minutes / 60)} hours"


def _form_page(request, form, plan_context, holes=None):
    context = {
        **plan_context,
        "form": form,
        "error_summary": error_summary(form) if form.is_bound else [],
        "retention_days": settings.ENQUIRY_RETENTION_DAYS,
        "response_days": settings.ENQUIRY_RESPONSE_BUSINESS_DAYS,
        "page_title": "Talk to a course adviser",
        **(holes or {}),
    }
    if form.is_bound and form.errors:
        context["page_title"] = "Error: " + context["page_title"]
    return render_page(request, "advisor/enquire.html", context)


def _blank_form(request):
    """The blank form is the same page for everyone asking about the same plan, so it is rendered once per
    URL and reference-data version (crispy fields are slow to render) with holes for the CSRF token, the
    submission id and the time-trap token, which every response gets fresh: no two visitors share them."""

    def draw(holes):
        plan_context, plan_errors = _plan_context(request)
        if plan_errors:
            return bad_plan_link(request, plan_errors)
        ids = {"submission_id": holes["submission_id"], "form_token": holes["form_token"]}
        form = EnquiryForm(initial=ids, info_pack_credential=plan_context.get("recommended"))
        page = _form_page(request, form, plan_context, holes={"csrf_token": holes["csrf_token"]})
        return canonical(page, plan_context.get("plan_query", ""))  # stored for the plan's one URL only

    key = ("enquire", htmx_shape(request), request.get_full_path())
    response = form_page(request, key, draw, holes=("submission_id", "form_token"), fill=new_form_ids)
    if response.status_code == 200:
        # The blank form holds no personal data. Letting the browser keep it means Back after sending
        # shows the same form with the same submission id, which lands on the same enquiry.
        patch_cache_control(response, private=True)
    return response


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def enquiry_sent(request, reference):
    enquiry = get_object_or_404(Enquiry, reference=reference.upper())
    query = (enquiry.plan_params or {}).get("query", "")
    context = {
        "reference": enquiry.reference,
        "plan_summary": presenter.summary_lines(enquiry.plan_snapshot)[:2],
        "plan_url": reverse("advisor:plan") + "?" + query if query else "",
        "response_days": settings.ENQUIRY_RESPONSE_BUSINESS_DAYS,
        "page_title": "Enquiry sent",
    }
    return render_page(request, "advisor/enquiry_sent.html", context)


@require_safe
def privacy(request):
    context = {
        "page_title": "Privacy",
        "retention_days": settings.ENQUIRY_RETENTION_DAYS,
        "spam_days": settings.ENQUIRY_SPAM_RETENTION_DAYS,
        "notice_version": settings.CURRENT_NOTICE_VERSION,
    }
    return render(request, "advisor/privacy.html", context)
