""" "Preview changes to plans" on every reference change form, and the same on delete confirmations.

The edit is saved the usual way (form, inlines, history, version) inside the admin's own
transaction, the reference data is read as it would be, and the transaction is rolled back:
nothing is kept and the form comes back exactly as typed, with the plans it would change above
it. The plans are compared once that transaction has ended: comparing every plan takes a while,
and while a write transaction is open every other writer waits (SQLite allows one at a time).
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import ProtectedError

from pathways import impact
from pathways.reference import build_reference, load_reference

PREVIEW = "_preview"


def _previewing(request) -> bool:
    return request.method == "POST" and PREVIEW in request.POST


class PlanPreviewMixin:
    change_form_template = "admin/pathways/change_form.html"
    delete_confirmation_template = "admin/pathways/delete_confirmation.html"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if not _previewing(request):
            return super().changeform_view(request, object_id, form_url, extra_context)
        before = load_reference()
        response = super().changeform_view(request, object_id, form_url, extra_context)  # the admin's transaction
        after = getattr(request, "plans_after", None)
        if after is not None:  # not when the form had errors
            response.context_data["plan_changes"] = impact.plan_changes(before, after)
        return response

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        request.saved_forms = (form, formsets)

    def response_add(self, request, obj, post_url_continue=None):
        if _previewing(request):
            return self._preview_response(request, obj, add=True)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if _previewing(request):
            return self._preview_response(request, obj, add=False)
        return super().response_change(request, obj)

    def _preview_response(self, request, obj, add):
        request.plans_after = build_reference()
        transaction.set_rollback(True)  # the admin's transaction: the save, history, log entry and version all go
        form, formsets = request.saved_forms
        original = None if add else obj
        inline_instances = [inline for _, inline in self.get_formsets_with_inlines(request, original)]
        fieldsets = self.get_fieldsets(request, original)
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            self.get_prepopulated_fields(request, original),
            self.get_readonly_fields(request, original),
            model_admin=self,
        )
        inline_formsets = self.get_inline_formsets(request, formsets, inline_instances, original)
        media = self.media + admin_form.media
        for inline_formset in inline_formsets:
            media += inline_formset.media
        context = {
            **self.admin_site.each_context(request),
            "title": ("Add %s" if add else "Change %s") % self.opts.verbose_name,
            "subtitle": None if add else str(obj),
            "adminform": admin_form,
            "object_id": None if add else obj.pk,
            "original": original,
            "is_popup": False,
            "to_field": None,
            "media": media,
            "inline_admin_formsets": inline_formsets,
            "errors": helpers.AdminErrorList(form, formsets),
            "preserved_filters": self.get_preserved_filters(request),
        }
        return self.render_change_form(request, context, add=add, change=not add, obj=original)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if request.method == "GET" and obj is not None and self.has_delete_permission(request, obj):
            try:
                after = impact.reference_after(obj.delete)
            except ProtectedError:
                pass  # the admin says what stops the delete
            else:
                changes = impact.plan_changes(load_reference(), after)
                extra_context = {**(extra_context or {}), "plan_changes": changes}
        return super().delete_view(request, object_id, extra_context)
