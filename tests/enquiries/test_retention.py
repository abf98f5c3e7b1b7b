"""Privacy: the privacy page, retention (purge_personal_data), access requests (export_personal_data)
and no personal data in logs or URLs."""

import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import get_resolver
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter

from advisor.enquiries.models import Enquiry, EnquiryNote, RateLimitBucket
from advisor.enquiries.views import enquire
from tests.enquiry_support import (  # noqa: F401
    # noqa: F401,
    ENQUIRE_URL,
    PERSONAL,
    PHONE_E164,
    enquiry_settings,
    form_data,
    make_enquiry,
    make_staff,
    minutes_pass,
    run_tasks,
    use_refusing_smtp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


def test_privacy_page_says_what_why_how_long_and_whom_to_ask(client, settings):
    settings.OPERATOR = {**settings.OPERATOR, "name": "Example Training", "privacy_email": "privacy@provider.example"}
    page = client.get("/privacy/").content.decode()
    assert "Example Training" in page
    assert "privacy@provider.example" in page
    assert f"{settings.ENQUIRY_RETENTION_DAYS} days" in page
    assert f"{settings.ENQUIRY_SPAM_RETENTION_DAYS} days" in page
    assert "OAIC" in page


def test_the_enquiry_form_links_to_the_privacy_page_in_the_notice_and_the_footer(client):
    page = client.get(ENQUIRE_URL).content.decode()
    assert page.count('href="/privacy/"') >= 2


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        yield route
        yield from _routes(getattr(pattern, "url_patterns", []), route)


def test_no_url_takes_personal_data():
    routes = list(_routes(get_resolver().url_patterns))
    assert "enquire/sent/<str:reference>/" in routes
    for route in routes:
        for word in ("email", "phone", "<str:name>", "message"):
            assert word not in route


def test_the_enquiry_view_hides_personal_post_fields_from_error_reports():
    request = RequestFactory().post(ENQUIRE_URL, form_data())
    enquire(request)
    masked = SafeExceptionReporterFilter().get_post_parameters(request)
    for field in ("name", "email", "phone", "message", "best_time"):
        assert masked[field] != PERSONAL[field] and "*" in masked[field]


def _old(days):
    return timezone.now() - timedelta(days=days)


def test_purge_anonymises_old_closed_enquiries_and_deletes_old_spam_and_nothing_else(settings):
    settings.ENQUIRY_RETENTION_DAYS = 365
    old_closed = make_enquiry(name="Old Closed", email="old@example.org")
    old_closed.transition_to("closed")
    old_closed.save()
    EnquiryNote.objects.create(enquiry=old_closed, text="Called 0412 000 111, spoke to Old Closed")
    Enquiry.objects.filter(pk=old_closed.pk).update(closed_at=_old(400), created_at=_old(410))
    recent_closed = make_enquiry(name="Recent Closed")
    recent_closed.transition_to("closed")
    recent_closed.save()
    old_open = make_enquiry(name="Old Open")
    Enquiry.objects.filter(pk=old_open.pk).update(created_at=_old(500))
    old_spam = make_enquiry(name="Old Spam", spam_reason="honeypot")
    Enquiry.objects.filter(pk=old_spam.pk).update(created_at=_old(31))
    new_spam = make_enquiry(name="New Spam", spam_reason="too fast")

    call_command("purge_personal_data")

    old_closed.refresh_from_db()
    assert old_closed.name == "[removed]" and old_closed.email == "" and old_closed.phone == ""
    assert old_closed.anonymised_at is not None
    assert old_closed.plan_snapshot  # the plan holds no personal data and stays for statistics
    assert EnquiryNote.objects.get(enquiry=old_closed).text == "[removed]"
    assert not old_closed.history.filter(name="Old Closed").exists()
    assert Enquiry.objects.get(pk=recent_closed.pk).name == "Recent Closed"
    assert Enquiry.objects.get(pk=old_open.pk).name == "Old Open"
    assert not Enquiry.objects.filter(pk=old_spam.pk).exists()
    assert not Enquiry.history.filter(id=old_spam.pk).exists()
    assert Enquiry.objects.filter(pk=new_spam.pk).exists()


def test_purge_is_idempotent(capsys):
    enquiry = make_enquiry()
    enquiry.transition_to("closed")
    enquiry.save()
    Enquiry.objects.filter(pk=enquiry.pk).update(closed_at=_old(400))
    call_command("purge_personal_data")
    assert "anonymised: 1" in capsys.readouterr().out
    call_command("purge_personal_data")
    assert "anonymised: 0, spam deleted: 0" in capsys.readouterr().out


def test_purge_sweeps_old_rate_limit_counters():
    RateLimitBucket.objects.create(key="old", window=0, hits=3)
    call_command("purge_personal_data")
    assert not RateLimitBucket.objects.filter(key="old").exists()


def test_export_prints_everything_held_about_one_email_and_nobody_else(capsys):
    adviser = make_staff("adviser", "Course advisers")
    mine = make_enquiry(email="ada@example.org", marketing_opt_in=True, marketing_consent_at=timezone.now())
    EnquiryNote.objects.create(enquiry=mine, author=adviser, text="Prefers mornings")
    make_enquiry(email="ADA@example.org", name="Ada Again")
    make_enquiry(email="someone.else@example.org", name="Someone Else")

    call_command("export_personal_data", "--email", "Ada@Example.org")
    data = json.loads(capsys.readouterr().out)

    assert len(data["enquiries"]) == 2
    first = data["enquiries"][0]
    assert first["email"] == "ada@example.org"
    assert first["consent"]["marketing_opt_in"] is True and first["consent"]["contact_consent_at"]
    assert first["consent"]["collection_notice_version"] == "test"
    assert first["notes"] == [
        {"written_at": first["notes"][0]["written_at"], "author": "adviser", "text": "Prefers mornings"}
    ]
    assert first["changes"] and first["plan"]["destination"]["code"] == "GB"
    assert "Someone Else" not in json.dumps(data)


def test_privacy_officers_can_export_a_person_from_the_admin(client):
    enquiry = make_enquiry(email="ada@example.org")
    client.force_login(make_staff("privacy", "Privacy officers"))
    response = client.post(
        "/admin/advisor/enquiry/", {"action": "export_person", "_selected_action": [enquiry.pk], "index": "0"}
    )
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["people"][0]["email"] == "ada@example.org"
    assert "no-store" in response["Cache-Control"]


def test_logs_carry_no_personal_data_through_a_whole_enquiry_with_a_failing_mail_server(client, settings, caplog):
    """Send, fail to notify on a real (refused) SMTP connection, retry, hit validation and the rate limit,
    and let an adviser search for the person: none of it may put the learner's details in a log line."""
    caplog.set_level(logging.DEBUG)
    use_refusing_smtp(settings)
    settings.ENQUIRY_RATE_LIMITS = [(2, 600)]  # the invalid POST counts too

    assert client.post(ENQUIRE_URL, form_data()).status_code == 303
    run_tasks()
    minutes_pass()
    run_tasks()
    assert client.post(ENQUIRE_URL, form_data(email="broken")).status_code == 200
    assert client.post(ENQUIRE_URL, form_data()).status_code == 429
    client.force_login(make_staff("adviser", "Course advisers"))
    client.get("/admin/advisor/enquiry/", {"q": PERSONAL["email"]})
    client.get("/admin/advisor/enquiry/", {"q": PERSONAL["phone"]})

    assert any("notification failed" in r.getMessage() for r in caplog.records)
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for value in [*PERSONAL.values(), PHONE_E164, "412345678", "412 345 678"]:
        assert value not in logged
