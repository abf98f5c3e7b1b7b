"""Email replies to learners, written and sent from the enquiry page in admin.

An adviser picks a reply template (kept in admin, for one destination or general), which comes filled in
with the learner's name, the plan's summary and the adviser's name; edits it; sends it. The reply is saved
as a note on the enquiry (author and time) together with an email delivery pointing at that note and the
task that sends it, in one transaction, and goes out through the same task and retries as the advisers'
notifications (advisor/notifications.py, run by `manage.py db_worker`). The enquiry moves to contacted.

Nothing is sent to an enquiry in the spam quarantine, or to a learner who asked to be phoned, unless the
adviser ticks the confirmation; nothing at all to an enquiry without an email address (anonymised).
"""

import re
from html import unescape

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import strip_tags

from advisor import notifications
from advisor.models import ContactMethod, EmailDelivery, Enquiry, EnquiryNote, ReplyTemplate, Status
from pathways.reference import load_reference

NOTE_HEADER = "Emailed to the learner.\nSubject: "
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PERMS = ("advisor.change_enquiry", "advisor.add_enquirynote", "advisor.view_replytemplate")


# --- Words ------------------------------------------------------------------------------------------------------


def plan_summary_text(snapshot: dict) -> str:
    """The plan as the enquiry page in admin summarises it, as plain text for an email.

    The one place replies turn a plan into words: when the plan presenter replaces the admin's summary,
    this is the line to change.
    """
    from advisor.admin import plan_summary_html

    return _html_to_text(plan_summary_html(snapshot))


def _html_to_text(html) -> str:
    text = re.sub(r"<li>", "- ", str(html))
    text = re.sub(r"</(p|li|ul|ol)>", "\n", text)
    return "\n".join(line.strip() for line in unescape(strip_tags(text)).splitlines() if line.strip())


def fill(text: str, enquiry: Enquiry, adviser) -> str:
    """The template's placeholders replaced; anything else in braces is left as it was typed."""
    names = {code: country.in_sentence for code, country in load_reference().countries.items()}
    values = {
        "learner_name": enquiry.name,
        "adviser_name": adviser.get_full_name() or adviser.get_username(),
        "plan_summary": plan_summary_text(enquiry.plan_snapshot),
        "reference": enquiry.reference,
        "destination": names.get(enquiry.destination_code, enquiry.destination_code),
    }
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


# --- Sending ----------------------------------------------------------------------------------------------------


def send_reply(enquiry: Enquiry, adviser, subject: str, body: str) -> EnquiryNote:
    """Save the reply as a note and queue its email; the enquiry moves to contacted (where its status allows)."""
    with transaction.atomic():
        note = EnquiryNote.objects.create(enquiry=enquiry, author=adviser, text=f"{NOTE_HEADER}{subject}\n\n{body}")
        # As for the advisers' notifications: the email and its task are saved with the note, or not at all.
        notifications.queue(enquiry, reply=note)
        if enquiry.status != Status.CONTACTED and enquiry.can_transition(Status.CONTACTED):
            enquiry.transition_to(Status.CONTACTED)
            enquiry._history_user = adviser
            enquiry.save()
    return note


def build_reply_message(delivery: EmailDelivery) -> EmailMessage:
    """The email for a reply, from its note. Raises if the note or the learner's address was removed."""
    enquiry = delivery.enquiry
    header, _, body = delivery.reply.text.partition("\n\n")
    if not header.startswith(NOTE_HEADER) or not enquiry.email:
        raise ValueError("The reply or the learner's address has been removed")
    operator_email = settings.OPERATOR.get("email")
    return EmailMessage(
        subject=header.removeprefix(NOTE_HEADER),
        body=body,
        to=[enquiry.email],
        reply_to=[operator_email] if operator_email else None,
        headers={"X-Enquiry-Reference": enquiry.reference},
    )


# --- The reply page ---------------------------------------------------------------------------------------------


class ReplyForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", max_length=4000, widget=forms.Textarea(attrs={"rows": 18, "cols": 80}))
    confirm = forms.BooleanField(required=False, label="Send it by email all the same")

    def __init__(self, *args, warnings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = list(warnings)
        if not self.warnings:
            del self.fields["confirm"]

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError("The subject must be one line.")
        return subject

    def clean(self):
        data = super().clean()
        if self.warnings and not data.get("confirm"):
            self.add_error("confirm", "Tick this box to send the email anyway, or contact the learner another way.")
        return data


def urls(model_admin) -> list:
    def view(request, object_id):
        return reply(request, object_id, model_admin)

    return [path("<int:object_id>/reply/", model_admin.admin_site.admin_view(view), name="advisor_enquiry_reply")]


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
        form = ReplyForm(request.POST, warnings=warnings)
        if form.is_valid():
            send_reply(enquiry, request.user, form.cleaned_data["subject"], form.cleaned_data["body"])
            messages.success(request, f"Reply to {enquiry.reference} sent by email and saved as a note.")
            return redirect(change_url)
    else:
        chosen = chosen or (templates[0] if templates else None)
        initial = {}
        if chosen:
            initial = {field: fill(getattr(chosen, field), enquiry, request.user) for field in ("subject", "body")}
        form = ReplyForm(initial=initial, warnings=warnings)
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


# --- The templates in admin -------------------------------------------------------------------------------------


def _destination_choices():
    countries = sorted(load_reference().countries.values(), key=lambda c: c.name)
    return [("", "Any destination (general)")] + [(c.code, c.name) for c in countries]


class ReplyTemplateForm(forms.ModelForm):
    destination_code = forms.ChoiceField(label="Destination", required=False, choices=_destination_choices)

    class Meta:
        model = ReplyTemplate
        fields = ("name", "destination_code", "subject", "body")


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    form = ReplyTemplateForm
    list_display = ("name", "destination_code", "subject")
    list_filter = ("destination_code",)
    search_fields = ("name", "subject")
