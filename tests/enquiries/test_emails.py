"""Adviser notifications: a task saved with the enquiry, sent by the worker once, retried with backoff when
the mail server fails, visible in admin when given up, and never carrying the learner's details."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from advisor.enquiries import emails as notifications
from advisor.enquiries import services
from advisor.enquiries.models import EmailDelivery, Enquiry
from tests.enquiry_support import (  # noqa: F401 (fixtures)
    ENQUIRE_URL,
    PERSONAL,
    PHONE_E164,
    enquiry_settings,
    form_data,
    make_enquiry,
    make_staff,
    minutes_pass,
    run_tasks,
    smtp_refusing_recipients,
    sqlite_file_env,
    use_memory_mail,
    use_refusing_smtp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


@pytest.fixture
def failing_smtp(settings):
    use_refusing_smtp(settings)


def tasks(status=None):
    rows = DBTaskResult.objects.order_by("enqueued_at")
    return list(rows.filter(status=status) if status else rows)


def test_the_enquiry_is_saved_with_its_task_and_the_worker_emails_the_advisers(client):
    response = client.post(ENQUIRE_URL, form_data())
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    delivery = EmailDelivery.objects.get()
    [task] = tasks()
    assert (task.status, task.task_path) == ("READY", "advisor.enquiries.emails.send_email")
    assert delivery.task_id == task.id
    assert mail.outbox == []  # the request sends nothing itself: the worker does

    run_tasks()
    [email] = mail.outbox
    assert email.to == ["advisers@provider.example"]
    assert enquiry.reference in email.subject
    assert f"https://pathways.example/admin/advisor/enquiry/{enquiry.pk}/change/" in email.body
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 1
    task.refresh_from_db()
    assert (task.status, task.return_value) == ("SUCCESSFUL", "sent")


def test_an_enquiry_that_rolls_back_leaves_no_task(client):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_enquiry()
        raise RuntimeError("the request failed after saving")
    assert not Enquiry.objects.exists() and not EmailDelivery.objects.exists()
    assert tasks() == []
    run_tasks()
    assert mail.outbox == []


def test_the_email_carries_no_personal_details(client):
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    message = mail.outbox[0].message().as_string()
    for value in [*PERSONAL.values(), PHONE_E164]:
        assert value not in message


def test_a_task_that_runs_again_sends_nothing_more(client):
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    # A second copy of the task (queued again by hand, or by requeue_stalled_emails): the row says it went.
    notifications.send_email.enqueue(delivery.pk)
    run_tasks()
    assert len(mail.outbox) == 1
    assert [t.return_value for t in tasks()] == ["sent", "nothing to do"]


def test_a_failing_mail_server_keeps_the_enquiry_and_the_email_is_retried_with_backoff(client, settings, failing_smtp):
    response = client.post(ENQUIRE_URL, form_data())
    # The learner is not held up by the mail server: the enquiry is saved and confirmed.
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    before = timezone.now()
    run_tasks()
    after = timezone.now()
    delivery = EmailDelivery.objects.get()
    assert delivery.sent_at is None and delivery.attempts == 1
    assert delivery.last_error == "ConnectionRefusedError (111)"
    [failed] = tasks("FAILED")
    assert failed.exception_class_path == "advisor.enquiries.emails.DeliveryFailed"
    [retry] = tasks("READY")
    assert delivery.task_id == retry.id and retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert before + timedelta(minutes=1) <= retry.run_after <= after + timedelta(minutes=1)

    # Not due yet: the worker leaves it alone.
    run_tasks()
    assert EmailDelivery.objects.get().attempts == 1

    # A minute later the mail server is still down: a second attempt, then a two-minute wait.
    minutes_pass()
    before = timezone.now()
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    [retry] = tasks("READY")
    assert timedelta(minutes=2) <= retry.run_after - before <= timedelta(minutes=2, seconds=30)

    # The mail server is back.
    use_memory_mail(settings)
    minutes_pass()
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 3
    assert [m.subject for m in mail.outbox] == [f"New enquiry {enquiry.reference}"]
    assert tasks("READY") == []


def test_advisers_see_a_failing_email_and_its_next_try_on_the_enquiry(client, failing_smtp):
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    [retry] = tasks("READY")
    client.force_login(make_staff("avery", "Course advisers"))
    page = client.get(f"/admin/advisor/enquiry/{Enquiry.objects.get().pk}/change/").content.decode()
    next_try = f"{timezone.localtime(retry.run_after):%H:%M}"
    assert f"Failed 1 times (ConnectionRefusedError (111)); next try {next_try}" in page


def test_backoff_doubles_up_to_an_hour():
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert notifications.backoff(30) == timedelta(hours=1)


def test_a_given_up_email_shows_in_admin_and_the_enquiry_stays(client, settings, failing_smtp):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    client.post(ENQUIRE_URL, form_data())
    for _ in range(3):
        run_tasks()
        minutes_pass()
    delivery = EmailDelivery.objects.get()
    assert delivery.attempts == 2 and delivery.gave_up_at is not None
    assert tasks("READY") == []  # no further retry
    enquiry = Enquiry.objects.get()

    client.force_login(make_staff("avery", "Course advisers"))
    page = client.get(f"/admin/advisor/enquiry/{enquiry.pk}/change/").content.decode()
    assert "Gave up after 2 attempts (ConnectionRefusedError (111))" in page
    listed = client.get("/admin/advisor/enquiry/", {"notification": "failed"}).content.decode()
    assert enquiry.reference in listed

    # Superusers also see each attempt among the task results, with nothing personal in them.
    client.force_login(make_staff("root", superuser=True))
    results = client.get("/admin/django_tasks_database/dbtaskresult/", {"status__exact": "FAILED"})
    assert results.status_code == 200 and results.content.decode().count("send_email") == 2
    failed = client.get(f"/admin/django_tasks_database/dbtaskresult/{tasks('FAILED')[-1].pk}/change/")
    assert "DeliveryFailed: ConnectionRefusedError (111); given up" in failed.content.decode()


@pytest.mark.parametrize("group", ["Content editors", "Privacy officers"])
def test_only_superusers_see_the_task_results(client, group):
    client.post(ENQUIRE_URL, form_data())
    client.force_login(make_staff("someone", group))
    assert client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 403
    assert client.get(f"/admin/django_tasks_database/dbtaskresult/{tasks()[0].pk}/change/").status_code == 403


def test_tasks_store_ids_and_nothing_personal_even_when_the_server_names_the_address(
    client,
    smtp_refusing_recipients,  # noqa: F811
):
    enquiry = make_enquiry(email=PERSONAL["email"], name=PERSONAL["name"])
    services.reply(enquiry, make_staff("avery", "Course advisers"), "About your move", "Dear Zebedee")
    run_tasks()
    reply = EmailDelivery.objects.get(reply__isnull=False)
    assert reply.attempts == 1 and reply.last_error == "SMTPRecipientsRefused"
    stored = json.dumps(list(DBTaskResult.objects.values()), default=str)
    assert {tuple(t.args_kwargs["args"]) for t in tasks()} == {(d.pk,) for d in EmailDelivery.objects.all()}
    assert "DeliveryFailed: SMTPRecipientsRefused; a retry is queued" in stored
    for value in [*PERSONAL.values(), "Dear Zebedee"]:
        assert value not in stored


def test_a_task_lost_with_its_worker_is_queued_again_and_sent_once(client):
    client.post(ENQUIRE_URL, form_data())
    delivery = EmailDelivery.objects.get()
    # Six minutes ago a worker took the task, claimed the email and was killed mid-send (SIGKILL): the task
    # stays "running" for ever, and the email unsent.
    lost = DBTaskResult.objects.get()
    lost.claim("worker-killed")
    DBTaskResult.objects.filter(pk=lost.pk).update(started_at=timezone.now() - timedelta(minutes=6))
    EmailDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(minutes=1))
    run_tasks()
    assert mail.outbox == []

    call_command("requeue_stalled_emails")
    lost.refresh_from_db()
    assert (lost.status, lost.exception_class_path) == ("FAILED", "advisor.enquiries.emails.WorkerLost")
    run_tasks()
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().sent_at is not None
    # Nothing is lost any more: running it again queues nothing, and nothing more is sent.
    call_command("requeue_stalled_emails")
    run_tasks()
    assert len(mail.outbox) == 1 and len(tasks()) == 2


def test_a_task_still_running_is_left_alone(client, capsys):
    client.post(ENQUIRE_URL, form_data())
    DBTaskResult.objects.get().claim("busy-worker")  # started just now: it may be sending as we speak
    call_command("requeue_stalled_emails")
    assert "requeued 0" in capsys.readouterr().out
    assert len(tasks()) == 1


def test_an_email_waiting_from_before_the_tasks_gets_one(client, capsys):
    client.post(ENQUIRE_URL, form_data())
    DBTaskResult.objects.all().delete()
    EmailDelivery.objects.update(task_id=None)  # an outbox row as migration 0004 carries it over
    call_command("requeue_stalled_emails")
    assert "requeued 1" in capsys.readouterr().out
    run_tasks()
    assert len(mail.outbox) == 1


def test_spam_is_never_notified(client):
    client.post(ENQUIRE_URL, form_data(extra_reference="bot"))
    assert Enquiry.objects.get().is_spam
    assert tasks() == [] and not EmailDelivery.objects.exists()
    run_tasks()
    assert mail.outbox == []


def test_no_configured_adviser_address_keeps_the_notification_pending(client, settings):
    settings.ADVISER_EMAILS = []
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    assert delivery.sent_at is None and delivery.attempts == 1
    assert len(tasks("READY")) == 1


SEED_SCRIPT = """
import uuid
from django.utils import timezone
from advisor.enquiries import services
enquiry, _ = services.submit(submission_id=uuid.uuid4(), name="Loop", email="loop@example.org",
    preferred_contact="email", notice_version="test", contact_consent_at=timezone.now())
print(enquiry.pk)
"""
SENT_SCRIPT = (
    "from advisor.enquiries.models import EmailDelivery as E; print(E.objects.filter(enquiry_id=%s)[0].sent_at)"
)


def test_db_worker_runs_as_a_process_and_stops_cleanly_on_sigterm(sqlite_file_env):  # noqa: F811
    import signal
    import subprocess
    import sys
    import time

    from tests.enquiry_support import ROOT, run_manage

    env = {**sqlite_file_env, "ADVISER_EMAILS": "advisers@provider.example", "LOG_LEVEL": "INFO"}
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "db_worker", "--interval", "0.2", "--no-reload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Another process (an app server) saves an enquiry; the worker, on its own, sends the email.
        enquiry_id = run_manage(env, "shell", "-c", SEED_SCRIPT).stdout.strip().splitlines()[-1]
        deadline = time.time() + 30
        sent_at = "None"
        while time.time() < deadline and sent_at == "None":
            time.sleep(0.5)
            sent_at = run_manage(env, "shell", "-c", SENT_SCRIPT % enquiry_id).stdout.strip().splitlines()[-1]
        assert sent_at != "None"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "notification sent" in out + err
