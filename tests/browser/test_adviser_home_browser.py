"""A course adviser's day in Chromium at 1280x900: the queue on the admin home, the overdue ones in the inbox, the
dashboard within two screens and a chart's numbers; the period picker and the disclosures without JavaScript; axe on
both pages, with and without JavaScript."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from advisor.enquiries.models import Enquiry, Status
from tests.browser.conftest import assert_accessible
from tests.browser.test_dashboard_browser import adviser, sign_in  # noqa: F401 (Avery, a course adviser)
from tests.enquiry_support import make_enquiry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("adviser")]

VIEWPORT = {"width": 1280, "height": 900}
TWO_SCREENS = 1800
# Every origin (and the general enquiry without a plan) and every destination, so each chart has all its rows.
MOVES = [("AU", "GB"), ("AU", "NZ"), ("none", "CA"), ("US", "AU"), ("GB", "US"), ("NZ", "GB"), ("CA", "US"), ("", "")]
STATUSES = [Status.NEW, Status.CONTACTED, Status.FOLLOW_UP, Status.CLOSED]


def fill_inbox() -> list[Enquiry]:
    """A busy quarter: 24 enquiries, one every three and a half days back from now, moves and statuses in turn
    (18 open, 5 of them new and overdue), contacted ones within a day, a third assigned to Avery."""
    avery = User.objects.get(username="avery")
    now = timezone.now()
    made = []
    for i in range(24):
        origin, destination = MOVES[i % len(MOVES)]
        enquiry = make_enquiry(origin_code=origin, destination_code=destination)
        received = now - timedelta(days=3.5 * i, hours=2)
        status = STATUSES[i % len(STATUSES)]
        Enquiry.objects.filter(pk=enquiry.pk).update(
            created_at=received,
            status=status,
            contacted_at=None if status == Status.NEW else received + timedelta(hours=1 + i),
            assigned_to=avery if i % 3 == 0 else None,
        )
        made.append(enquiry)
    return made


def test_an_adviser_starts_from_the_queue_and_opens_a_charts_numbers(new_context, live_server, watch, csp_violations):
    made = fill_inbox()
    overdue = Enquiry.objects.overdue().count()
    assert overdue == 5
    base = live_server.url
    page = watch(new_context(viewport=VIEWPORT).new_page())

    sign_in(page, base, "/admin/")
    queue = page.get_by_role("region", name="Enquiries waiting")
    expect(queue.get_by_role("link", name=re.compile(r"^18 open enquiries"))).to_be_visible()
    expect(queue.get_by_role("link", name=re.compile(r"^6 assigned to me"))).to_be_visible()
    waiting = queue.get_by_role("table", name="Waiting longest").locator("tbody tr")
    expect(waiting).to_have_count(10)
    # The oldest open one first: number 22 (follow-up, 77 days), Canada to the United States.
    expect(waiting.first).to_contain_text(made[22].reference)
    expect(waiting.first).to_contain_text("Canada to United States")
    expect(page.get_by_role("link", name="Enquiries dashboard")).to_be_visible()
    assert_accessible(page)

    queue.get_by_role("link", name=re.compile(rf"^{overdue} overdue")).click()
    expect(page).to_have_url(re.compile(r"/admin/advisor/enquiry/\?overdue=yes$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(overdue)

    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="Enquiries dashboard").click()
    expect(page.get_by_role("heading", name="Enquiries dashboard", level=1)).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= TWO_SCREENS, f"the dashboard is {height} px tall at 1280x900"
    assert_accessible(page)

    weekly = page.get_by_role("table", name="Enquiries received each week")
    expect(weekly).to_be_hidden()
    page.locator("summary", has_text="Enquiries received each week").click()
    expect(weekly).to_be_visible()
    expect(weekly.locator("tbody tr")).to_have_count(12)
    assert_accessible(page)
    # Each week's figure leads to the enquiries it counts.
    this_week = weekly.locator("tbody tr").last
    count = int(this_week.locator("td").inner_text())
    this_week.get_by_role("link").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(count)
    assert not csp_violations


def test_the_queue_and_the_dashboard_work_without_javascript(new_context, live_server):
    fill_inbox()
    axe_page = new_context(viewport=VIEWPORT).new_page()  # axe needs JavaScript: it checks the same HTML there
    page = new_context(viewport=VIEWPORT, java_script_enabled=False).new_page()

    sign_in(page, live_server.url, "/admin/")
    expect(page.get_by_role("table", name="Waiting longest").locator("tbody tr")).to_have_count(10)
    # Django's theme button needs JavaScript (and has no name without it): not shown.
    expect(page.locator(".theme-toggle")).to_be_hidden()
    assert_accessible(page, axe_page=axe_page)

    page.get_by_role("link", name="Enquiries dashboard").click()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= TWO_SCREENS, f"the dashboard is {height} px tall at 1280x900 without JavaScript"
    page.locator("summary", has_text="Enquiries by destination").click()
    expect(page.get_by_role("table", name="Enquiries by destination")).to_be_visible()
    assert_accessible(page, axe_page=axe_page)

    # The period picker is a plain form.
    today = timezone.localdate()
    start = today - timedelta(days=27)
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_text(f"Showing {start.day} {start:%b %Y} to {today.day} {today:%b %Y}.")).to_be_visible()
    weeks = page.get_by_role("table", name="Enquiries received each week", include_hidden=True)  # closed
    expect(weeks.locator("tbody tr")).to_have_count(
        len({(start + timedelta(days=d)).isocalendar()[:2] for d in range(28)})
    )

    # A date beyond what the calendar can hold: the error beside the field, never a server error.
    page.get_by_label("From", exact=True).fill("9999-12-31")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#id_start_error")).to_have_text("Enter a date from 1 January 2000 to 31 December 2099.")
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("There is a problem with the period.")).to_be_visible()
    assert_accessible(page, axe_page=axe_page)
