"""The plan API as HTTP: 304s that match their 200 (RFC 9110 15.4.5), CORS, 405/414 as JSON, duplicates counted.

Requests go through advisor.wsgi.application, as gunicorn sends them, so the page cache is in front: the first
request is answered by Django and stored, the repeat by the page cache, and both must carry the same headers.
"""

import json

import pytest

from advisor.pagecache import store
from pathways.reference import clear_cache
from tests.wsgi_client import wsgi_get, wsgi_request

pytestmark = pytest.mark.django_db

PLAN = "/api/plan/?origin=AU&setting=inpatient&destination=GB"
GZIP = {"Accept-Encoding": "gzip"}
SAME_ON_304 = ("ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers")


@pytest.fixture(autouse=True)
def empty_caches():
    store.clear()
    clear_cache()
    yield
    store.clear()
    clear_cache()


@pytest.mark.parametrize("url", [PLAN, "/api/openapi.json"])
@pytest.mark.parametrize("encoding", [GZIP, {"Accept-Encoding": "identity"}])
def test_a_304_carries_the_200s_etag_vary_cache_control_and_cors_headers_uncached_and_cached(url, encoding):
    first = wsgi_get(url, **encoding)
    repeat = wsgi_get(url, **encoding)  # the page cache's copy, for the plan
    assert first.status_code == repeat.status_code == 200
    assert first["ETag"].startswith('W/"'), "weak, whether gzip compressed the body or not"
    for response in (first, repeat):
        not_modified = wsgi_get(url, **encoding, **{"If-None-Match": response["ETag"]})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert "Content-Length" not in not_modified.headers, "a 304 must not claim an empty body"
        assert {h: not_modified.get(h) for h in SAME_ON_304} == {h: response.get(h) for h in SAME_ON_304}
    assert {h: repeat.get(h) for h in SAME_ON_304} == {h: first.get(h) for h in SAME_ON_304}


def test_the_plan_tag_is_the_same_gzipped_or_not():
    assert wsgi_get(PLAN, **GZIP)["ETag"] == wsgi_get(PLAN, **{"Accept-Encoding": "identity"})["ETag"]
    assert wsgi_get(PLAN, **GZIP)["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("repeat", [1, 2])
def test_every_api_answer_allows_any_origin_without_credentials(repeat):
    for _ in range(repeat):  # the second time, the plan comes from the page cache
        for url in (PLAN, "/api/openapi.json", "/api/plan/?origin=XX&destination=GB"):
            response = wsgi_get(url, Origin="https://partner.example")
            assert response["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in response.headers
            assert "Origin" not in response.get("Vary", ""), "the same answer for every origin"


def test_a_cors_preflight_is_answered_204_for_get_with_if_none_match():
    response = wsgi_request(
        PLAN,
        method="OPTIONS",
        headers={
            "Origin": "https://partner.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 204 and response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "if-none-match" in response["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize("url", ["/", "/plan/?origin=AU&destination=GB", "/questions/origin/", "/admin/login/"])
def test_pages_and_forms_get_no_cors_headers(url):
    response = wsgi_get(url, Origin="https://partner.example")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert wsgi_request(url, method="OPTIONS").get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_a_json_405_with_allow(method):
    response = wsgi_request("/api/plan/?origin=AU&destination=GB", method=method)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert b'"__all__"' in response.content


def test_a_5000_character_parameter_gets_a_json_414():
    response = wsgi_get("/api/plan/?origin=AU&destination=GB&credential=" + "x" * 5000)
    assert response.status_code == 414
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_credential_repeated_21_times_is_over_the_limit_and_20_times_is_folded():
    base = "/api/plan/?origin=AU&destination=GB"
    over = wsgi_get(base + "&credential=hlt50321" * 21)
    assert over.status_code == 400 and b"at most 20" in over.content
    folded = wsgi_get(base + "&credential=hlt50321" * 20)
    assert folded.status_code == 200
    assert folded["ETag"] == wsgi_get(base + "&credential=hlt50321")["ETag"]


@pytest.mark.parametrize("query", ["years=%205", "years=5%20", "origin=%20AU", "setting=inpatient%20", "years=%2B5"])
def test_spaces_and_signs_are_refused_not_trimmed(query):
    params = {"origin": "AU", "destination": "GB"}
    name, value = query.split("=")
    params[name] = value
    response = wsgi_get("/api/plan/?" + "&".join(f"{k}={v}" for k, v in params.items()))
    assert response.status_code == 400, query


def test_codes_and_setting_in_any_case_give_the_canonical_plan_as_documented():
    canonical = wsgi_get("/api/plan/?origin=US&credential=aapc-cpc&setting=inpatient&destination=GB")
    lenient = wsgi_get("/api/plan/?origin=us&credential=AAPC-CPC&setting=INPATIENT&destination=gb")
    assert lenient.status_code == canonical.status_code == 200
    assert lenient["ETag"] == canonical["ETag"]


def test_the_document_never_names_the_requests_host_or_scheme():
    document = wsgi_get("/api/openapi.json", **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert json.loads(document.content)["servers"] == [{"url": "/"}]
