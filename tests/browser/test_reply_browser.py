"""A reply by email sent with a double click on "Send reply", in Chromium against the live server: one email, one
note, and the page the adviser lands on says it was sent."""

import contextlib

import pytest
from django.core import mail
from playwright.sync_api import Error, expect

from advisor.enquiries.models import EmailDelivery, EnquiryNote
from tests.browser.test_dashboard_browser import adviser, sign_in  # noqa: F401 (adviser is a fixture)
from tests.enquiry_support import make_enquiry, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_click_on_send_reply_sends_one_email_and_stores_one_note(
    page,
    live_server,
    adviser,  # noqa: F811
    watch,
    csp_violations,
):
    """Chromium merges two submissions of a form made in the same instant into one request, so the second click
    comes once the browser has sent the first POST and is waiting for its answer, as on a slow connection: the
    POSTs are held on their way out until both are sent, then reach the server in order, each with what the
    browser sent (the first one's answer goes nowhere: the browser has moved on to the second)."""
    watch(page)
    learner = make_enquiry(name="Robin Learner", email="robin@example.org")
    EmailDelivery.objects.update(sent_at=learner.created_at)  # the advisers were told already
    sign_in(page, live_server.url, f"/admin/advisor/enquiry/{learner.pk}/reply/")
    expect(page.get_by_role("heading", name=f"Reply to {learner.reference} by email")).to_be_visible()
    page.get_by_label("Subject").fill("Your move to the United Kingdom")
    page.get_by_label("Message").fill("Dear Robin,\n\nI will call you on Tuesday.\n\nAvery")

    held = []
    page.route("**/reply/", lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    # The mouse itself (a locator's click would wait for the first navigation to finish).
    box = page.get_by_role("button", name="Send reply").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    wait_until(page, lambda: len(held) == 1)
    page.mouse.click(x, y)  # still the form: the browser has had no answer yet
    wait_until(page, lambda: len(held) == 2)
    assert [route.request.post_data for route in held][0] == held[1].request.post_data  # the same form, twice
    for route in held:
        response = route.fetch(max_redirects=0)  # the server answers each: 302 to the enquiry
        assert (response.status, response.headers["location"]) == (302, f"/admin/advisor/enquiry/{learner.pk}/change/")
        with contextlib.suppress(Error):  # (the first: the browser gave it up when it sent the second)
            route.fulfill(response=response)

    expect(page).to_have_url(f"{live_server.url}/admin/advisor/enquiry/{learner.pk}/change/")
    expect(page.get_by_text(f"Reply to {learner.reference} sent by email and saved as a note.")).to_be_visible()
    run_tasks()  # what the worker does
    assert [(m.to, m.subject) for m in mail.outbox] == [(["robin@example.org"], "Your move to the United Kingdom")]
    assert EnquiryNote.objects.filter(enquiry=learner).count() == 1
    assert EmailDelivery.objects.filter(reply__isnull=False).count() == 1
    assert not csp_violations


def wait_until(page, condition, timeout_ms=5000):
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)  # (lets Playwright deliver the requests to the route handler)
    raise AssertionError("the browser did not send the form")
