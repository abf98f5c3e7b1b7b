"""Schemathesis over /api/openapi.json: every operation the document describes, fuzzed in-process.

The schema is fetched from the Django app itself (its WSGI handler, as gunicorn runs it), so the document
under test is the one clients get. Requests are generated from it, valid and invalid (schemathesis's
examples, coverage and fuzzing phases, positive and negative modes, undeclared methods), and every response
must be documented: no 5xx, a declared status code and content type, declared headers, a body matching its
schema, and a 400 that names the fields at fault.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from advisor.wsgi import application
from pathways.models import Country, Credential

# Over HTTPS, as production serves the API, so the test holds whether or not the settings in use redirect
# plain HTTP; the document's server URL (built from the request) then names https://localhost too.
BASE_URL = "https://localhost"
# The werkzeug client hands bodies back as sent; identity keeps GZipMiddleware's output readable.
HEADERS = {"Accept-Encoding": "identity"}
CI_PROFILE = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Fetched once at collection; the OpenAPI view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, base_url=BASE_URL, headers=HEADERS)


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


@pytest.mark.django_db
@schema.parametrize()
@CI_PROFILE
def test_every_documented_operation_answers_as_its_openapi_document_says(case):
    response = case.call_and_validate(
        base_url=BASE_URL,
        headers=HEADERS,
        # The document can only say what a country or credential code looks like, not which ones exist
        # (that is reference data), so a well-formed unknown code is a documented 400, not a failure.
        excluded_checks=[positive_data_acceptance],
    )
    assert response.status_code < 500
    if response.status_code == 400:
        assert_errors_name_fields(response)


@pytest.mark.django_db
@CI_PROFILE
@given(data=st.data())
def test_generated_queries_with_real_countries_and_credentials_get_a_plan_that_matches_the_document(data):
    # Random two-letter codes almost never name a country we cover, so the test above sees mostly 400s:
    # here schemathesis generates the other parameters around real codes, and every answer must be a plan.
    countries = list(Country.objects.values_list("code", flat=True))
    credentials = list(Credential.objects.values_list("code", flat=True))
    code = st.sampled_from(countries).flatmap(lambda c: st.sampled_from([c, c.lower()]))
    query = data.draw(
        st.fixed_dictionaries(
            {
                "origin": code | st.just("none"),
                "destination": code,
                # Always given: left out, schemathesis would fill it with random (unknown) codes.
                "credential": st.lists(st.sampled_from(credentials), max_size=3),
            }
        )
    )
    case = data.draw(schema["/api/plan/"]["GET"].as_strategy(query=query))
    response = case.call_and_validate(base_url=BASE_URL, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["destination"]["code"] == query["destination"].upper()
