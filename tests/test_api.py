"""GET /api/plan/ and /api/openapi.json: plan JSON, 400s per field, ETag/304, the OpenAPI contract."""

import json
import string
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from advisor import api
from pathways.models import ReferenceVersion
from pathways.reference import clear_cache, load_reference
from pathways.rules import LearnerProfile, build_plan

pytestmark = pytest.mark.django_db

COUNTRIES = ("AU", "CA", "GB", "NZ", "US")
URL = "/api/plan/"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def openapi(client):
    return client.get("/api/openapi.json").json()


def _validator(document, name):
    """A validator for one component schema, its $refs resolved inside the OpenAPI document."""
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_the_plan_for_au_to_gb_matches_the_rules_engine(client):
    response = client.get(URL, {"origin": "au", "credential": "HLT50321", "setting": "inpatient", "destination": "gb"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    expected = build_plan(LearnerProfile("AU", frozenset({"hlt50321"}), "inpatient", None, "GB"), load_reference())
    assert body == json.loads(json.dumps(expected.as_dict()))
    assert body["destination"]["code"] == "GB"
    assert {
        "origin",
        "destination",
        "difficulty",
        "transferable_skills",
        "classifications",
        "credentials",
        "steps",
        "total_months",
        "notes",
    } <= set(body)


def test_the_openapi_document_is_openapi_3_1_and_itself_valid_json_schema(openapi):
    assert openapi["openapi"].startswith("3.1")
    for schema in openapi["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    names = [p["name"] for p in openapi["paths"]["/api/plan/"]["get"]["parameters"]]
    assert names == ["origin", "credential", "setting", "years", "destination"]


def test_real_plans_for_every_route_and_setting_match_the_openapi_schema(client, openapi):
    validator = _validator(openapi, "Plan")
    origins = (*COUNTRIES, "none")
    for origin in origins:
        for destination in COUNTRIES:
            for setting in ("inpatient", "outpatient", "both"):
                response = client.get(
                    URL, {"origin": origin, "setting": setting, "years": 3, "destination": destination}
                )
                assert response.status_code == 200, response.content
                errors = list(validator.iter_errors(response.json()))
                assert not errors, (origin, destination, setting, errors[0].message)


def test_plans_with_credentials_held_match_the_schema(client, openapi):
    validator = _validator(openapi, "Plan")
    reference = load_reference()
    for country in COUNTRIES:
        for credential in reference.credentials_for(country):
            response = client.get(URL, {"origin": country, "credential": credential.code, "destination": "AU"})
            assert response.status_code == 200
            validator.validate(response.json())


BAD_QUERIES = {
    "unknown country": ({"origin": "XX", "destination": "GB"}, "origin"),
    "malformed country": ({"origin": "Australia", "destination": "GB"}, "origin"),
    "malformed destination": ({"origin": "AU", "destination": "G1"}, "destination"),
    "destination none": ({"origin": "AU", "destination": "none"}, "destination"),
    "unknown credential": ({"origin": "AU", "credential": "made-up", "destination": "GB"}, "credential"),
    "negative years": ({"origin": "AU", "years": "-1", "destination": "GB"}, "years"),
    "huge years": ({"origin": "AU", "years": "99999999999999999999", "destination": "GB"}, "years"),
    "years not a number": ({"origin": "AU", "years": "two", "destination": "GB"}, "years"),
    "years a fraction": ({"origin": "AU", "years": "1.5", "destination": "GB"}, "years"),
    "missing destination": ({"origin": "AU"}, "destination"),
    "missing origin": ({"destination": "AU"}, "origin"),
    "bad setting": ({"origin": "AU", "setting": "sideways", "destination": "GB"}, "setting"),
}


@pytest.mark.parametrize("case", BAD_QUERIES, ids=list(BAD_QUERIES))
def test_bad_parameters_give_400_with_a_message_for_that_field(client, openapi, case):
    query, field = BAD_QUERIES[case]
    response = client.get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    _validator(openapi, "Errors").validate(body)


@pytest.mark.parametrize("field", ["origin", "setting", "years", "destination"])
def test_a_single_valued_parameter_given_twice_is_an_error(client, field):
    values = {
        "origin": ["AU", "GB"],
        "setting": ["inpatient", "outpatient"],
        "years": ["1", "2"],
        "destination": ["NZ", "CA"],
    }
    query = {"origin": "AU", "setting": "both", "years": "1", "destination": "NZ", field: values[field]}
    response = client.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_credential_may_repeat(client):
    response = client.get(URL, {"origin": "US", "credential": ["aapc-cpc", "AHIMA-CCS"], "destination": "AU"})
    assert response.status_code == 200
    assert response.json()["held_credentials"] == ["aapc-cpc", "ahima-ccs"]


@pytest.mark.parametrize(
    "query_string",
    [
        "origin=%FF&destination=GB",
        "origin=AU&destination=G%E9",
        "origin=AU&destination=GB&%FF=1",
        "origin=AU&destination=GB&credential=\xff",
        "origin=\xe9\xff&destination=GB",
    ],
)
def test_non_utf8_queries_give_400_not_500(client, query_string):
    response = client.get(URL, QUERY_STRING=query_string)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_responses_carry_an_etag_tied_to_the_reference_version_and_honour_if_none_match(client):
    query = {"origin": "AU", "setting": "inpatient", "destination": "GB"}
    first = client.get(URL, query)
    etag = first["ETag"]
    assert "max-age" in first["Cache-Control"]
    same = client.get(
        URL, {"origin": "au", "setting": "INPATIENT", "destination": "gb"}, headers={"If-None-Match": etag}
    )
    assert same.status_code == 304 and same["ETag"] == etag
    assert client.get(URL, {**query, "years": 2})["ETag"] != etag
    ReferenceVersion.bump()
    changed = client.get(URL, query, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_warm_api_request_makes_at_most_two_queries(client, django_assert_max_num_queries):
    query = {"origin": "AU", "credential": "hlt50321", "setting": "inpatient", "destination": "GB"}
    client.get(URL, query)
    with django_assert_max_num_queries(2):
        assert client.get(URL, query).status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get(URL, {**query, "destination": "CA"}).status_code == 200


@override_settings(PLAN_API_CACHE_ENTRIES=3)
def test_the_json_memo_keeps_the_most_recently_used_plans_and_never_more_than_its_size(client):
    queries = [{"origin": "AU", "destination": code} for code in ("GB", "CA", "NZ", "US")]
    for query in queries[:3]:
        client.get(URL, query)
    client.get(URL, queries[0], headers={"If-None-Match": "x"})  # conditional: past the page cache, a memo hit
    client.get(URL, queries[3])
    kept = [key for _, key in api._responses]
    assert len(kept) == 3
    assert "destination=CA" not in " ".join(kept)  # the least recently used went first
    assert any("destination=GB" in key for key in kept)
    assert any("destination=US" in key for key in kept)


def test_post_is_not_allowed(client):
    assert client.post(URL, {"origin": "AU", "destination": "GB"}).status_code == 405


_param_values = st.one_of(
    st.sampled_from(
        [
            "AU",
            "au",
            "Gb",
            "none",
            "NONE",
            "US",
            "XX",
            "",
            "1",
            "-1",
            "60",
            "61",
            "both",
            "inpatient",
            "hlt50321",
            "AAPC-CPC",
            "nhs-ccsc",
            "9" * 30,
            " AU ",
            "AU\x00",
            "é",
            "\ufffd",
        ]
    ),
    st.text(alphabet=string.printable + "éß€\u2028\ufffd", max_size=12),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.lists(
        st.tuples(st.sampled_from(["origin", "credential", "setting", "years", "destination", "other"]), _param_values),
        max_size=7,
    )
)
def test_any_parameters_give_200_or_400_never_500(client, params):
    response = client.get(URL, QUERY_STRING=urlencode(params))
    assert response.status_code in (200, 400)
    body = response.json()
    assert ("errors" in body) == (response.status_code == 400)
