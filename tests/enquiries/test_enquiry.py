"""The enquiry form at /enquire/: validation that keeps every answer, idempotent submission,
quarantine for bots, the shared rate limit, and the confirmation page."""

import html
import json
import logging
import re
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from advisor.enquiries.models import EmailDelivery, Enquiry, RateLimitBucket
from tests.enquiry_support import (  # noqa: F401 (fixtures)
    ENQUIRE_URL,
    PERSONAL,
    PHONE_E164,
    PLAN_QUERY,
    enquiry_settings,
    form_data,
    sqlite_file_env,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


@pytest.fixture(autouse=True)
def no_personal_data_in_logs(caplog):
    """Every test here also proves that nothing it submitted reached the logs."""
    caplog.set_level(logging.DEBUG)
    yield
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for value in [*PERSONAL.values(), PHONE_E164, "412345678"]:
        assert value not in logged


def sent(client, data, url=ENQUIRE_URL, **kwargs):
    return client.post(url, data, **kwargs)


def body(response) -> str:
    return html.unescape(response.content.decode())


def test_form_page_summarises_the_plan_and_asks_nothing_the_questions_answered(client):
    response = client.get(ENQUIRE_URL)
    page = body(response)
    assert response.status_code == 200
    assert "Australia to United Kingdom: high difficulty" in page
    # The same time the plan page gives: the NCCQ period, with the standards course inside it.
    assert "Expected time: 2 to 3 years." in page
    assert "First step: Get a coding job first." in page
    for asked_already in ('name="origin"', 'name="destination"', 'name="setting"', 'name="years"'):
        assert asked_already not in page
    # The plan parameters ride along in the form's address.
    assert f'action="/enquire/?{PLAN_QUERY}"' in page


def test_form_page_offers_the_information_pack_of_the_recommended_credential(client):
    page = body(client.get(ENQUIRE_URL))
    assert re.search(r"Send me the course information pack for [^<]*NHS", page) or "information pack for" in page
    assert 'name="info_pack"' in page


def test_form_has_a_collection_notice_and_unticked_separate_consents(client):
    page = body(client.get(ENQUIRE_URL))
    assert "How we use your details" in page
    assert 'href="/privacy/"' in page
    consent = re.search(r"<input[^>]*name=\"contact_consent\"[^>]*>", page).group(0)
    marketing = re.search(r"<input[^>]*name=\"marketing_opt_in\"[^>]*>", page).group(0)
    assert "checked" not in consent and "checked" not in marketing


def test_form_uses_server_side_validation_only_and_carries_the_hidden_fields(client):
    page = body(client.get(ENQUIRE_URL))
    assert "novalidate" in page
    assert " required" not in page
    assert "*" not in re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S).split("<main", 1)[1]
    submission_id = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', page).group(1)
    assert uuid.UUID(submission_id)
    assert 'name="form_token"' in page
    honeypot = re.search(r"<input[^>]*name=\"extra_reference\"[^>]*>", page).group(0)
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    assert "Leave this empty" in page


def test_each_form_page_gets_a_fresh_submission_id(client):
    first, second = body(client.get(ENQUIRE_URL)), body(client.get(ENQUIRE_URL))
    pattern = r'name="submission_id" value="([0-9a-f-]{36})"'
    assert re.search(pattern, first).group(1) != re.search(pattern, second).group(1)


def test_sending_saves_the_enquiry_with_its_plan_and_consent_and_redirects_to_the_confirmation(client, settings):
    response = sent(client, form_data(marketing_opt_in="on", info_pack="on"))
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    assert response["Location"] == f"/enquire/sent/{enquiry.reference}/"
    assert re.fullmatch(r"E-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}", enquiry.reference)
    assert enquiry.phone == PHONE_E164
    assert enquiry.email == PERSONAL["email"]
    assert enquiry.plan_snapshot["destination"]["code"] == "GB"
    assert enquiry.plan_params == {"query": "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"}
    assert enquiry.origin_code == "AU" and enquiry.destination_code == "GB"
    assert enquiry.reference_version
    assert enquiry.notice_version == settings.CURRENT_NOTICE_VERSION
    assert enquiry.contact_consent_at and enquiry.marketing_opt_in and enquiry.marketing_consent_at
    assert enquiry.info_pack == enquiry.plan_snapshot["credentials"][0]["code"]
    assert not enquiry.is_spam and enquiry.status == "new"
    assert len(enquiry.ip_hash) == 64 and "127.0.0.1" not in enquiry.ip_hash
    assert EmailDelivery.objects.filter(enquiry=enquiry, sent_at__isnull=True).count() == 1


def test_marketing_opt_in_is_optional(client):
    assert sent(client, form_data()).status_code == 303
    enquiry = Enquiry.objects.get()
    assert not enquiry.marketing_opt_in and enquiry.marketing_consent_at is None


def test_email_domain_is_lower_cased_and_spaces_trimmed(client):
    sent(client, form_data(email="  Zebedee.Q@EXAMPLE.org "))
    assert Enquiry.objects.get().email == "Zebedee.Q@example.org"


def test_a_general_enquiry_without_a_plan_works_too(client):
    page = body(client.get("/enquire/"))
    assert "answer a few questions first" in page
    assert 'name="info_pack"' not in page
    response = sent(client, form_data(), url="/enquire/")
    assert response.status_code == 303
    assert Enquiry.objects.get().plan_snapshot == {}


def test_a_bad_plan_address_is_a_400_naming_each_parameter_as_the_plan_page_does(client):
    query = "?origin=XX&years=-1&destination=GB"
    response = client.get("/enquire/" + query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Where you trained:" in html and "Years of experience:" in html
    plan_page = client.get("/plan/" + query).content.decode()
    assert html.split("<main", 1)[1] == plan_page.split("<main", 1)[1]


INVALID = [
    ({"name": ""}, "Enter your full name"),
    ({"email": "not-an-email"}, "Enter an email address in the correct format"),
    ({"email": ""}, "Enter your email address"),
    ({"preferred_contact": None}, "Select how an adviser should contact you"),
    ({"preferred_contact": "carrier-pigeon"}, "Select a valid choice"),
    ({"phone": "12"}, "Enter a phone number, like"),
    ({"phone": ""}, "Enter a phone number, so an adviser can call you"),
    ({"message": "x" * 2001}, "2,000 characters or fewer"),
    ({"contact_consent": None}, "Agree to be contacted"),
    ({"name": "a\x00b"}, "Null characters are not allowed"),
]


@pytest.mark.parametrize(("overrides", "error"), INVALID)
def test_each_invalid_answer_is_explained_and_every_answer_is_kept(client, overrides, error):
    data = form_data(**overrides)
    response = sent(client, data)
    page = body(response)
    assert response.status_code == 200
    assert Enquiry.objects.count() == 0
    assert "<title>Error: " in page
    assert "There is a problem" in page
    assert page.count(error) >= 2  # in the summary and next to the field
    for field in ("name", "email", "phone", "best_time", "message"):
        if field not in overrides and field in data:
            assert data[field] in page, field
    assert f'value="{data["submission_id"]}"' in page
    assert response["Cache-Control"].count("no-store") == 1


# --- Control characters in what a learner types --------------------------------------------------------------

CONTROL_MESSAGE = "must not contain control characters (invisible characters that copying and pasting can bring in)"


@pytest.mark.parametrize(
    ("field", "typed", "error"),
    [
        ("name", "Bob\r\nBcc: someone@example.org", "Full name must be on one line"),
        ("name", "Bob\nSmith", "Full name must be on one line"),
        ("name", "Bob\u2028Smith", "Full name must be on one line"),
        ("name", "Bob\x07Smith", f"Full name {CONTROL_MESSAGE}"),
        ("name", "Bob\x9bSmith", f"Full name {CONTROL_MESSAGE}"),  # a C1 control
        ("best_time", "Mornings\r\nafter 9", "Best time to call must be on one line"),
        ("best_time", "Mornings\x1b[31m", f"Best time to call {CONTROL_MESSAGE}"),
        ("message", "Hello\x00there", "Null characters are not allowed"),  # Django's own, before ours
        ("message", "Hello\x1b[2Jthere", f"Your question {CONTROL_MESSAGE}"),
        ("message", "Hello\x7fthere", f"Your question {CONTROL_MESSAGE}"),
    ],
    ids=["crlf-name", "lf-name", "line-separator-name", "bell-name", "c1-name", "crlf-time", "escape-time",
         "nul-message", "escape-message", "delete-message"],
)  # fmt: skip
def test_control_characters_are_refused_next_to_the_field_and_everything_typed_is_kept(client, field, typed, error):
    data = form_data(**{field: typed})
    response = sent(client, data)
    page = body(response)
    assert response.status_code == 200 and Enquiry.objects.count() == 0
    assert "There is a problem" in page
    assert re.search(rf'id="error_1_id_{field}"><span class="visually-hidden">Error:</span> {re.escape(error)}', page)
    for name in ("name", "email", "phone", "best_time", "message"):  # what was typed, this field's too
        assert data[name] in page, name


def test_bidi_controls_and_zero_width_characters_are_removed_without_a_word(client):
    data = form_data(
        name="\u202eAda\u200b Love\u2066lace\u2069\u200f",
        best_time="\ufeffMornings\u061c, \u202aafter\u202c 9\u2060",
        message="\u200eI trained\u202d in Wollongong\u2067.",
    )
    assert sent(client, data).status_code == 303
    enquiry = Enquiry.objects.get()
    assert (enquiry.name, enquiry.best_time, enquiry.message) == (
        "Ada Lovelace",
        "Mornings, after 9",
        "I trained in Wollongong.",
    )


def test_joiners_that_spell_words_are_kept(client):
    # Persian writes some names with a zero-width non-joiner; emoji and Indic scripts use the joiner.
    name, message = "\u0645\u06cc\u200c\u0631\u0636\u0627", "\U0001f469\u200d\U0001f4bb"
    assert sent(client, form_data(name=name, message=message)).status_code == 303
    enquiry = Enquiry.objects.get()
    assert (enquiry.name, enquiry.message) == (name, message)


def test_the_question_keeps_its_line_breaks_as_line_feeds(client):
    message = "First line\r\nSecond line\rThird\u2028Fourth\x0bFifth\n\tIndented"
    assert sent(client, form_data(message=message)).status_code == 303
    assert Enquiry.objects.get().message == "First line\nSecond line\nThird\nFourth\nFifth\n\tIndented"


def test_a_tab_in_a_single_line_field_becomes_a_space(client):
    assert sent(client, form_data(best_time="Mon\tTue")).status_code == 303
    assert Enquiry.objects.get().best_time == "Mon Tue"


def test_a_name_of_nothing_but_invisible_characters_is_asked_for(client):
    page = body(sent(client, form_data(name="\u202e\u200b\u2066")))
    assert Enquiry.objects.count() == 0
    assert 'id="error_1_id_name"><span class="visually-hidden">Error:</span> Enter your full name' in page


def test_phone_is_optional_when_email_is_preferred(client):
    response = sent(client, form_data(preferred_contact="email", phone=""))
    assert response.status_code == 303
    assert Enquiry.objects.get().phone == ""


def test_phone_numbers_are_accepted_in_any_common_format(client):
    for number in ("(04) 1234 5678", "+61 412-345-678", "0412345678"):
        sent(client, form_data(phone=number))
    assert set(Enquiry.objects.values_list("phone", flat=True)) == {"+61412345678"}


def test_a_foreign_number_with_its_country_code_is_kept_in_e164(client):
    sent(client, form_data(phone="+44 7911 123456"))
    assert Enquiry.objects.get().phone == "+447911123456"


def test_sending_the_same_form_twice_creates_one_enquiry_and_the_same_confirmation(client):
    data = form_data()
    first, second = sent(client, data), sent(client, data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Enquiry.objects.count() == 1
    assert EmailDelivery.objects.count() == 1


def test_back_and_resubmit_after_an_error_still_lands_on_the_same_enquiry(client):
    data = form_data()
    assert sent(client, {**data, "name": ""}).status_code == 200
    first = sent(client, data)
    again = sent(client, data)
    assert first["Location"] == again["Location"]
    assert Enquiry.objects.count() == 1


def test_workflow_fields_cannot_be_set_from_the_form(client):
    sent(client, form_data(status="closed", is_spam="on", assigned_to="1", reference="E-AAAAAA"))
    enquiry = Enquiry.objects.get()
    assert enquiry.status == "new" and not enquiry.is_spam and enquiry.assigned_to is None
    assert enquiry.reference != "E-AAAAAA"


def test_confirmation_page_shows_the_reference_and_next_steps_but_no_personal_data(client):
    location = sent(client, form_data())["Location"]
    response = client.get(location)
    page = body(response)
    reference = Enquiry.objects.get().reference
    assert response.status_code == 200
    assert reference in page
    assert "within 2 business days" in page
    assert f"/plan/?{PLAN_QUERY}" in page
    for value in [*PERSONAL.values(), PHONE_E164]:
        assert value not in page
    assert "no-store" in response["Cache-Control"]


def test_confirmation_page_for_an_unknown_reference_is_404(client):
    assert client.get("/enquire/sent/E-ZZZZZZ/").status_code == 404


def test_a_filled_honeypot_is_quarantined_not_rejected(client, mailoutbox):
    response = sent(client, form_data(extra_reference="http://spam.example"))
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    assert enquiry.is_spam and enquiry.spam_reason == "honeypot"
    assert not EmailDelivery.objects.exists()
    assert client.get(response["Location"]).status_code == 200  # the bot sees the usual confirmation


def test_a_form_sent_faster_than_a_person_could_is_quarantined(client):
    response = sent(client, form_data(age_seconds=0.5))
    assert response.status_code == 303
    enquiry = Enquiry.objects.get()
    assert enquiry.is_spam and enquiry.spam_reason == "too fast"
    assert not EmailDelivery.objects.exists()


def test_an_expired_form_comes_back_with_every_answer_and_a_fresh_token(client, settings):
    data = form_data(age_seconds=settings.ENQUIRY_FORM_MAX_AGE + 60)
    response = sent(client, data)
    page = body(response)
    assert response.status_code == 200
    assert Enquiry.objects.count() == 0
    assert "This form was open for a long time" in page
    for field in ("name", "email", "phone", "best_time", "message"):
        assert data[field] in page
    new_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    assert new_token != data["form_token"]
    # The fresh token starts a new clock: sending again after a while goes through.
    settings.ENQUIRY_MIN_SECONDS = 0
    assert sent(client, {**data, "form_token": new_token}).status_code == 303


def test_a_forged_or_swapped_time_token_is_treated_like_an_expired_form(client):
    data = form_data()
    other = form_data()
    response = sent(client, {**data, "form_token": other["form_token"]})
    assert response.status_code == 200
    assert "This form was open for a long time" in body(response)
    assert sent(client, {**data, "form_token": "garbage"}).status_code == 200
    assert Enquiry.objects.count() == 0


def test_over_the_rate_limit_answers_429_with_the_answers_kept_and_other_ways_to_get_in_touch(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(2, 600)]
    settings.OPERATOR = {**settings.OPERATOR, "phone": "1300 000 000", "email": "hello@provider.example"}
    assert sent(client, form_data()).status_code == 303
    assert sent(client, form_data()).status_code == 303
    data = form_data()
    response = sent(client, data)
    page = body(response)
    assert response.status_code == 429
    assert Enquiry.objects.count() == 2
    assert "has not been sent yet" in page
    assert "1300 000 000" in page and "hello@provider.example" in page
    for field in ("name", "email", "phone", "best_time", "message"):
        assert data[field] in page
    assert "<title>Error: " in page
    assert 'role="region" tabindex="-1" aria-labelledby="error-summary-title"' in page


def test_the_rate_limit_is_per_client_address(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert sent(client, form_data(), REMOTE_ADDR="203.0.113.1").status_code == 303
    assert sent(client, form_data(), REMOTE_ADDR="203.0.113.1").status_code == 429
    assert sent(client, form_data(), REMOTE_ADDR="203.0.113.2").status_code == 303


def test_the_rate_limit_keys_ipv6_clients_on_their_64_block(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert sent(client, form_data(), REMOTE_ADDR="2001:db8:1:2::1").status_code == 303
    assert sent(client, form_data(), REMOTE_ADDR="2001:db8:1:2::ffff").status_code == 429


def test_the_rate_limit_store_holds_no_ip_address(client):
    sent(client, form_data(), REMOTE_ADDR="198.51.100.77")
    assert RateLimitBucket.objects.exists()
    assert not RateLimitBucket.objects.filter(key__contains="198.51").exists()


def test_a_resubmission_is_not_counted_against_the_rate_limit(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    data = form_data()
    assert sent(client, data).status_code == 303
    assert sent(client, data).status_code == 303  # the same enquiry again, not a new one


def test_htmx_posts_with_errors_get_the_page_fragment_with_status_200(client):
    response = sent(client, form_data(name=""), headers={"HX-Request": "true"})
    page = body(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert "There is a problem" in page
    assert "<title>Error: " in page


def test_get_on_the_form_is_not_stored_by_shared_caches_and_varies_on_htmx(client):
    response = client.get(ENQUIRE_URL)
    assert "private" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_other_methods_are_refused(client):
    assert client.put(ENQUIRE_URL).status_code == 405


def test_posting_without_a_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post(ENQUIRE_URL, form_data())
    assert response.status_code == 403
    assert Enquiry.objects.count() == 0


# SQLite's in-memory test database is shared between threads through "shared cache" mode, whose table
# locks fail at once (SQLITE_LOCKED) instead of waiting for the busy timeout. That says nothing about the
# real deployment, so on SQLite the same race runs in a subprocess against a WAL database file below.
needs_server_database = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="in-memory SQLite test database; see the *_on_a_sqlite_file test"
)


def at_once(count: int, action) -> None:
    """Run `action` in `count` threads released together, each on (and then closing) its own connection."""
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            action()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@needs_server_database
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_of_one_form_create_one_enquiry(settings):
    """20 threads, each with its own database connection, post the same form at the same moment.

    (A general enquiry, without a plan: transactional tests empty the database, reference data included.)"""
    settings.ENQUIRY_RATE_LIMITS = [(1000, 600)]
    data = form_data()
    results = []

    def post():
        response = Client().post("/enquire/", data)
        results.append((response.status_code, response.get("Location")))

    at_once(20, post)
    assert Enquiry.objects.count() == 1
    assert EmailDelivery.objects.count() == 1
    reference = Enquiry.objects.get().reference
    assert results == [(303, f"/enquire/sent/{reference}/")] * 20


@needs_server_database
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_different_enquiries_are_all_saved(settings):
    settings.ENQUIRY_RATE_LIMITS = [(1000, 600)]
    forms = [form_data() for _ in range(20)]
    statuses = []
    at_once(20, lambda: statuses.append(Client().post("/enquire/", forms.pop()).status_code))
    assert statuses == [303] * 20
    assert Enquiry.objects.count() == 20
    assert len(set(Enquiry.objects.values_list("reference", flat=True))) == 20


RACE_SCRIPT = """
import json, threading, time, uuid
from django.db import connection
from django.test import Client
from advisor.enquiries.forms import make_token
from advisor.enquiries.models import Enquiry
same = uuid.UUID("%s")
barrier = threading.Barrier(20)
results = []
def post(i):
    try:
        sid = same if i %% 2 == 0 else uuid.uuid4()
        data = {"name": "Race", "email": "race@example.org", "preferred_contact": "email", "contact_consent": "on",
                "submission_id": str(sid), "form_token": make_token(sid, time.time() - 30)}
        barrier.wait()
        r = Client().post("/enquire/", data)
        results.append([str(sid) == str(same), r.status_code, r.get("Location")])
    finally:
        connection.close()
threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"results": results, "count": Enquiry.objects.filter(name="Race").count(),
                  "same": Enquiry.objects.filter(submission_id=same).count()}))
"""


def test_twenty_simultaneous_submissions_on_a_sqlite_file_in_wal_mode(sqlite_file_env):  # noqa: F811
    """The default deployment: 10 threads send one form, 10 send their own, all at once, on one SQLite file."""
    from tests.enquiry_support import run_manage

    same = uuid.uuid4()
    out = run_manage(sqlite_file_env, "shell", "-c", RACE_SCRIPT % same).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["same"] == 1
    assert report["count"] == 11  # one for the shared form, ten others
    assert all(status == 303 for _, status, _ in report["results"])
    locations = {location for is_same, _, location in report["results"] if is_same}
    assert len(locations) == 1


TWO_PROCESS_SCRIPT = """
import json, time, uuid
from django.test import Client
from advisor.enquiries.forms import make_token
start = %f
time.sleep(max(0, start - time.time()))
statuses = []
for i in range(5):
    sid = uuid.uuid4()
    data = {"name": "Proc", "email": "proc@example.org", "preferred_contact": "email", "contact_consent": "on",
            "submission_id": str(sid), "form_token": make_token(sid, time.time() - 30)}
    statuses.append(Client(REMOTE_ADDR="192.0.2.77").post("/enquire/", data).status_code)
print(json.dumps(statuses))
"""


def test_the_rate_limit_holds_across_two_server_processes(sqlite_file_env):  # noqa: F811
    """Two separate Python processes (as two gunicorn workers would be) share one SQLite file: together they
    may accept only the limit, 5 in 10 minutes, however their requests interleave. A per-process counter
    (LocMem) would accept 10."""
    import subprocess
    import sys
    import time

    from tests.enquiry_support import ROOT

    env = {**sqlite_file_env, "ENQUIRY_RATE_LIMIT": "5"}
    script = TWO_PROCESS_SCRIPT % (time.time() + 3)
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    statuses = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        statuses += json.loads(out.strip().splitlines()[-1])
    assert sorted(statuses) == [303] * 5 + [429] * 5


@needs_server_database
@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_counter_is_exact_under_concurrent_connections():
    """On PostgreSQL: 10 threads, each with its own connection, hit the same counter at once."""
    from advisor.enquiries import ratelimit

    allowed = []
    at_once(10, lambda: allowed.append(ratelimit.hit("concurrent", limit=5, seconds=600)))
    assert sorted(allowed) == [False] * 5 + [True] * 5


def test_an_empty_post_links_its_error_summary_only_to_fields_a_person_can_reach(client):
    page = body(sent(client, {}))
    summary = page[page.index('id="error-summary"') : page.index("</ul>", page.index('id="error-summary"'))]
    assert 'href="#id_name"' in summary
    for hidden in ("submission_id", "form_token", "extra_reference"):
        assert f'href="#id_{hidden}"' not in summary
