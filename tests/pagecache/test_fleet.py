"""The page cache as a fleet runs it: several servers sharing one Redis, which may be down, slow or flooded, and
releases that replace each other. Every test talks to a real redis-server (tests/redis_support.py) through
advisor.wsgi.application, as gunicorn does.
"""

import logging
import os
import signal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.test.signals import template_rendered

from advisor.pagecache import store
from advisor.web import logs
from pathways.models import Country, ReferenceVersion
from pathways.reference import clear_cache
from tests.wsgi_client import django_handler_runs, wsgi_get, wsgi_request

pytestmark = pytest.mark.django_db

PLAN_QUERY = "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
PLAN = f"/plan/?{PLAN_QUERY}"
API = f"/api/plan/?{PLAN_QUERY}"
ENQUIRE = f"/enquire/?{PLAN_QUERY}"
PUBLIC = ["/", "/compare/", "/compare/?origin=AU", PLAN, API]
FORMS = ["/questions/origin/", ENQUIRE]


@pytest.fixture(autouse=True)
def fresh_caches():
    store.clear()
    clear_cache()
    logs._last_warned.clear()  # each test sees its own first warning
    yield
    store.clear()
    clear_cache()


def warm(*urls):
    for url in urls:
        for _ in range(3):
            assert wsgi_get(url).status_code == 200, url


def reaches_django(url: str, **kwargs) -> tuple:
    """(the response, whether Django's handler ran: False when the page cache answered)."""
    with django_handler_runs() as seen:
        return wsgi_request(url, **kwargs), bool(seen)


def cache_warnings(caplog) -> list:
    return [r for r in caplog.records if r.name == "advisor.cache" and r.levelno == logging.WARNING]


def test_pages_are_stored_in_the_shared_redis_and_answered_from_it(redis_cache):
    warm(*PUBLIC, *FORMS)
    assert redis_cache.client().dbsize() >= len(PUBLIC) + len(FORMS)
    for url in PUBLIC:
        response, rendered = reaches_django(url)
        assert response.status_code == 200 and not rendered, url


# Outside a test transaction, as a server runs.
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_every_page_kind_is_rendered_and_the_log_says_so_once(redis_cache, caplog):
    warm(*PUBLIC, *FORMS)
    redis_cache.stop()
    client = Client()
    for _ in range(3):
        for url in [*PUBLIC, *FORMS]:
            response = wsgi_get(url)
            assert response.status_code == 200, url
            assert "Content-Security-Policy" in response.headers
        # A learner's way through the questions (the question pages are cached blank forms).
        assert client.get("/questions/origin/").status_code == 200
        assert client.post("/questions/origin/", {"origin": "AU"}).status_code == 303
    assert len(cache_warnings(caplog)) == 1, "a fault that lasts is logged once a minute, not once a request"


@pytest.mark.django_db(transaction=True)
def test_when_redis_hangs_pages_answer_after_the_socket_timeout(redis_cache, settings, caplog):
    warm(PLAN, "/questions/origin/")
    os.kill(redis_cache.process.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        for url in (PLAN, API, "/questions/origin/", ENQUIRE):
            assert wsgi_get(url).status_code == 200, url
    finally:
        os.kill(redis_cache.process.pid, signal.SIGCONT)
    assert any("TimeoutError" in (r.exc_text or "") for r in cache_warnings(caplog))


def test_unknown_parameters_never_make_an_entry_of_their_own(redis_cache):
    warm(*PUBLIC, *FORMS)
    keys = redis_cache.client().dbsize()
    for n in range(40):
        junk = urlencode({"utm_source": f"mail{n}", "fbclid": n})
        plan = wsgi_get(f"{PLAN}&{junk}")
        assert plan.status_code == 301 and plan["Location"] == PLAN  # one URL per plan
        assert wsgi_get(f"/compare/?origin=au&{junk}")["Location"] == "/compare/?origin=AU"
        assert wsgi_get(f"/?{junk}")["Location"] == "/"
        assert wsgi_get(f"{API}&{junk}").status_code == 200  # the API answers, but stores nothing new
        assert wsgi_get(f"{ENQUIRE}&{junk}").status_code == 200
        assert wsgi_get(f"/questions/origin/?{junk}").status_code == 200
        assert wsgi_get(f"/plan/?origin=ZZ{n}&destination=GB").status_code == 400  # errors are never stored
    assert redis_cache.client().dbsize() == keys


def test_the_in_process_store_keeps_the_real_pages_through_a_junk_flood():
    warm(PLAN)
    for n in range(450):  # more than its 400 entries
        wsgi_get(f"{API}&utm={n}")
    response, rendered = reaches_django(PLAN)
    assert response.status_code == 200 and not rendered


def test_an_edit_saved_while_a_page_renders_is_not_hidden_behind_that_page(settings):
    """The page read the old data; it is stored under the version read before it rendered, so the next request,
    which sees the new version, renders the edit."""
    settings.PAGE_CACHE_VERSION_SECONDS = 0  # the test's transaction never commits: no signal on commit
    warm("/compare/")
    clear_cache()
    store.clear()
    wsgi_get("/compare/")  # the path is known to be public: the next request is stored

    def edit_mid_render(sender, template, **kwargs):
        if template.name == "advisor/compare.html":
            template_rendered.disconnect(edit_mid_render)
            australia = Country.objects.get(code="AU")
            australia.name = "Australia (edited)"
            australia.save()
            ReferenceVersion.bump()

    template_rendered.connect(edit_mid_render)
    try:
        during = wsgi_get("/compare/").content.decode()
    finally:
        template_rendered.disconnect(edit_mid_render)
    assert "Australia (edited)" not in during  # rendered from the data read before the edit
    assert "Australia (edited)" in wsgi_get("/compare/").content.decode()


def test_a_new_release_never_serves_the_old_releases_pages(redis_cache, settings):
    settings.RELEASE = "release-1"
    warm(*PUBLIC)
    keys = redis_cache.client().dbsize()
    settings.RELEASE = "release-2"  # a deploy: the same Redis, the old release's pages still in it
    assert redis_cache.client().dbsize() == keys
    for url in PUBLIC:
        response, rendered = reaches_django(url)
        assert response.status_code == 200 and rendered, url
    warm(PLAN)
    response, rendered = reaches_django(PLAN)
    assert not rendered  # and the new release's pages are shared again


def test_the_release_follows_the_code_templates_and_static_files(tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("<p>one</p>")
    before = store.source_digest(tmp_path, ["templates"])
    assert store.source_digest(tmp_path, ["templates"]) == before  # two servers on one tree agree
    page.write_text("<p>two</p>")
    assert store.source_digest(tmp_path, ["templates"]) != before


@pytest.mark.parametrize("url", [*PUBLIC, *FORMS, "/healthz", "/privacy/"])
def test_head_gets_the_headers_of_a_get_and_no_body(url):
    if url in PUBLIC:
        warm(url)
    get = wsgi_get(url)
    for _ in range(2):  # rendered, then (for a public page) from the cache; gunicorn drops a rendered body
        head = wsgi_request(url, method="HEAD")
        assert head.status_code == 200
        assert head["Content-Type"] == get["Content-Type"]
        assert head.get("Content-Security-Policy") == get.get("Content-Security-Policy")
