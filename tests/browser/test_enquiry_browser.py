"""A learner sends an enquiry from their plan; an adviser finds it in admin, assigns it, adds a note and
marks it contacted. In Chromium, against the live server."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import expect

from advisor.enquiries.models import Enquiry
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser

PLAN = "/plan/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
ADVISER_PERMS = ["view_enquiry", "change_enquiry", "export_enquiry", "view_enquirynote", "add_enquirynote"]


@pytest.fixture
def enquiry_settings(settings):
    # A person takes longer than the time-trap; a test does not need to wait for it.
    settings.ENQUIRY_MIN_SECONDS = 0
    settings.ADVISER_EMAILS = ["advisers@provider.example"]


@pytest.fixture
def adviser():
    # Transactional tests empty every table between tests, the groups the migrations made included.
    group, _ = Group.objects.get_or_create(name="Course advisers")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="advisor", codename__in=ADVISER_PERMS))
    user = User.objects.create_user("avery", "avery@staff.example", "a-long-Password-1", is_staff=True)
    user.groups.add(group)
    return user


def send_enquiry_from_the_plan(page, base):
    page.goto(base + PLAN)
    page.get_by_role("link", name="Talk to a course adviser").click()
    expect(page).to_have_url(re.compile(r"/enquire/\?origin=AU"))
    expect(page.get_by_role("heading", name="Talk to a course adviser", level=1)).to_be_visible()
    expect(page.get_by_text("Australia to United Kingdom: high difficulty")).to_be_visible()
    assert_accessible(page)

    # Sending it empty: the errors, and nothing lost.
    page.get_by_label("Full name").fill("Robin Tester")
    page.get_by_role("button", name="Send enquiry").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Full name")).to_have_value("Robin Tester")
    assert_accessible(page)

    page.get_by_label("Email address").fill("robin.tester@example.org")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Phone number (optional)").fill("0412 999 888")
    page.get_by_label("Your question (optional)").fill("Can I start the course part-time?")
    page.get_by_label(re.compile("Send me the course information pack")).check()
    page.get_by_label("I agree to be contacted about this enquiry").check()
    page.get_by_role("button", name="Send enquiry").click()

    expect(page.get_by_role("heading", name="Enquiry sent", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/enquire/sent/E-[A-Z0-9]{6}/$"))
    reference = page.locator(".reference").inner_text().strip()
    expect(page.get_by_text("robin.tester@example.org")).to_have_count(0)
    assert_accessible(page)
    return reference


def test_an_enquiry_from_a_plan_reaches_an_adviser_who_works_it(page, live_server, enquiry_settings, adviser):
    base = live_server.url
    reference = send_enquiry_from_the_plan(page, base)
    enquiry = Enquiry.objects.get(reference=reference)
    assert enquiry.phone == "+61412999888" and enquiry.plan_snapshot["destination"]["code"] == "GB"

    # The adviser signs in and filters the inbox down to the new enquiry.
    page.goto(base + "/admin/")
    page.get_by_label("Username").fill("avery")
    page.get_by_label("Password").fill("a-long-Password-1")
    page.get_by_role("button", name="Log in").click()
    page.locator("tr.model-enquiry th a").click()
    expect(page).to_have_url(re.compile(r"/admin/advisor/enquiry/$"))
    page.locator("#changelist-filter").get_by_role("link", name=re.compile(r"^Unassigned")).click()
    expect(page).to_have_url(re.compile(r"assigned=none"))
    page.locator("#searchbar").fill(reference)
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Robin Tester")

    # Assign it to themselves with the bulk action.
    page.locator("#result_list tbody input.action-select").check()
    page.locator("select[name=action]").select_option("assign_to_me")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).first.click()
    expect(page.locator("ul.messagelist")).to_contain_text("assigned to you")

    # It has left the "Unassigned" list and is under "Me". Open it, read the plan summary, add a note and
    # mark it contacted.
    expect(page.locator("#result_list")).to_have_count(0)
    page.locator("#changelist-filter").get_by_role("link", name=re.compile(r"^Me")).click()
    page.get_by_role("link", name=reference).click()
    expect(page.locator("body")).to_contain_text("Difficulty: High. Expected time: 2 to 3 years.")
    page.locator("textarea[name='notes-0-text']").fill("Called Robin, sending the information pack.")
    page.locator("select[name=status]").select_option("contacted")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text("changed successfully")

    enquiry.refresh_from_db()
    assert enquiry.status == "contacted" and enquiry.contacted_at is not None
    assert enquiry.assigned_to.username == "avery"
    note = enquiry.notes.get()
    assert note.author.username == "avery" and "information pack" in note.text


@pytest.mark.parametrize("javascript", [True, False])
def test_over_the_rate_limit_what_was_typed_is_kept_and_sent_once_the_window_is_over(
    new_context, live_server, enquiry_settings, settings, javascript
):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    page = new_context(java_script_enabled=javascript).new_page()
    axe_page = None if javascript else new_context().new_page()
    page.goto(live_server.url + PLAN.replace("/plan/", "/enquire/"))
    page.get_by_role("button", name="Send enquiry").click()  # empty: one try counted
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()  # the form is back
    page.get_by_label("Full name").fill("Robin Tester")
    page.get_by_label("Email address").fill("robin.tester@example.org")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Your question (optional)").fill("Can I start the course part-time?")
    page.get_by_label("I agree to be contacted about this enquiry").check()
    page.get_by_role("button", name="Send enquiry").click()

    expect(page.get_by_role("heading", name="Your enquiry, not sent yet")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    for typed in ("Robin Tester", "robin.tester@example.org", "Can I start the course part-time?"):
        expect(page.get_by_text(typed)).to_be_visible()
    assert_accessible(page, axe_page)
    assert not Enquiry.objects.exists()

    settings.ENQUIRY_RATE_LIMITS = [(100, 600)]  # the window is over
    page.get_by_role("button", name="Send enquiry again").click()
    expect(page.get_by_role("heading", name="Enquiry sent", level=1)).to_be_visible()
    assert Enquiry.objects.get().name == "Robin Tester"
