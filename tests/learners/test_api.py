"""GET /api/plan/ and /api/openapi.json: plan JSON, 400s per field, ETag/304, the OpenAPI contract."""

import json
import string
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from advisor.learners.forms import MAX_CREDENTIALS
from pathways.models import ReferenceVersion
from pathways.presenter import plan_json
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
    reference = load_reference()
    expected = build_plan(LearnerProfile("AU", frozenset({"hlt50321"}), "inpatient", None, "GB"), reference)
    assert body == json.loads(json.dumps(plan_json(expected, reference)))
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
    assert names == ["origin", "credential", "setting", "years", "destination", "If-None-Match"]


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
    assert same["Cache-Control"] == first["Cache-Control"], "a 304 says how long it may be kept, as the 200 did"
    assert client.get(URL, query, headers={"If-None-Match": f'{etag.removeprefix("W/")}, "other"'}).status_code == 304
    bad = client.get(URL, {"origin": "XX", "destination": "GB"}, headers={"If-None-Match": "*"})
    assert bad.status_code == 400 and "ETag" not in bad and bad["Cache-Control"] == "no-cache"
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


def _reachable_profiles(reference):
    """Every origin (and none) to every destination in every setting, holding nothing, each credential of
    the two countries alone, or all of the origin's: every kind of step, gap, note and source the data has."""
    for origin in (*COUNTRIES, None):
        for destination in COUNTRIES:
            own = [c.code for c in reference.credentials_for(origin)] if origin else []
            near = own + [c.code for c in reference.credentials_for(destination) if c.code not in own]
            held = [(), *[(code,) for code in near], tuple(own[:MAX_CREDENTIALS])]
            for setting in ("inpatient", "outpatient", "both"):
                for credentials in dict.fromkeys(held):
                    yield LearnerProfile(origin, frozenset(credentials), setting, 3, destination)


def _check_against(schema, value, components, reached, where):
    """Walk a JSON value beside its schema: every object has exactly the properties its schema lists, in order."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        reached.add(name)
        return _check_against(components[name], value, components, reached, f"{where} ({name})")
    if "oneOf" in schema:
        nullable = {"type": "null"} in schema["oneOf"]
        if value is None:
            assert nullable, f"{where} is null"
            return None
        (branch,) = [branch for branch in schema["oneOf"] if branch != {"type": "null"}]
        return _check_against(branch, value, components, reached, where)
    if isinstance(value, dict):
        described = list(schema["properties"])
        assert list(value) == described, (
            f"{where}: emitted but not described {sorted(set(value) - set(described))}, "
            f"described but not emitted {sorted(set(described) - set(value))}"
        )
        for key, item in value.items():
            _check_against(schema["properties"][key], item, components, reached, f"{where}.{key}")
    elif isinstance(value, list):
        items = schema.get("prefixItems") or [schema["items"]] * len(value)
        for index, (item_schema, item) in enumerate(zip(items, value, strict=True)):
            _check_against(item_schema, item, components, reached, f"{where}[{index}]")
    return None


def test_every_reachable_plan_has_exactly_the_fields_the_openapi_document_describes(openapi):
    # The values' types are validated against the document by the tests above; this one is about the field sets.
    components = openapi["components"]["schemas"]
    reference = load_reference()
    reached = set()
    plans = 0
    for profile in _reachable_profiles(reference):
        body = json.loads(json.dumps(plan_json(build_plan(profile, reference), reference)))
        _check_against({"$ref": "#/components/schemas/Plan"}, body, components, reached, "plan")
        plans += 1
    assert plans > 700
    # The other way round: a shape the document describes that no plan ever emits is a schema of nothing.
    assert reached == set(components) - {"Errors"}
