"""A learner's whole journey in Chromium: by keyboard, with and without JavaScript, with back/forward/reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible as check_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab_to(page, locator, limit=60):
    """Press Tab until `locator` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Could not reach {locator} with Tab")


def choose_radio(page, group, label):
    """Tab into a radio group, then arrow down to the option (arrow keys select as they move)."""
    target = page.get_by_role("group", name=group).get_by_role("radio", name=label, exact=True)
    radios = page.get_by_role("group", name=group).get_by_role("radio")
    tab_to(
        page,
        radios.first
        if not radios.evaluate_all("rs => rs.some(r => r.checked)")
        else page.get_by_role("group", name=group).locator("input:checked"),
    )
    if not target.is_checked():
        page.keyboard.press("Space")
    for _ in range(radios.count()):
        if target.is_checked():
            return
        page.keyboard.press("ArrowDown")
    expect(target).to_be_checked()


def press_continue(page, name="Continue"):
    tab_to(page, page.get_by_role("button", name=name))
    page.keyboard.press("Enter")


def answer_with_the_mouse(page, label):
    """Tick the option labelled `label`, then click Continue."""
    page.get_by_label(label).check()
    page.get_by_role("button", name="Continue").click()


def assert_full_page(page):
    """A real page, not a fragment: the stylesheet, the header and <main> are all there."""
    expect(page.locator("link[rel=stylesheet][href*='site.css']")).to_have_count(1)
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("main#main")).to_have_count(1)


def journey_to_plan(page, base, js, axe_page=None):
    def assert_accessible(page):
        check_accessible(page, axe_page)

    page.goto(base + "/")
    assert_full_page(page)
    assert_accessible(page)
    tab_to(page, page.get_by_role("link", name="Start now"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/questions/origin/$"))
    assert_accessible(page)
    # Continue without an answer: the error summary appears, takes focus, and the title says Error.
    press_continue(page)
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    if js:
        expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page)
    choose_radio(page, "Where did you train as a clinical or medical coder?", "Australia")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/questions/credentials/$"))
    if js:
        expect(page.locator("#main")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Which of these do you hold\?"))
    assert_accessible(page)
    checkbox = page.get_by_role("checkbox", name=re.compile(r"^HLT50321"))
    tab_to(page, checkbox)
    page.keyboard.press("Space")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/questions/experience/$"))
    assert_accessible(page)
    # Australia's classifications are the same in every setting its rows describe: no setting question.
    expect(page.get_by_text("Which setting do you code in?")).to_have_count(0)
    tab_to(page, page.get_by_label("How many years have you worked as a coder? (optional)"))
    page.keyboard.type("2")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/questions/destination/$"))
    assert_accessible(page)
    choose_radio(page, "Where do you want to work as a coder?", "United Kingdom")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.get_by_role("heading", name="Check your answers", level=1)).to_be_visible()
    assert_accessible(page)
    tab_to(page, page.get_by_role("link", name="See your plan"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(
        re.compile(r"/plan/\?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB$")
    )
    expect(page.get_by_role("heading", name="Australia to United Kingdom", level=1)).to_be_visible()
    expect(page.locator("[data-answer=time]")).to_contain_text("2 to 3 years")
    assert_full_page(page)
    assert_accessible(page)


def test_whole_journey_by_keyboard_with_javascript(page, live_server, watch, csp_violations):
    watch(page)
    journey_to_plan(page, live_server.url, js=True)
    page.goto(live_server.url + "/compare/")
    check_accessible(page)
    select = page.get_by_label("Where did you train as a coder?")
    tab_to(page, select)
    select.select_option("AU")
    press_continue(page, "Rank destinations")
    expect(page).to_have_url(re.compile(r"/compare/\?origin=AU$"))
    expect(page.get_by_role("heading", name="From Australia, easiest first")).to_be_visible()
    expect(page.locator("#main")).to_be_focused()
    check_accessible(page)
    assert csp_violations == []


def test_whole_journey_without_javascript(new_context, live_server, watch, csp_violations):
    page = watch(new_context(java_script_enabled=False).new_page())
    axe_page = new_context().new_page()
    journey_to_plan(page, live_server.url, js=False, axe_page=axe_page)
    page.goto(live_server.url + "/compare/?origin=none")
    expect(page.get_by_role("link", name="Australia")).to_be_visible()
    check_accessible(page, axe_page)
    for url in ["/no-such-page/", "/plan/?origin=XX"]:
        page.goto(live_server.url + url)
        assert_full_page(page)
        check_accessible(page, axe_page)
    assert csp_violations == []


def test_back_forward_and_reload_show_full_pages_at_every_step(page, live_server, watch, csp_violations):
    watch(page)
    base = live_server.url
    page.goto(base + "/questions/origin/")
    answer_with_the_mouse(page, "United States")
    expect(page).to_have_url(re.compile(r"/questions/credentials/$"))
    answer_with_the_mouse(page, "None of these")
    expect(page).to_have_url(re.compile(r"/questions/experience/$"))
    answer_with_the_mouse(page, "Both")
    expect(page).to_have_url(re.compile(r"/questions/destination/$"))
    # Leave the htmx pages for a plain one, then come back through history.
    page.goto(base + "/compare/")
    for expected in ["destination", "experience", "credentials", "origin"]:
        page.go_back()
        expect(page).to_have_url(re.compile(rf"/questions/{expected}/$"))
        assert_full_page(page)
        page.reload()
        assert_full_page(page)
    for expected in ["credentials", "experience", "destination"]:
        page.go_forward()
        expect(page).to_have_url(re.compile(rf"/questions/{expected}/$"))
        assert_full_page(page)
    assert csp_violations == []


def test_changing_an_answer_from_the_check_page(page, live_server, watch, csp_violations):
    watch(page)
    base = live_server.url
    page.goto(base + "/questions/origin/")
    answer_with_the_mouse(page, "United States")
    answer_with_the_mouse(page, "None of these")
    answer_with_the_mouse(page, "Outpatient: clinics, physician offices and emergency departments")
    answer_with_the_mouse(page, "Canada")
    expect(page).to_have_url(re.compile(r"/questions/check/$"))

    page.get_by_role("link", name="Change where you trained").click()
    expect(page).to_have_url(re.compile(r"/questions/origin/\?next=check$"))
    answer_with_the_mouse(page, "Australia")
    # Credentials of the old origin no longer apply, so that question comes back before the check page.
    expect(page).to_have_url(re.compile(r"/questions/credentials/\?next=check$"))
    answer_with_the_mouse(page, "None of these")
    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.locator(".summary-list")).to_contain_text("Australia")
    # Australia's classifications do not differ by setting: the old answer is not shown or used.
    expect(page.locator(".summary-list")).not_to_contain_text("Outpatient")
    page.get_by_role("link", name="Change where you want to work").click()
    answer_with_the_mouse(page, "New Zealand")
    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.locator(".summary-list")).to_contain_text("New Zealand")
    assert csp_violations == []


def test_someone_new_to_coding_is_asked_the_setting_after_choosing_a_country_where_it_matters(
    page, live_server, watch, csp_violations
):
    watch(page)
    base = live_server.url
    page.goto(base + "/questions/origin/")
    answer_with_the_mouse(page, "I have not trained as a coder yet")
    expect(page).to_have_url(re.compile(r"/questions/destination/$"))
    answer_with_the_mouse(page, "United States")
    expect(page).to_have_url(re.compile(r"/questions/experience/$"))
    expect(page.get_by_text("Coders in the United States use different classifications in each")).to_be_visible()
    check_accessible(page)
    answer_with_the_mouse(page, "Outpatient: clinics, physician offices and emergency departments")
    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.locator(".summary-list")).to_contain_text("Outpatient")
    page.get_by_role("link", name="See your plan").click()
    expect(page).to_have_url(re.compile(r"setting=outpatient&destination=US$"))
    expect(page.locator("main")).to_contain_text("Certified Professional Coder")

    page.goto(base + "/questions/check/")
    page.get_by_role("link", name="Change where you want to work").click()
    answer_with_the_mouse(page, "Australia")
    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.locator(".summary-list")).not_to_contain_text("Outpatient")
    page.get_by_role("link", name="Change where you want to work").click()
    answer_with_the_mouse(page, "United States")
    # The setting matters again, so it is asked again before the check page.
    expect(page).to_have_url(re.compile(r"/questions/experience/\?next=check$"))
    assert csp_violations == []


def test_a_plan_permalink_opens_in_a_fresh_context(new_context, live_server, watch, csp_violations):
    page = watch(new_context().new_page())
    page.goto(live_server.url + "/plan/?origin=none&setting=inpatient&destination=AU")
    expect(page.get_by_role("heading", name="Starting out in Australia", level=1)).to_be_visible()
    assert_full_page(page)
    check_accessible(page)
    page.get_by_role("link", name="Change your answers").click()
    expect(page).to_have_url(re.compile(r"/questions/check/$"))
    expect(page.locator(".summary-list")).to_contain_text("Not trained as a coder yet")
    assert csp_violations == []
