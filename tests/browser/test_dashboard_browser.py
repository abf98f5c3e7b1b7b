"""An adviser's dashboard, funnel and reply by email in Chromium, and the funnel counting a learner's journey with
and without JavaScript, against the live server."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from playwright.sync_api import expect

from advisor.enquiries.models import Enquiry, Status
from advisor.funnel import counting as funnel
from advisor.funnel.models import FunnelCount
from advisor.inbox.models import ReplyTemplate
from advisor.pagecache import store as page_cache
from tests.browser.conftest import assert_accessible
from tests.enquiry_support import make_enquiry, run_tasks, use_memory_mail
from tests.funnel.test_counting import ONE_OF_EACH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADVISER_PERMS = [
    "view_enquiry",
    "change_enquiry",
    "export_enquiry",
    "view_enquirynote",
    "add_enquirynote",
    "view_historicalenquiry",
    "view_dashboard",
    "view_replytemplate",
]


@pytest.fixture
def adviser(settings):
    use_memory_mail(settings)
    settings.ADVISER_EMAILS = ["advisers@provider.example"]
    settings.ENQUIRY_MIN_SECONDS = 0
    # Transactional tests empty every table between tests, the groups and templates the migrations made included.
    group, _ = Group.objects.get_or_create(name="Course advisers")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="advisor", codename__in=ADVISER_PERMS))
    user = User.objects.create_user("avery", "avery@staff.example", "a-long-Password-1", is_staff=True)
    user.first_name, user.last_name = "Avery", "Adviser"
    user.save()
    user.groups.add(group)
    ReplyTemplate.objects.create(
        name="Moving to the UK",
        destination_code="GB",
        subject="Your move to {destination}",
        body="Dear {learner_name},\n\n{plan_summary}\n\nKind regards,\n{adviser_name}",
    )
    return user


def sign_in(page, base, next_url):
    page.goto(f"{base}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill("avery")
    page.get_by_label("Password").fill("a-long-Password-1")
    page.get_by_role("button", name="Log in").click()


def test_adviser_reads_the_dashboard_follows_a_bar_and_replies_from_a_template(
    page, live_server, adviser, watch, csp_violations
):
    watch(page)
    learner = make_enquiry(name="Robin Learner", email="robin@example.org")  # Australia to the United Kingdom
    make_enquiry(destination_code="NZ")
    make_enquiry(destination_code="NZ")
    base = live_server.url

    sign_in(page, base, "/admin/advisor/enquiry/dashboard/")
    expect(page.get_by_role("heading", name="Enquiries dashboard", level=1)).to_be_visible()
    expect(page.locator("svg.chart-svg")).to_have_count(4)
    destinations = page.get_by_role("table", name="Enquiries by destination")
    expect(destinations).to_be_hidden()  # behind "Show the numbers"
    page.locator("summary", has_text="Enquiries by destination").click()
    expect(destinations.get_by_role("row", name=re.compile(r"New Zealand\s+2"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^3 open enquiries"))).to_be_visible()
    assert_accessible(page)

    # The New Zealand bar of the chart leads to the inbox filtered to it.
    page.locator("svg.chart-svg a", has_text="New Zealand").click()
    expect(page).to_have_url(re.compile(r"/admin/advisor/enquiry/\?destination_code__exact=NZ&"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)

    page.goto(f"{base}/admin/advisor/enquiry/{learner.pk}/change/")
    page.get_by_role("link", name="Reply by email").click()
    expect(page.get_by_role("heading", name=f"Reply to {learner.reference} by email")).to_be_visible()
    page.get_by_label("Template").select_option(label="Moving to the UK (GB)")
    page.get_by_role("button", name="Use this template").click()
    message = page.get_by_label("Message")
    expect(message).to_have_value(
        re.compile(r"^Dear Robin Learner,.*Australia to United Kingdom.*Avery Adviser$", re.S)
    )
    expect(page.get_by_label("Subject")).to_have_value("Your move to the United Kingdom")
    assert_accessible(page)
    message.fill(message.input_value().replace("Kind regards", "I will call you on Tuesday.\n\nKind regards"))
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_text(f"Reply to {learner.reference} sent by email and saved as a note.")).to_be_visible()
    run_tasks()  # what the worker does: sends the reply (and the advisers' notifications)
    [email] = [m for m in mail.outbox if m.to == ["robin@example.org"]]
    assert email.subject == "Your move to the United Kingdom"
    assert "I will call you on Tuesday." in email.body and "Australia to United Kingdom" in email.body
    expect(page.get_by_text("Emailed to the learner.", exact=False)).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("contacted")
    assert Enquiry.objects.get(pk=learner.pk).status == Status.CONTACTED
    assert not csp_violations


def test_the_funnel_page_is_accessible(page, live_server, adviser, watch, csp_violations):
    watch(page)
    funnel.reset()
    for step in ("start", "origin", "experience", "destination", "check", "plan"):
        funnel.add(step, *(("AU", "GB") if step == "plan" else ()))
    funnel.flush()
    sign_in(page, live_server.url, "/admin/advisor/enquiry/funnel/")
    expect(page.get_by_role("heading", name="Questionnaire funnel", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Drop-off between steps")).to_be_visible()
    page.locator("summary", has_text="Most-viewed plans").click()
    expect(
        page.get_by_role("table", name="Most-viewed plans").get_by_role("link", name="Australia to United Kingdom")
    ).to_be_visible()
    assert_accessible(page)
    assert not csp_violations


def learner_journey(page, base):
    page.goto(base + "/")
    page.get_by_role("link", name="Start now").click()
    page.get_by_label("Australia").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("checkbox", name=re.compile(r"^HLT50321")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("How many years have you worked as a coder? (optional)").fill("2")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("United Kingdom").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your answers", level=1)).to_be_visible()
    page.get_by_role("link", name="See your plan").click()
    expect(page.get_by_role("heading", name="Australia to United Kingdom", level=1)).to_be_visible()
    page.get_by_role("link", name="Talk to a course adviser").click()
    page.get_by_label("Full name").fill("Robin Tester")
    page.get_by_label("Email address").fill("robin.tester@example.org")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("I agree to be contacted about this enquiry").check()
    page.get_by_role("button", name="Send enquiry").click()
    expect(page.get_by_role("heading", name="Enquiry sent", level=1)).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_learners_journey_counts_each_step_once(browser, live_server, settings, javascript):
    settings.ENQUIRY_MIN_SECONDS = 0
    use_memory_mail(settings)
    funnel.reset()
    page_cache.clear()
    context = browser.new_context(java_script_enabled=javascript)
    try:
        learner_journey(context.new_page(), live_server.url)
    finally:
        context.close()
    funnel.flush()
    counts = {(row.step, row.origin, row.destination): row.hits for row in FunnelCount.objects.all()}
    assert counts == ONE_OF_EACH
