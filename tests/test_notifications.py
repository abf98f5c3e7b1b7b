"""Adviser notifications: sent after commit, never lost, retried when the mail server fails, and never
carrying the learner's details."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from advisor import notifications
from advisor.models import Enquiry, NotificationOutbox
from tests.enquiry_support import (  # noqa: F401 (fixtures)
    ENQUIRE_URL,
    PERSONAL,
    PHONE_E164,
    enquiry_settings,
    form_data,
    sqlite_file_env,
    use_memory_mail,
    use_refusing_smtp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


@pytest.fixture
def failing_smtp(settings):
    use_refusing_smtp(settings)


def test_advisers_are_emailed_right_after_the_enquiry_commits(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ENQUIRE_URL, form_data())
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["advisers@provider.example"]
    assert enquiry.reference in email.subject
    assert f"https://pathways.example/admin/advisor/enquiry/{enquiry.pk}/change/" in email.body
    outbox = NotificationOutbox.objects.get()
    assert outbox.sent_at is not None and outbox.attempts == 1


def test_the_email_carries_no_personal_details(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ENQUIRE_URL, form_data())
    message = mail.outbox[0].message().as_string()
    for value in [*PERSONAL.values(), PHONE_E164]:
        assert value not in message


def test_a_crash_between_commit_and_notification_is_delivered_by_send_notifications(
    client, django_capture_on_commit_callbacks
):
    # The after-commit callback never runs: as if the worker died right after the commit.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(ENQUIRE_URL, form_data())
    assert response.status_code == 303
    assert len(callbacks) == 1
    assert mail.outbox == []
    assert NotificationOutbox.objects.get().sent_at is None

    call_command("send_notifications")
    assert len(mail.outbox) == 1
    assert NotificationOutbox.objects.get().sent_at is not None
    # Idempotent: running it again sends nothing more.
    call_command("send_notifications")
    assert len(mail.outbox) == 1


def test_a_failing_mail_server_keeps_the_enquiry_and_the_notification_is_retried(
    client, settings, failing_smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ENQUIRE_URL, form_data())
    # The learner is not held up by the mail server: the enquiry is saved and confirmed.
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    outbox = NotificationOutbox.objects.get()
    assert outbox.sent_at is None and outbox.attempts == 1
    assert outbox.last_error.startswith("ConnectionRefusedError")
    assert outbox.next_attempt_at > timezone.now()

    # Not due yet: the worker leaves it alone.
    assert notifications.send_due() == (0, 0)

    # Later, the mail server is still down: a second attempt, a longer wait.
    later = outbox.next_attempt_at + timedelta(seconds=1)
    assert notifications.send_due(now=later) == (0, 1)
    outbox.refresh_from_db()
    assert outbox.attempts == 2
    assert outbox.next_attempt_at - later == notifications.backoff(2)

    # The mail server is back.
    use_memory_mail(settings)
    assert notifications.send_due(now=outbox.next_attempt_at + timedelta(seconds=1)) == (1, 0)
    outbox.refresh_from_db()
    assert outbox.sent_at is not None and outbox.attempts == 3
    assert enquiry.reference in mail.outbox[0].subject


def test_backoff_doubles_up_to_an_hour():
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert notifications.backoff(30) == timedelta(hours=1)


def test_after_the_last_attempt_the_row_is_given_up_but_the_enquiry_stays(client, settings, failing_smtp):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    client.post(ENQUIRE_URL, form_data())
    now = timezone.now()
    for _ in range(3):
        now += timedelta(hours=2)
        notifications.send_due(now=now)
    outbox = NotificationOutbox.objects.get()
    assert outbox.attempts == 2 and outbox.gave_up_at is not None
    assert Enquiry.objects.count() == 1


def test_a_claimed_row_is_not_sent_twice_by_two_workers(client):
    client.post(ENQUIRE_URL, form_data())
    outbox = NotificationOutbox.objects.get()
    first = notifications.claim_due()
    second = notifications.claim_due()
    assert first == [outbox.pk] and second == []
    # A worker that died holding the claim frees the row when the lease runs out.
    assert notifications.claim_due(now=timezone.now() + notifications.LEASE + timedelta(seconds=1)) == [outbox.pk]


def test_send_notifications_reports_what_it_did(client, capsys):
    client.post(ENQUIRE_URL, form_data())
    call_command("send_notifications")
    assert "sent 1, failed 0" in capsys.readouterr().out


def test_spam_is_never_notified(client):
    client.post(ENQUIRE_URL, form_data(extra_reference="bot"))
    call_command("send_notifications")
    assert mail.outbox == []


def test_no_configured_adviser_address_keeps_the_notification_pending(client, settings):
    settings.ADVISER_EMAILS = []
    client.post(ENQUIRE_URL, form_data())
    notifications.send_due()
    outbox = NotificationOutbox.objects.get()
    assert outbox.sent_at is None and outbox.attempts == 1


SEED_SCRIPT = """
import uuid
from django.utils import timezone
from advisor.models import Enquiry, NotificationOutbox
enquiry = Enquiry.objects.create(submission_id=uuid.uuid4(), reference="E-" + uuid.uuid4().hex[:6].upper(),
    name="Loop", email="loop@example.org", preferred_contact="email", notice_version="test",
    contact_consent_at=timezone.now())
NotificationOutbox.objects.create(enquiry=enquiry)
print(enquiry.pk)
"""
SENT_SCRIPT = "from advisor.models import NotificationOutbox as O; print(O.objects.filter(enquiry_id=%s)[0].sent_at)"


def test_send_notifications_loop_runs_as_a_worker_and_stops_cleanly_on_sigterm(sqlite_file_env):  # noqa: F811
    import signal
    import subprocess
    import sys
    import time

    from tests.enquiry_support import ROOT, run_manage

    env = {**sqlite_file_env, "ADVISER_EMAILS": "advisers@provider.example"}
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "send_notifications", "--loop", "--sleep", "0.2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # An outbox row whose after-commit send never happened (as after a crash): only the worker can send it.
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
    assert "sent 1, failed 0" in out
