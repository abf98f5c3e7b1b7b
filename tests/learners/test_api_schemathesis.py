"""Schemathesis over /api/openapi.json: every operation the document describes, fuzzed in-process.

The schema is fetched from the Django app itself (its WSGI handler, as gunicorn runs it), so the document
under test is the one clients get. Requests are generated from it, valid and invalid (schemathesis's
examples, coverage and fuzzing phases, positive and negative modes, undeclared methods), and every response
must be documented: no 5xx, a declared status code and content type, declared headers, a body matching its
schema, and a 400 that names the fields at fault. Every check runs, positive_data_acceptance included: the
document's enums are the reference data's countries, credentials and settings, so every valid query is a plan
and the run reaches plan bodies (the last test asserts it, and prints the figures).
"""

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import NegativeDataRejectionConfig

from advisor.wsgi import application

# Over HTTPS, as production serves the API, so the test holds whether or not the settings in use redirect
# plain HTTP; the document's server URL (built from the request) then names https://localhost too.
BASE_URL = "https://localhost"
# The werkzeug client hands bodies back as sent; identity keeps GZipMiddleware's output readable.
HEADERS = {"Accept-Encoding": "identity"}
CI_PROFILE = settings(
    max_examples=100,
    derandomize=True,  # the same examples on every run: CI fails for the code, never for the dice
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def api_schema(django_db_blocker):
    # From the app, as clients get it: its enums come from the reference data, so after the database is set up.
    with django_db_blocker.unblock():
        loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", application, base_url=BASE_URL, headers=HEADERS)
    # A query over 2,048 characters (a long list of junk credentials) is refused with the documented 414, which
    # schemathesis does not count as a refusal by default.
    loaded.config.checks.negative_data_rejection = NegativeDataRejectionConfig(
        expected_statuses=[*NegativeDataRejectionConfig().expected_statuses, "414"]
    )
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request):
    # schemathesis 4.32's lazy schema renames the test through Node._nodeid, which pytest 9 no longer has.
    request.node._nodeid = request.node.nodeid


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    # As Django's test client does: the WSGI handler closes "old" connections around each request, and the
    # test's own connection (inside the test transaction, so not in autocommit) looks old to it. SQLite's
    # in-memory test database shrugs that off; PostgreSQL loses the connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def assert_errors_name_fields(response):
    errors = response.json()["errors"]
    assert isinstance(errors, dict) and errors
    assert all(isinstance(messages, list) and messages for messages in errors.values())


# What the fuzzing saw, reported by the last test: (method, path, status) -> count.
SEEN: Counter = Counter()


@pytest.mark.django_db
@schema.parametrize()
@CI_PROFILE
def test_every_documented_operation_answers_as_its_openapi_document_says(case):
    response = case.call_and_validate(base_url=BASE_URL, headers=HEADERS)
    SEEN[(case.method, case.path, response.status_code)] += 1
    if response.status_code == 414:
        assert len(response.request.url) > 2048
    assert response.status_code < 500
    if response.status_code == 400:
        assert_errors_name_fields(response)


def test_the_fuzzing_reached_plan_bodies_and_every_kind_of_refusal():
    print("schemathesis:", sum(SEEN.values()), "requests;", dict(sorted(SEEN.items())))
    statuses = {status for (_, path, status) in SEEN if path == "/api/plan/"}
    assert {200, 400, 405} <= statuses, statuses
    assert SEEN["GET", "/api/plan/", 200] >= 50
