"""The advisers' inbox in Django admin: list, filters, search, workflow, actions, notes, history,
read-only submitted fields, CSV export and the login throttle."""

import csv
import io
import re

import pytest
from django.core import mail
from django.utils import timezone

from advisor.enquiries.models import EmailDelivery, Enquiry, EnquiryNote
from advisor.inbox.exports import escape_cell
from tests.enquiry_support import enquiry_settings, make_enquiry, make_staff, run_tasks  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

CHANGELIST = "/admin/advisor/enquiry/"


def change_url(enquiry):
    return f"/admin/advisor/enquiry/{enquiry.pk}/change/"


@pytest.fixture
def adviser(client):
    user = make_staff("adviser", "Course advisers")
    client.force_login(user)
    return user


@pytest.fixture
def privacy_officer(client):
    user = make_staff("privacy", "Privacy officers")
    client.force_login(user)
    return user


def change_form(enquiry, **fields):
    """The POST of the change page: the handling fields plus an empty notes inline."""
    data = {
        "status": enquiry.status,
        "assigned_to": enquiry.assigned_to_id or "",
        "notes-TOTAL_FORMS": "1",
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
        "notes-0-text": "",
        "_save": "Save",
    }
    if enquiry.is_spam:
        data["is_spam"] = "on"
    data.update(fields)
    return data


def run_action(client, action, enquiries, query="", **extra):
    return client.post(
        CHANGELIST + query, {"action": action, "_selected_action": [e.pk for e in enquiries], "index": "0", **extra}
    )


def test_the_inbox_lists_enquiries_with_their_triage_columns(client, adviser):
    enquiry = make_enquiry()
    page = client.get(CHANGELIST).content.decode()
    assert enquiry.reference in page
    assert "Ada Example" in page
    for column in ("Received", "Preferred contact", "Origin", "Destination", "Status", "Assigned to", "Overdue"):
        assert column in page


def test_the_inbox_has_facet_filters_and_a_date_hierarchy(client, adviser):
    make_enquiry()
    page = client.get(CHANGELIST).content.decode()
    titles = ("status", "assigned to", "overdue", "destination", "origin", "spam", "adviser email")
    for title in titles:
        assert f"By {title}" in page
    assert "xfull" in page or "date-hierarchy" in page or "toplinks" in page
    assert re.search(r"New\s*\(1\)", page)  # facet counts


def test_quarantined_spam_is_hidden_unless_asked_for(client, adviser):
    real, spam = make_enquiry(), make_enquiry(name="Bot McBotface", spam_reason="honeypot")
    page = client.get(CHANGELIST).content.decode()
    assert real.reference in page and spam.reference not in page
    page = client.get(CHANGELIST + "?spam=yes").content.decode()
    assert spam.reference in page and real.reference not in page


def test_assigned_to_me_and_unassigned_filters(client, adviser):
    mine, nobodys = make_enquiry(assigned_to=adviser), make_enquiry()
    page = client.get(CHANGELIST + "?assigned=me").content.decode()
    assert mine.reference in page and nobodys.reference not in page
    page = client.get(CHANGELIST + "?assigned=none").content.decode()
    assert nobodys.reference in page and mine.reference not in page


def test_overdue_filter_finds_new_enquiries_past_two_business_days(client, adviser):
    old = make_enquiry()
    Enquiry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=6))
    fresh = make_enquiry()
    page = client.get(CHANGELIST + "?overdue=yes").content.decode()
    assert old.reference in page and fresh.reference not in page
    old.refresh_from_db()
    assert old.is_overdue and not fresh.is_overdue


def test_quarantined_spam_is_never_overdue_in_the_list_or_its_filter(client, adviser):
    spam = make_enquiry(spam_reason="honeypot")
    Enquiry.objects.filter(pk=spam.pk).update(created_at=timezone.now() - timezone.timedelta(days=6))
    spam.refresh_from_db()
    page = client.get(CHANGELIST + "?overdue=yes&spam=all").content.decode()
    assert spam.reference not in page and not spam.is_overdue
    assert spam.reference in client.get(CHANGELIST + "?overdue=no&spam=all").content.decode()
    assert not Enquiry.objects.overdue().exists()


def test_notification_failed_filter(client, adviser):
    failed, fine = make_enquiry(), make_enquiry()
    EmailDelivery.objects.filter(enquiry=failed).update(attempts=2, last_error="ConnectionRefusedError")
    EmailDelivery.objects.filter(enquiry=fine).update(attempts=1, sent_at=timezone.now())
    page = client.get(CHANGELIST + "?notification=failed").content.decode()
    assert failed.reference in page and fine.reference not in page


@pytest.mark.parametrize("term", ["0412 000 111", "+61 412 000 111", "ada@example.org", "Ada", "{reference}"])
def test_search_by_reference_name_email_and_phone_in_any_format(client, adviser, term):
    enquiry, other = make_enquiry(), make_enquiry(name="Bob Other", email="bob@example.org", phone="+61499888777")
    page = client.get(CHANGELIST, {"q": term.format(reference=enquiry.reference.lower())}).content.decode()
    assert enquiry.reference in page and other.reference not in page


def test_the_detail_page_shows_the_plan_as_a_readable_summary(client, adviser):
    enquiry = make_enquiry()
    page = client.get(change_url(enquiry)).content.decode()
    assert "<strong>Australia to United Kingdom</strong>" in page
    # The presenter's words, as the learner read them: the time and every step in order.
    assert "Difficulty: High. Expected time: 2 to 3 years." in page
    assert "<li>Get a coding job first</li><li>Complete the Clinical Coding Standards Course (CCSC)" in page
    assert '"credentials"' not in page  # not raw JSON
    assert "held: HLT50321 Diploma of Clinical Coding</p>" in page, "the credential by name, not its code"
    assert 'href="mailto:ada@example.org"' in page and 'href="tel:+61412000111"' in page


def test_advisers_cannot_change_what_the_learner_submitted(client, adviser):
    enquiry = make_enquiry()
    response = client.post(change_url(enquiry), change_form(enquiry, email="evil@example.org", name="Changed"))
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.email == "ada@example.org" and enquiry.name == "Ada Example"


def test_privacy_officers_can_correct_submitted_details_and_the_history_says_who(client, privacy_officer):
    enquiry = make_enquiry()
    data = change_form(
        enquiry,
        name="Ada Corrected",
        email="ada@example.org",
        phone="0412 000 222",
        preferred_contact="email",
        best_time="",
        message="",
        info_pack="",
    )
    response = client.post(change_url(enquiry), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    enquiry.refresh_from_db()
    assert enquiry.name == "Ada Corrected" and enquiry.phone == "+61412000222"
    latest = enquiry.history.latest()
    assert latest.history_user == privacy_officer and latest.name == "Ada Corrected"


def test_status_moves_only_along_the_workflow(client, adviser):
    enquiry = make_enquiry()
    response = client.post(change_url(enquiry), change_form(enquiry, status="enrolled"))
    assert response.status_code == 200
    assert "cannot be marked enrolled" in response.content.decode()
    assert client.post(change_url(enquiry), change_form(enquiry, status="contacted")).status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.status == "contacted" and enquiry.contacted_at is not None
    assert client.post(change_url(enquiry), change_form(enquiry, status="enrolled")).status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.status == "enrolled" and enquiry.closed_at is not None
    assert client.post(change_url(enquiry), change_form(enquiry, status="new")).status_code == 200


def test_the_model_refuses_a_skipped_step():
    enquiry = make_enquiry()
    with pytest.raises(ValueError):
        enquiry.transition_to("follow_up")
    enquiry.transition_to("contacted")
    enquiry.transition_to("follow_up")
    enquiry.transition_to("closed")
    assert enquiry.status == "closed"


def test_a_note_gets_its_author_and_time_automatically(client, adviser):
    enquiry = make_enquiry()
    response = client.post(change_url(enquiry), change_form(enquiry, **{"notes-0-text": "Left a voicemail."}))
    assert response.status_code == 302
    note = EnquiryNote.objects.get()
    assert note.author == adviser and note.created_at is not None
    page = client.get(change_url(enquiry)).content.decode()
    assert "Left a voicemail." in page


def test_advisers_cannot_rewrite_or_delete_an_existing_note(client, adviser):
    enquiry = make_enquiry()
    EnquiryNote.objects.create(enquiry=enquiry, author=adviser, text="Original")
    page = client.get(change_url(enquiry)).content.decode()
    assert 'name="notes-0-text"' not in page or "Original</textarea>" not in page
    assert "notes-0-DELETE" not in page


def test_assign_to_me_and_mark_contacted_actions(client, adviser):
    first, second = make_enquiry(), make_enquiry()
    run_action(client, "assign_to_me", [first, second])
    run_action(client, "mark_contacted", [first])
    first.refresh_from_db(), second.refresh_from_db()
    assert first.assigned_to == adviser and second.assigned_to == adviser
    assert first.status == "contacted" and second.status == "new"
    assert first.history.latest().history_user == adviser


def test_close_action_skips_enquiries_that_cannot_close(client, adviser):
    enquiry = make_enquiry()
    enquiry.transition_to("contacted"), enquiry.transition_to("enrolled"), enquiry.save()
    other = make_enquiry()
    response = run_action(client, "close", [enquiry, other], follow=False)
    assert response.status_code == 302
    enquiry.refresh_from_db(), other.refresh_from_db()
    assert enquiry.status == "enrolled" and other.status == "closed"


def test_mark_spam_and_not_spam_actions(client, adviser):
    enquiry = make_enquiry()
    run_action(client, "mark_spam", [enquiry])
    enquiry.refresh_from_db()
    assert enquiry.is_spam
    bot = make_enquiry(spam_reason="too fast")
    assert not bot.emails.exists()
    run_action(client, "mark_not_spam", [bot], query="?spam=yes")
    bot.refresh_from_db()
    assert not bot.is_spam and bot.emails.count() == 1
    EmailDelivery.objects.exclude(enquiry=bot).update(sent_at=timezone.now())  # the other one was told already
    run_tasks()
    assert len(mail.outbox) == 1 and bot.reference in mail.outbox[0].subject


def test_csv_export_escapes_formulas(client, adviser):
    enquiry = make_enquiry(name='=HYPERLINK("http://evil.example")', message="+SUM(A1:A2)", best_time="@now")
    response = run_action(client, "export_csv", [enquiry])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Reference"
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["Message"] == "'+SUM(A1:A2)"
    assert row["Best time to call"] == "'@now"
    assert row["Phone"] == "'+61412000111"  # a leading + is a formula too


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("=1+1", "'=1+1"), ("-2", "'-2"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("@x", "'@x"), ("plain", "plain"), (None, "")],
)
def test_escape_cell(value, escaped):
    assert escape_cell(value) == escaped


def test_the_export_action_is_only_offered_with_the_export_permission(client):
    make_enquiry()
    user = make_staff("lead", "Course advisers")
    client.force_login(user)
    assert "export_csv" in client.get(CHANGELIST).content.decode()
    user.groups.clear()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_enquiry", "change_enquiry"]))
    page = client.get(CHANGELIST).content.decode()
    assert "export_csv" not in page
    assert run_action(client, "export_csv", list(Enquiry.objects.all())).status_code == 302  # refused, redirected


def test_history_page_shows_who_changed_the_status(client, adviser):
    enquiry = make_enquiry()
    client.post(change_url(enquiry), change_form(enquiry, status="contacted"))
    page = client.get(f"/admin/advisor/enquiry/{enquiry.pk}/history/").content.decode()
    assert "adviser" in page and "Contacted" in page


def test_the_login_throttle_locks_one_username_from_one_address_only(client, settings):
    make_staff("target", "Course advisers")
    make_staff("colleague", "Course advisers")
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/admin/login/", {"username": "target", "password": "wrong"}, **attacker)
        assert response.status_code == 200
    # The attempt that reaches the limit is refused, and so is the right password after it.
    response = client.post("/admin/login/", {"username": "target", "password": "wrong"}, **attacker)
    assert response.status_code == 429
    locked = client.post("/admin/login/", {"username": "target", "password": "a-long-Password-1"}, **attacker)
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()
    # The colleague on the same network, and the target from their own network, still get in.
    ok = client.post("/admin/login/", {"username": "colleague", "password": "a-long-Password-1"}, **attacker)
    assert ok.status_code == 302
    client.logout()
    ok = client.post(
        "/admin/login/", {"username": "target", "password": "a-long-Password-1"}, REMOTE_ADDR="198.51.100.20"
    )
    assert ok.status_code == 302


def test_opening_an_enquiry_is_logged_with_ids_only(client, adviser, caplog):
    enquiry = make_enquiry()
    caplog.set_level("INFO", logger="advisor.access")
    client.get(change_url(enquiry))
    [record] = [r for r in caplog.records if r.name == "advisor.access"]
    assert record.enquiry_id == enquiry.pk and record.user_id == adviser.pk
    assert enquiry.email not in caplog.text and enquiry.name not in caplog.text


def test_history_cannot_be_used_to_revert_submitted_fields(client, adviser):
    enquiry = make_enquiry()
    history_id = enquiry.history.latest().history_id
    url = f"/admin/advisor/enquiry/{enquiry.pk}/history/{history_id}/"
    client.post(url, change_form(enquiry, name="Reverted", email="reverted@example.org"))
    enquiry.refresh_from_db()
    assert enquiry.name == "Ada Example" and enquiry.email == "ada@example.org"
