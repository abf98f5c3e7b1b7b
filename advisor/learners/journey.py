"""A learner's way through the questionnaire: the answers kept in a cookie of their own, which question comes
next, and what the answers become (the plan link, the check-your-answers rows).

Answers live in a signed cookie of the learner's own (settings.ANSWERS_COOKIE_NAME, django.core.signing), never in
a server-side session, as plain values:
    {"origin": "AU" | "none", "credentials": ["hlt50321"], "setting": "inpatient" | "outpatient" | "both" | "not-sure",
     "years": 2 | None, "destination": "GB"}
A key is present once its step is answered, and stays only while its value is still in the reference data:
`get_answers()` drops a value the reference data no longer has (a country or credential removed or renamed), so
that question is asked again instead of the plan link failing. The plan itself is never stored: `plan_query()`
turns the answers into the plan page's parameters (DESIGN.md), so the plan URL is a permalink with no personal
data.
"""

from django.conf import settings
from django.core import signing
from django.http import QueryDict
from django.urls import reverse

from advisor.learners.forms import MAX_YEARS
from advisor.learners.questions import NONE_OF_THESE, NOT_SURE, SETTING_CHOICES, STEPS, credential_choices
from pathways.choices import NEW_TO_CODING
from pathways.reference import load_reference

# The salt of the signed cookie: changing it would drop every learner's unfinished answers.
ANSWERS_SALT = "advisor.questionnaire.answers"


# --- Answers in the learner's cookie -------------------------------------------------------------------------


def get_answers(request, reference=None):
    """The answers so far, from the learner's cookie: {} when there is none, or it has expired or been altered.

    Only the answers the current reference data still allows (`current_answers()`): the cookie may be
    ANSWERS_COOKIE_AGE old, and reference data changes in between.
    """
    value = request.COOKIES.get(settings.ANSWERS_COOKIE_NAME)
    answers = {} if value is None else read_answers(value)
    if not answers:
        return answers
    return current_answers(answers, reference if reference is not None else load_reference())


def read_answers(value):
    try:
        answers = signing.loads(value, salt=ANSWERS_SALT, max_age=settings.ANSWERS_COOKIE_AGE)
    except signing.BadSignature:  # expired too
        return {}
    return answers if isinstance(answers, dict) else {}


def current_answers(answers, reference):
    """The answers without any value the reference data no longer has (a new dict).

    A dropped value leaves its step unanswered, so the flow asks that question again, rather than the check page
    linking to a plan that no longer exists. A credential list goes whole: the learner re-ticks what they hold
    from the current choices.
    """
    answers = dict(answers)
    countries = reference.countries
    origin = answers.get("origin")
    if "origin" in answers and not (origin == NEW_TO_CODING or (isinstance(origin, str) and origin in countries)):
        del answers["origin"]
    if "credentials" in answers:
        held = answers["credentials"]
        offered = {c.code for c in credential_choices(reference, answers)}
        if not isinstance(held, list) or not all(isinstance(code, str) and code in offered for code in held):
            del answers["credentials"]
    if "setting" in answers or "years" in answers:
        years = answers.get("years")
        setting_ok = answers.get("setting") in dict(SETTING_CHOICES)
        years_ok = years is None or (type(years) is int and 0 <= years <= MAX_YEARS)
        if not (setting_ok and years_ok):
            # One step asks both: ask it again whole.
            answers.pop("setting", None)
            answers.pop("years", None)
    if "destination" in answers and not (
        isinstance(answers["destination"], str) and answers["destination"] in countries
    ):
        del answers["destination"]
    return answers


def keep_answers(response, answers):
    """Store the answers in the learner's cookie for another ANSWERS_COOKIE_AGE seconds."""
    response.set_cookie(
        settings.ANSWERS_COOKIE_NAME,
        signing.dumps(answers, salt=ANSWERS_SALT, compress=True),
        max_age=settings.ANSWERS_COOKIE_AGE,
        secure=settings.ANSWERS_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def initial_for(step, answers):
    """What the form shows when the learner comes back to a step: their earlier answer."""
    if step == "credentials" and "credentials" in answers:
        return {"credentials": answers["credentials"] or [NONE_OF_THESE]}
    if step == "experience":
        years = answers.get("years")
        return {"setting": answers.get("setting"), "years": "" if years is None else str(years)}
    return {step: answers.get(step)}


def save_answer(answers, step, cleaned_data, reference):
    """The answers with this step's answer in them (a new dict)."""
    answers = dict(answers)
    if step == "origin":
        if answers.get("origin") != cleaned_data["origin"]:
            # Credentials of another country no longer apply: keep only those the new origin offers, and ask again
            # if none are left.
            valid = {c.code for c in credential_choices(reference, cleaned_data)}
            kept = [code for code in answers.get("credentials", []) if code in valid]
            answers.pop("credentials", None)
            if kept:
                answers["credentials"] = kept
        answers["origin"] = cleaned_data["origin"]
        if answers["origin"] == NEW_TO_CODING:
            answers.pop("credentials", None)
            answers.pop("years", None)
    elif step == "credentials":
        answers["credentials"] = cleaned_data["credentials"]
    elif step == "experience":
        answers["setting"] = cleaned_data["setting"]
        answers["years"] = cleaned_data.get("years")
    else:
        answers[step] = cleaned_data[step]
    return answers


# --- Step flow ------------------------------------------------------------------------------------------------


def applies(step, answers):
    return not (step == "credentials" and answers.get("origin") == NEW_TO_CODING)


def is_answered(step, answers):
    key = "setting" if step == "experience" else step
    return key in answers


def steps_for(answers):
    return [step for step in STEPS if applies(step, answers)]


def first_unanswered(answers):
    """The first step still to answer, or "check" when everything is answered."""
    for step in steps_for(answers):
        if not is_answered(step, answers):
            return step
    return "check"


def is_complete(answers):
    return first_unanswered(answers) == "check"


def is_started(answers):
    return bool(answers)


def is_reachable(step, answers):
    """A step can be shown once every step before it is answered (no jumping ahead)."""
    if not applies(step, answers):
        return False
    for earlier in steps_for(answers):
        if earlier == step:
            return True
        if not is_answered(earlier, answers):
            return False
    return False


def step_url(step, returning=False):
    if step == "check":
        return reverse("advisor:check")
    url = reverse("advisor:question", args=[step])
    return f"{url}?next=check" if returning else url


def next_url(step, answers, returning):
    """Where Continue leads. Coming from the check page, go back there unless a new question must be asked first."""
    if returning:
        pending = first_unanswered(answers)
        return step_url(pending, returning=pending != "check")
    later = steps_for(answers)
    following = later[later.index(step) + 1 :] if step in later else []
    return step_url(following[0] if following else "check")


def back_url(step, answers, returning):
    if returning:
        return step_url("check")
    earlier = steps_for(answers)
    index = earlier.index(step) if step in earlier else 0
    return step_url(earlier[index - 1]) if index > 0 else reverse("advisor:start")


# --- Presenting answers -----------------------------------------------------------------------------------------


def plan_query(answers):
    """The plan page's parameters (DESIGN.md) for these answers, as a query string."""
    query = QueryDict(mutable=True)
    query["origin"] = answers["origin"]
    if answers["origin"] != NEW_TO_CODING:
        query.setlist("credential", sorted(answers.get("credentials", [])))  # the plan's canonical URL
    query["setting"] = "both" if answers["setting"] == NOT_SURE else answers["setting"]
    if answers.get("years") is not None:
        query["years"] = str(answers["years"])
    query["destination"] = answers["destination"]
    return query.urlencode()


def answers_from_profile(profile):
    """Questionnaire answers from a plan's LearnerProfile, so a plan permalink can be edited."""
    if profile.origin is None:
        return {"origin": NEW_TO_CODING, "setting": profile.setting, "destination": profile.destination}
    return {
        "origin": profile.origin,
        "credentials": sorted(profile.credentials),
        "setting": profile.setting,
        "years": profile.years,
        "destination": profile.destination,
    }


def summary_rows(answers, reference):
    """Rows for the check-your-answers summary list: (question, answer lines, step, hidden context)."""
    countries = reference.countries
    origin = answers["origin"]
    rows = [
        {
            "key": "Where you trained",
            "value": ["Not trained as a coder yet"] if origin == NEW_TO_CODING else [_name(countries, origin)],
            "step": "origin",
            "context": "where you trained",
        }
    ]
    if applies("credentials", answers):
        names = {c.code: c.name for c in credential_choices(reference, answers)}
        held = [names.get(code, code) for code in answers.get("credentials", [])]
        rows.append(
            {
                "key": "Credentials you hold",
                "value": held or ["None of these"],
                "step": "credentials",
                "context": "the credentials you hold",
            }
        )
    rows.append(
        {
            "key": "Setting",
            "value": [dict(SETTING_CHOICES)[answers["setting"]]],
            "step": "experience",
            "context": "your setting",
        }
    )
    if origin != NEW_TO_CODING:
        years = answers.get("years")
        rows.append(
            {
                "key": "Years of coding experience",
                "value": ["Not provided" if years is None else str(years)],
                "step": "experience",
                "context": "your years of experience",
            }
        )
    rows.append(
        {
            "key": "Where you want to work",
            "value": [_name(countries, answers["destination"])],
            "step": "destination",
            "context": "where you want to work",
        }
    )
    for row in rows:
        row["change_url"] = step_url(row["step"], returning=True)
    return rows


def _name(countries, code):
    country = countries.get(code)
    return country.name if country else code
