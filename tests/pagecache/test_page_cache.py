"""Cached pages: public pages answered before Django's handler, blank forms rendered once with fresh tokens.

A cached copy must be indistinguishable from a fresh one (headers included), follow reference-data changes,
never mix the htmx partial with the full page, never hide the start page's resume link, and never hand one
visitor's CSRF token, submission id or time-trap token to another.
"""

import re
import time
import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from advisor.enquiries.forms import read_token
from advisor.pagecache import store as page_cache
from pathways.models import Country, ReferenceVersion
from pathways.reference import clear_cache
from tests.wsgi_client import django_handler_runs, wsgi_get

pytestmark = pytest.mark.django_db

PLAN = "/plan/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
ENQUIRE = "/enquire/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
PUBLIC = ["/", "/compare/", "/compare/?origin=AU", PLAN, PLAN.replace("/plan/", "/api/plan/")]
SECURITY_HEADERS = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cache-Control",
    "Vary",
    "Content-Type",
]


@pytest.fixture(autouse=True)
def fresh_caches():
    page_cache.clear()
    clear_cache()
    yield
    # Rows changed in a test are rolled back: forget what was built from them.
    page_cache.clear()
    clear_cache()


def get(client, url, **headers):
    """The page as gunicorn would serve it (PageCache in front); `client` only lends its cookies."""
    return wsgi_get(url, cookies=client.cookies, **headers)


def warm(client, url, **headers):
    """Ask often enough for the page to be stored (the first answer only tells the cache the path is public)."""
    return [get(client, url, **headers) for _ in range(3)]


def without_nonce(response):
    return re.sub(r' nonce="[^"]*"', "", response.content.decode())


def rename_australia_without_telling_anyone(name):
    # An edit that skips ReferenceVersion.bump(): only the in-process Reference is dropped, as a new worker would.
    Country.objects.filter(code="AU").update(name=name)
    clear_cache()


@pytest.mark.parametrize("url", PUBLIC)
def test_a_cached_public_page_carries_the_same_security_headers_as_a_fresh_one(client, url):
    first, _, cached = warm(client, url)
    assert first.status_code == cached.status_code == 200
    for header in SECURITY_HEADERS:
        assert cached.get(header) == first.get(header), header
    assert "unsafe-inline" not in cached["Content-Security-Policy"]
    # The same page, but for the nonce django-htmx prints on its script tag: unused, the policy has no nonce.
    assert without_nonce(cached) == without_nonce(first)
    assert "nonce-" not in cached["Content-Security-Policy"]
    assert not cached.cookies


def test_public_pages_are_answered_from_the_cache_until_the_reference_version_changes(client):
    warm(client, "/compare/")
    rename_australia_without_telling_anyone("Terra Australis")
    assert "Terra Australis" not in get(client, "/compare/").content.decode(), "served from the cache"
    ReferenceVersion.bump()
    assert "Terra Australis" in get(client, "/compare/").content.decode()


def test_a_version_change_made_by_another_worker_shows_once_the_window_has_passed(client, settings):
    settings.PAGE_CACHE_VERSION_SECONDS = 0.5
    warm(client, "/compare/")
    rename_australia_without_telling_anyone("Terra Australis")
    ReferenceVersion.objects.update(version=F("version") + 1)  # as another process's bump() looks from here
    assert "Terra Australis" not in get(client, "/compare/").content.decode(), "within the window"
    time.sleep(0.6)
    assert "Terra Australis" in get(client, "/compare/").content.decode()


def normalised(response):
    """The page without what differs on every response: the unused nonce and the per-request tokens."""
    page = without_nonce(response)
    return re.sub(r'name="(csrfmiddlewaretoken|submission_id|form_token)" value="[^"]*"', r'name="\1"', page)


SHAPES = {
    "full": {},
    "partial": {"HX-Request": "true"},
    "restore": {"HX-Request": "true", "HX-History-Restore-Request": "true"},
}


@pytest.mark.parametrize("url", ["/", "/compare/", "/compare/?origin=AU", PLAN, "/questions/origin/", ENQUIRE])
def test_the_htmx_partial_and_the_full_page_are_never_mixed_up(client, url):
    fresh = {}
    for shape, headers in SHAPES.items():
        page_cache.clear()
        fresh[shape] = normalised(get(client, url, **headers))
    for _ in range(3):  # interleaved, so each shape is asked for while the others are cached
        for shape, headers in SHAPES.items():
            assert normalised(get(client, url, **headers)) == fresh[shape], shape
    assert fresh["full"].startswith("<!DOCTYPE html>")
    assert fresh["restore"].startswith("<!DOCTYPE html>"), "a history restore gets the whole page"
    if url != "/" and not url.startswith("/plan/"):  # start and plan always answer with the whole page
        assert "<!DOCTYPE html>" not in fresh["partial"]


def test_a_visitor_with_unfinished_answers_still_gets_the_resume_link_from_a_cached_start_page(client):
    warm(client, "/")
    learner = Client()
    learner.post("/questions/origin/", {"origin": "AU"}, secure=True)
    for _ in range(3):
        page = get(learner, "/").content.decode()
        assert "Continue where you left off" in page
        assert 'href="/questions/credentials/"' in page
    assert "Continue where you left off" not in get(client, "/").content.decode()


def _hidden(page, name):
    return re.search(rf'name="{name}" value="([^"]+)"', page).group(1)


def test_two_visitors_never_get_each_others_enquiry_submission_id_or_time_trap_token():
    seen = {"csrfmiddlewaretoken": set(), "submission_id": set(), "form_token": set()}
    for _ in range(3):
        for visitor in (Client(), Client()):
            page = get(visitor, ENQUIRE).content.decode()
            for name, values in seen.items():
                value = _hidden(page, name)
                assert value not in values, f"{name} handed out twice"
                values.add(value)
            submission_id = uuid.UUID(_hidden(page, "submission_id"))
            assert read_token(_hidden(page, "form_token"), submission_id) < 60
            assert "@@hole-" not in page


def test_a_blank_question_from_the_cache_carries_a_working_csrf_token_of_its_own():
    tokens = set()
    for _ in range(3):
        visitor = Client(enforce_csrf_checks=True)
        page = visitor.get("/questions/origin/", secure=True).content.decode()
        token = _hidden(page, "csrfmiddlewaretoken")
        assert token not in tokens
        tokens.add(token)
        response = visitor.post(
            "/questions/origin/",
            {"origin": "AU", "csrfmiddlewaretoken": token},
            secure=True,
            headers={"Referer": "https://testserver/questions/origin/"},
        )
        assert response.status_code == 303


def test_a_blank_question_shows_the_learners_own_earlier_answer(client):
    other = Client()
    warm(other, "/questions/origin/")
    client.post("/questions/origin/", {"origin": "GB"}, secure=True)
    page = get(client, "/questions/origin/").content.decode()
    assert re.search(r'value="GB"[^>]*checked', page)
    assert not re.search(r'value="GB"[^>]*checked', get(other, "/questions/origin/").content.decode())


@pytest.mark.parametrize("url", [*PUBLIC, "/questions/origin/", ENQUIRE])
def test_warm_pages_stay_within_the_query_budget(client, url, django_assert_max_num_queries):
    warm(client, url)
    with django_assert_max_num_queries(6):
        assert get(client, url).status_code == 200


@pytest.mark.parametrize("url", PUBLIC)
def test_a_cached_public_page_costs_no_query_and_never_reaches_django(client, url, django_assert_num_queries):
    warm(client, url)
    with django_handler_runs() as seen, django_assert_num_queries(0):  # version read within PAGE_CACHE_VERSION_SECONDS
        assert get(client, url).status_code == 200
    assert not seen, "answered in front of Django's handler"


def test_with_no_staleness_window_a_cached_page_reads_the_version_and_nothing_else(client, settings):
    settings.PAGE_CACHE_VERSION_SECONDS = 0
    warm(client, PLAN)
    with CaptureQueriesContext(connection) as queries:
        assert get(client, PLAN).status_code == 200
    assert len(queries) == 1 and "referenceversion" in queries[0]["sql"].lower()


# Outside a test transaction, as a server runs: on PostgreSQL a failed query inside one would abort the rest.
@pytest.mark.django_db(transaction=True)
def test_pages_are_still_served_when_the_page_cache_store_is_unreachable(settings):
    # A shared cache on a database table that is not there: every read and write fails.
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "no_such_table"},
    }
    for _ in range(3):
        response = wsgi_get(PLAN)
        assert response.status_code == 200
        assert "Content-Security-Policy" in response.headers
