"""Adviser notifications: a task saved with the enquiry, sent by the worker once, retried with backoff when
the mail server fails for now and given up at once when it never can, visible in admin when given up, and never
carrying the learner's details; the inbox says when no task worker is sending."""

import html
import json
import re
import uuid
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
    smtp_server,
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
    assert f"Failed 1 time (ConnectionRefusedError (111)); next try {next_try}" in page


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
    reason = "Refused for good by the mail server: SMTPRecipientsRefused (550)"
    assert reply.attempts == 1 and reply.last_error == reason
    stored = json.dumps(list(DBTaskResult.objects.values()), default=str)
    assert {tuple(t.args_kwargs["args"]) for t in tasks()} == {(d.pk,) for d in EmailDelivery.objects.all()}
    assert f"DeliveryFailed: {reason}; given up" in stored
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


def test_no_configured_adviser_address_gives_the_notification_up_at_once(client, settings):
    settings.ADVISER_EMAILS = []
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    assert delivery.sent_at is None and delivery.attempts == 1 and delivery.gave_up_at is not None
    assert delivery.last_error == "No adviser address to send it to: ADVISER_EMAILS is empty"
    assert tasks("READY") == []
    # The enquiry waits in the inbox all the same, and the page says why nobody was told.
    client.force_login(make_staff("avery", "Course advisers"))
    page = client.get(f"/admin/advisor/enquiry/{Enquiry.objects.get().pk}/change/").content.decode()
    assert "Gave up after 1 attempt (No adviser address to send it to: ADVISER_EMAILS is empty)" in page


# --- Permanent and transient failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ({"RCPT": "550 5.1.1 {argument}: no such mailbox"}, "SMTPRecipientsRefused (550)"),
        ({"MAIL": "553 5.7.1 sender not allowed"}, "SMTPSenderRefused (553)"),
        ({"message": "554 5.7.1 message refused as spam"}, "SMTPDataError (554)"),
    ],
    ids=["recipient-refused", "sender-refused", "message-refused"],
)
def test_a_mail_servers_permanent_refusal_is_given_up_at_once_with_its_reason(
    client,
    smtp_server,  # noqa: F811
    replies,
    error,
):
    smtp_server(**replies)
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    reason = f"Refused for good by the mail server: {error}"
    assert (delivery.attempts, delivery.last_error) == (1, reason)
    assert delivery.gave_up_at is not None and delivery.sent_at is None
    assert tasks("READY") == []  # no retry: the same request would be refused again
    assert tasks("FAILED")[0].traceback.strip().endswith(f"DeliveryFailed: {reason}; given up")

    client.force_login(make_staff("avery", "Course advisers"))
    enquiry = Enquiry.objects.get()
    page = client.get(f"/admin/advisor/enquiry/{enquiry.pk}/change/").content.decode()
    assert f"Gave up after 1 attempt ({reason})" in page
    assert enquiry.reference in client.get("/admin/advisor/enquiry/", {"notification": "failed"}).content.decode()


@pytest.fixture
def silent_smtp(settings):
    """A mail server that takes the connection and never says a word: the attempt times out."""
    import socket

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": listening.getsockname()[1], "timeout": 1},
            }
        }
        yield


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ({"RCPT": "452 4.2.2 mailbox full"}, "SMTPRecipientsRefused (452)"),
        ({"MAIL": "451 4.3.0 try again later"}, "SMTPSenderRefused (451)"),
        ({"message": "451 4.7.1 greylisted, try again later"}, "SMTPDataError (451)"),
        (None, "ConnectionRefusedError (111)"),
        ("silent", "SMTPServerDisconnected"),
    ],
    ids=["mailbox-full", "sender-deferred", "greylisted", "connection-refused", "timeout"],
)
def test_a_temporary_failure_is_retried_and_the_email_goes_once_the_server_takes_it(
    client,
    settings,
    smtp_server,  # noqa: F811
    replies,
    error,
    request,
):
    if replies == "silent":
        request.getfixturevalue("silent_smtp")
    elif replies is None:
        use_refusing_smtp(settings)
    else:
        smtp_server(**replies)
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    assert (delivery.attempts, delivery.last_error, delivery.gave_up_at) == (1, error, None)
    [retry] = tasks("READY")
    assert retry.id == delivery.task_id and retry.run_after > timezone.now()

    use_memory_mail(settings)
    minutes_pass()
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 2
    assert len(mail.outbox) == 1


def test_recipients_refused_some_for_good_and_some_for_now_are_tried_again(
    client,
    settings,
    smtp_server,  # noqa: F811
):
    settings.ADVISER_EMAILS = ["gone@provider.example", "full@provider.example"]
    smtp_server(RCPT=lambda command: "550 5.1.1 no such mailbox" if "gone@" in command else "452 4.2.2 mailbox full")
    client.post(ENQUIRE_URL, form_data())
    run_tasks()
    delivery = EmailDelivery.objects.get()
    # The lowest code decides: one mailbox may take it later, so the email is not given up.
    assert (delivery.attempts, delivery.last_error, delivery.gave_up_at) == (1, "SMTPRecipientsRefused (452)", None)
    assert len(tasks("READY")) == 1


# --- Nobody sending -----------------------------------------------------------------------------------------------


def waited(minutes):
    """Every email task was queued (or fell due) `minutes` ago, and nothing was taken since."""
    DBTaskResult.objects.filter(status="READY").update(
        enqueued_at=timezone.now() - timedelta(minutes=minutes), run_after=timezone.now() - timedelta(minutes=minutes)
    )


def banner(client):
    page = client.get("/admin/advisor/enquiry/").content.decode()
    found = re.search(r'<ul class="messagelist" id="emails-stalled">\s*<li class="warning">([^<]*)</li>', page)
    return html.unescape(found[1]) if found else None


def test_the_inbox_says_when_no_worker_has_taken_emails_for_five_minutes_and_clears_when_one_does(client):
    client.force_login(make_staff("avery", "Course advisers"))
    client.post(ENQUIRE_URL, form_data())
    assert banner(client) is None  # just queued: a worker has five minutes to take it

    waited(6)
    assert banner(client) == (
        "No task worker has sent any email yet: start one with make worker (or the coding-pathways-worker "
        "service). 1 email has waited more than 5 minutes to go out."
    )
    run_tasks()  # a worker starts and catches up
    assert len(mail.outbox) == 1
    assert banner(client) is None

    # Later, the worker stops: new enquiries wait, and the banner says when email last went out.
    last_sent = EmailDelivery.objects.get().sent_at
    client.post(ENQUIRE_URL, form_data())
    client.post(ENQUIRE_URL, form_data())
    waited(10)
    DBTaskResult.objects.exclude(status="READY").update(started_at=timezone.now() - timedelta(minutes=10))
    assert banner(client) == (
        f"No task worker has sent email since {timezone.localtime(last_sent):%H:%M}: start one with make worker "
        "(or the coding-pathways-worker service). 2 emails have waited more than 5 minutes to go out."
    )
    run_tasks()
    assert banner(client) is None and len(mail.outbox) == 3


def test_the_banner_waits_as_long_as_the_setting_says(client, settings):
    settings.EMAIL_WORKER_ALERT_MINUTES = 30
    client.force_login(make_staff("avery", "Course advisers"))
    client.post(ENQUIRE_URL, form_data())
    waited(20)
    assert banner(client) is None
    waited(31)
    assert "has waited more than 30 minutes" in banner(client)


def test_an_email_waiting_out_its_backoff_is_not_a_missing_worker(client, failing_smtp):
    client.force_login(make_staff("avery", "Course advisers"))
    client.post(ENQUIRE_URL, form_data())
    run_tasks()  # a worker tried, the mail server is down: the retry is due in a minute
    DBTaskResult.objects.update(
        enqueued_at=timezone.now() - timedelta(minutes=30), started_at=timezone.now() - timedelta(minutes=30)
    )
    assert banner(client) is None  # not due yet, so nobody is late taking it (the failed filter shows it)


def test_a_worker_busy_with_a_long_queue_is_not_a_missing_worker(client):
    client.force_login(make_staff("avery", "Course advisers"))
    client.post(ENQUIRE_URL, form_data())
    client.post(ENQUIRE_URL, form_data())
    waited(10)
    DBTaskResult.objects.filter(pk=tasks()[0].pk).update(status="RUNNING", started_at=timezone.now())
    assert banner(client) is None


def test_the_failed_filter_lists_emails_never_attempted(client):
    never_tried = make_enquiry()
    sent = make_enquiry()
    EmailDelivery.objects.filter(enquiry=sent).update(attempts=1, sent_at=timezone.now())
    client.force_login(make_staff("avery", "Course advisers"))
    failed = client.get("/admin/advisor/enquiry/", {"notification": "failed"}).content.decode()
    assert never_tried.reference in failed and sent.reference not in failed
    done = client.get("/admin/advisor/enquiry/", {"notification": "sent"}).content.decode()
    assert sent.reference in done and never_tried.reference not in done


def test_an_enquirys_emails_are_listed_oldest_first(client, settings):
    enquiry = make_enquiry()
    adviser = make_staff("avery", "Course advisers")
    # Created in an order their ids do not follow, so only the time can put them in order.
    newest = services.reply(enquiry, adviser, "Second", "b", submission_id=uuid.uuid4())[0]
    oldest = services.reply(enquiry, adviser, "First", "a", submission_id=uuid.uuid4())[0]
    now = timezone.now()
    EmailDelivery.objects.filter(reply=newest).update(created_at=now - timedelta(hours=1))
    EmailDelivery.objects.filter(reply=oldest).update(created_at=now - timedelta(hours=3))
    EmailDelivery.objects.filter(reply=None).update(created_at=now - timedelta(hours=2), sent_at=now)
    assert [e.reply_id for e in enquiry.emails.all()] == [oldest.pk, None, newest.pk]

    client.force_login(adviser)
    page = client.get(f"/admin/advisor/enquiry/{enquiry.pk}/change/").content.decode()
    log = re.search(r'<table class="email-log">.*?</table>', page, re.S)[0]
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td></tr>", log)
    assert rows == [
        ("Reply to the learner by avery", "Waiting to be sent"),
        ("To advisers", f"Sent {timezone.localtime(now):%d %b %Y %H:%M}"),
        ("Reply to the learner by avery", "Waiting to be sent"),
    ]


# --- The system check ---------------------------------------------------------------------------------------------


def test_the_system_check_warns_when_no_adviser_address_is_set_with_debug_off(settings):
    from django.core import checks

    settings.DEBUG = False
    settings.ADVISER_EMAILS = []
    [warning] = [m for m in checks.run_checks() if m.id.startswith("advisor.")]
    assert warning.id == "advisor.W001" and warning.level == checks.WARNING
    assert "ADVISER_EMAILS" in warning.msg

    settings.ADVISER_EMAILS = ["advisers@provider.example"]
    assert not [m for m in checks.run_checks() if m.id.startswith("advisor.")]
    settings.ADVISER_EMAILS, settings.DEBUG = [], True  # in development the console shows the emails
    assert not [m for m in checks.run_checks() if m.id.startswith("advisor.")]


def test_manage_py_check_prints_the_warning_and_succeeds(settings):
    from io import StringIO

    settings.DEBUG = False
    settings.ADVISER_EMAILS = []
    out, err = StringIO(), StringIO()
    call_command("check", stdout=out, stderr=err)  # a warning: nothing refuses to start because of it
    assert "advisor.W001" in err.getvalue() and "ADVISER_EMAILS is empty" in err.getvalue()


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
