"""Taking an enquiry out of the spam quarantine: the advisers hear about it once, however many advisers click.

The database decides (a partial unique constraint: one advisers' email per enquiry), so the tests race real
connections: threads on PostgreSQL, and on SQLite a subprocess on a WAL database file (the in-memory test
database's shared-cache locks fail at once instead of waiting, unlike the deployment's file).
"""

import json
import threading
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from advisor.enquiries import emails, services
from advisor.enquiries.models import EmailDelivery, Enquiry, EnquiryNote
from tests.enquiry_support import make_enquiry, make_staff, run_manage, sqlite_file_env  # noqa: F401 (fixture)

ADVISERS_EMAIL = {"reply__isnull": True}


def advisers_emails(enquiry) -> int:
    return EmailDelivery.objects.filter(enquiry=enquiry, **ADVISERS_EMAIL).count()


@pytest.mark.django_db
def test_the_database_refuses_a_second_advisers_email_for_one_enquiry():
    enquiry = make_enquiry()
    assert advisers_emails(enquiry) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        emails.queue(enquiry)
    assert advisers_emails(enquiry) == 1


@pytest.mark.django_db
def test_replies_are_not_limited_by_the_advisers_email():
    enquiry = make_enquiry()
    adviser = make_staff("ada")
    services.reply(enquiry, adviser, "Hello", "First")
    services.reply(enquiry, adviser, "Hello again", "Second")
    assert EmailDelivery.objects.filter(enquiry=enquiry).count() == 3
    assert EnquiryNote.objects.filter(enquiry=enquiry).count() == 2


@pytest.mark.django_db
def test_marking_not_spam_queues_the_advisers_email_once_however_often_it_is_done():
    enquiry = make_enquiry(spam_reason="honeypot")
    assert advisers_emails(enquiry) == 0
    assert services.mark_not_spam(Enquiry.objects.get(pk=enquiry.pk)) is True
    assert services.mark_not_spam(Enquiry.objects.get(pk=enquiry.pk)) is False
    enquiry.refresh_from_db()
    assert not enquiry.is_spam and enquiry.spam_reason == ""
    assert advisers_emails(enquiry) == 1


@pytest.mark.django_db
def test_an_enquiry_notified_before_it_was_marked_spam_is_not_notified_again():
    enquiry = make_enquiry()
    Enquiry.objects.filter(pk=enquiry.pk).update(is_spam=True, spam_reason="marked by an adviser")
    assert services.mark_not_spam(Enquiry.objects.get(pk=enquiry.pk)) is False
    assert not Enquiry.objects.get(pk=enquiry.pk).is_spam
    assert advisers_emails(enquiry) == 1


@pytest.mark.skipif(connection.vendor == "sqlite", reason="in-memory SQLite; see the *_on_a_sqlite_file test")
@pytest.mark.django_db(transaction=True)
def test_ten_advisers_marking_one_enquiry_not_spam_at_once_queue_one_email():
    # (transactional tests empty the reference data: an enquiry without a plan)
    enquiry = make_enquiry(spam_reason="honeypot", plan_snapshot={})
    barrier = threading.Barrier(10)
    queued, errors = [], []

    def click():
        try:
            mine = Enquiry.objects.get(pk=enquiry.pk)  # each adviser's own page load
            barrier.wait()
            queued.append(services.mark_not_spam(mine))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(queued) == [False] * 9 + [True]
    assert advisers_emails(enquiry) == 1


RACE_SCRIPT = """
import json, threading, uuid
from django.db import connection
from django.utils import timezone
from advisor.enquiries import services
from advisor.enquiries.models import EmailDelivery, Enquiry
enquiry, _ = services.submit(
    submission_id=uuid.UUID("%s"), spam_reason="honeypot", name="Spam race", email="race@example.org",
    preferred_contact="email", notice_version="test", contact_consent_at=timezone.now(),
)
connection.close()
barrier = threading.Barrier(10)
queued, errors = [], []
def click():
    try:
        mine = Enquiry.objects.get(pk=enquiry.pk)
        barrier.wait()
        queued.append(services.mark_not_spam(mine))
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=click) for _ in range(10)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"queued": sorted(queued), "errors": errors,
                  "emails": EmailDelivery.objects.filter(enquiry=enquiry, reply__isnull=True).count()}))
"""


def test_ten_advisers_marking_one_enquiry_not_spam_at_once_on_a_sqlite_file(sqlite_file_env):  # noqa: F811
    out = run_manage(sqlite_file_env, "shell", "-c", RACE_SCRIPT % uuid.uuid4()).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["queued"] == [False] * 9 + [True]
    assert report["emails"] == 1


# --- Migration 0006 on a database that already has doubles ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_sent_advisers_email_of_each_double_and_every_reply():
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before = [("advisor", "0005_task_paths_after_relayout")]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        now = timezone.now()
        enquiry = apps.get_model("advisor", "Enquiry").objects.create(
            reference="E-DUP234", submission_id=uuid.uuid4(), name="Ana", email="ana@example.org",
            notice_version="test", contact_consent_at=now,
        )  # fmt: skip
        note = apps.get_model("advisor", "EnquiryNote").objects.create(enquiry=enquiry, text="Reply")
        deliveries = apps.get_model("advisor", "EmailDelivery").objects
        deliveries.create(enquiry=enquiry)  # queued first, never sent
        sent = deliveries.create(enquiry=enquiry, sent_at=now)
        deliveries.create(enquiry=enquiry)
        reply = deliveries.create(enquiry=enquiry, reply=note, sent_at=now)

        MigrationExecutor(connection).migrate(latest)
        assert sorted(EmailDelivery.objects.values_list("pk", flat=True)) == sorted([sent.pk, reply.pk])
    finally:
        MigrationExecutor(connection).migrate(latest)
