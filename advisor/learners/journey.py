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
from advisor.learners.questions import (
    NEWCOMER_STEPS,
    NONE_OF_THESE,
    NOT_SURE,
    SETTING_CHOICES,
    STEPS,
    asks_setting,
    credential_choices,
)
from pathways import rules
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
    if "destination" in answers and not (
        isinstance(answers["destination"], str) and answers["destination"] in countries
    ):
        del answers["destination"]
    if "setting" in answers and not asks_setting(answers, reference):
        del answers["setting"]  # the classifications the learner's answers point at no longer differ by setting
    if "setting" in answers or "years" in answers:
        years = answers.get("years")
        setting_ok = "setting" not in answers or answers["setting"] in dict(SETTING_CHOICES)
        years_ok = years is None or (type(years) is int and 0 <= years <= MAX_YEARS)
        if not (setting_ok and years_ok):
            # One step asks both: ask it again whole.
            answers.pop("setting", None)
            answers.pop("years", None)
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
        if "setting" in cleaned_data:
            answers["setting"] = cleaned_data["setting"]
        if answers["origin"] != NEW_TO_CODING:
            answers["years"] = cleaned_data.get("years")
    else:
        answers[step] = cleaned_data[step]
    return answers


# --- Step flow ------------------------------------------------------------------------------------------------


def applies(step, answers, reference):
    if answers.get("origin") == NEW_TO_CODING:
        # Someone new to coding has nothing to hold; their setting matters only where the destination's does.
        return step != "credentials" and (step != "experience" or asks_setting(answers, reference))
    return True


def is_answered(step, answers, reference):
    if step == "experience":
        if answers.get("origin") == NEW_TO_CODING:
            return "setting" in answers
        return "years" in answers and ("setting" in answers or not asks_setting(answers, reference))
    return step in answers


def steps_for(answers, reference):
    """The questions for these answers, in order: someone new to coding chooses where to work before the setting,
    since only the destination's classifications can make it matter."""
    order = NEWCOMER_STEPS if answers.get("origin") == NEW_TO_CODING else STEPS
    return [step for step in order if applies(step, answers, reference)]


def first_unanswered(answers, reference):
    """The first step still to answer, or "check" when everything is answered."""
    for step in steps_for(answers, reference):
        if not is_answered(step, answers, reference):
            return step
    return "check"


def is_complete(answers, reference):
    return first_unanswered(answers, reference) == "check"


def is_started(answers):
    return bool(answers)


def is_reachable(step, answers, reference):
    """A step can be shown once every step before it is answered (no jumping ahead)."""
    if not applies(step, answers, reference):
        return False
    for earlier in steps_for(answers, reference):
        if earlier == step:
            return True
        if not is_answered(earlier, answers, reference):
            return False
    return False


def step_url(step, returning=False):
    if step == "check":
        return reverse("advisor:check")
    url = reverse("advisor:question", args=[step])
    return f"{url}?next=check" if returning else url


def next_url(step, answers, returning, reference):
    """Where Continue leads. Coming from the check page, go back there unless a new question must be asked first."""
    if returning:
        pending = first_unanswered(answers, reference)
        return step_url(pending, returning=pending != "check")
    later = steps_for(answers, reference)
    following = later[later.index(step) + 1 :] if step in later else []
    return step_url(following[0] if following else "check")


def back_url(step, answers, returning, reference):
    if returning:
        return step_url("check")
    earlier = steps_for(answers, reference)
    index = earlier.index(step) if step in earlier else 0
    return step_url(earlier[index - 1]) if index > 0 else reverse("advisor:start")


# --- Presenting answers -----------------------------------------------------------------------------------------


def plan_query(answers, reference):
    """The plan page's parameters (DESIGN.md) for these answers, as a query string: the plan's canonical URL."""
    query = QueryDict(mutable=True)
    query["origin"] = answers["origin"]
    if answers["origin"] != NEW_TO_CODING:
        query.setlist("credential", sorted(answers.get("credentials", [])))
    setting = answers.get("setting", "both")
    origin = None if answers["origin"] == NEW_TO_CODING else answers["origin"]
    query["setting"] = rules.plan_setting(
        reference, origin, answers["destination"], "both" if setting == NOT_SURE else setting
    )
    if answers.get("years") is not None:
        query["years"] = str(answers["years"])
    query["destination"] = answers["destination"]
    return query.urlencode()


def answers_from_profile(profile, reference):
    """Questionnaire answers from a plan's LearnerProfile, so a plan permalink can be edited."""
    answers = {"origin": profile.origin or NEW_TO_CODING}
    if profile.origin is not None:
        answers |= {"credentials": sorted(profile.credentials), "years": profile.years}
    if rules.asks_setting(reference, profile.origin, profile.destination):
        answers["setting"] = profile.setting
    return answers | {"destination": profile.destination}


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
    if applies("credentials", answers, reference):
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
    if "setting" in answers:
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
