"""manage.py synthetic_reference: fictional countries as fixtures that load, pass the integrity check and keep every
page's query count flat as the data grows."""

import json

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from pathways.checks import reference_data_problems
from pathways.management.commands.load_reference_data import FIXTURE_FILES
from pathways.management.commands.synthetic_reference import _blank_value, synthetic_reference
from pathways.models import Country, Route
from pathways.reference import clear_cache


def _write(tmp_path, countries: int):
    directory = tmp_path / f"synthetic-{countries}"
    call_command("synthetic_reference", countries=countries, output=str(directory), verbosity=0)
    return directory


def test_the_default_is_40_fictional_countries_and_1560_routes_between_them():
    files = synthetic_reference(40)
    codes = [row["fields"]["code"] for row in files["countries.json"]]
    assert len(codes) == 40
    assert all(code[0] in "XQ" for code in codes)  # ISO's user-assigned codes: never a real country
    routes = files["routes.json"]
    assert sum(row["fields"]["origin"] is not None for row in routes) == 1560
    assert sum(row["fields"]["origin"] is None for row in routes) == 40


def test_it_writes_one_fixture_file_per_model_in_the_fixtures_format(tmp_path):
    directory = _write(tmp_path, 3)
    assert sorted(path.name for path in directory.glob("*.json")) == sorted(name for name, _ in FIXTURE_FILES)
    rows = json.loads((directory / "routes.json").read_text())
    assert all(set(row) == {"model", "fields"} for row in rows)  # natural keys only, no "pk"


@pytest.mark.django_db
def test_it_loads_and_passes_the_integrity_check(tmp_path):
    call_command("load_reference_data", fixtures_dir=_write(tmp_path, 5), verbosity=0)
    assert reference_data_problems() == []
    assert Country.objects.count() == 5
    assert Route.objects.count() == 5 * 4 + 5


def _plan_page_queries(client, tmp_path, countries: int) -> tuple[int, int]:
    call_command("load_reference_data", fixtures_dir=_write(tmp_path, countries), verbosity=0)
    assert client.get("/plan/?origin=XA&destination=XB", follow=True).status_code == 200  # a plan page seen
    clear_cache()
    counts = []
    for destination in ("XB", "XC"):  # a cold plan (the reference is read), then a warm one
        url = f"/plan/?origin=XA&credential=xa-entry&setting=inpatient&destination={destination}"
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    return tuple(counts)


@pytest.mark.django_db
def test_a_plan_page_costs_the_same_queries_for_3_or_12_countries(client, tmp_path):
    small = _plan_page_queries(client, tmp_path, 3)
    large = _plan_page_queries(client, tmp_path, 12)
    assert small == large
    assert large[1] <= 6


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (models.CharField(max_length=20), "Synthetic"),
        (models.TextField(blank=True), None),
        (models.PositiveSmallIntegerField(default=3), None),
        (models.PositiveSmallIntegerField(), 1),
        (models.CharField(max_length=20, choices=[("a", "A"), ("b", "B")]), "a"),
        (models.BooleanField(), False),
        (models.DateField(), "2026-01-01"),
        (models.CharField(max_length=20, null=True), None),
    ],
)
def test_fields_it_does_not_know_get_what_a_blank_form_would_give(field, expected):
    # A field added to a model later must not stop the synthetic reference from loading.
    assert _blank_value(field) == expected
