"""Admin for content staff ("Content editors") over the reference data; advisers get it read-only.

Every save or delete here, inlines, history reverts and bulk deletes included, bumps
ReferenceVersion (pathways.signals: once per transaction, inside it), so every worker rebuilds
its cached reference data on its next request. After editing, run
`manage.py export_reference_data` to write the change back to fixtures/.
"""

from functools import partial

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.urls import path
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from pathways import recheck_admin as recheck
from pathways.models import (
    Classification,
    ClassificationGap,
    Country,
    CountryUsage,
    Credential,
    Organisation,
    ReferenceVersion,
    Route,
    RouteCredential,
    RouteNote,
    Source,
    TransferableSkill,
)
from pathways.presenter import duration_text
from pathways.preview_admin import PREVIEW, PlanPreviewMixin
from pathways.records import Duration

PROVENANCE_FIELDS = ["source_kind", "source", "source_detail", "last_checked", "verify"]
SOURCE_FIELDSET = (
    "Source",
    {
        "classes": ["collapse"],
        "fields": PROVENANCE_FIELDS,
        "description": "Where this fact comes from and when someone last checked it against that source.",
    },
)


def _fieldsets(*groups):
    """Fieldsets: the given (title, fields) groups, then the collapsible Source group."""
    return [(title, {"fields": list(fields)}) for title, fields in groups] + [SOURCE_FIELDSET]


class ReasonForm(forms.ModelForm):
    """Every save of reference data says why, for the row's history."""

    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=100,
        help_text="A few words for the history, e.g. 'IHACPA page moved' or 'Checked against the 13th edition'.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if PREVIEW in self.data:
            self.fields["change_reason"].required = False  # a reason is for saving, not for a preview


class ReferenceAdmin(PlanPreviewMixin, SimpleHistoryAdmin):
    form = ReasonForm
    show_facets = admin.ShowFacets.ALWAYS
    list_per_page = 100

    def get_fieldsets(self, request, obj=None):
        return [*super().get_fieldsets(request, obj), ("Why", {"fields": ["change_reason"]})]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), recheck.DueForRecheckFilter]

    def save_model(self, request, obj, form, change):
        request.reference_change_reason = form.cleaned_data.get("change_reason", "")
        obj._change_reason = request.reference_change_reason
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Inline rows are saved after their parent: they share its reason and author.
        for inline_form in formset.forms:
            inline_form.instance._change_reason = request.reference_change_reason
            inline_form.instance._history_user = request.user
        super().save_formset(request, form, formset, change)

    def revert_disabled(self, request, obj=None):
        # Settings turn reverting off for enquiries (their history is an audit trail); facts can be reverted.
        return not self.has_change_permission(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history lets anyone who may view the history post the revert form: only editors may.
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        # django-simple-history saves a revert (row, history, log entry) without a transaction of its own:
        # one here, as the admin's change form has, so the row and the version commit together.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def delete_model(self, request, obj):
        obj._change_reason = "Deleted in admin"
        super().delete_model(request, obj)


class ReferenceInline(admin.TabularInline):
    extra = 0
    show_change_link = True


# Sources and organisations


@admin.register(Source)
class SourceAdmin(ReferenceAdmin):
    list_display = ["code", "title", "kind", "publisher"]
    list_filter = ["kind"]
    search_fields = ["code", "title", "publisher", "url"]
    readonly_fields = ["facts_citing"]
    fields = ["code", "title", "publisher", "url", "kind", "facts_citing"]
    actions = [recheck.repoint_action]
    change_list_template = "admin/pathways/source/change_list.html"

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.fields}), ("Why", {"fields": ["change_reason"]})]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recheck/", view(partial(recheck.recheck_view, self)), name="pathways_source_recheck"),
            path("fixtures.zip", view(partial(recheck.fixtures_zip_view, self)), name="pathways_source_fixtures"),
            *super().get_urls(),
        ]

    @admin.display(description="Facts citing this source")
    def facts_citing(self, source):
        facts = recheck.citing_facts(source) if source.pk else []
        if not facts:
            return "None."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li>{}: <a href="{}">{}</a></li>',
                ((row._meta.verbose_name.capitalize(), recheck.admin_url(row), row) for row in facts),
            ),
        )


@admin.register(Organisation)
class OrganisationAdmin(ReferenceAdmin):
    list_display = ["code", "name", "country", "source_kind", "last_checked"]
    list_filter = ["country", "source_kind"]
    search_fields = ["code", "name", "role"]
    autocomplete_fields = ["source"]
    fieldsets = _fieldsets((None, ["code", "name", "country", "role", "url"]))


# Countries and what they code in


class CountryUsageInline(ReferenceInline):
    model = CountryUsage
    fields = ["classification", "setting", "edition", "note", *PROVENANCE_FIELDS]
    autocomplete_fields = ["classification", "source"]


@admin.register(Country)
class CountryAdmin(ReferenceAdmin):
    list_display = ["code", "name", "profession", "grouper", "governing_body", "last_checked"]
    list_select_related = ["governing_body"]
    list_filter = ["source_kind"]
    search_fields = ["code", "name", "profession", "grouper"]
    autocomplete_fields = ["governing_body", "source"]
    inlines = [CountryUsageInline]
    fieldsets = _fieldsets(
        (None, ["code", "name", "name_in_sentence", "profession", "governing_body"]),
        ("Funding", ["grouper", "funding_note"]),
        ("The work", ["coding_scope", "keeping_current"]),
    )


@admin.register(Classification)
class ClassificationAdmin(ReferenceAdmin):
    list_display = ["code", "name", "kind", "edition", "publisher", "modifies"]
    list_select_related = ["publisher", "modifies"]
    list_filter = ["kind", "source_kind"]
    search_fields = ["code", "name", "edition", "description"]
    autocomplete_fields = ["publisher", "modifies", "source"]
    fieldsets = _fieldsets((None, ["code", "name", "kind", "edition", "publisher", "modifies", "description"]))


@admin.register(CountryUsage)
class CountryUsageAdmin(ReferenceAdmin):
    list_display = ["country", "classification", "setting", "edition"]
    list_select_related = ["country", "classification"]
    list_filter = ["country", "setting", "classification__kind"]
    search_fields = ["country__code", "country__name", "classification__code", "classification__name"]
    autocomplete_fields = ["country", "classification", "source"]
    fieldsets = _fieldsets((None, ["country", "classification", "setting", "edition", "note"]))


# Credentials


@admin.register(Credential)
class CredentialAdmin(ReferenceAdmin):
    list_display = ["code", "name", "country", "awarded_by", "kind", "setting", "duration", "requires_employment"]
    list_select_related = ["country", "awarded_by"]
    list_filter = ["country", "kind", "setting", "requires_employment", "source_kind"]
    search_fields = ["code", "name", "awarded_by__name", "summary"]
    autocomplete_fields = [
        "country",
        "awarded_by",
        "classifications",
        "next_credential",
        "taken_within",
        "source",
        "duration_source",
    ]
    fieldsets = _fieldsets(
        (None, ["code", "name", "country", "awarded_by", "kind", "setting", "classifications"]),
        (
            "Duration (only where a source gives a figure, in its own unit)",
            [
                "duration_min",
                "duration_max",
                "duration_unit",
                "duration_about",
                "duration_basis",
                "taken_within",
                "duration_note",
                "duration_source",
            ],
        ),
        ("For learners", ["summary", "prerequisites", "requires_employment"]),
        ("Progression and keeping current", ["next_credential", "progression_note", "keeping_current"]),
    )

    @admin.display(description="Duration")
    def duration(self, credential):
        # In the presenter's words, as learners read it.
        if credential.duration_min is None or not credential.duration_unit:
            return duration_text(None)
        return duration_text(
            Duration(
                credential.duration_min,
                credential.duration_max,
                credential.duration_unit,
                credential.duration_about,
                credential.duration_basis,
            )
        )


# Routes


class RouteCredentialInline(ReferenceInline):
    model = RouteCredential
    fields = ["setting", "step", "credential", "note", *PROVENANCE_FIELDS]
    autocomplete_fields = ["credential", "source"]


class RouteNoteInline(ReferenceInline):
    model = RouteNote
    fields = ["order", "code", "kind", "text", *PROVENANCE_FIELDS]
    autocomplete_fields = ["source"]


@admin.register(Route)
class RouteAdmin(ReferenceAdmin):
    list_display = ["__str__", "difficulty", "headline", "extra_gap_level", "last_checked"]
    list_display_links = ["__str__"]
    list_select_related = ["origin", "destination"]
    list_filter = ["difficulty", "destination", "origin"]
    search_fields = ["origin__code", "origin__name", "destination__code", "destination__name", "headline"]
    autocomplete_fields = ["origin", "destination", "source"]
    readonly_fields = ["reachable_gaps"]
    inlines = [RouteCredentialInline, RouteNoteInline]
    fieldsets = _fieldsets(
        (None, ["origin", "destination", "difficulty", "headline", "summary"]),
        ("At the destination", ["employer_expectation", "local_conventions"]),
        ("A gap that is not one classification", ["extra_gap_level", "extra_gap_title", "extra_gap_note"]),
        ("Classification gaps on this route", ["reachable_gaps"]),
    )

    @admin.display(description="Gaps from the origin's classifications to the destination's")
    def reachable_gaps(self, route):
        if route.pk is None:
            return "Save the route to see its classification gaps."
        if route.origin is None:
            return "An entry route: someone new to coding learns the destination's classifications from scratch."
        gaps = (
            ClassificationGap.objects.filter(
                from_classification__usages__country=route.origin,
                to_classification__usages__country=route.destination,
            )
            .select_related("from_classification", "to_classification")
            .order_by("from_classification__code", "to_classification__code")
            .distinct()
        )
        if not gaps:
            return "No classification gaps recorded between these two countries' classifications."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (gap.from_classification.code, gap.to_classification.code, gap.get_level_display(), gap.note)
                for gap in gaps
            ),
        )
        return format_html(
            "<table><thead><tr><th>From</th><th>To</th><th>Level</th><th>Note</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


@admin.register(RouteCredential)
class RouteCredentialAdmin(ReferenceAdmin):
    list_display = ["route", "setting", "step", "credential"]
    list_select_related = ["route__origin", "route__destination", "credential"]
    list_filter = ["route__destination", "setting", "step"]
    search_fields = ["credential__code", "credential__name", "route__origin__code", "route__destination__code"]
    autocomplete_fields = ["route", "credential", "source"]
    fieldsets = _fieldsets((None, ["route", "setting", "step", "credential", "note"]))


@admin.register(RouteNote)
class RouteNoteAdmin(ReferenceAdmin):
    list_display = ["route", "code", "kind", "order"]
    list_select_related = ["route__origin", "route__destination"]
    list_filter = ["kind", "route__destination"]
    search_fields = ["code", "text", "route__origin__code", "route__destination__code"]
    autocomplete_fields = ["route", "source"]
    fieldsets = _fieldsets((None, ["route", "code", "kind", "order", "text"]))


# Gaps and skills


@admin.register(ClassificationGap)
class ClassificationGapAdmin(ReferenceAdmin):
    list_display = ["from_classification", "to_classification", "level", "source_kind"]
    list_select_related = ["from_classification", "to_classification"]
    list_filter = ["level", "to_classification__kind", "source_kind"]
    search_fields = ["from_classification__code", "to_classification__code", "note"]
    autocomplete_fields = ["from_classification", "to_classification", "source"]
    fieldsets = _fieldsets((None, ["from_classification", "to_classification", "level", "note"]))


@admin.register(TransferableSkill)
class TransferableSkillAdmin(ReferenceAdmin):
    list_display = ["code", "text", "setting", "order"]
    list_filter = ["setting"]
    search_fields = ["code", "text"]
    autocomplete_fields = ["source"]
    fieldsets = _fieldsets((None, ["code", "text", "setting", "order"]))


@admin.register(ReferenceVersion)
class ReferenceVersionAdmin(admin.ModelAdmin):
    """Read-only: every write to reference data moves it on (pathways.signals)."""

    list_display = ["version", "changed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
