"""build_reference() gives a Reference consistent with one version even when an edit commits in the middle of its
reads, and load_reference() caches it under the version read before them, never a later one.

The edit is committed by another thread, on its own database connection, at a point between two of the build's
reads: just before it reads the country usages (after sources, organisations and classifications, before
countries)."""

import threading
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from pathways.models import Classification, Country, CountryUsage, Organisation
from pathways.reference import build_reference, clear_cache, current_stamp, load_reference

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


def in_another_connection(edit) -> None:
    """Run `edit` in a thread with its own database connection, committed before this returns."""
    failures = []

    def run():
        try:
            with transaction.atomic():
                edit()
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failures, failures


@contextmanager
def edits_before_reading_usages(edit, times=1):
    """Commit `edit` from another connection just before the build reads the country usages (the first `times`
    builds that get there)."""
    done = []

    def wrapper(execute, sql, params, many, context):
        if len(done) < times and sql.lstrip().upper().startswith("SELECT") and "pathways_countryusage" in sql:
            done.append(True)
            in_another_connection(edit)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield done


def rename_australia_and_its_governing_body():
    country = Country.objects.get(code="AU")
    body = Organisation.objects.get(pk=country.governing_body_id)
    body.name = f"Renamed body {current_stamp()[0]}"
    body.save()
    country.name = f"Renamed Australia {current_stamp()[0]}"
    country.save()


def test_an_edit_committed_mid_build_gives_a_reference_of_one_version_not_a_mix():
    with edits_before_reading_usages(rename_australia_and_its_governing_body) as done:
        reference = build_reference()
    assert done, "the edit ran mid-build"
    australia = reference.countries["AU"]
    # Organisations were read before the edit, countries after: both must come from the same version.
    assert australia.name.startswith("Renamed Australia")
    assert australia.governing_body.startswith("Renamed body")
    assert reference.stamp == current_stamp()
    assert reference.version == current_stamp()[0]


def add_a_classification_australia_uses():
    body = Organisation.objects.get(pk=Country.objects.get(code="AU").governing_body_id)
    added = Classification.objects.create(
        code="mid-build", name="Added mid-build", kind="diagnosis", publisher=body, last_checked="2026-12-01"
    )
    CountryUsage.objects.create(
        country=Country.objects.get(code="AU"), classification=added, setting="all", last_checked="2026-12-01"
    )


def test_a_row_added_mid_build_that_earlier_reads_missed_is_no_error():
    # Classifications were read before the edit; the usage naming the new one after it: a KeyError, unless the
    # build notices the version moved and reads again.
    with edits_before_reading_usages(add_a_classification_australia_uses) as done:
        reference = build_reference()
    assert done
    assert "mid-build" in reference.classifications
    assert "mid-build" in [usage.classification for usage in reference.countries["AU"].usages]
    assert reference.stamp == current_stamp()


def test_a_reference_built_while_edits_keep_coming_is_cached_under_the_version_read_before_it():
    with edits_before_reading_usages(rename_australia_and_its_governing_body, times=100) as done:
        busy = load_reference()
    assert len(done) > 1, "it read again"
    assert busy.stamp != current_stamp(), "stamped with the version read before the last reads, now old"
    calm = load_reference()
    assert calm is not busy, "the next request builds again"
    assert calm.stamp == current_stamp()
    assert calm.countries["AU"].name == Country.objects.get(code="AU").name
    assert load_reference() is calm
