"""Reference-data admin: what content editors and course advisers can do, validation, version bumps."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
)
from tests.pathways.test_fixtures import sample_fixtures, write_fixtures

pytestmark = pytest.mark.django_db

REFERENCE_MODELS = [model for model in admin.site._registry if model._meta.app_label == "pathways"]
EDITABLE_MODELS = [model for model in REFERENCE_MODELS if model is not ReferenceVersion]


def _staff(username, group):
    user = User.objects.create_user(username, f"{username}@example.org", "not-a-real-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(client):
    client.force_login(_staff("edith", "Content editors"))
    return client


@pytest.fixture
def adviser(client):
    client.force_login(_staff("adam", "Course advisers"))
    return client


@pytest.fixture
def sample(db, tmp_path):
    directory = write_fixtures(tmp_path / "fixtures", sample_fixtures())
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0)


@pytest.fixture
def reference_data(db):
    """The real reference data the session loaded (tests/conftest.py); missing data fails, never substitutes."""
    assert Country.objects.exists(), "fixtures/ loaded no reference data"


def _url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _form_data(response, reason="Checked in a test") -> dict:
    """The change form with its inlines, as a browser would submit it untouched (with a reason)."""
    data = {"_save": "Save"}

    def add(form):
        for name in form.fields:
            bound = form[name]
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(getattr(item, "pk", item)) for item in value]
            else:
                data[bound.html_name] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            add(form)
    data["change_reason"] = reason
    return data


# Groups


def test_content_editors_have_exactly_the_pathways_permissions():
    permissions = set(Group.objects.get(name="Content editors").permissions.values_list("codename", flat=True))
    expected = {
        f"{action}_{model._meta.model_name}"
        for model in EDITABLE_MODELS
        for action in ("add", "change", "delete", "view")
    } | {"view_referenceversion"}
    assert permissions == expected


def test_course_advisers_can_only_view_reference_data():
    pathways = Permission.objects.filter(content_type__app_label="pathways")
    granted = set(
        Group.objects.get(name="Course advisers").permissions.filter(pk__in=pathways).values_list("codename", flat=True)
    )
    assert granted == {f"view_{model._meta.model_name}" for model in REFERENCE_MODELS}


# Content editors


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda model: model.__name__)
def test_a_content_editor_can_open_the_list_add_and_change_pages(reference_data, editor, model):
    assert editor.get(_url(model, "changelist")).status_code == 200
    assert editor.get(_url(model, "add")).status_code == 200
    obj = model.objects.first()
    response = editor.get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert b'name="_save"' in response.content


def test_a_content_editor_can_open_the_reference_version_read_only(editor):
    ReferenceVersion.current()
    assert editor.get(_url(ReferenceVersion, "changelist")).status_code == 200
    assert editor.get(_url(ReferenceVersion, "add")).status_code == 403


def test_the_credential_list_gives_durations_in_the_words_learners_read(reference_data, editor):
    # The plan page's words: a minimum stays a minimum, and a range reads "A to B", as learners see it.
    def listed(code):
        return editor.get(_url(Credential, "changelist"), {"q": code}).content.decode()

    assert "at least 21 days" in listed("nhs-ccsc")
    assert "10 to 12 weeks" in listed("vetassess-599915")
    assert "12 months" in listed("hlt50321")


def test_saving_a_country_unchanged_works_and_bumps_the_version(sample, editor):
    country = Country.objects.get(code="NZ")
    url = _url(Country, "change", country.pk)
    version = ReferenceVersion.current()
    data = _form_data(editor.get(url))
    data["name"] = "Aotearoa New Zealand"
    response = editor.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Country.objects.get(code="NZ").name == "Aotearoa New Zealand"
    assert Country.objects.get(code="NZ").usages.count() == 2  # the usages inline came back unchanged
    assert ReferenceVersion.current() == version + 1


def test_editing_a_route_credential_inline_saves_it_and_bumps_the_version(sample, editor):
    route = Route.objects.get(origin__code="AU", destination__code="US")
    url = _url(Route, "change", route.pk)
    version = ReferenceVersion.current()
    data = _form_data(editor.get(url))
    data["credentials-0-note"] = "Most employers ask for it."
    response = editor.post(url, data)
    assert response.status_code == 302
    assert RouteCredential.objects.get(route=route).note == "Most employers ask for it."
    assert ReferenceVersion.current() == version + 1


def test_the_route_page_shows_the_classification_gaps_reachable_from_it(sample, editor):
    route = Route.objects.get(origin__code="AU", destination__code="US")
    content = editor.get(_url(Route, "change", route.pk)).content.decode()
    assert "<td>icd-10-am</td><td>icd-10-cm</td><td>Major</td>" in content
    assert "<td>achi</td><td>cpt</td><td>New: learn from scratch</td>" in content


def test_a_route_from_a_country_to_itself_is_refused_in_plain_words(sample, editor):
    route = Route.objects.get(origin__code="AU", destination__code="US")
    url = _url(Route, "change", route.pk)
    data = _form_data(editor.get(url))
    data["destination"] = str(route.origin_id)
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "A route cannot go from a country to itself." in response.content.decode()


def test_minimum_duration_above_maximum_is_refused_in_plain_words(sample, editor):
    credential = Credential.objects.get(code="hlt50321")
    url = _url(Credential, "change", credential.pk)
    data = _form_data(editor.get(url))
    data["duration_min"], data["duration_max"], data["duration_unit"] = "24", "12", "month"
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "The minimum duration cannot exceed the maximum." in response.content.decode()


def test_deleting_a_row_bumps_the_version(sample, editor):
    note = RouteNote.objects.get()
    version = ReferenceVersion.current()
    response = editor.post(_url(RouteNote, "delete", note.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not RouteNote.objects.exists()
    assert ReferenceVersion.current() == version + 1


def test_bulk_deleting_rows_bumps_the_version(sample, editor):
    pks = list(RouteCredential.objects.values_list("pk", flat=True))
    version = ReferenceVersion.current()
    response = editor.post(
        _url(RouteCredential, "changelist"),
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )
    assert response.status_code == 302
    assert not RouteCredential.objects.exists()
    assert ReferenceVersion.current() == version + 1


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda model: model.__name__)
def test_a_changelist_uses_the_same_number_of_queries_for_1_or_100_rows(reference_data, editor, model, monkeypatch):
    model_admin = admin.site._registry[model]
    url = _url(model, "changelist")
    editor.get(url)  # warm up the session and content types

    def count(per_page):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            assert editor.get(url).status_code == 200
        return len(queries)

    assert count(1) == count(100)


# Course advisers


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda model: model.__name__)
def test_a_course_adviser_can_view_but_not_change_add_or_delete(reference_data, adviser, model):
    obj = model.objects.first()
    assert adviser.get(_url(model, "changelist")).status_code == 200
    change = adviser.get(_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert adviser.post(_url(model, "change", obj.pk), {"_save": "Save"}).status_code == 403
    assert adviser.get(_url(model, "add")).status_code == 403
    assert adviser.get(_url(model, "delete", obj.pk)).status_code == 403


# Faults: what a content editor sees when the data is broken, and deletions that would break it


def test_a_content_editor_sees_a_banner_naming_what_is_wrong(sample, editor):
    Route.objects.get(origin__code="US", destination__code="NZ").delete()
    page = editor.get(reverse("admin:index")).content.decode()
    assert 'id="reference-problems"' in page
    assert "The reference data has 1 problem." in page
    assert "Route US → NZ is missing" in page


def test_no_banner_when_the_data_is_whole(sample, editor):
    assert 'id="reference-problems"' not in editor.get(reverse("admin:index")).content.decode()


def test_the_banner_is_for_content_editors_only(sample, adviser):
    Route.objects.get(origin__code="US", destination__code="NZ").delete()
    assert 'id="reference-problems"' not in adviser.get(reverse("admin:index")).content.decode()


def test_deleting_a_country_that_routes_use_is_refused_in_plain_words(sample, editor):
    country = Country.objects.get(code="NZ")
    page = editor.get(_url(Country, "delete", country.pk)).content.decode()
    assert "would require deleting the following protected related objects" in page
    assert "AU → NZ" in page
    response = editor.post(_url(Country, "delete", country.pk), {"post": "yes"})
    assert response.status_code == 200
    assert Country.objects.filter(code="NZ").exists()
    assert Route.objects.filter(destination__code="NZ").count() == 3


def test_deleting_a_classification_that_gaps_use_is_refused(sample, editor):
    gap = ClassificationGap.objects.select_related("to_classification").first()
    CountryUsage.objects.filter(classification=gap.to_classification).delete()
    gap.to_classification.credentials.clear()
    response = editor.post(
        _url(Classification, "changelist"),
        {"action": "delete_selected", "_selected_action": [gap.to_classification.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.content.decode()
    assert f'Classification gap: <a href="{_url(ClassificationGap, "change", gap.pk)}">{gap}</a>' in (
        response.content.decode()
    )
    assert ClassificationGap.objects.filter(pk=gap.pk).exists()
