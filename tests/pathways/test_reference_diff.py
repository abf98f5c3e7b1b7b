"""`manage.py reference_diff`: what editing fixtures/ would change, row by row and plan by plan, before loading."""

import json
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command

from pathways.models import ClassificationGap, ReferenceVersion, RouteNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURE_DIRS[0], directory)
    return directory


def edit(directory, filename, change):
    path = directory / filename
    objects = json.loads(path.read_text())
    objects = change(objects)
    path.write_text(json.dumps(objects, indent=2, ensure_ascii=False) + "\n")


def run(directory, *args):
    from io import StringIO

    out = StringIO()
    try:
        call_command("reference_diff", *args, fixtures_dir=directory, stdout=out)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue()


def set_gap(level):
    def change(objects):
        for obj in objects:
            if obj["fields"]["from_classification"] == ["achi"] and obj["fields"]["to_classification"] == ["opcs-4"]:
                obj["fields"]["level"] = level
        return objects

    return change


def test_unchanged_files_exit_0_and_say_so(files):
    status, out = run(files)
    assert status == 0
    assert out.startswith("No changes")


def test_an_edited_gap_names_the_row_and_the_plans_it_changes(files):
    edit(files, "classification_gaps.json", set_gap("major"))
    version = ReferenceVersion.current()
    status, out = run(files)
    assert status == 1
    assert "classification_gaps.json: changed achi / opcs-4 (level)" in out
    assert "Australia → United Kingdom" in out and "New Zealand → United Kingdom" in out
    assert "    before: ICD-10 (WHO): Minor; OPCS-4: New: learn from scratch" in out
    assert "    after:  ICD-10 (WHO): Minor; OPCS-4: Major" in out
    # Nothing was loaded.
    assert ClassificationGap.objects.get_by_natural_key("achi", "opcs-4").level == "new"
    assert ReferenceVersion.current() == version


def test_json_for_scripts(files):
    edit(files, "classification_gaps.json", set_gap("major"))
    status, out = run(files, "--json")
    result = json.loads(out)
    assert status == 1 and result["changed"] is True
    (row,) = result["rows"]
    assert (row["file"], row["change"], row["key"], row["fields"]) == (
        "classification_gaps.json",
        "changed",
        ["achi", "opcs-4"],
        ["level"],
    )
    moves = {group["move"] for group in row["plans"]}
    assert "Australia → United Kingdom" in moves
    assert {group["move"] for group in result["plans"]} == moves


def test_removed_and_added_rows(files):
    note = RouteNote.objects.select_related("route__origin", "route__destination").filter(kind="warning").first()
    key = [note.route.origin.code if note.route.origin else None, note.route.destination.code, note.code]

    def drop(objects):
        return [o for o in objects if o["fields"]["route"] + [o["fields"]["code"]] != key]

    def add(objects):
        copy = json.loads(json.dumps(objects[0]))
        copy["fields"]["code"] = "a-new-skill"
        copy["fields"]["text"] = "A skill a content editor just added"
        return [*objects, copy]

    edit(files, "route_notes.json", drop)
    edit(files, "transferable_skills.json", add)
    status, out = run(files)
    assert status == 1
    assert f"route_notes.json: removed {' / '.join('new to coding' if k is None else k for k in key)}" in out
    assert "transferable_skills.json: added a-new-skill" in out
    assert "A skill a content editor just added" in out
    assert note.text[:40] in out


def test_a_row_that_needs_another_new_row_says_so(files):
    def add_credential(objects):
        copy = json.loads(json.dumps(objects[0]))
        copy["fields"]["code"] = "brand-new"
        return [*objects, copy]

    def expect_it(objects):
        copy = json.loads(json.dumps(objects[0]))
        copy["fields"]["credential"] = ["brand-new"]
        copy["fields"]["setting"] = "inpatient" if copy["fields"]["setting"] != "inpatient" else "outpatient"
        return [*objects, copy]

    edit(files, "credentials.json", add_credential)
    edit(files, "route_credentials.json", expect_it)
    status, out = run(files)
    assert status == 1
    assert "depends on other changes in the files" in out
    assert "All 2 changes together:" in out
