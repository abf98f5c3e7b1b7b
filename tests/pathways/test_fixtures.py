"""load_reference_data and export_reference_data: loading, validation errors, idempotence, round trip.

Tests that must not depend on the real content use a small sample (three countries) written
to tmp_path; loading it inside the test transaction replaces the real data until rollback.
"""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from pathways.management.commands.load_reference_data import FIXTURE_FILES
from pathways.models import (
    Classification,
    Country,
    Credential,
    ReferenceVersion,
    Route,
    RouteCredential,
)

pytestmark = pytest.mark.django_db

REAL_FIXTURES = Path(settings.FIXTURE_DIRS[0])


def _require_real_fixtures() -> None:
    """Fail, never skip: missing fixtures are the very regression these tests exist to catch."""
    missing = [name for name, _ in FIXTURE_FILES if not (REAL_FIXTURES / name).exists()]
    assert not missing, f"fixtures/ is missing {', '.join(missing)}"


SOURCE = {"source_kind": "seed", "source": ["seed"], "source_detail": "", "last_checked": "2026-11-01"}


def _row(model: str, **fields) -> dict:
    return {"model": f"pathways.{model}", "fields": {**SOURCE, **fields}}


def _route(origin, destination, difficulty):
    return _row(
        "route", origin=origin, destination=destination, difficulty=difficulty, summary="Summary.",
        employer_expectation="What employers expect.",
    )  # fmt: skip


def sample_fixtures() -> dict[str, list]:
    """Three countries, every ordered pair routed: passes the integrity check."""
    countries = ["AU", "NZ", "US"]
    return {
        "sources.json": [{"model": "pathways.source", "fields": {"code": "seed", "title": "Seed article"}}],
        "organisations.json": [
            _row("organisation", code="ihacpa", name="IHACPA", country="AU"),
            _row("organisation", code="aapc", name="AAPC", country="US"),
            _row("organisation", code="who", name="World Health Organization"),
            _row("organisation", code="nz-moh", name="Te Whatu Ora", country="NZ"),
        ],
        "countries.json": [
            _row(
                "country",
                code="AU",
                name="Australia",
                profession="Clinical coder",
                grouper="AR-DRG",
                governing_body=["ihacpa"],
            ),
            _row(
                "country",
                code="NZ",
                name="New Zealand",
                profession="Clinical coder",
                grouper="AR-DRG",
                governing_body=["nz-moh"],
            ),
            _row(
                "country",
                code="US",
                name="United States",
                profession="Medical coder",
                grouper="MS-DRG",
                governing_body=["aapc"],
            ),
        ],  # fmt: skip
        "classifications.json": [
            # icd-10-am comes before the icd-10 it modifies: the loader must cope.
            _row(
                "classification",
                code="icd-10-am",
                name="ICD-10-AM",
                kind="diagnosis",
                publisher=["ihacpa"],
                modifies=["icd-10"],
            ),
            _row("classification", code="icd-10", name="ICD-10", kind="diagnosis", publisher=["who"]),
            _row("classification", code="achi", name="ACHI", kind="procedure", publisher=["ihacpa"]),
            _row("classification", code="icd-10-cm", name="ICD-10-CM", kind="diagnosis", publisher=["aapc"]),
            _row("classification", code="cpt", name="CPT", kind="procedure", publisher=["aapc"]),
        ],  # fmt: skip
        "country_usages.json": [
            _row("countryusage", country=[country], classification=[code])
            for country, codes in (
                ("AU", ["icd-10-am", "achi"]),
                ("NZ", ["icd-10-am", "achi"]),
                ("US", ["icd-10-cm", "cpt"]),
            )
            for code in codes
        ],  # fmt: skip
        "credentials.json": [
            _row(
                "credential",
                code="hlt50321",
                name="Diploma of Clinical Coding",
                country=["AU"],
                awarded_by=["ihacpa"],
                kind="qualification",
                classifications=[["icd-10-am"], ["achi"]],
                duration_min=12,
                duration_max=18,
                duration_unit="month",
            ),
            _row(
                "credential",
                code="aapc-cpc",
                name="Certified Professional Coder",
                country=["US"],
                awarded_by=["aapc"],
                kind="certification",
                classifications=[["cpt"], ["icd-10-cm"]],
            ),
        ],  # fmt: skip
        "routes.json": [_route(None, [c], 0) for c in countries]
        + [_route([a], [b], 2) for a in countries for b in countries if a != b],
        "route_credentials.json": [
            _row("routecredential", route=["AU", "US"], setting="all", step=1, credential=["aapc-cpc"]),
            _row("routecredential", route=[None, "AU"], setting="all", step=1, credential=["hlt50321"]),
        ],
        "route_notes.json": [_row("routenote", route=["AU", "US"], code="reimbursement", text="Payers differ.")],
        "classification_gaps.json": [
            _row(
                "classificationgap", from_classification=["icd-10-am"], to_classification=["icd-10-cm"], level="major"
            ),
            _row("classificationgap", from_classification=["achi"], to_classification=["cpt"], level="new"),
        ],
        "transferable_skills.json": [_row("transferableskill", code="anatomy", text="Anatomy and physiology")],
    }


def write_fixtures(directory: Path, files: dict[str, list]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, objects in files.items():
        (directory / name).write_text(json.dumps(objects, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def sample_dir(tmp_path):
    return write_fixtures(tmp_path / "fixtures", sample_fixtures())


@pytest.fixture
def sample(db, sample_dir):
    """The sample loaded into the test database (replacing the real data until rollback)."""
    call_command("load_reference_data", fixtures_dir=sample_dir, verbosity=0)
    return sample_dir


def _load(directory, **kwargs):
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0, **kwargs)


def _load_error(directory) -> str:
    with pytest.raises(CommandError) as raised:
        _load(directory)
    return str(raised.value)


def _corrupt(sample_dir: Path, filename: str, index: int, **fields) -> Path:
    objects = json.loads((sample_dir / filename).read_text())
    objects[index]["fields"].update(fields)
    (sample_dir / filename).write_text(json.dumps(objects, indent=2))
    return sample_dir


def _snapshot():
    """Every reference row as exported, with primary keys: "the same database"."""
    from pathways.management.commands.export_reference_data import export_objects

    return {model.__name__: (export_objects(model), sorted(model.objects.values_list("pk", flat=True)))
            for _, model in FIXTURE_FILES}  # fmt: skip


# Loading


def test_loading_the_sample_creates_every_row(sample):
    assert Country.objects.count() == 3
    assert Route.objects.count() == 3 * 2 + 3
    assert Classification.objects.get(code="icd-10-am").modifies.code == "icd-10"
    assert sorted(Credential.objects.get(code="aapc-cpc").classifications.values_list("code", flat=True)) == [
        "cpt",
        "icd-10-cm",
    ]
    assert RouteCredential.objects.get(route__origin__isnull=True, route__destination__code="AU").credential.code == (
        "hlt50321"
    )


def test_loading_twice_gives_the_same_database(sample, capsys):
    before = _snapshot()
    version = ReferenceVersion.current()
    call_command("load_reference_data", fixtures_dir=sample)
    assert _snapshot() == before
    assert "0 created, 0 updated, 0 deleted" in capsys.readouterr().out
    assert ReferenceVersion.current() == version  # nothing changed, so caches stay valid


def test_loading_prints_a_one_line_summary(db, sample_dir, capsys):
    call_command("load_reference_data", fixtures_dir=sample_dir)
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1
    assert "rows from 11 files" in out


def test_loading_bumps_the_reference_version_when_something_changed(sample):
    version = ReferenceVersion.current()
    _corrupt(sample, "countries.json", 0, name="Commonwealth of Australia")
    _load(sample)
    assert ReferenceVersion.current() == version + 1
    assert Country.objects.get(code="AU").name == "Commonwealth of Australia"


def test_loading_keeps_primary_keys_of_rows_that_stay(sample):
    pk = Route.objects.get(origin__code="AU", destination__code="US").pk
    _corrupt(sample, "routes.json", 0, summary="A new summary.")
    _load(sample)
    assert Route.objects.get(origin__code="AU", destination__code="US").pk == pk


def test_rows_removed_from_the_files_are_deleted(sample):
    objects = json.loads((sample / "route_notes.json").read_text())
    (sample / "route_notes.json").write_text("[]\n")
    _load(sample)
    assert objects and not Route.objects.get(origin__code="AU", destination__code="US").notes.exists()


def test_a_missing_fixtures_directory_loads_nothing_and_does_not_fail(db, tmp_path, capsys):
    countries = Country.objects.count()
    call_command("load_reference_data", fixtures_dir=tmp_path / "nowhere")
    assert "nothing loaded" in capsys.readouterr().out
    assert Country.objects.count() == countries


def test_an_empty_fixtures_directory_loads_and_passes_the_check(db, tmp_path):
    _load(tmp_path)
    assert Country.objects.count() == 0


# Bad data: clear errors naming the file, entry and natural key


def test_a_negative_duration_is_reported_with_file_entry_key_and_field(sample_dir):
    _corrupt(sample_dir, "credentials.json", 1, duration_min=-1, duration_unit="week")
    message = _load_error(sample_dir)
    assert "fixtures/credentials.json, entry 2 (aapc-cpc): duration_min: Ensure this value is greater than" in message


def test_minimum_duration_above_maximum_is_reported_in_plain_words(sample_dir):
    _corrupt(sample_dir, "credentials.json", 0, duration_min=20)
    assert "entry 1 (hlt50321): duration_max: The minimum duration cannot exceed the maximum." in _load_error(
        sample_dir
    )


def test_a_duration_without_its_unit_is_refused(sample_dir):
    _corrupt(sample_dir, "credentials.json", 1, duration_min=21)
    assert "entry 2 (aapc-cpc): duration_unit: Say which unit the source gives the duration in." in _load_error(
        sample_dir
    )


def test_an_unknown_credential_in_a_route_is_reported(sample_dir):
    _corrupt(sample_dir, "route_credentials.json", 0, credential=["aapc-xyz"])
    message = _load_error(sample_dir)
    assert "route_credentials.json, entry 1: credential 'aapc-xyz' does not exist." in message


def test_an_unknown_route_is_reported(sample_dir):
    _corrupt(sample_dir, "route_notes.json", 0, route=["AU", "GB"])
    assert "route (AU, GB) does not exist" in _load_error(sample_dir)


def test_an_unknown_organisation_names_the_field(sample_dir):
    _corrupt(sample_dir, "credentials.json", 0, awarded_by=["nobody"])
    assert "entry 1: awarded_by: organisation 'nobody' does not exist." in _load_error(sample_dir)


def test_a_route_from_a_country_to_itself_is_reported_in_plain_words(sample_dir):
    _corrupt(
        sample_dir,
        "routes.json",
        3,
        destination=json.loads((sample_dir / "routes.json").read_text())[3]["fields"]["origin"],
    )
    assert "destination: A route cannot go from a country to itself." in _load_error(sample_dir)


def test_a_gap_level_outside_the_vocabulary_is_reported(sample_dir):
    _corrupt(sample_dir, "classification_gaps.json", 0, level="huge")
    message = _load_error(sample_dir)
    assert (
        "classification_gaps.json, entry 1 (icd-10-am, icd-10-cm): level: Value 'huge' is not a valid choice."
        in message
    )


def test_malformed_json_is_reported_with_line_and_column(sample_dir):
    (sample_dir / "countries.json").write_text('[{"model": "pathways.country",\n "fields": {]')
    message = _load_error(sample_dir)
    assert "fixtures/countries.json: not valid JSON" in message
    assert "line 2" in message


def test_an_unknown_model_is_reported(sample_dir):
    objects = json.loads((sample_dir / "countries.json").read_text())
    objects[1]["model"] = "pathways.nation"
    (sample_dir / "countries.json").write_text(json.dumps(objects))
    assert "countries.json, entry 2: model 'pathways.nation' does not belong in this file" in _load_error(sample_dir)


def test_an_unknown_field_is_reported(sample_dir):
    _corrupt(sample_dir, "countries.json", 0, population=26)
    assert "countries.json, entry 1: unknown field 'population'." in _load_error(sample_dir)


def test_a_duplicate_natural_key_is_reported(sample_dir):
    objects = json.loads((sample_dir / "countries.json").read_text())
    (sample_dir / "countries.json").write_text(json.dumps([*objects, objects[0]]))
    assert "countries.json, entry 4 (AU): duplicate of entry 1." in _load_error(sample_dir)


def test_a_primary_key_in_a_fixture_is_refused(sample_dir):
    objects = json.loads((sample_dir / "countries.json").read_text())
    objects[0]["pk"] = 1
    (sample_dir / "countries.json").write_text(json.dumps(objects))
    assert 'countries.json, entry 1: has a "pk"' in _load_error(sample_dir)


def test_a_file_that_is_not_reference_data_is_refused(sample_dir):
    (sample_dir / "extras.json").write_text("[]")
    assert "extras.json: not a reference data file" in _load_error(sample_dir)


def test_a_failed_load_changes_nothing(sample):
    version = ReferenceVersion.current()
    _corrupt(sample, "countries.json", 0, name="Changed")
    _corrupt(sample, "credentials.json", 0, duration_min=99)
    _load_error(sample)
    assert Country.objects.get(code="AU").name == "Australia"
    assert ReferenceVersion.current() == version


def test_a_load_that_breaks_integrity_still_loads_and_names_the_row(sample):
    # The files are what the database must hold: the loader repairs, and says what is still wrong.
    routes = [o for o in json.loads((sample / "routes.json").read_text()) if o["fields"]["origin"] != ["NZ"]]
    (sample / "routes.json").write_text(json.dumps(routes))
    err = StringIO()
    call_command("load_reference_data", fixtures_dir=sample, verbosity=0, stderr=err)
    assert "integrity check" in err.getvalue()
    assert "pathways.W003: Route NZ → AU is missing" in err.getvalue()
    assert Route.objects.filter(origin__code="NZ").count() == 0


# Export


def test_export_then_load_then_export_is_byte_identical(sample, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_reference_data", fixtures_dir=first, verbosity=0)
    _load(first)
    call_command("export_reference_data", fixtures_dir=second, verbosity=0)
    assert sorted(p.name for p in first.iterdir()) == sorted(name for name, _ in FIXTURE_FILES)
    for name, _ in FIXTURE_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_export_writes_the_fixture_format(sample, tmp_path):
    call_command("export_reference_data", fixtures_dir=tmp_path, verbosity=0)
    text = (tmp_path / "routes.json").read_text(encoding="utf-8")
    objects = json.loads(text)
    assert text == json.dumps(objects, indent=2, ensure_ascii=False) + "\n"
    assert all("pk" not in obj for obj in objects)
    keys = [(o["fields"]["origin"] or [""], o["fields"]["destination"]) for o in objects]
    assert keys == sorted(keys)
    assert objects[0]["fields"]["origin"] is None  # entry routes (null origin) come first
    assert list(objects[0]["fields"])[:4] == ["source_kind", "source", "source_detail", "last_checked"]
    credential = json.loads((tmp_path / "credentials.json").read_text())[0]["fields"]
    assert credential["classifications"] == [["cpt"], ["icd-10-cm"]]
    assert credential["duration_min"] is None and credential["duration_unit"] == ""
    assert credential["duration_note"] == ""


def test_editing_one_row_then_exporting_changes_only_that_row(sample, tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    call_command("export_reference_data", fixtures_dir=before, verbosity=0)
    Country.objects.filter(code="NZ").update(profession="Clinical coder (edited)")
    call_command("export_reference_data", fixtures_dir=after, verbosity=0)
    changed = [name for name, _ in FIXTURE_FILES if (before / name).read_bytes() != (after / name).read_bytes()]
    assert changed == ["countries.json"]
    old, new = (json.loads((d / "countries.json").read_text()) for d in (before, after))
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [1]
    old_lines, new_lines = ((d / "countries.json").read_text().splitlines() for d in (before, after))
    assert [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b] == [
        ('      "profession": "Clinical coder",', '      "profession": "Clinical coder (edited)",')
    ]


# The real fixtures (written by content staff)


def test_the_real_fixtures_load_and_every_row_passes_full_clean(db):
    _require_real_fixtures()
    _load(REAL_FIXTURES)
    for _, model in FIXTURE_FILES:
        for row in model.objects.all():
            row.full_clean()
    countries = Country.objects.count()
    assert countries >= 5  # the source article's five, and any system added since (Ireland)
    assert Route.objects.filter(origin__isnull=False).count() == countries * (countries - 1)
    assert Route.objects.filter(origin__isnull=True).count() == countries


def test_the_real_fixtures_round_trip_byte_identical(db, tmp_path):
    _require_real_fixtures()
    _load(REAL_FIXTURES)
    call_command("export_reference_data", fixtures_dir=tmp_path, verbosity=0)
    for name, _ in FIXTURE_FILES:
        assert (tmp_path / name).read_text(encoding="utf-8") == (REAL_FIXTURES / name).read_text(encoding="utf-8"), name


def test_the_real_fixtures_load_from_a_copy_twice_without_changes(db, tmp_path, capsys):
    _require_real_fixtures()
    copy = Path(shutil.copytree(REAL_FIXTURES, tmp_path / "fixtures"))
    _load(copy)
    call_command("load_reference_data", fixtures_dir=copy)
    assert "0 created, 0 updated, 0 deleted" in capsys.readouterr().out


def test_a_reference_that_is_not_a_natural_key_list_is_reported(sample_dir):
    _corrupt(sample_dir, "countries.json", 0, governing_body="ihacpa")
    message = _load_error(sample_dir)
    assert 'countries.json, entry 1: governing_body: expected a natural key list such as ["AU"], got "ihacpa".' in (
        message
    )


def test_a_nested_key_is_reported_not_a_traceback(sample_dir):
    _corrupt(sample_dir, "route_notes.json", 0, route=[["AU"], "US"])
    assert "route_notes.json, entry 1" in _load_error(sample_dir)
