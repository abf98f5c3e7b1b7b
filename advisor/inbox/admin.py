"""The advisers' inbox: enquiries in Django admin.

Who may do what is decided by permissions, which the groups in advisor/migrations/0002_roles.py hand
out: advisers view and handle enquiries but cannot edit what the learner submitted (that needs
`correct_enquiry`, privacy officers only) nor delete them; content editors have no enquiry permission
at all, so the model is invisible to them and every enquiry URL answers 403.
"""

import json
import logging

import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.http import HttpResponse
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django_tasks_db.models import DBTaskResult
from simple_history.admin import SimpleHistoryAdmin

from advisor.enquiries import emails, retention, services
from advisor.enquiries.forms import normalise_phone
from advisor.enquiries.models import STATUS_RANK, EmailDelivery, Enquiry, EnquiryNote, Status
from advisor.inbox import dashboard_views, replies
from advisor.inbox.exports import csv_response
from advisor.inbox.models import ReplyTemplate
from pathways import presenter
from pathways.reference import load_reference

access_log = logging.getLogger("advisor.access")

SUBMITTED_FIELDS = (
    "name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "message",
    "info_pack",
    "marketing_opt_in",
)
RECORD_FIELDS = (
    "reference",
    "created_at",
    "contact_links",
    "plan_summary",
    "reference_version",
    "notice_version",
    "contact_consent_at",
    "marketing_consent_at",
    "spam_reason",
    "contacted_at",
    "closed_at",
    "anonymised_at",
    "notification_status",
)


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("none", "Unassigned"), ("others", "Someone else")]

    def queryset(self, request, queryset):
        match self.value():
            case "me":
                return queryset.filter(assigned_to=request.user)
            case "none":
                return queryset.filter(assigned_to__isnull=True)
            case "others":
                return queryset.exclude(assigned_to=request.user).exclude(assigned_to__isnull=True)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.not_overdue()
        return queryset


class SpamFilter(admin.SimpleListFilter):
    """Quarantined spam is hidden unless asked for: advisers work real enquiries."""

    title = "spam"
    parameter_name = "spam"

    def lookups(self, request, model_admin):
        return [("yes", "Spam (quarantined)"), ("all", "Everything")]

    def queryset(self, request, queryset):
        match self.value():
            case "yes":
                return queryset.filter(is_spam=True)
            case "all":
                return queryset
        return queryset.filter(is_spam=False)

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Not spam"
            yield choice


class NotificationFailedFilter(admin.SimpleListFilter):
    """The advisers' email about each enquiry. "Failed or not sent yet" is every one not sent: failing, given up,
    and never tried (no task worker running, which the inbox's banner also says)."""

    title = "adviser email"
    parameter_name = "notification"

    def lookups(self, request, model_admin):
        return [("failed", "Failed or not sent yet"), ("sent", "Sent")]

    def queryset(self, request, queryset):
        advisers = EmailDelivery.objects.filter(enquiry=OuterRef("pk"), reply__isnull=True)
        unsent = advisers.filter(sent_at__isnull=True)
        sent = advisers.filter(sent_at__isnull=False)
        if self.value() == "failed":
            return queryset.filter(Exists(unsent))
        if self.value() == "sent":
            return queryset.filter(Exists(sent))
        return queryset


class EnquiryAdminForm(forms.ModelForm):
    class Meta:
        model = Enquiry
        fields = "__all__"

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "")
        if raw and not (phone := normalise_phone(raw)):
            raise forms.ValidationError("Enter a valid phone number")
        return phone if raw else ""

    def clean_status(self):
        new = self.cleaned_data["status"]
        if self.instance.pk and not self.instance.can_transition(new):
            raise forms.ValidationError(
                f"An enquiry that is {Status(self.instance.status).label.lower()} cannot be marked "
                f"{Status(new).label.lower()}."
            )
        return new


class EnquiryNoteInline(admin.TabularInline):
    model = EnquiryNote
    fields = ("text", "author", "created_at")
    readonly_fields = ("author", "created_at")
    extra = 1

    def has_change_permission(self, request, obj=None):
        # Notes are a record: advisers add new ones rather than rewrite old ones.
        return request.user.has_perm("advisor.change_enquirynote")


@admin.register(Enquiry)
class EnquiryAdmin(SimpleHistoryAdmin):
    form = EnquiryAdminForm
    list_display = (
        "reference",
        "received",
        "name",
        "preferred_contact",
        "origin_code",
        "destination_code",
        "status",
        "assigned_to",
        "overdue",
    )
    list_display_links = ("reference", "name")
    list_filter = (
        "status",
        AssignedFilter,
        OverdueFilter,
        "destination_code",
        "origin_code",
        "preferred_contact",
        SpamFilter,
        NotificationFailedFilter,
    )
    show_facets = admin.ShowFacets.ALWAYS
    date_hierarchy = "created_at"
    search_fields = ("=reference", "name", "email", "phone")
    search_help_text = "Reference, name, email or phone number"
    list_select_related = ("assigned_to",)
    list_per_page = 50
    inlines = [EnquiryNoteInline]
    history_list_display = ["status", "assigned_to"]
    actions = ["assign_to_me", "mark_contacted", "close", "mark_spam", "mark_not_spam", "export_csv", "export_person"]

    def get_urls(self):
        # The dashboard, the funnel and replies by email live in their own modules.
        return dashboard_views.urls(self) + replies.urls(self) + super().get_urls()

    # --- The list --------------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        # Nothing fails while no task worker runs, emails just wait: say so where advisers look (the template
        # shows it with the messages), until a worker takes them.
        stalled = emails.stalled()
        extra_context = {**(extra_context or {}), "emails_stalled": stalled.message() if stalled else ""}
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        # What needs someone first: new before follow-up before contacted, oldest first within each.
        rank = Case(*(When(status=s, then=Value(r)) for s, r in STATUS_RANK.items()), output_field=IntegerField())
        return [rank.asc(), "created_at"]

    @admin.display(description="received", ordering="created_at")
    def received(self, obj):
        return format_html(
            '<time datetime="{}">{} ago</time>', obj.created_at.isoformat(), timesince(obj.created_at).split(",")[0]
        )

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # People type phone numbers any way: "0412 345 678" finds the stored +61412345678.
        if search_term and (phone := normalise_phone(search_term)):
            results |= queryset.filter(phone=phone)
        return results, may_have_duplicates

    # --- The detail page -------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            # Who opened which enquiry, when (ids only): the record a data-breach assessment needs.
            access_log.info("enquiry viewed", extra={"enquiry_id": int(object_id), "user_id": request.user.pk})
        return response

    def get_fieldsets(self, request, obj=None):
        return [
            ("As submitted", {"fields": ("reference", "created_at", "contact_links", *SUBMITTED_FIELDS)}),
            ("Their plan", {"fields": ("plan_summary",)}),
            ("Handling", {"fields": ("status", "assigned_to", "contacted_at", "closed_at")}),
            ("Emails", {"fields": ("email_log",)}),
            (
                "Record",
                {
                    "classes": ("collapse",),
                    "fields": (
                        "reference_version",
                        "notice_version",
                        "contact_consent_at",
                        "marketing_consent_at",
                        "is_spam",
                        "spam_reason",
                        "notification_status",
                        "anonymised_at",
                    ),
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = [*RECORD_FIELDS, "email_log"]
        if not request.user.has_perm("advisor.correct_enquiry"):
            # What the learner sent is evidence: advisers read it; only a privacy officer corrects it (APP 13).
            readonly += SUBMITTED_FIELDS
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(Q(groups__name="Course advisers") | Q(pk=request.user.pk), is_active=True)
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="contact")
    def contact_links(self, obj):
        links = []
        if obj.email:
            links.append(format_html('<a href="mailto:{0}">{0}</a>', obj.email))
        if obj.phone:
            links.append(format_html('<a href="tel:{0}">{1}</a>', obj.phone, _display_phone(obj.phone)))
        return format_html_join(" · ", "{}", ((link,) for link in links)) or "–"

    @admin.display(description="plan as the learner saw it")
    def plan_summary(self, obj):
        return plan_summary_html(obj.plan_snapshot)

    @admin.display(description="adviser email")
    def notification_status(self, obj):
        rows = list(obj.emails.filter(reply__isnull=True).order_by("created_at", "pk"))
        if not rows:
            return "None (spam is not notified)" if obj.is_spam else "None"
        return self._email_state(rows[-1])

    @admin.display(description="emails, oldest first")
    def email_log(self, obj):
        rows = obj.emails.select_related("reply__author").order_by("created_at", "pk")
        lines = [
            (
                f"{timezone.localtime(row.created_at):%d %b %Y %H:%M}",
                f"Reply to the learner by {row.reply.author or 'a former adviser'}" if row.reply_id else "To advisers",
                self._email_state(row),
            )
            for row in rows
        ]
        if not lines:
            return "None"
        return format_html(
            '<table class="email-log"><thead><tr><th scope="col">Queued</th><th scope="col">Email</th>'
            '<th scope="col">State</th></tr></thead><tbody>{}</tbody></table>',
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", lines),
        )

    @staticmethod
    def _email_state(row: EmailDelivery) -> str:
        """Where one email stands: sent, given up and why, failing and when it is tried next, or waiting."""
        if row.sent_at:
            return f"Sent {timezone.localtime(row.sent_at):%d %b %Y %H:%M}"
        tries = f"{row.attempts} attempt{'' if row.attempts == 1 else 's'}"
        if row.gave_up_at:
            return f"Gave up after {tries} ({row.last_error})"
        if row.attempts:
            retry = DBTaskResult.objects.filter(pk=row.task_id, status=TaskResultStatus.READY).first()
            next_try = f"; next try {timezone.localtime(retry.run_after):%H:%M}" if retry else ""
            return f"Failed {row.attempts} time{'' if row.attempts == 1 else 's'} ({row.last_error}){next_try}"
        return "Waiting to be sent"

    def save_model(self, request, obj, form, change):
        if change and "status" in form.changed_data:
            new = obj.status
            obj.status = form.initial["status"]
            obj.transition_to(new)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        notes = formset.save(commit=False)
        for note in notes:
            if isinstance(note, EnquiryNote) and not note.author_id:
                note.author = request.user
            note.save()
        for note in formset.deleted_objects:
            note.delete()
        formset.save_m2m()

    # --- Actions ---------------------------------------------------------------------------------

    def has_export_permission(self, request):
        return request.user.has_perm("advisor.export_enquiry")

    def has_export_person_permission(self, request):
        return request.user.has_perm("advisor.export_personal_data")

    def _save_each(self, request, queryset, change, done_message):
        done = skipped = 0
        for enquiry in queryset:
            try:
                change(enquiry)
            except ValueError:
                skipped += 1
                continue
            enquiry._history_user = request.user
            enquiry.save()
            done += 1
        self.message_user(request, done_message.format(n=done), messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} skipped: their status does not allow that step.", messages.WARNING)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        def assign(enquiry):
            enquiry.assigned_to = request.user

        self._save_each(request, queryset, assign, "{n} enquiries assigned to you.")

    @admin.action(description="Mark as contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._save_each(request, queryset, lambda e: e.transition_to(Status.CONTACTED), "{n} marked as contacted.")

    @admin.action(description="Close", permissions=["change"])
    def close(self, request, queryset):
        self._save_each(request, queryset, lambda e: e.transition_to(Status.CLOSED), "{n} closed.")

    @admin.action(description="Mark as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        def spam(enquiry):
            enquiry.is_spam, enquiry.spam_reason = True, "marked by adviser"

        self._save_each(request, queryset, spam, "{n} moved to the spam quarantine.")

    @admin.action(description="Not spam: move to the inbox", permissions=["change"])
    def mark_not_spam(self, request, queryset):
        for enquiry in queryset.filter(is_spam=True):
            enquiry._history_user = request.user
            services.mark_not_spam(enquiry)
        self.message_user(request, "Moved to the inbox; advisers will be notified.", messages.SUCCESS)

    @admin.action(description="Export selected to CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        columns = [
            ("Reference", "reference"),
            ("Received", "created_at"),
            ("Status", "status"),
            ("Assigned to", "assigned_to"),
            ("Name", "name"),
            ("Email", "email"),
            ("Phone", "phone"),
            ("Preferred contact", "preferred_contact"),
            ("Best time to call", "best_time"),
            ("Origin", "origin_code"),
            ("Destination", "destination_code"),
            ("Information pack", "info_pack"),
            ("Message", "message"),
        ]
        rows = [[title for title, _ in columns]]
        rows += [[getattr(e, attr) for _, attr in columns] for e in queryset.select_related("assigned_to")]
        return csv_response(f"enquiries-{timezone.localdate():%Y%m%d}.csv", rows)

    @admin.action(description="Export everything held about these people (JSON)", permissions=["export_person"])
    def export_person(self, request, queryset):
        emails = sorted({e.email for e in queryset if e.email})
        data = {"people": [retention.personal_data(email) for email in emails]}
        response = HttpResponse(json.dumps(data, indent=2, default=str), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        response["Cache-Control"] = "no-store"
        return response


def _display_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def plan_summary_html(plan: dict):
    """The plan snapshot as an adviser reads it, in the presenter's words (the same text a reply's {plan_summary}
    gets): the move in bold, the answer and notes, the learner's answers, then the steps."""
    summary = presenter.adviser_summary(plan, load_reference().credentials)
    if summary is None:
        return presenter.NO_PLAN
    return format_html(
        "<p><strong>{}</strong></p>{}<ol>{}</ol>",
        summary.move,
        format_html_join("", "<p>{}</p>", ((line,) for line in [summary.answer, *summary.notes, summary.answers])),
        format_html_join("", "<li>{}</li>", ((step,) for step in summary.steps)),
    )


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
