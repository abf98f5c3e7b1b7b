"""Playwright against pytest-django's live_server, driving Debian's Chromium (never `playwright install`)."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error, expect

# live_server runs the app in a thread of this process; Playwright's sync API runs an event loop in it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),  # make test checks it is there
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def csp_violations():
    """Console messages about the Content-Security-Policy, from every page watched with `watch(page)`."""
    return []


@pytest.fixture
def watch(csp_violations):
    def _watch(page):
        def on_console(message):
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
                csp_violations.append(message.text)

        page.on("console", on_console)
        return page

    return _watch


_axe = Axe()


def assert_accessible(page, axe_page=None):
    """axe-core finds no WCAG 2.2 A/AA violation on the page as it is now.

    axe runs as JavaScript, so for a page in a context without JavaScript pass `axe_page` (a page with JavaScript):
    the very same HTML is served to it at the same URL, with the site's real stylesheets, and checked there.
    """
    if axe_page is not None:
        html, url = page.content(), page.url
        axe_page.route(url, lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
        axe_page.goto(url)
        axe_page.unroute(url)
        page = axe_page
    # Let any htmx swap finish first (enhance.js sets aria-busy while a request is in flight).
    expect(page.locator("#page[aria-busy]")).to_have_count(0)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    try:
        results = _axe.run(page, options=options)
    except Error:
        # The page was still settling (a swap replaced the document mid-run): run once more.
        page.wait_for_load_state()
        results = _axe.run(page, options=options)
    violations = results.response["violations"]
    assert not violations, f"{page.url}: " + "; ".join(
        f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}" for v in violations
    )
