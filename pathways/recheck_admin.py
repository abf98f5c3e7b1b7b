"""Keeping facts fresh: which facts are due for a re-check, marking them checked, moving a
source, and handing the reference data on as the fixtures/ files.

A fact is any row with provenance (every reference model but Source). It is due when someone
last checked it more than RECHECK_AFTER_DAYS ago. Marking a fact checked and re-pointing a
source both save the row, so its history records who did it, when and why.
"""

import datetime
import io
import zipfile
from itertools import groupby

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from pathways.management.commands.export_reference_data import fixture_objects, fixture_text
from pathways.management.commands.load_reference_data import with_key_relations
from pathways.models import Provenance, Source


def fact_models() -> list[type[Provenance]]:
    return [model for model in apps.get_app_config("pathways").get_models() if issubclass(model, Provenance)]


def recheck_cutoff() -> datetime.date:
    """Facts last checked before this day are due."""
    return timezone.localdate() - datetime.timedelta(days=settings.RECHECK_AFTER_DAYS)


def due_q() -> Q:
    """Facts last checked too long ago, or flagged to verify before launch."""
    return Q(last_checked__lt=recheck_cutoff()) | Q(verify=True)


def due_facts(model):
    return with_key_relations(model).filter(due_q())


def can_edit_reference(user) -> bool:
    """Content editors (and superusers): change rights on every fact."""
    return all(user.has_perm(f"pathways.change_{model._meta.model_name}") for model in [Source, *fact_models()])


def admin_url(obj, action="change") -> str:
    return reverse(f"admin:pathways_{obj._meta.model_name}_{action}", args=[obj.pk])


class DueForRecheckFilter(admin.SimpleListFilter):
    title = "due for a re-check"
    parameter_name = "recheck"

    def lookups(self, request, model_admin):
        return [("due", f"Over {settings.RECHECK_AFTER_DAYS} days old, or to verify before launch")]

    def queryset(self, request, queryset):
        if self.value() != "due":
            return queryset
        if issubclass(queryset.model, Provenance):
            return queryset.filter(due_q())
        # Sources: those cited by at least one fact that is due.
        cited = set()
        for model in fact_models():
            cited.update(due_facts(model).exclude(source=None).values_list("source_id", flat=True))
        return queryset.filter(pk__in=cited)


def _save_fact(obj, reason: str, user, **changes) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)
    obj._change_reason = reason[:100]
    obj._history_user = user
    obj.save(update_fields=list(changes))


# "Due for a re-check"


class CheckedForm(forms.Form):
    facts = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, error_messages={"required": "Tick the facts you checked."}
    )
    note = forms.CharField(
        label="Note for the history (optional)", max_length=80, required=False, help_text="e.g. 'Still current'."
    )

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = {f"{row._meta.model_name}:{row.pk}": row for row in rows}
        self.fields["facts"].choices = [(key, str(row)) for key, row in self.rows.items()]


def recheck_view(model_admin, request):
    if not can_edit_reference(request.user):
        raise PermissionDenied
    rows = [row for model in fact_models() for row in due_facts(model)]
    form = CheckedForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"].strip()
        reason = "Checked against its source" + (f": {note}" if note else "")
        today = timezone.localdate()
        with transaction.atomic():
            for key in form.cleaned_data["facts"]:
                _save_fact(form.rows[key], reason, request.user, last_checked=today, verify=False)
        count = len(form.cleaned_data["facts"])
        model_admin.message_user(request, f"Marked {count} fact{'s' if count != 1 else ''} as checked today.")
        return redirect("admin:pathways_source_recheck")

    def by_source(row):
        return (row.source.title if row.source else "", row.source_id or 0)

    groups = [
        {
            "source": members[0].source,
            "facts": [
                {
                    "key": f"{row._meta.model_name}:{row.pk}",
                    "row": row,
                    "kind": row._meta.verbose_name,
                    "url": admin_url(row),
                }
                for row in members
            ],
        }
        for _, group in groupby(sorted(rows, key=by_source), key=by_source)
        for members in [list(group)]
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Due for a re-check",
        "opts": Source._meta,
        "groups": groups,
        "form": form,
        "cutoff": recheck_cutoff(),
        "days": settings.RECHECK_AFTER_DAYS,
        "count": len(rows),
    }
    return TemplateResponse(request, "admin/pathways/recheck.html", context)


# Sources: the facts citing one, and moving them all to another


def citing_facts(source) -> list:
    return [row for model in fact_models() for row in with_key_relations(model).filter(source=source)]


class RepointForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Source.objects.all(), label="Cite this source instead", empty_label="Choose a source"
    )
    reason = forms.CharField(label="Reason", max_length=60, help_text="e.g. 'The page moved'.")


@admin.action(description="Move the facts citing the selected source to another source", permissions=["change"])
def repoint_action(model_admin, request, queryset):
    if not can_edit_reference(request.user):
        raise PermissionDenied
    if queryset.count() != 1:
        model_admin.message_user(request, "Choose exactly one source to move its facts from.", messages.WARNING)
        return None
    source = queryset.get()
    form = RepointForm(request.POST if "apply" in request.POST else None)
    form.fields["target"].queryset = Source.objects.exclude(pk=source.pk)
    facts = citing_facts(source)
    if form.is_valid():
        target = form.cleaned_data["target"]
        reason = f"Source {source.code} → {target.code}: {form.cleaned_data['reason']}"
        with transaction.atomic():
            for row in facts:
                _save_fact(row, reason, request.user, source=target)
        model_admin.message_user(request, f"{len(facts)} facts now cite {target}.")
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Move the facts citing {source}",
        "opts": Source._meta,
        "source": source,
        "facts": [{"row": row, "kind": row._meta.verbose_name, "url": admin_url(row)} for row in facts],
        "form": form,
        "action": "repoint_action",
    }
    return TemplateResponse(request, "admin/pathways/repoint.html", context)


# The fixtures/ files as a zip


def fixtures_zip_view(model_admin, request):
    if not can_edit_reference(request.user):
        raise PermissionDenied
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, objects in fixture_objects():
            info = zipfile.ZipInfo(f"fixtures/{filename}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, fixture_text(objects).encode())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    name = f"coding-pathways-fixtures-{timezone.localdate().isoformat()}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
