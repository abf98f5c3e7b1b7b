"""Email replies to learners, written and sent from the enquiry page in admin.

An adviser picks a reply template (kept in admin, for one destination or general), which comes filled in
with the learner's name, the plan's summary and the adviser's name; edits it; sends it. Sending is
advisor.enquiries.services.reply: the reply is saved as a note on the enquiry together with its email and the
task that sends it, in one transaction, and goes out through the same task and retries as the advisers'
notifications (run by `manage.py db_worker`). The enquiry moves to contacted.

Sent once: each reply form carries an id of its own (a hidden field, drawn when the form is shown), unique on the
note in the database (services.reply), so a double click on "Send reply", or the same form sent again, stores one
note and sends one email, and every such request lands on the page the first one did.

Nothing is sent to an enquiry in the spam quarantine, or to a learner who asked to be phoned, unless the
adviser ticks the confirmation; nothing at all to an enquiry without an email address (anonymised).
"""

import re
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from advisor.enquiries import services
from advisor.enquiries.forms import single_line
from advisor.enquiries.models import ContactMethod, EmailDelivery, Enquiry, EnquiryNote
from advisor.inbox.models import ReplyTemplate
from pathways import presenter
from pathways.reference import load_reference

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PERMS = ("advisor.change_enquiry", "advisor.add_enquirynote", "advisor.view_replytemplate")


# --- Words ------------------------------------------------------------------------------------------------------


def plan_summary(snapshot: dict) -> str:
    """The plan as the enquiry page in admin summarises it, as text (pathways.presenter's adviser summary)."""
    return presenter.adviser_summary_text(snapshot, load_reference().credentials)


def fill(text: str, enquiry: Enquiry, adviser) -> str:
    """The template's placeholders replaced; anything else in braces is left as it was typed.

    Names and codes fill in as plain text on one line, whatever is stored: an enquiry saved before the form refused
    line breaks and control characters (a name stored as "Bob", a line break and "Bcc: x@example.org") cannot shape
    the email an adviser sends. Only the plan summary, which the presenter writes from the plan, runs over several
    lines.
    """
    names = {code: country.in_sentence for code, country in load_reference().countries.items()}
    values = {
        "learner_name": enquiry.name,
        "adviser_name": adviser.get_full_name() or adviser.get_username(),
        "reference": enquiry.reference,
        "destination": names.get(enquiry.destination_code, enquiry.destination_code),
    }
    values = {name: single_line(value) for name, value in values.items()}
    values["plan_summary"] = plan_summary(enquiry.plan_snapshot)
    return PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def templates_for(enquiry: Enquiry):
    """The templates offered for an enquiry: those for its destination first, then the general ones."""
    specific = Case(When(destination_code="", then=Value(1)), default=Value(0), output_field=IntegerField())
    return ReplyTemplate.objects.filter(Q(destination_code="") | Q(destination_code=enquiry.destination_code)).order_by(
        specific, "name"
    )


def warnings_for(enquiry: Enquiry) -> list[str]:
    """Why a reply by email needs the adviser's confirmation."""
    warnings = []
    if enquiry.is_spam:
        warnings.append("This enquiry is in the spam quarantine: it may not come from a real learner.")
    if enquiry.preferred_contact == ContactMethod.PHONE:
        warnings.append("The learner asked to be contacted by phone.")
    return warnings


# --- The reply page ---------------------------------------------------------------------------------------------


class ReplyForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", max_length=4000, widget=forms.Textarea(attrs={"rows": 18, "cols": 80}))
    confirm = forms.BooleanField(required=False, label="Send it by email all the same")
    # This form's own id, drawn when it is shown: what makes sending it twice store one reply (services.reply).
    submission_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, warnings=(), enquiry=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = list(warnings)
        self.enquiry = enquiry
        if not self.warnings:
            del self.fields["confirm"]
        if not self.is_bound and "submission_id" not in self.initial:
            self.initial["submission_id"] = uuid.uuid4()

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError("The subject must be one line.")
        return subject

    def clean(self):
        data = super().clean()
        if self.warnings and not data.get("confirm"):
            self.add_error("confirm", "Tick this box to send the email anyway, or contact the learner another way.")
        if "submission_id" not in data:  # missing or not a UUID: no page of ours sends that
            self.add_error(None, "This form is incomplete: open the reply page again.")
        elif self.enquiry and (
            EnquiryNote.objects.filter(submission_id=data["submission_id"]).exclude(enquiry=self.enquiry).exists()
        ):
            self.add_error(None, "This form was written for another enquiry: open the reply page again.")
        return data


def urls(model_admin) -> list:
    def view(request, object_id):
        return reply(request, object_id, model_admin)

    return [path("<int:object_id>/reply/", model_admin.admin_site.admin_view(view), name="advisor_enquiry_reply")]


@require_http_methods(["GET", "HEAD", "POST"])
def reply(request, object_id, model_admin):
    if not all(request.user.has_perm(p) for p in PERMS):
        raise PermissionDenied
    enquiry = get_object_or_404(Enquiry, pk=object_id)
    change_url = reverse("admin:advisor_enquiry_change", args=[enquiry.pk])
    if not enquiry.email:
        messages.error(request, "This enquiry has no email address (its details were removed): nothing can be sent.")
        return redirect(change_url)
    templates = list(templates_for(enquiry))
    warnings = warnings_for(enquiry)
    chosen = next((t for t in templates if str(t.pk) == request.GET.get("template")), None)
    if request.method == "POST":
        if (submission_id := _submission_id(request.POST)) and services.sent_reply(enquiry, submission_id):
            # A double click or the same form sent again: the page the first request led to, and nothing more.
            return _sent(request, enquiry, change_url)
        form = ReplyForm(request.POST, warnings=warnings, enquiry=enquiry)
        if form.is_valid():
            data = form.cleaned_data
            services.reply(enquiry, request.user, data["subject"], data["body"], submission_id=data["submission_id"])
            return _sent(request, enquiry, change_url)
    else:
        chosen = chosen or (templates[0] if templates else None)
        initial = {}
        if chosen:
            initial = {field: fill(getattr(chosen, field), enquiry, request.user) for field in ("subject", "body")}
        form = ReplyForm(initial=initial, warnings=warnings, enquiry=enquiry)
    sent = EmailDelivery.objects.filter(enquiry=enquiry, reply__isnull=False).select_related("reply__author")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Enquiry._meta,
        "original": enquiry,
        "title": f"Reply to {enquiry.reference} by email",
        "templates": templates,
        "chosen": chosen,
        "form": form,
        "warnings": warnings,
        "earlier": sent.order_by("created_at"),
    }
    return render(request, "admin/advisor/enquiry/reply.html", context)


def _submission_id(data) -> uuid.UUID | None:
    try:
        return uuid.UUID(data.get("submission_id", ""))
    except ValueError:
        return None


def _sent(request, enquiry, change_url):
    messages.success(request, f"Reply to {enquiry.reference} sent by email and saved as a note.")
    return redirect(change_url)
