"""'Preview changes to plans': what an edit would change for learners, shown before anything is saved,
and the same as what saving it then changes."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import Model
from django.urls import reverse

from pathways import impact
from pathways.models import (
    Classification,
    ClassificationGap,
    Country,
    CountryUsage,
    Credential,
    ReferenceVersion,
    Route,
    RouteCredential,
    RouteNote,
    TransferableSkill,
)
from pathways.reference import build_reference
from tests.pathways.test_admin_reference import _form_data, _staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    client.force_login(_staff("edith", "Content editors"))
    return client


def url(model, action, *args):
    return reverse(f"admin:pathways_{model._meta.model_name}_{action}", args=args)


def first_free(model, **fixed):
    """A value for the one unfixed key field that makes a new row, e.g. a classification with no gap yet."""
    ((name, options),) = ((k, v) for k, v in fixed.items() if isinstance(v, list))
    for option in options:
        if not model.objects.filter(**{**{k: v for k, v in fixed.items() if k != name}, name: option}).exists():
            return option.pk if isinstance(option, Model) else option
    raise AssertionError("no free key")


def gap_add():
    target = Classification.objects.get(code="opcs-4")
    return {
        "from_classification": first_free(
            ClassificationGap, to_classification=target, from_classification=list(Classification.objects.all())
        )
    }


def usage_add():
    gb = Country.objects.get(code="GB")
    return {"classification": first_free(CountryUsage, country=gb, classification=list(Classification.objects.all()))}


def route_credential_add():
    row = RouteCredential.objects.filter(route__origin__code="AU", route__destination__code="GB").first()
    return {
        "setting": first_free(
            RouteCredential, route=row.route, credential=row.credential, setting=["inpatient", "outpatient", "all"]
        )
    }


# model: (an existing row, a change to it, overrides that make a copy of it a new row)
CASES = {
    "gap": (lambda: ClassificationGap.objects.get_by_natural_key("achi", "opcs-4"), {"level": "major"}, gap_add),
    "credential": (
        lambda: Credential.objects.get(code="aapc-cpc"),
        {"name": "CPC (renamed)"},
        lambda: {"code": "preview-course", "name": "A preview course"},
    ),
    "route": (lambda: Route.objects.get_by_natural_key("AU", "GB"), {"difficulty": "4"}, None),
    "route credential": (
        lambda: RouteCredential.objects.filter(route__origin__code="AU", route__destination__code="GB").first(),
        {"step": "5"},
        route_credential_add,
    ),
    "route note": (
        lambda: RouteNote.objects.filter(route__origin__code="AU", route__destination__code="GB").first(),
        {"text": "A changed note."},
        lambda: {"code": "preview-note"},
    ),
    "country usage": (
        lambda: CountryUsage.objects.get_by_natural_key("GB", "opcs-4"),
        {"edition": "OPCS-4.11"},
        usage_add,
    ),
    "country": (
        lambda: Country.objects.get(code="NZ"),
        {"keeping_current": "Changed."},
        lambda: {"code": "ZZ", "name": "Zedland"},
    ),
    "classification": (
        lambda: Classification.objects.get(code="opcs-4"),
        {"name": "OPCS-4 renamed"},
        lambda: {"code": "preview-class", "name": "A preview classification"},
    ),
    "skill": (
        lambda: TransferableSkill.objects.order_by("order").first(),
        {"text": "A changed skill."},
        lambda: {"code": "preview-skill"},
    ),
}


def copied(data, row):
    """An add form filled with an existing row's values."""
    for field in row._meta.get_fields():
        if field.name not in data or not (field.concrete or field.many_to_many):
            continue
        if field.many_to_many:
            data[field.name] = [str(pk) for pk in getattr(row, field.name).values_list("pk", flat=True)]
        elif field.is_relation:
            data[field.name] = "" if getattr(row, field.attname) is None else str(getattr(row, field.attname))
        elif isinstance(value := getattr(row, field.name), bool):
            data.pop(field.name) if not value else data.__setitem__(field.name, "on")
        else:
            data[field.name] = "" if value is None else str(value)
    return data


def traces():
    return (ReferenceVersion.current(), LogEntry.objects.count(), ClassificationGap.history.count())


def assert_preview_matches_save(editor, post_url, data, before):
    kept = traces()
    response = editor.post(post_url, {**data, "_preview": "Preview changes to plans"})
    assert response.status_code == 200
    assert "plan_changes" in response.context, response.context["errors"]
    preview = response.context["plan_changes"]
    assert traces() == kept  # nothing saved, logged or recorded
    saved = editor.post(post_url, {**data, "_save": "Save", "change_reason": "Test"})
    assert saved.status_code == 302, saved.context["errors"] if saved.context else saved
    assert impact.plan_changes(before, build_reference()) == preview
    return preview, response


@pytest.mark.parametrize("case", CASES)
def test_previewing_a_change_agrees_with_saving_it(editor, case):
    existing, change, _ = CASES[case]
    row = existing()
    data = _form_data(editor.get(url(type(row), "change", row.pk)), reason="")
    data.update(change)
    preview, _ = assert_preview_matches_save(editor, url(type(row), "change", row.pk), data, build_reference())
    assert preview  # each of these edits shows in some plan


@pytest.mark.parametrize("case", [name for name, (_, _, add) in CASES.items() if add])
def test_previewing_a_new_row_agrees_with_saving_it(editor, case):
    existing, _, add = CASES[case]
    row = existing()
    model = type(row)
    data = copied(_form_data(editor.get(url(model, "add")), reason=""), row)
    data.update({name: str(value) for name, value in add().items()})
    assert_preview_matches_save(editor, url(model, "add"), data, build_reference())


@pytest.mark.parametrize("case", CASES)
def test_previewing_a_delete_agrees_with_deleting(editor, case):
    existing, _, _ = CASES[case]
    row = existing()
    before = build_reference()
    page = editor.get(url(type(row), "delete", row.pk))
    if "plan_changes" not in page.context:  # protected: the admin says what stops it, nothing to preview
        assert "Cannot delete" in page.content.decode() or "would require deleting" in page.content.decode()
        return
    preview = page.context["plan_changes"]
    assert editor.post(url(type(row), "delete", row.pk), {"post": "yes"}).status_code == 302
    assert impact.plan_changes(before, build_reference()) == preview


def test_the_opcs_gap_preview_lists_the_moves_to_the_uk_and_keeps_the_form_as_typed(editor):
    gap = ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")
    data = _form_data(editor.get(url(ClassificationGap, "change", gap.pk)), reason="")
    data["level"] = "major"
    response = editor.post(url(ClassificationGap, "change", gap.pk), {**data, "_preview": "1"})
    moves = {group.move for group in response.context["plan_changes"]}
    assert {"Australia → United Kingdom", "New Zealand → United Kingdom"} <= moves
    page = response.content.decode()
    assert "OPCS-4: Major" in page and "Nothing has been saved" in page
    assert response.context["adminform"].form["level"].value() == "major"
    assert ClassificationGap.objects.get(pk=gap.pk).level == "new"


def test_a_change_no_plan_shows_says_so(editor):
    skill_free = Classification.objects.get(code="opcs-4")
    data = _form_data(editor.get(url(Classification, "change", skill_free.pk)), reason="")
    data["description"] = "A description no plan shows."
    response = editor.post(url(Classification, "change", skill_free.pk), {**data, "_preview": "1"})
    assert response.context["plan_changes"] == []
    assert "No plan changes" in response.content.decode()


def test_previewing_the_busiest_row_is_quick_enough_to_use(editor):
    # Not a timed test: a sanity bound on the work, 2 plan builds per profile.
    before = build_reference()
    assert len(impact.profiles(before)) < 2000


def test_a_preview_asks_for_no_reason_but_saving_afterwards_still_does(editor):
    gap = ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")
    data = _form_data(editor.get(url(ClassificationGap, "change", gap.pk)), reason="")
    data["level"] = "major"
    assert "plan_changes" in editor.post(url(ClassificationGap, "change", gap.pk), {**data, "_preview": "1"}).context
    saved = editor.post(url(ClassificationGap, "change", gap.pk), data)
    assert saved.status_code == 200 and "change_reason" in saved.context["adminform"].form.errors
    assert ClassificationGap.objects.get(pk=gap.pk).level == "new"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["change", "add", "delete"])
def test_plans_are_compared_after_the_write_transaction_has_ended(admin_client, monkeypatch, action):
    # While a write transaction is open every other writer waits (SQLite: one writer at a time), and comparing
    # every plan takes a while: so the edit is saved, read back and rolled back first, and compared afterwards.
    gap = ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")
    seen = []
    compare = impact.plan_changes

    def spy(before, after):
        level = ClassificationGap.objects.filter(pk=gap.pk).values_list("level", flat=True).first()
        seen.append((connection.in_atomic_block, level, ReferenceVersion.current()))
        return compare(before, after)

    monkeypatch.setattr(impact, "plan_changes", spy)
    version = ReferenceVersion.current()
    if action == "delete":
        response = admin_client.get(url(ClassificationGap, "delete", gap.pk))
    else:
        target = url(ClassificationGap, "change", gap.pk) if action == "change" else url(ClassificationGap, "add")
        data = _form_data(admin_client.get(url(ClassificationGap, "change", gap.pk)), reason="")
        data.update(level="major", _preview="1")
        if action == "add":
            data.update(gap_add())
        response = admin_client.post(target, data)
    assert response.context["plan_changes"]
    assert seen == [(False, "new", version)], "outside any transaction, the edit already rolled back"
