"""Content editors change facts with confidence: a reason and an author on every change, a history to
revert from, a list of facts due for a re-check, sources that can be moved, and the fixtures as a zip."""

import datetime
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from pathways.models import ClassificationGap, Country, CountryUsage, Credential, ReferenceVersion, Route, Source
from pathways.recheck_admin import citing_facts, fact_models
from tests.pathways.test_admin_reference import _form_data, _staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def edith(client):
    user = _staff("edith", "Content editors")
    client.force_login(user)
    return user


@pytest.fixture
def adviser(client):
    client.force_login(_staff("adam", "Course advisers"))
    return client


def achi_to_opcs():
    return ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")


def change_url(obj):
    return reverse(f"admin:pathways_{obj._meta.model_name}_change", args=[obj.pk])


def edit_gap(client, level, reason):
    gap = achi_to_opcs()
    data = _form_data(client.get(change_url(gap)), reason=reason)
    data["level"] = level
    return client.post(change_url(gap), data)


# History


def test_a_change_needs_a_reason_and_saves_nothing_without_one(client, edith):
    response = edit_gap(client, "major", reason="")
    assert response.status_code == 200
    assert "Reason for this change" in response.content.decode()
    assert response.context["adminform"].form.errors["change_reason"] == ["This field is required."]
    assert achi_to_opcs().level == "new"


def test_the_history_records_who_changed_what_and_why(client, edith):
    version = ReferenceVersion.current()
    assert edit_gap(client, "major", reason="Checked against OPCS-4.10").status_code == 302
    record = achi_to_opcs().history.first()
    assert (record.level, record.history_type, record.history_user, record.history_change_reason) == (
        "major",
        "~",
        edith,
        "Checked against OPCS-4.10",
    )
    assert ReferenceVersion.current() > version
    page = client.get(reverse("admin:pathways_classificationgap_history", args=[achi_to_opcs().pk])).content.decode()
    assert "Checked against OPCS-4.10" in page and "edith" in page


def test_an_editor_reverts_one_change_from_the_history(client, edith):
    edit_gap(client, "major", reason="Reviewed")
    edit_gap(client, "moderate", reason="A mistaken edit")
    gap = achi_to_opcs()
    before = gap.history.get(history_change_reason="Reviewed")
    url = reverse("admin:pathways_classificationgap_simple_history", args=[gap.pk, before.history_id])
    data = _form_data(client.get(url), reason="Revert the mistaken edit")
    version = ReferenceVersion.current()
    assert client.post(url, data).status_code == 302
    assert achi_to_opcs().level == "major"
    assert achi_to_opcs().history.first().history_change_reason == "Revert the mistaken edit"
    assert ReferenceVersion.current() > version


def test_advisers_cannot_revert(client, adviser):
    gap = achi_to_opcs()
    gap.save()  # a history record to revert to
    record = gap.history.first()
    url = reverse("admin:pathways_classificationgap_simple_history", args=[gap.pk, record.history_id])
    data = _form_data(client.get(url), reason="Not mine to change")
    data["level"] = "none"
    assert client.post(url, data).status_code == 403
    assert achi_to_opcs().level == "new"


def test_history_is_not_exported_to_the_fixtures(client, edith, tmp_path):
    edit_gap(client, "major", reason="Edit")
    call_command("export_reference_data", fixtures_dir=tmp_path, verbosity=0)
    assert not any("history" in path.name for path in tmp_path.iterdir())
    assert "history" not in (tmp_path / "classification_gaps.json").read_text()


# Due for a re-check


@pytest.fixture
def one_old_route():
    for model in fact_models():  # nothing else due: recent, and nothing left to verify
        model.objects.update(last_checked=timezone.localdate(), verify=False)
    route = Route.objects.get_by_natural_key("AU", "GB")
    Route.objects.filter(pk=route.pk).update(last_checked=timezone.localdate() - datetime.timedelta(days=400))
    return route


def test_every_reference_changelist_filters_facts_due_for_a_recheck(client, edith, one_old_route):
    page = client.get(reverse("admin:pathways_route_changelist") + "?recheck=due")
    assert list(page.context["cl"].result_list) == [one_old_route]
    sources = client.get(reverse("admin:pathways_source_changelist") + "?recheck=due")
    assert list(sources.context["cl"].result_list) == [one_old_route.source]
    gaps = client.get(reverse("admin:pathways_classificationgap_changelist"))
    assert "due for a re-check" in gaps.content.decode()


def test_the_recheck_age_is_a_setting(client, edith, one_old_route, settings):
    settings.RECHECK_AFTER_DAYS = 500
    page = client.get(reverse("admin:pathways_route_changelist") + "?recheck=due")
    assert list(page.context["cl"].result_list) == []


def test_due_facts_are_listed_by_source_with_its_link(client, edith, one_old_route):
    page = client.get(reverse("admin:pathways_source_recheck"))
    facts = [fact["row"] for group in page.context["groups"] for fact in group["facts"]]
    assert one_old_route in facts
    text = page.content.decode()
    assert escape(one_old_route.source.title) in text
    if one_old_route.source.url:
        assert escape(one_old_route.source.url) in text


def test_checked_today_records_the_date_the_editor_and_the_note(client, edith, one_old_route):
    url = reverse("admin:pathways_source_recheck")
    response = client.post(url, {"facts": [f"route:{one_old_route.pk}"], "note": "Still current"})
    assert response.status_code == 302
    route = Route.objects.get(pk=one_old_route.pk)
    assert route.last_checked == timezone.localdate()
    record = route.history.first()
    assert (record.history_user, record.history_change_reason) == (edith, "Checked against its source: Still current")
    assert one_old_route not in [f["row"] for g in client.get(url).context["groups"] for f in g["facts"]]


def test_checked_today_without_a_tick_says_what_to_do(client, edith, one_old_route):
    response = client.post(reverse("admin:pathways_source_recheck"), {"note": ""})
    assert response.status_code == 200
    assert "Tick the facts you checked." in response.content.decode()


# Sources


def test_a_source_lists_the_facts_citing_it(client, edith):
    route = Route.objects.get_by_natural_key("AU", "GB")
    page = client.get(change_url(route.source)).content.decode()
    assert "Facts citing this source" in page
    assert change_url(route) in page


def test_repointing_a_source_moves_every_fact_and_records_why(client, edith):
    old = Route.objects.get_by_natural_key("AU", "GB").source
    new = Source.objects.exclude(pk=old.pk).first()
    citing = {(type(row), row.pk) for row in citing_facts(old)}
    url = reverse("admin:pathways_source_changelist")
    form = client.post(url, {"action": "repoint_action", "_selected_action": [old.pk]})
    assert form.status_code == 200 and "Move the facts" in form.content.decode()
    done = client.post(
        url,
        {"action": "repoint_action", "_selected_action": [old.pk], "apply": "1", "target": new.pk, "reason": "Moved"},
    )
    assert done.status_code == 302
    for model, pk in citing:
        row = model.objects.get(pk=pk)
        assert row.source == new
        assert row.history.first().history_change_reason == f"Source {old.code} → {new.code}: Moved"
    assert not citing_facts(old)


# The fixtures as a zip


def test_the_zip_holds_exactly_what_export_reference_data_writes(client, edith, tmp_path):
    call_command("export_reference_data", fixtures_dir=tmp_path, verbosity=0)
    response = client.get(reverse("admin:pathways_source_fixtures"))
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {name.removeprefix("fixtures/"): archive.read(name) for name in archive.namelist()}
    assert files == {path.name: path.read_bytes() for path in tmp_path.iterdir()}


def test_country_history_page_shows_loaded_rows_without_errors(client, edith):
    country = Country.objects.first()
    assert client.get(reverse("admin:pathways_country_history", args=[country.pk])).status_code == 200


def test_advisers_get_no_editing_tools(client, adviser):
    source = Route.objects.get_by_natural_key("AU", "GB").source
    changelist = client.get(reverse("admin:pathways_source_changelist"))
    assert "repoint_action" not in changelist.content.decode()
    response = client.post(
        reverse("admin:pathways_source_changelist"),
        {"action": "repoint_action", "_selected_action": [source.pk], "apply": "1", "target": source.pk, "reason": "x"},
    )
    assert response.status_code in (200, 302, 403)
    assert Route.objects.get_by_natural_key("AU", "GB").source == source
    gap = achi_to_opcs()
    preview = client.post(change_url(gap), {"level": "major", "_preview": "1"})
    assert preview.status_code == 403


def test_loading_the_files_records_what_they_changed(tmp_path, settings):
    import json
    import shutil

    directory = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURE_DIRS[0], directory)
    path = directory / "classification_gaps.json"
    objects = json.loads(path.read_text())
    for obj in objects:
        if obj["fields"]["from_classification"] == ["achi"] and obj["fields"]["to_classification"] == ["opcs-4"]:
            obj["fields"]["level"] = "major"
    path.write_text(json.dumps(objects, indent=2, ensure_ascii=False) + "\n")
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0)
    record = achi_to_opcs().history.first()
    assert (record.level, record.history_type, record.history_change_reason) == ("major", "~", "Loaded from fixtures/")


def test_facts_flagged_to_verify_before_launch_are_due_until_checked(client, edith, one_old_route):
    credential = Credential.objects.get(code="hlt50321")
    Credential.objects.filter(pk=credential.pk).update(verify=True)
    page = client.get(reverse("admin:pathways_credential_changelist") + "?recheck=due")
    assert list(page.context["cl"].result_list) == [credential]
    recheck = client.get(reverse("admin:pathways_source_recheck")).content.decode()
    assert "(verify before launch)" in recheck
    client.post(
        reverse("admin:pathways_source_recheck"), {"facts": [f"credential:{credential.pk}"], "note": "Verified"}
    )
    credential.refresh_from_db()
    assert not credential.verify and credential.last_checked == timezone.localdate()


def test_the_fixtures_flag_what_domain_md_section_8_leaves_unverified():
    assert Credential.objects.get(code="hlt50321").verify  # entry requirements and nominal duration
    assert CountryUsage.objects.get_by_natural_key("GB", "opcs-4").verify  # whether OPCS-4.11 is out
    assert all(route.verify for route in Route.objects.filter(destination__code="NZ"))  # NZ entry requirements
    assert not ClassificationGap.objects.get_by_natural_key("achi", "opcs-4").verify


def test_the_recheck_list_reads_a_fixed_number_of_rows_however_many_are_due(
    client, edith, django_assert_max_num_queries
):
    for model in fact_models():  # every fact due: several hundred rows
        model.objects.update(verify=True)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("admin:pathways_source_recheck"))
    assert page.context["count"] > 300
