"""The reference version moves by itself: once per committed transaction that writes reference data, whatever
the path, inside that transaction; reference_changed is sent once it has committed."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from pathways.models import ClassificationGap, Country, Credential, ReferenceVersion, Route
from pathways.reference import current_stamp
from pathways.signals import reference_changed
from tests.pathways.test_admin_reference import _form_data
from tests.pathways.test_fixtures import sample_fixtures, write_fixtures


def version() -> int:
    return current_stamp()[0]


@pytest.fixture
def announcements():
    """Every reference_changed sent, with what the connection looked like at that moment."""
    seen = []

    def record(**kwargs):
        seen.append({"in_transaction": connection.in_atomic_block, "version": version()})

    reference_changed.connect(record)
    yield seen
    reference_changed.disconnect(record)


@pytest.fixture
def version_writes():
    """Every statement that writes the version row, with the transaction it ran in (None: autocommit)."""
    seen = []

    def record(execute, sql, params, many, context):
        if "referenceversion" in sql.lower() and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            seen.append(connection.atomic_blocks[0] if connection.in_atomic_block else None)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


# Outside any transaction, as in `manage.py shell`


@pytest.mark.django_db(transaction=True)
def test_a_shell_save_outside_any_transaction_bumps_once_and_announces_it(announcements):
    before = version()
    country = Country.objects.get(code="NZ")
    country.keeping_current = "Changed in the shell."
    country.save()
    assert version() == before + 1
    assert announcements == [{"in_transaction": False, "version": before + 1}]


@pytest.mark.django_db(transaction=True)
def test_a_shell_delete_and_a_many_to_many_change_each_bump_once(announcements):
    before = version()
    credential = Credential.objects.filter(classifications__isnull=False).first()
    credential.classifications.remove(credential.classifications.first())
    assert version() == before + 1
    Route.objects.get_by_natural_key("AU", "NZ").notes.first().delete()
    assert version() == before + 2
    assert [seen["in_transaction"] for seen in announcements] == [False, False]


@pytest.mark.django_db(transaction=True)
def test_several_writes_in_one_transaction_bump_once_inside_it_and_announce_after_commit(announcements, version_writes):
    before = version()
    with transaction.atomic():
        for code in ("AU", "NZ", "GB"):
            country = Country.objects.get(code=code)
            country.keeping_current = f"Changed {code}."
            country.save()
        Route.objects.get_by_natural_key("AU", "NZ").notes.first().delete()
        assert announcements == [], "not before the commit"
    assert version() == before + 1
    assert len(version_writes) == 1 and version_writes[0] is not None, "in the transaction that wrote the data"
    assert announcements == [{"in_transaction": False, "version": before + 1}]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_bumps_nothing_and_announces_nothing(announcements):
    before = version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Country.objects.filter(code="NZ").get().save()
        raise RuntimeError("changed my mind")
    assert version() == before
    assert announcements == []


@pytest.mark.django_db
def test_a_write_after_a_rolled_back_savepoint_bumps_again():
    before = version()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Country.objects.get(code="NZ").save()
            raise RuntimeError("only this part")
        assert version() == before, "the savepoint's bump went with it"
        Country.objects.get(code="AU").save()
    assert version() == before + 1


@pytest.mark.django_db
def test_each_transaction_inside_a_test_bumps_once_as_it_would_in_production():
    # The test's own transaction is looked through, as Django's durable check does.
    before = version()
    for code in ("AU", "NZ"):
        with transaction.atomic():
            Country.objects.get(code=code).save()
            Country.objects.get(code=code).save()
    assert version() == before + 2


@pytest.mark.django_db
def test_writing_the_version_row_itself_or_a_history_row_alone_is_not_a_change():
    before = version()
    ReferenceVersion.current()
    Country.history.filter(code="AU").first().save()
    assert version() == before


@pytest.mark.django_db
def test_an_explicit_bump_still_counts_after_a_queryset_update():
    before = version()
    Country.objects.filter(code="NZ").update(keeping_current="Changed without a signal.")
    assert version() == before, "queryset.update() sends no signal: documented, bump() by hand"
    assert ReferenceVersion.bump() == before + 1


# A data migration


@pytest.mark.django_db
def test_a_data_migration_saving_through_historical_models_bumps():
    historical = MigrationExecutor(connection).loader.project_state().apps
    HistoricalCountry = historical.get_model("pathways", "Country")
    assert HistoricalCountry is not Country
    before = version()
    with transaction.atomic():  # as migrate runs a migration
        for country in HistoricalCountry.objects.filter(code__in=["AU", "NZ"]):
            country.keeping_current = "Set by a data migration."
            country.save(update_fields=["keeping_current"])
    assert version() == before + 1
    assert Country.objects.get(code="AU").keeping_current == "Set by a data migration."


# load_reference_data


@pytest.mark.django_db
def test_a_load_that_changes_rows_bumps_once_and_one_that_changes_nothing_bumps_zero(tmp_path):
    directory = write_fixtures(tmp_path / "fixtures", sample_fixtures())
    before = version()
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0)
    assert version() == before + 1
    history = Country.history.count()
    call_command("load_reference_data", fixtures_dir=directory, verbosity=0)
    assert version() == before + 1
    assert Country.history.count() == history, "an idle load leaves no trace"


# The admin's history revert


@pytest.mark.django_db(transaction=True)
def test_a_history_revert_commits_the_row_and_the_version_in_one_transaction(
    admin_client, announcements, version_writes
):
    gap = ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")
    assert gap.level == "new"
    gap.level, gap._change_reason = "major", "A mistaken edit"
    gap.save()
    record = gap.history.filter(level="new").first()
    url = reverse("admin:pathways_classificationgap_simple_history", args=[gap.pk, record.history_id])
    data = _form_data(admin_client.get(url), reason="Revert the mistaken edit")
    before, version_writes[:] = version(), []
    announcements.clear()
    gap_writes = []

    def record_gap_write(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and ClassificationGap._meta.db_table in sql:
            gap_writes.append(connection.atomic_blocks[0] if connection.in_atomic_block else None)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record_gap_write):
        assert admin_client.post(url, data).status_code == 302
    assert ClassificationGap.objects.get(pk=gap.pk).level == "new"
    assert version() == before + 1
    assert len(version_writes) == 1 and version_writes[0] is not None
    assert gap_writes and all(block is version_writes[0] for block in gap_writes), "one transaction"
    assert announcements == [{"in_transaction": False, "version": before + 1}]
