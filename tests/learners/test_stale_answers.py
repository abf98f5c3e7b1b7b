"""Answers kept in a learner's cookie while the reference data changes under them.

The cookie lives for ANSWERS_COOKIE_AGE; a country or credential it names can be removed or renamed in between.
Such a value is dropped when the answers are read, and its question is asked again.
"""

import pytest
from django.core.cache import cache
from django.http import QueryDict

from advisor.learners.forms import PlanQueryForm
from pathways.models import Country, Credential, ReferenceVersion, RouteCredential
from pathways.reference import clear_cache, load_reference
from tests.learners.test_questionnaire import answer, answer_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_reference():
    clear_cache()
    yield
    clear_cache()
    cache.clear()


def _remove_credential(code):
    # A credential a route names is PROTECTed: take it out of the routes first, as an editor would.
    RouteCredential.objects.filter(credential__code=code).delete()
    Credential.objects.filter(code=code).delete()
    ReferenceVersion.bump()


@pytest.fixture
def held():
    """An Australian credential that a route names (so removing it also takes it out of a route)."""
    return RouteCredential.objects.filter(credential__country__code="AU").values_list("credential__code", flat=True)[0]


def test_a_removed_credential_is_asked_again_instead_of_linking_to_a_bad_plan(client, stored_answers, held):
    answer_all(client, origin="AU", credentials=[held])
    assert f"credential={held}" in client.get("/questions/check/").content.decode()

    _remove_credential(held)

    response = client.get("/questions/check/")
    assert response.status_code == 302
    assert response["Location"] == "/questions/credentials/"
    page = client.get("/questions/credentials/")
    assert page.status_code == 200
    assert f'value="{held}"' not in page.content.decode()

    answer(client, "credentials", {"credentials": ["none"]})
    assert stored_answers(client)["credentials"] == []
    check = client.get("/questions/check/")
    assert check.status_code == 200
    assert held not in check.content.decode()
    # "See your plan" links to a plan that exists now.
    assert PlanQueryForm(QueryDict(check.context["plan_query"])).is_valid()


def test_changing_a_later_answer_asks_the_stale_question_first(client, stored_answers, held):
    answer_all(client, origin="AU", credentials=[held])
    _remove_credential(held)

    # "Change" on the years: the credentials question, now unanswered, comes first.
    response = answer(client, "experience", {"setting": "inpatient", "years": "5"}, QUERY_STRING="next=check")
    assert response["Location"] == "/questions/credentials/?next=check"

    response = answer(client, "credentials", {"credentials": ["none"]}, QUERY_STRING="next=check")
    assert response["Location"] == "/questions/check/"
    assert stored_answers(client)["credentials"] == []


def test_re_answering_the_same_origin_does_not_keep_the_stale_credential(client, stored_answers, held):
    answer_all(client, origin="AU", credentials=[held])
    _remove_credential(held)

    answer(client, "origin", {"origin": "AU"}, QUERY_STRING="next=check")
    assert "credentials" not in stored_answers(client)


def test_a_renamed_destination_is_asked_again(client, stored_answers):
    answer_all(client, origin="AU", destination="GB")
    Country.objects.filter(code="GB").update(code="UK")
    ReferenceVersion.bump()

    response = client.get("/questions/check/")
    assert response.status_code == 302
    assert response["Location"] == "/questions/destination/"

    answer(client, "destination", {"destination": "UK"})
    assert stored_answers(client)["destination"] == "UK"
    assert client.get("/questions/check/").status_code == 200


def test_a_renamed_origin_asks_where_they_trained_and_then_which_credentials(client, stored_answers, au_credential):
    answer_all(client, origin="AU", credentials=[au_credential])
    Country.objects.filter(code="AU").update(code="AX")
    ReferenceVersion.bump()

    response = client.get("/questions/check/")
    assert response["Location"] == "/questions/origin/"
    assert "Continue where you left off" in client.get("/").content.decode()

    answer(client, "origin", {"origin": "AX"})
    answers = stored_answers(client)
    assert answers["origin"] == "AX"
    assert client.get("/questions/check/")["Location"] == "/questions/credentials/"


def test_answers_the_reference_data_still_has_are_kept_whole(client, stored_answers, au_credential):
    answer_all(client, origin="AU", credentials=[au_credential], years="3")
    ReferenceVersion.bump()  # a change elsewhere in the reference data
    before = stored_answers(client)
    assert client.get("/questions/check/").status_code == 200
    answer(client, "destination", {"destination": "GB"})
    assert stored_answers(client) == before


@pytest.fixture
def au_credential():
    return load_reference().credentials_for("AU")[0].code
