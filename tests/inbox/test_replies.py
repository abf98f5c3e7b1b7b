"""Replies from admin: templates filled in (names on one line, whatever is stored), sent to the learner by the
notifications' task, stored as a note, the enquiry marked contacted; once however often the form is sent; never to
spam or phone-only learners without confirmation; advisers only."""

import json
import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from advisor.enquiries import retention as privacy
from advisor.enquiries import services
from advisor.enquiries.models import EmailDelivery, Enquiry, EnquiryNote, Status
from advisor.inbox.models import ReplyTemplate
from tests.enquiry_support import (  # noqa: F401
    enquiry_settings,
    make_enquiry,
    make_staff,
    minutes_pass,
    run_tasks,
    sqlite_file_env,
    use_memory_mail,
    use_refusing_smtp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


def reply_url(enquiry):
    return f"/admin/advisor/enquiry/{enquiry.pk}/reply/"


@pytest.fixture
def adviser(client):
    user = make_staff("avery", "Course advisers")
    user.first_name, user.last_name = "Avery", "Adviser"
    user.save()
    client.force_login(user)
    return user


@pytest.fixture
def templates():
    ReplyTemplate.objects.all().delete()  # the migration's general template; these tests make their own
    return {
        "general": ReplyTemplate.objects.create(
            name="General", subject="Your enquiry {reference}", body="Hi {learner_name}"
        ),
        "GB": ReplyTemplate.objects.create(
            name="Moving to the UK",
            destination_code="GB",
            subject="Your move to {destination}",
            body="Dear {learner_name},\n\n{plan_summary}\n\n{unknown} stays.\n\n{adviser_name}",
        ),
        "NZ": ReplyTemplate.objects.create(name="Moving to NZ", destination_code="NZ", subject="NZ", body="NZ"),
    }


@pytest.fixture
def memory_mail(settings):
    use_memory_mail(settings)
    mail.outbox = []


def reply_form(**data) -> dict:
    """A reply form as the page sends it, with its own id."""
    return {"subject": "About your move", "body": "Dear Ada, hello.", "submission_id": str(uuid.uuid4()), **data}


def send(client, enquiry, **data):
    """Send a reply from the page, then let the task worker run (the advisers' own notification is left out)."""
    EmailDelivery.objects.filter(reply=None).update(sent_at=timezone.now())
    response = client.post(reply_url(enquiry), reply_form(**data))
    run_tasks()
    return response


# --- The page and the templates ---------------------------------------------------------------------------------


def test_the_destination_template_comes_first_then_the_general_ones(client, adviser, templates):
    enquiry = make_enquiry()  # Australia to the United Kingdom
    html = client.get(reply_url(enquiry)).content.decode()
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", html)
    assert options == ["Moving to the UK (GB)", "General"]


def test_a_template_is_filled_with_the_learners_name_the_plan_summary_and_the_advisers_name(client, adviser, templates):
    enquiry = make_enquiry()
    response = client.get(reply_url(enquiry), {"template": templates["GB"].pk})
    form = response.context["form"]
    assert form.initial["subject"] == "Your move to the United Kingdom"
    body = form.initial["body"]
    assert body.startswith("Dear Ada Example,\n\n")
    # The summary the enquiry page in admin shows, as text.
    assert "Australia to United Kingdom" in body
    assert "Difficulty: High. Expected time: 2 to 3 years." in body
    assert "- Complete the Clinical Coding Standards Course" in body
    assert "{unknown} stays." in body
    assert body.endswith("Avery Adviser")


def test_another_template_can_be_chosen(client, adviser, templates):
    enquiry = make_enquiry()
    response = client.get(reply_url(enquiry), {"template": templates["general"].pk})
    initial = response.context["form"].initial
    assert (initial["subject"], initial["body"]) == (f"Your enquiry {enquiry.reference}", "Hi Ada Example")
    # Another destination's template is not offered, even by its id.
    response = client.get(reply_url(enquiry), {"template": templates["NZ"].pk})
    assert response.context["chosen"] == templates["GB"]


def test_the_enquiry_page_links_to_the_reply(client, adviser):
    enquiry = make_enquiry()
    assert reply_url(enquiry) in client.get(f"/admin/advisor/enquiry/{enquiry.pk}/change/").content.decode()


# --- Sending ----------------------------------------------------------------------------------------------------


def test_sending_emails_the_learner_saves_a_note_and_marks_contacted(client, adviser, memory_mail, settings):
    settings.OPERATOR = {**settings.OPERATOR, "email": "hello@provider.example"}
    enquiry = make_enquiry()
    response = send(client, enquiry)
    assert response.status_code == 302 and response["Location"] == f"/admin/advisor/enquiry/{enquiry.pk}/change/"

    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject == "About your move"
    assert message.body == "Dear Ada, hello."
    assert message.reply_to == ["hello@provider.example"]
    assert message.extra_headers["X-Enquiry-Reference"] == enquiry.reference

    note = EnquiryNote.objects.get(enquiry=enquiry)
    assert note.author == adviser
    assert timezone.now() - note.created_at < timedelta(minutes=1)
    assert note.text == "Emailed to the learner.\nSubject: About your move\n\nDear Ada, hello."
    enquiry.refresh_from_db()
    assert enquiry.status == Status.CONTACTED and enquiry.contacted_at
    assert enquiry.history.latest().history_user == adviser
    assert EmailDelivery.objects.get(reply=note).sent_at


def test_the_reply_its_email_and_its_task_are_saved_together(client, adviser, memory_mail):
    enquiry = make_enquiry()
    EmailDelivery.objects.update(sent_at=timezone.now())  # the advisers were told already
    client.post(reply_url(enquiry), reply_form())
    row = EmailDelivery.objects.get(reply__isnull=False)
    task = DBTaskResult.objects.get(pk=row.task_id)
    assert (task.status, task.args_kwargs) == ("READY", {"args": [row.pk], "kwargs": {}})
    assert not mail.outbox  # the worker sends it, not the page
    run_tasks()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]


def test_a_reply_is_sent_by_the_same_task_and_retries_as_notifications(client, adviser, settings):
    use_refusing_smtp(settings)
    enquiry = make_enquiry()
    assert send(client, enquiry).status_code == 302
    row = EmailDelivery.objects.get(reply__isnull=False)
    assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "ConnectionRefusedError (111)")
    assert EnquiryNote.objects.filter(enquiry=enquiry).exists()  # the reply is kept while mail is down

    use_memory_mail(settings)
    mail.outbox = []
    minutes_pass()
    run_tasks()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert EmailDelivery.objects.get(reply__isnull=False).attempts == 2
    # The advisers' own notification is a separate row, and the enquiry page still reports on it.
    page = client.get(f"/admin/advisor/enquiry/{enquiry.pk}/change/").content.decode()
    assert f"Sent {timezone.localtime(EmailDelivery.objects.get(reply=None).sent_at):%d %b %Y %H:%M}" in page


def test_the_page_lists_earlier_replies_and_their_delivery(client, adviser, memory_mail):
    enquiry = make_enquiry()
    send(client, enquiry)
    html = client.get(reply_url(enquiry)).content.decode()
    assert "Replies sent before" in html and "sent " in html


@pytest.mark.parametrize(
    ("fields", "warning"),
    [
        ({"spam_reason": "honeypot"}, "spam quarantine"),
        ({"preferred_contact": "phone"}, "asked to be contacted by phone"),
    ],
)
def test_spam_and_phone_only_need_the_advisers_confirmation(client, adviser, memory_mail, fields, warning):
    enquiry = make_enquiry(**fields)
    assert warning in client.get(reply_url(enquiry)).content.decode()

    response = send(client, enquiry)
    assert response.status_code == 200
    assert "Tick this box to send the email anyway" in response.content.decode()
    assert not mail.outbox
    assert not EnquiryNote.objects.filter(enquiry=enquiry).exists()
    assert not EmailDelivery.objects.filter(reply__isnull=False).exists()
    assert Enquiry.objects.get(pk=enquiry.pk).status == Status.NEW

    assert send(client, enquiry, confirm="on").status_code == 302
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert Enquiry.objects.get(pk=enquiry.pk).status == Status.CONTACTED


def test_nothing_is_sent_to_an_enquiry_without_an_email_address(client, adviser, memory_mail):
    enquiry = make_enquiry()
    privacy.anonymise(enquiry)
    assert client.get(reply_url(enquiry)).status_code == 302
    assert send(client, enquiry).status_code == 302
    assert not mail.outbox and not EmailDelivery.objects.filter(reply__isnull=False).exists()


def test_a_reply_anonymised_before_it_went_out_is_never_sent(client, adviser, settings):
    use_refusing_smtp(settings)
    enquiry = make_enquiry()
    send(client, enquiry)
    privacy.anonymise(enquiry)
    use_memory_mail(settings)
    mail.outbox = []
    minutes_pass()
    run_tasks()
    assert not mail.outbox
    # Given up at once, with the reason: retrying could never find the address again.
    row = EmailDelivery.objects.get(reply__isnull=False)
    assert row.gave_up_at and row.attempts == 2
    assert row.last_error == "The learner's details were removed (anonymised): there is nobody to send it to"
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_the_subject_must_be_one_line(client, adviser, memory_mail):
    enquiry = make_enquiry()
    response = send(client, enquiry, subject="Hi\nBcc: x@example.org")
    assert response.status_code == 200 and "The subject must be one line." in response.content.decode()
    assert not mail.outbox


def test_a_closed_enquiry_can_get_a_reply_but_stays_closed(client, adviser, memory_mail):
    enquiry = make_enquiry()
    Enquiry.objects.filter(pk=enquiry.pk).update(status=Status.CLOSED)
    assert send(client, enquiry).status_code == 302
    assert len(mail.outbox) == 1
    assert Enquiry.objects.get(pk=enquiry.pk).status == Status.CLOSED


# --- Sent once ---------------------------------------------------------------------------------------------------


def shown_form_id(response) -> str:
    return re.search(r'<input type="hidden" name="submission_id" value="([0-9a-f-]{36})"', response.content.decode())[1]


def test_each_reply_form_carries_an_id_of_its_own(client, adviser):
    enquiry = make_enquiry()
    first, second = shown_form_id(client.get(reply_url(enquiry))), shown_form_id(client.get(reply_url(enquiry)))
    assert first != second and uuid.UUID(first)


def test_sending_the_same_reply_form_twice_sends_one_email_and_stores_one_note(client, adviser, memory_mail):
    enquiry = make_enquiry()
    EmailDelivery.objects.update(sent_at=timezone.now())  # the advisers were told already
    form = reply_form(submission_id=shown_form_id(client.get(reply_url(enquiry))))
    first, second = client.post(reply_url(enquiry), form), client.post(reply_url(enquiry), form)
    # The second lands where the first did, with the same words: what a double click should look like.
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/admin/advisor/enquiry/{enquiry.pk}/change/"
    page = client.get(second["Location"]).content.decode()
    assert f"Reply to {enquiry.reference} sent by email and saved as a note." in page
    run_tasks()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert EnquiryNote.objects.filter(enquiry=enquiry).count() == 1
    assert EmailDelivery.objects.filter(reply__isnull=False).count() == 1


def test_a_resent_form_is_the_same_reply_even_with_other_words(client, adviser, memory_mail):
    """Back, an edit, and Send reply again on the same form: the reply already went, nothing more is sent."""
    enquiry = make_enquiry()
    form = reply_form()
    send(client, enquiry, **form)
    assert send(client, enquiry, **{**form, "body": "Second thoughts."}).status_code == 302
    assert [m.body for m in mail.outbox] == ["Dear Ada, hello."]
    assert EnquiryNote.objects.filter(enquiry=enquiry).count() == 1


def test_two_forms_are_two_replies(client, adviser, memory_mail):
    enquiry = make_enquiry()
    send(client, enquiry)
    send(client, enquiry, body="And one more thing.")
    assert [m.body for m in mail.outbox] == ["Dear Ada, hello.", "And one more thing."]


def test_the_database_refuses_a_second_reply_with_the_same_id(adviser):
    """No look before the insert decides it: the unique constraint does, so two requests at once store one."""
    enquiry, form_id = make_enquiry(), uuid.uuid4()
    note, created = services.reply(enquiry, adviser, "About your move", "Hello", submission_id=form_id)
    again, created_again = services.reply(enquiry, adviser, "About your move", "Hello", submission_id=form_id)
    assert (created, created_again) == (True, False) and again == note
    assert EmailDelivery.objects.filter(reply__isnull=False).count() == 1


def test_a_form_without_its_id_or_with_another_enquirys_is_refused(client, adviser, memory_mail):
    enquiry, other = make_enquiry(), make_enquiry()
    response = send(client, enquiry, submission_id="")
    assert response.status_code == 200 and "This form is incomplete" in response.content.decode()
    form_id = str(uuid.uuid4())
    assert send(client, other, submission_id=form_id).status_code == 302
    response = send(client, enquiry, submission_id=form_id)
    assert response.status_code == 200 and "This form was written for another enquiry" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]  # the other enquiry's reply only


# SQLite's in-memory test database is shared between threads in "shared cache" mode, whose locks fail at once
# rather than wait (see tests/enquiries/test_enquiry.py): the race runs where each thread has a real connection.
needs_server_database = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="in-memory SQLite test database; the constraint test above covers SQLite"
)


@needs_server_database
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_posts_of_one_reply_form_store_one_note_and_send_one_email(settings):
    """Ten threads, each with its own database connection, post the same reply form at the same moment."""
    use_memory_mail(settings)
    user = make_staff("avery")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="advisor"))
    enquiry = make_enquiry(plan_snapshot={}, origin_code="", destination_code="")  # no reference data here
    form = reply_form()
    barrier, results = threading.Barrier(10), []

    def post():
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            response = client.post(reply_url(enquiry), form)
            results.append((response.status_code, response.get("Location")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(302, f"/admin/advisor/enquiry/{enquiry.pk}/change/")] * 10
    assert EnquiryNote.objects.filter(enquiry=enquiry).count() == 1
    EmailDelivery.objects.filter(reply=None).update(sent_at=timezone.now())
    run_tasks()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]


RACE_SCRIPT = """
import json, threading, uuid
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.utils import timezone
from advisor.enquiries import services
from advisor.enquiries.models import EmailDelivery, EnquiryNote
user = User.objects.create_user("racer-" + uuid.uuid4().hex[:8], is_staff=True)
user.user_permissions.add(*Permission.objects.filter(content_type__app_label="advisor"))
enquiry, _ = services.submit(submission_id=uuid.uuid4(), name="Race", email="race@example.org",
    preferred_contact="email", notice_version="test", contact_consent_at=timezone.now())
form = {"subject": "Hello", "body": "Hi", "submission_id": str(uuid.uuid4())}
barrier = threading.Barrier(10)
results = []
def post():
    try:
        client = Client()
        client.force_login(user)
        barrier.wait()
        response = client.post(f"/admin/advisor/enquiry/{enquiry.pk}/reply/", form)
        results.append([response.status_code, response.get("Location")])
    finally:
        connection.close()
threads = [threading.Thread(target=post) for _ in range(10)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"results": results, "pk": enquiry.pk, "notes": EnquiryNote.objects.filter(enquiry=enquiry).count(),
                  "emails": EmailDelivery.objects.filter(enquiry=enquiry, reply__isnull=False).count()}))
"""


def test_ten_simultaneous_posts_of_one_reply_form_on_a_sqlite_file_in_wal_mode(sqlite_file_env):  # noqa: F811
    """The default deployment: ten threads, each with its own connection to one SQLite file, post the same reply
    form at the same moment."""
    from tests.enquiry_support import run_manage

    report = json.loads(run_manage(sqlite_file_env, "shell", "-c", RACE_SCRIPT).stdout.strip().splitlines()[-1])
    assert report["results"] == [[302, f"/admin/advisor/enquiry/{report['pk']}/change/"]] * 10
    assert (report["notes"], report["emails"]) == (1, 1)


# --- Names fill in on one line ----------------------------------------------------------------------------------


def test_a_stored_name_with_line_breaks_fills_a_template_as_one_line(client, adviser, templates, memory_mail):
    """An enquiry saved before the form refused control characters: its name cannot shape the email."""
    enquiry = make_enquiry(name="Bob\r\nBcc: x@example.org\u202e\x07 Smith")
    templates["general"].subject = "Your enquiry, {learner_name}"
    templates["general"].save()
    response = client.get(reply_url(enquiry), {"template": templates["general"].pk})
    initial = response.context["form"].initial
    assert (initial["subject"], initial["body"]) == (
        "Your enquiry, Bob Bcc: x@example.org Smith",
        "Hi Bob Bcc: x@example.org Smith",
    )
    # The filled subject is one line, so it sends as it is.
    assert send(client, enquiry, subject=initial["subject"], body=initial["body"]).status_code == 302
    [message] = mail.outbox
    assert message.body == "Hi Bob Bcc: x@example.org Smith" and message.to == ["ada@example.org"]


def test_the_plan_summary_keeps_its_lines(adviser, templates):
    from advisor.inbox.replies import fill

    body = fill("{learner_name}:\n{plan_summary}", make_enquiry(name="Ada\nExample"), adviser)
    assert body.startswith("Ada Example:\nAustralia to United Kingdom\n")


# --- Who may --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "status"), [("Content editors", 403), ("Privacy officers", 403)])
def test_only_advisers_reply(client, group, status, memory_mail):
    enquiry = make_enquiry()
    client.force_login(make_staff("someone", group))
    assert client.get(reply_url(enquiry)).status_code == status
    assert client.post(reply_url(enquiry), {"subject": "x", "body": "y"}).status_code == status
    assert not mail.outbox


def test_strangers_are_sent_to_sign_in(client):
    assert client.get(reply_url(make_enquiry())).status_code == 302


def test_advisers_keep_the_templates_in_admin_and_content_editors_cannot(client, adviser):
    response = client.post(
        "/admin/advisor/replytemplate/add/",
        {"name": "Canada", "destination_code": "CA", "subject": "Canada", "body": "Hello {learner_name}"},
    )
    assert response.status_code == 302
    assert ReplyTemplate.objects.get(name="Canada").destination_code == "CA"
    bad = client.post(
        "/admin/advisor/replytemplate/add/", {"name": "X", "destination_code": "XX", "subject": "X", "body": "X"}
    )
    assert bad.status_code == 200 and not ReplyTemplate.objects.filter(name="X").exists()
    client.force_login(make_staff("editor", "Content editors"))
    assert client.get("/admin/advisor/replytemplate/").status_code == 403


def test_a_general_template_is_there_from_the_start():
    template = ReplyTemplate.objects.get(name="General reply")
    assert template.destination_code == ""
    assert "{plan_summary}" in template.body and "{adviser_name}" in template.body
