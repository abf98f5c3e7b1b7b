"""A partner's page on another origin calls the plan API from Chromium: CORS lets it read the plan, and
revalidate it (If-None-Match makes the request preflighted). live_server runs Django's handler without the page
cache in front; tests/api/test_api_http.py checks the cached copies carry the same CORS headers."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARTNER_PAGE = """<!doctype html><html lang="en"><title>Partner</title><output id="result">waiting</output>
<script>
const url = "%s/api/plan/?origin=AU&setting=inpatient&destination=GB";
(async () => {
  try {
    const out = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(url, {cache: "no-store"});
      const plan = await response.json();
      out.push(response.status + " " + plan.destination.code + " " + (response.headers.get("ETag") || "no-etag"));
    }
    const again = await fetch(url, {cache: "no-store", headers: {"If-None-Match": out[0].split(" ")[2]}});
    out.push(String(again.status));
    document.getElementById("result").textContent = out.join(" | ");
  } catch (error) {
    document.getElementById("result").textContent = "failed: " + error;
  }
})();
</script></html>"""


@pytest.fixture
def partner_site(live_server):
    """A page on another loopback port (another origin) that fetches the live server's API."""
    page = (PARTNER_PAGE % live_server.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_reads_and_revalidates_a_plan(page, partner_site, live_server):
    assert partner_site.split(":")[2] != live_server.url.split(":")[2]
    page.goto(partner_site)
    result = page.locator("#result")
    expect(result).not_to_have_text("waiting", timeout=15000)
    first, repeat, revalidated = result.inner_text().split(" | ")
    assert first.startswith("200 GB W/") and first == repeat, result.inner_text()
    assert revalidated == "304"
