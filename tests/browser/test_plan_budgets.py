"""Plan pages as a learner reads them in Chromium at 1280x900: the budgets make audit prints, asserted here
for every reachable plan; a printout of at most two A4 pages; axe with and without JavaScript."""

import pytest
from playwright.sync_api import expect

from audit import plan_budgets
from pathways.presenter import plan_json
from pathways.reference import load_reference
from pathways.rules import LearnerProfile, build_plan
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

A4_PAGE_MARKERS = (b"/Type /Page\n", b"/Type /Page>", b"/Type /Page/")


def _profiles():
    reference = load_reference()

    def build(origin, setting, destination):
        plan = build_plan(LearnerProfile(origin, frozenset(), setting, None, destination), reference)
        data = plan_json(plan, reference)
        return [data[k] for k in ("steps", "classifications", "warnings", "notes", "credentials")]

    return plan_budgets.profiles(reference, build)


def test_every_plan_page_meets_the_word_repeat_and_first_screen_budgets(page, live_server):
    page.set_viewport_size(plan_budgets.VIEWPORT)
    results = [{"label": label, **plan_budgets.measure(page, live_server.url + url)} for label, url in _profiles()]
    assert len(results) >= 45
    rows = plan_budgets.check(results)
    assert [row[-1] for row in rows] == ["PASS", "PASS", "PASS"], rows


@pytest.mark.parametrize(
    "query",
    [
        "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB",
        "origin=none&setting=both&destination=US",
        "origin=NZ&setting=outpatient&destination=GB",
    ],
)
def test_a_plan_prints_on_at_most_two_a4_pages(page, live_server, query):
    page.goto(f"{live_server.url}/plan/?{query}")
    pdf = page.pdf(format="A4")
    pages = sum(pdf.count(marker) for marker in A4_PAGE_MARKERS)
    assert 1 <= pages <= 2, pages


def test_plan_pages_are_accessible_with_and_without_javascript(new_context, live_server):
    with_js = new_context().new_page()
    without_js = new_context(java_script_enabled=False).new_page()
    for query in (
        "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB",
        "origin=US&credential=aapc-cpc&setting=outpatient&destination=AU",
        "origin=AU&setting=inpatient&destination=NZ",
    ):
        with_js.goto(f"{live_server.url}/plan/?{query}")
        expect(with_js.locator("h1")).to_have_count(1)
        assert_accessible(with_js)
        without_js.goto(f"{live_server.url}/plan/?{query}")
        # A source link opens the folded sources without JavaScript (the browser opens <details> for a fragment).
        without_js.locator("a.cite").first.click()
        expect(without_js.locator("#sources")).to_have_attribute("open", "")
        assert_accessible(without_js, axe_page=new_context().new_page())
