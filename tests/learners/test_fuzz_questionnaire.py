"""Fuzzing every public form with hypothesis: no input gives a 500, a POST never sets what it should not,
and the same answers always give the same plan.

CI-sized: 50 examples per property by default (FUZZ_EXAMPLES raises it for a longer local run).
"""

import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.enquiries.models import Enquiry, Status
from advisor.learners import journey, questions
from bench.common import post_form
from pathways.choices import NEW_TO_CODING
from pathways.reference import load_reference

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OK_STATUSES = {200, 301, 302, 303, 400, 404, 405, 429}

# Text that tends to break things: control characters, surrogates are excluded (not valid in forms),
# long strings, markup, SQL and numbers in odd shapes.
nasty_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "1e9", "NaN", "<script>", "' OR 1=1 --", "\x00"]),
)


@pytest.fixture(autouse=True)
def test_settings(settings):
    settings.ENQUIRY_MIN_SECONDS = 0
    settings.ENQUIRY_RATE_LIMITS = [(10**9, 600)]
    settings.ADVISER_EMAILS = []


@pytest.fixture
def reference(db):
    return load_reference()


def choices(reference):
    countries = sorted(reference.countries)
    credentials = sorted(reference.credentials)
    return {
        "origin": [*countries, NEW_TO_CODING],
        "credentials": [*credentials, questions.NONE_OF_THESE],
        "setting": [value for value, _ in questions.SETTING_CHOICES],
        "destination": countries,
    }


def step_post(reference):
    """One POST to one step: mostly plausible answers, sometimes junk, sometimes extra fields."""
    c = choices(reference)
    plausible = {
        "origin": st.fixed_dictionaries({"origin": st.sampled_from(c["origin"])}),
        "credentials": st.fixed_dictionaries({"credentials": st.lists(st.sampled_from(c["credentials"]), max_size=3)}),
        "experience": st.fixed_dictionaries(
            {"setting": st.sampled_from(c["setting"]), "years": st.one_of(st.integers(0, 70).map(str), nasty_text)}
        ),
        "destination": st.fixed_dictionaries({"destination": st.sampled_from(c["destination"])}),
    }
    junk = st.dictionaries(
        st.sampled_from(["origin", "credentials", "setting", "years", "destination", "answers", "plan", "next"]),
        nasty_text,
        max_size=4,
    )
    return st.sampled_from(questions.STEPS).flatmap(
        lambda step: st.tuples(st.just(step), st.one_of(plausible[step], plausible[step], junk))
    )


def answers_of(client):
    cookie = client.cookies.get(django_settings.ANSWERS_COOKIE_NAME)
    return journey.read_answers(cookie.value) if cookie else {}


def assert_answers_are_valid(answers, reference):
    """Whatever was posted, the answers cookie holds only known keys with values from the choices offered."""
    c = choices(reference)
    assert set(answers) <= {"origin", "credentials", "setting", "years", "destination"}
    if "origin" in answers:
        assert answers["origin"] in c["origin"]
    if "credentials" in answers:
        offered = {cred.code for cred in questions.credential_choices(reference, answers)}
        assert set(answers["credentials"]) <= offered
    if "setting" in answers:
        assert answers["setting"] in c["setting"]
    if answers.get("years") is not None:
        assert 0 <= answers["years"] <= questions.MAX_YEARS
    if "destination" in answers:
        assert answers["destination"] in c["destination"]


@FUZZ
@given(data=st.data())
def test_any_order_of_question_posts_never_fails_and_keeps_only_offered_answers(data, reference):
    client = Client()
    posts = data.draw(st.lists(step_post(reference), min_size=1, max_size=10))
    for step, body in posts:
        htmx = data.draw(st.booleans())
        response = client.post(f"/questions/{step}/", body, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code in OK_STATUSES, (step, body, response.status_code)
    answers = answers_of(client)
    assert_answers_are_valid(answers, reference)
    check = client.get("/questions/check/")
    assert check.status_code in (200, 302)
    if journey.is_complete(answers, reference):
        query = journey.plan_query(answers, reference)
        first, second = client.get(f"/api/plan/?{query}"), Client().get(f"/api/plan/?{query}")
        assert first.status_code == 200
        assert first.json() == second.json()
        assert Client().get(f"/plan/?{query}").status_code == 200


@FUZZ
@given(
    answers=st.fixed_dictionaries(
        {
            "origin": st.sampled_from(["AU", "US", "GB", "CA", "NZ", "none"]),
            "setting": st.sampled_from(["inpatient", "outpatient", "both", "not-sure"]),
            "years": st.one_of(st.none(), st.integers(0, 60)),
            "destination": st.sampled_from(["AU", "US", "GB", "CA", "NZ"]),
        }
    ),
    detour=st.sampled_from(["AU", "US", "GB", "CA", "NZ", "none"]),
)
def test_the_same_answers_give_the_same_plan_whatever_route_led_there(answers, detour):
    """One learner answers straight through; another first picks another origin, goes on, then changes it back."""

    def answer_all(client, origin):
        client.post("/questions/origin/", {"origin": origin})
        if origin != "none":
            client.post("/questions/credentials/", {"credentials": ["none"]})
        years = "" if answers["years"] is None else str(answers["years"])
        client.post("/questions/experience/", {"setting": answers["setting"], "years": years})
        client.post("/questions/destination/", {"destination": answers["destination"]})
        # Someone new to coding is asked their setting after the destination, and only where it matters there.
        client.post("/questions/experience/", {"setting": answers["setting"], "years": years})

    straight, winding = Client(), Client()
    answer_all(straight, answers["origin"])
    answer_all(winding, detour)
    answer_all(winding, answers["origin"])
    plans, reference = [], load_reference()
    for client in (straight, winding):
        stored = answers_of(client)
        assert journey.is_complete(stored, reference)
        response = client.get(f"/api/plan/?{journey.plan_query(stored, reference)}")
        assert response.status_code == 200
        plans.append(response.json())
    assert plans[0] == plans[1]


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["origin", "credential", "setting", "years", "destination"]), nasty_text))
def test_any_plan_link_gives_a_plan_or_a_400_never_a_500(params):
    client = Client()
    for path in ("/plan/", "/api/plan/", "/enquire/", "/compare/"):
        response = client.get(path, params)
        assert response.status_code in OK_STATUSES, (path, params, response.status_code)


ENQUIRY_FIELDS = ["name", "email", "phone", "preferred_contact", "best_time", "message", "contact_consent"]
PROTECTED = {"status": "closed", "is_spam": "on", "reference": "E-HACKED", "assigned_to": "1", "spam_reason": ""}


@FUZZ
@given(
    typed=st.fixed_dictionaries(
        {},
        optional={
            "name": nasty_text,
            "email": st.one_of(st.emails().map(str), nasty_text),
            "phone": st.one_of(st.sampled_from(["0412 345 678", "+64 21 123 4567", "+1 202 555 0143"]), nasty_text),
            "preferred_contact": st.one_of(st.sampled_from(["email", "phone"]), nasty_text),
            "best_time": nasty_text,
            "message": nasty_text,
            "contact_consent": st.sampled_from(["on", "", "false"]),
            "marketing_opt_in": st.sampled_from(["on", ""]),
            "extra_reference": st.sampled_from(["", "", "", "http://spam.example"]),
        },
    ),
    tamper=st.sampled_from(["none", "submission_id", "form_token"]),
    protected=st.booleans(),
)
def test_any_enquiry_post_gives_a_page_or_a_confirmation_and_never_sets_protected_fields(typed, tamper, protected):
    client = Client()
    path = "/enquire/?origin=AU&setting=inpatient&destination=GB"
    form = post_form(client.get(path).content.decode())
    hidden = {f["name"]: f.get("value", "") for f in form["fields"] if f.get("type") == "hidden"}
    if tamper == "submission_id":
        hidden["submission_id"] = str(uuid.uuid4())
    elif tamper == "form_token":
        hidden["form_token"] = "tampered"
    body = {**hidden, **typed, **(PROTECTED if protected else {})}
    response = client.post(path, body)
    assert response.status_code in OK_STATUSES, (body, response.status_code)
    if response.status_code == 303:
        enquiry = Enquiry.objects.get(reference=response["Location"].rstrip("/").rsplit("/", 1)[-1])
        assert enquiry.status == Status.NEW
        assert enquiry.reference != "E-HACKED"
        assert enquiry.is_spam == bool(typed.get("extra_reference"))
