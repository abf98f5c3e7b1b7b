"""The anonymous questionnaire funnel: what a journey counts (with and without htmx), that cached pages are
counted, that nothing personal is stored, that counting never fails a page, and the batched flush."""

import logging
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor.funnel import counting as funnel
from advisor.funnel.models import FunnelCount, FunnelStep
from advisor.pagecache import store as page_cache
from tests.enquiry_support import (  # noqa: F401
    ENQUIRE_URL,
    PERSONAL,
    PLAN_QUERY,
    ROOT,
    enquiry_settings,
    form_data,
    run_manage,
    sqlite_file_env,
)
from tests.wsgi_client import django_handler_runs, wsgi_get

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
ONE_OF_EACH = {
    ("start", "", ""): 1,
    ("origin", "", ""): 1,
    ("credentials", "", ""): 1,
    ("experience", "", ""): 1,
    ("destination", "", ""): 1,
    ("check", "", ""): 1,
    ("plan", "AU", "GB"): 1,
    ("enquiry_form", "", ""): 1,
    ("enquiry_sent", "", ""): 1,
}


@pytest.fixture(autouse=True)
def fresh_counts():
    funnel.reset()
    page_cache.clear()
    yield
    funnel.reset()


def stored() -> dict:
    funnel.flush()
    return {(row.step, row.origin, row.destination): row.hits for row in FunnelCount.objects.all()}


def journey(client, headers=None):
    """A learner's whole way from the start page to a sent enquiry, following every redirect as browsers and
    htmx do."""
    headers = headers or {}
    assert client.get("/", headers=headers).status_code == 200
    for step, data in [
        ("origin", {"origin": "AU"}),
        ("credentials", {"credentials": ["hlt50321"]}),
        ("experience", {"setting": "inpatient", "years": "2"}),
        ("destination", {"destination": "GB"}),
    ]:
        response = client.post(f"/questions/{step}/", data, headers=headers, follow=True)
        assert response.status_code == 200 and response.redirect_chain[0][1] == 303
    assert response.request["PATH_INFO"] == "/questions/check/"
    assert client.get(f"/plan/?{PLAN_QUERY}", headers=headers).status_code == 200
    assert client.get(ENQUIRE_URL, headers=headers).status_code == 200
    sent = client.post(ENQUIRE_URL, form_data(), headers=headers, follow=True)
    assert sent.redirect_chain[0][1] == 303 and "Enquiry sent" in sent.content.decode()


@pytest.mark.usefixtures("enquiry_settings")
def test_a_journey_counts_each_step_once(client):
    journey(client)
    assert stored() == ONE_OF_EACH


@pytest.mark.usefixtures("enquiry_settings")
def test_a_journey_with_htmx_counts_exactly_like_one_without(client):
    journey(client, HX)
    assert stored() == ONE_OF_EACH


def test_answers_with_errors_and_bad_plan_links_are_not_counted(client):
    client.post("/questions/origin/", {})  # no answer: the question again, with errors
    client.post("/questions/origin/", {}, headers=HX)
    assert client.get("/plan/?origin=XX&destination=GB").status_code == 400
    client.get("/compare/")
    client.get("/privacy/")
    client.get("/no-such-page/")
    assert stored() == {}


def test_cached_pages_are_counted_too():
    for _ in range(3):
        wsgi_get(f"/plan/?{PLAN_QUERY}")
        wsgi_get("/")
    with django_handler_runs() as seen:
        assert wsgi_get(f"/plan/?{PLAN_QUERY}").status_code == 200
    assert not seen, "answered by the page cache, in front of Django"
    assert stored() == {("plan", "AU", "GB"): 4, ("start", "", ""): 3}


def test_counting_puts_no_query_on_the_request_path(client):
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries if "funnelcount" in q["sql"].lower()]
    assert funnel.pending() == 2
    assert not FunnelCount.objects.exists()


def test_plan_codes_are_stored_upper_case_and_new_to_coding_as_none(client):
    client.get("/plan/?origin=au&credential=hlt50321&setting=inpatient&destination=gb", follow=True)
    client.get("/plan/?origin=none&setting=inpatient&destination=NZ", follow=True)
    assert stored() == {("plan", "AU", "GB"): 1, ("plan", "none", "NZ"): 1}


@pytest.mark.usefixtures("enquiry_settings")
def test_counting_stores_nothing_personal(client):
    journey(client)
    client.get(f"/plan/?{PLAN_QUERY}&utm_source=someone%40example.org", REMOTE_ADDR="203.0.113.7")
    funnel.flush()
    assert [f.name for f in FunnelCount._meta.get_fields()] == ["id", "day", "step", "origin", "destination", "hits"]
    rows = list(FunnelCount.objects.values())
    assert rows
    personal = [*PERSONAL.values(), "203.0.113.7", "someone", *(cookie.value for cookie in client.cookies.values())]
    for row in rows:
        assert set(row) == {"id", "day", "step", "origin", "destination", "hits"}
        assert row["day"] == timezone.localdate()
        assert row["step"] in FunnelStep.values
        assert re.fullmatch(r"|[A-Z]{2}|none", row["origin"]) and re.fullmatch(r"|[A-Z]{2}", row["destination"])
        assert not any(value in str(row.values()) for value in personal)


def test_counting_sets_no_cookie(client):
    response = client.get("/")
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_a_failing_counter_never_fails_a_page(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("counter broken")

    monkeypatch.setattr(funnel, "add", broken)
    monkeypatch.setattr(funnel, "_last_error_log", [0.0])
    with caplog.at_level(logging.ERROR, logger="advisor.funnel"):
        assert client.get("/").status_code == 200
        assert client.post("/questions/origin/", {"origin": "AU"}).status_code == 303
        assert client.get(f"/plan/?{PLAN_QUERY}").status_code == 200
    assert [r.getMessage() for r in caplog.records] == ["funnel count dropped"]  # once a minute at most


def test_a_failing_flush_drops_the_batch_and_logs_it(client, monkeypatch, caplog):
    client.get("/")
    # A real database error: the table the counts go to is not there.
    monkeypatch.setattr(FunnelCount._meta, "db_table", "no_such_table")
    with caplog.at_level(logging.ERROR, logger="advisor.funnel"):
        assert funnel.flush() == 0
    assert "funnel counts dropped" in caplog.text
    assert funnel.pending() == 0
    monkeypatch.undo()
    assert client.get("/").status_code == 200
    assert stored() == {("start", "", ""): 1}


def test_flushes_add_up_rather_than_overwrite():
    today = timezone.localdate()
    for _ in range(3):
        funnel.add(FunnelStep.START)
    assert funnel.flush() == 3
    funnel.add(FunnelStep.START)
    funnel.add(FunnelStep.PLAN, "AU", "GB")
    assert funnel.flush() == 2
    assert stored() == {("start", "", ""): 4, ("plan", "AU", "GB"): 1}
    assert FunnelCount.objects.get(step="start").day == today


@pytest.mark.django_db(transaction=True)
def test_each_worker_flushes_in_the_background_after_enough_hits(settings):
    settings.FUNNEL_FLUSH_SECONDS = 30  # longer than the test: only the hit count can trigger this flush
    settings.FUNNEL_FLUSH_HITS = 5
    try:
        for _ in range(5):
            funnel.add(FunnelStep.START)
        deadline = time.monotonic() + 10
        while not FunnelCount.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert FunnelCount.objects.get(step="start").hits == 5
        assert funnel.pending() == 0
    finally:
        funnel.shutdown()


def test_counts_are_written_when_a_gunicorn_worker_stops(sqlite_file_env):  # noqa: F811
    """A graceful stop (SIGTERM) runs the worker's exit hook: nothing counted is lost."""
    run_manage(sqlite_file_env, "load_reference_data")
    # The production settings (the test settings turn the flushing thread off), flushing only at exit.
    env = {
        **sqlite_file_env,
        "DJANGO_SETTINGS_MODULE": "advisor.settings",
        "FUNNEL_FLUSH_SECONDS": "3600",
        "FUNNEL_FLUSH_HITS": "100000",
    }
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "advisor.wsgi", "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        for _ in range(3):
            _get(f"http://127.0.0.1:{port}/")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT step, hits FROM advisor_funnelcount").fetchall()
    assert rows == [("start", 3)]


def _free_port() -> int:
    sys.path.insert(0, str(ROOT))
    from bench.common import free_port

    return free_port()


def _get(url):
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status


def _wait_for(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _get(url) == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def test_the_privacy_page_says_what_is_counted_and_that_it_is_anonymous(client):
    text = client.get("/privacy/").content.decode()
    assert "How the questions are used, counted anonymously" in text
    assert "no cookie" in text and "IP address" in text
