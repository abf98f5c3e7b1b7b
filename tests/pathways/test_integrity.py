"""The reference-data integrity check (pathways/checks.py): each failure, named by its row.

Each test loads the three-country sample, corrupts one thing inside the test transaction and
reads the check's messages. Foreign keys are deferred (SQLite and PostgreSQL), so a dangling
reference can exist until the end of the transaction; the tests put it back before then.
"""

import os
import subprocess
import sys
from contextlib import contextmanager
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from pathways.checks import log_problems, reference_data_problems
from pathways.models import ClassificationGap, CountryUsage, Credential, Route, RouteCredential
from tests.pathways.test_fixtures import sample_fixtures, write_fixtures


@pytest.fixture
def sample(db, tmp_path):
    """The three-country sample, loaded in place of the real data until the test rolls back."""
    directory = write_fixtures(tmp_path / "fixtures", sample_fixtures())
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0)


def _messages() -> list[str]:
    return [f"{error.id}: {error.msg}" for error in reference_data_problems()]


@contextmanager
def _check_constraints_off(model, constraint):
    """Let a value the database would refuse in, for this test transaction only."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = 1")
        else:
            # Run the pending deferred foreign-key checks first: PostgreSQL alters no table with
            # events pending. The DROP is rolled back with the test.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{constraint}"')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA ignore_check_constraints = 0")


def _route(origin, destination):
    return Route.objects.get(origin__code=origin, destination__code=destination)


def test_the_sample_passes_the_integrity_check(sample):
    assert _messages() == []


def test_the_loaded_reference_data_passes_the_integrity_check(db):
    assert _messages() == []


def test_the_check_reads_a_fixed_number_of_queries(sample, django_assert_max_num_queries):
    with django_assert_max_num_queries(13):
        reference_data_problems()


def test_a_country_without_a_diagnosis_classification_is_reported(sample):
    CountryUsage.objects.filter(country__code="AU", classification__kind="diagnosis").delete()
    assert _messages() == ["pathways.W001: Country AU has no diagnosis classification in use"]


def test_a_country_without_a_procedure_classification_is_reported(sample):
    CountryUsage.objects.filter(country__code="NZ", classification__code="achi").delete()
    assert _messages() == ["pathways.W002: Country NZ has no procedure classification in use"]


def test_a_missing_route_is_reported(sample):
    _route("US", "NZ").delete()
    assert _messages() == ["pathways.W003: Route US → NZ is missing"]


def test_a_missing_entry_route_is_reported(sample):
    Route.objects.filter(origin__isnull=True, destination__code="NZ").delete()
    assert _messages() == ["pathways.W004: Country NZ has no entry route (for someone new to coding)"]


def test_a_credential_from_the_wrong_country_is_reported(sample):
    RouteCredential.objects.filter(route=_route("AU", "US")).update(credential=Credential.objects.get(code="hlt50321"))
    assert _messages() == ["pathways.W005: Route AU → US expects credential hlt50321, which belongs to AU, not US"]


def test_a_gap_level_outside_the_vocabulary_is_reported(sample):
    with _check_constraints_off(ClassificationGap, "gap_level_valid"):
        ClassificationGap.objects.filter(from_classification__code="achi").update(level="huge")
    assert _messages() == [
        "pathways.W006: Classification gap achi → cpt has level 'huge', which is not one of "
        "none, minor, moderate, major, new"
    ]


def test_an_extra_gap_level_outside_the_vocabulary_is_reported(sample):
    with _check_constraints_off(Route, "route_extra_gap_level_valid"):
        Route.objects.filter(pk=_route("NZ", "US").pk).update(extra_gap_level="vast")
    assert _messages() == [
        "pathways.W006: Route NZ → US has extra gap level 'vast', which is not one of none, minor, moderate, major, new"
    ]


@pytest.mark.parametrize(
    ("model", "row", "field", "expected"),
    [
        (
            ClassificationGap,
            {"from_classification__code": "achi"},
            "to_classification_id",
            "Classification gap achi → #987654: its to_classification points at classification #987654",
        ),
        (
            CountryUsage,
            {"country__code": "US", "classification__code": "cpt"},
            "classification_id",
            "Country usage US uses #987654: its classification points at classification #987654",
        ),
        (
            RouteCredential,
            {"credential__code": "aapc-cpc"},
            "credential_id",
            "Route credential AU → US: #987654: its credential points at credential #987654",
        ),
        (
            Route,
            {"origin__code": "AU", "destination__code": "NZ"},
            "destination_id",
            "Route AU → #987654: its destination points at country #987654",
        ),
    ],
)
def test_a_dangling_reference_is_reported_naming_the_row(sample, model, row, field, expected):
    target = model.objects.get(**row)
    original = getattr(target, field)
    model.objects.filter(pk=target.pk).update(**{field: 987654})
    try:
        messages = _messages()
    finally:
        # Deferred foreign keys are checked before the test transaction rolls back.
        model.objects.filter(pk=target.pk).update(**{field: original})
    assert f"pathways.W007: {expected}, which does not exist" in messages


def test_a_cross_country_route_without_a_difficulty_is_reported(sample):
    Route.objects.filter(pk=_route("AU", "NZ").pk).update(difficulty=0)
    assert _messages() == [
        "pathways.W008: Route AU → NZ has difficulty 0; a route between two countries needs 1 (low) to 4 (very high)"
    ]


def _check_output(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("check", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_check_database_default_names_the_missing_route_and_does_not_fail(sample):
    _route("US", "NZ").delete()
    output = _check_output("--database", "default")
    assert "pathways.W003" in output
    assert "Route US → NZ is missing" in output


def test_plain_check_does_not_read_the_reference_data(sample, django_assert_num_queries):
    # Every command runs the general checks first: the data must never be able to stop one.
    _route("US", "NZ").delete()
    with django_assert_num_queries(0):
        output = _check_output()
    assert "pathways" not in output


def test_each_problem_is_logged_when_a_worker_starts(sample, caplog):
    _route("US", "NZ").delete()
    with caplog.at_level("WARNING", logger="pathways.integrity"):
        log_problems()
    messages = [record.getMessage() for record in caplog.records]
    assert "pathways.W003: Route US → NZ is missing" in messages
    assert any("1 integrity problem" in message for message in messages)


def test_nothing_is_logged_when_the_data_is_whole(sample, caplog):
    with caplog.at_level("WARNING", logger="pathways.integrity"):
        log_problems()
    assert caplog.records == []


def test_manage_py_check_is_silent_before_migrate(tmp_path):
    # A database with no tables at all: `make run` checks before it migrates. (With advisers to tell: without,
    # advisor.W001 says so, advisor/enquiries/checks.py.)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "ADVISER_EMAILS": "a@example.org"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def _manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


def test_with_a_route_deleted_every_command_still_runs_and_the_loader_restores_it(tmp_path):
    """The fault a content editor can cause in admin: nothing stops, check names it, load repairs it."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LOG_LEVEL": "WARNING"}
    env["ADVISER_EMAILS"] = "advisers@example.org"  # (else advisor.W001 is one more warning in every check)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the real settings, as an operator runs them
    for args in (["migrate", "--no-input"], ["load_reference_data"]):
        assert _manage(env, *args).returncode == 0
    deleted = _manage(
        env,
        "shell",
        "-c",
        "from pathways.models import Route; Route.objects.get(origin__code='GB', destination__code='US').delete()",
    )
    assert deleted.returncode == 0, deleted.stderr

    for args in (
        ["requeue_stalled_emails"],
        ["db_worker", "--batch", "--no-startup-delay"],
        ["purge_personal_data"],
        ["clearsessions"],
        ["migrate", "--no-input"],
        ["export_reference_data", "--fixtures-dir", str(tmp_path / "exported")],
    ):
        result = _manage(env, *args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
    check = _manage(env, "check", "--database", "default")
    assert check.returncode == 0
    assert "pathways.W003" in check.stderr
    assert "Route GB → US is missing" in check.stderr
    worker = subprocess.run(  # what a gunicorn worker does as it starts
        [sys.executable, "-c", "import advisor.wsgi"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert worker.returncode == 0, worker.stderr
    assert "pathways.W003: Route GB → US is missing" in worker.stderr

    restored = _manage(env, "load_reference_data")
    assert restored.returncode == 0, restored.stderr
    assert " 0 created" not in restored.stdout
    check = _manage(env, "check", "--database", "default")
    assert "pathways" not in check.stdout + check.stderr
    assert "no issues" in check.stdout
