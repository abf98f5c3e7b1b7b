"""The start page, the question steps and check-your-answers, through Django's test client."""

import pytest
from django.conf import settings

from pathways.reference import load_reference

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def reference():
    return load_reference()


@pytest.fixture
def au_credential(reference):
    return reference.credentials_for("AU")[0].code


def answer(client, step, data, **kwargs):
    return client.post(f"/questions/{step}/", data, **kwargs)


def answer_all(client, origin="AU", credentials=("none",), setting="inpatient", years="2", destination="GB"):
    answer(client, "origin", {"origin": origin})
    if origin != "none":
        answer(client, "credentials", {"credentials": list(credentials)})
    if origin == "none":
        # Someone new to coding picks the destination first; the setting is asked only where it matters there.
        response = answer(client, "destination", {"destination": destination})
        return answer(client, "experience", {"setting": setting}) if "experience" in response["Location"] else response
    answer(client, "experience", {"setting": setting, "years": years})
    return answer(client, "destination", {"destination": destination})


# --- Start page -------------------------------------------------------------------------------------------------


def test_start_page_says_what_the_service_does_and_starts_the_questions(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Plan your move as a clinical coder</h1>" in html
    assert 'href="/questions/origin/"' in html
    assert "Start now" in html
    assert "Continue where you left off" not in html


def test_start_page_is_public_and_cacheable_without_an_answers_cookie(client):
    response = client.get("/")
    assert "public" in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    assert not response.cookies


def test_start_page_offers_to_continue_an_unfinished_questionnaire(client):
    answer(client, "origin", {"origin": "AU"})
    response = client.get("/")
    html = response.content.decode()
    assert "Continue where you left off" in html
    assert 'href="/questions/credentials/"' in html
    assert "private" in response["Cache-Control"]


def test_start_page_has_no_continue_link_once_every_question_is_answered(client):
    answer_all(client)
    assert "Continue where you left off" not in client.get("/").content.decode()


# --- Question pages ---------------------------------------------------------------------------------------------


def test_origin_question_is_the_h1_inside_the_legend_with_a_back_link_before_main(client):
    html = client.get("/questions/origin/").content.decode()
    assert '<legend class="form-label fs-6"> <h1 class="question-heading">Where did you train' in " ".join(html.split())
    assert html.index('class="back-link" href="/"') < html.index("<main")
    assert "novalidate" in html
    assert " required" not in html
    assert "I have not trained as a coder yet" in html
    assert ">Continue</button>" in html


def test_origin_offers_every_country_from_the_data(client, reference):
    html = client.get("/questions/origin/").content.decode()
    for country in reference.countries.values():
        assert f'value="{country.code}"' in html
        assert country.name in html


def test_question_pages_are_never_cached_and_vary_on_hx_request(client):
    response = client.get("/questions/origin/")
    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_valid_answer_redirects_with_303_to_the_next_step(client):
    response = answer(client, "origin", {"origin": "AU"})
    assert response.status_code == 303
    assert response["Location"] == "/questions/credentials/"


def test_new_to_coding_skips_the_credentials_question(client):
    response = answer(client, "origin", {"origin": "none"})
    assert response["Location"] == "/questions/destination/"
    assert client.get("/questions/credentials/")["Location"] == "/questions/destination/"


def test_someone_new_to_coding_is_asked_the_setting_only_where_the_destination_codes_settings_differently(client):
    answer(client, "origin", {"origin": "none"})
    assert answer(client, "destination", {"destination": "US"})["Location"] == "/questions/experience/"
    html = client.get("/questions/experience/").content.decode()
    assert "Which setting do you want to code in?" in html
    assert "Coders in the United States use different classifications in each" in html
    assert "How many years" not in html
    assert 'href="/questions/destination/"' in html
    assert answer(client, "experience", {"setting": "outpatient"})["Location"] == "/questions/check/"
    # Australia codes every setting it describes with the same classifications: no setting question.
    response = client.post("/questions/destination/?next=check", {"destination": "AU"})
    assert response["Location"] == "/questions/check/"
    check = client.get("/questions/check/").content.decode()
    assert "Setting" not in check and "setting=inpatient" in check


def test_the_setting_is_asked_only_of_coders_whose_origin_codes_settings_differently(client, reference):
    for origin in reference.countries:
        client.cookies.clear()
        answer(client, "origin", {"origin": origin})
        answer(client, "credentials", {"credentials": ["none"]})
        html = client.get("/questions/experience/").content.decode()
        assert ("Which setting do you code in?" in html) is reference.differs_by_setting(origin), origin
        assert "How many years" in html
    assert {c for c in reference.countries if reference.differs_by_setting(c)} == {"US", "CA"}


def test_missing_answer_shows_the_error_summary_and_the_same_words_inline(client):
    response = answer(client, "origin", {})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Where did you train" in html
    assert "There is a problem" in html
    assert '<a href="#id_origin_0">Select where you trained as a coder</a>' in html
    assert '<span class="visually-hidden">Error:</span> Select where you trained as a coder' in html
    assert html.index("There is a problem") < html.index('<h1 class="question-heading">')


def test_the_error_summary_is_a_focusable_region_named_by_its_heading(client):
    # aria-labelledby is not allowed on a plain <div> (Nu Html Checker): the region role makes the name valid.
    html = answer(client, "origin", {}).content.decode()
    assert (
        '<div id="error-summary" class="error-summary" role="region" tabindex="-1" '
        'aria-labelledby="error-summary-title">' in html
    )
    assert '<h2 id="error-summary-title"' in html


def test_errors_keep_every_answer(client):
    answer(client, "origin", {"origin": "US"})
    answer(client, "credentials", {"credentials": ["none"]})
    response = answer(client, "experience", {"setting": "outpatient", "years": "lots"})
    html = " ".join(response.content.decode().split())
    assert "Enter your years of experience as a whole number, like 3" in html
    assert 'value="outpatient" id="id_setting_1" checked' in html
    assert 'value="lots"' in html


def test_credentials_offers_only_the_origin_credentials_and_none_of_these(client, reference):
    answer(client, "origin", {"origin": "GB"})
    html = client.get("/questions/credentials/").content.decode()
    for credential in reference.credentials_for("GB"):
        assert f'value="{credential.code}"' in html
    for credential in reference.credentials_for("AU"):
        if credential.code not in {c.code for c in reference.credentials_for("GB")}:
            assert f'value="{credential.code}"' not in html
    assert "None of these" in html


def test_none_of_these_cannot_be_chosen_with_a_credential(client, au_credential):
    answer(client, "origin", {"origin": "AU"})
    response = answer(client, "credentials", {"credentials": [au_credential, "none"]})
    assert "Select None of these only if you hold none of the credentials listed" in response.content.decode()


def test_years_are_optional_and_not_sure_is_allowed(client, stored_answers):
    answer(client, "origin", {"origin": "US"})
    answer(client, "credentials", {"credentials": ["none"]})
    html = client.get("/questions/experience/").content.decode()
    assert "(optional)" in html
    assert "I’m not sure" in html
    response = answer(client, "experience", {"setting": "not-sure", "years": ""})
    assert response.status_code == 303
    assert stored_answers(client)["years"] is None
    assert stored_answers(client)["setting"] == "not-sure"


def test_a_step_reached_out_of_order_redirects_to_the_first_unanswered(client):
    assert client.get("/questions/destination/")["Location"] == "/questions/origin/"
    answer(client, "origin", {"origin": "AU"})
    assert client.get("/questions/destination/")["Location"] == "/questions/credentials/"
    response = answer(client, "destination", {"destination": "GB"})
    assert response.status_code == 303
    assert response["Location"] == "/questions/credentials/"


def test_an_unknown_step_is_not_found(client):
    assert client.get("/questions/favourite-colour/").status_code == 404


def test_check_page_redirects_until_every_question_is_answered(client):
    assert client.get("/questions/check/")["Location"] == "/questions/origin/"


# --- htmx -------------------------------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_page_partial_with_its_title(client):
    full = client.get("/questions/origin/").content.decode()
    partial = client.get("/questions/origin/", headers=HX).content.decode()
    assert "<html" in full
    assert "<html" not in partial
    assert partial.lstrip().startswith("<title>Where did you train")
    assert '<main id="main" tabindex="-1">' in partial
    assert 'class="back-link"' in partial


def test_history_restore_request_gets_the_full_page(client):
    response = client.get("/questions/origin/", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_invalid_htmx_post_returns_200_with_the_partial_and_errors(client):
    response = answer(client, "origin", {}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "There is a problem" in html
    assert "<title>Error: " in html


def test_valid_htmx_post_redirects_with_303_like_a_plain_form(client):
    response = answer(client, "origin", {"origin": "AU"}, headers=HX)
    assert response.status_code == 303
    assert response["Location"] == "/questions/credentials/"


def test_forms_post_and_enhance_with_hx_post_to_the_same_url(client):
    html = client.get("/questions/origin/").content.decode()
    assert 'method="post" action="/questions/origin/"' in html
    assert 'hx-post="/questions/origin/"' in html
    assert 'hx-target="#page"' in html
    assert 'hx-push-url="true"' in html
    assert "hx-disabled-elt=" in html
    assert "csrfmiddlewaretoken" in html


def test_base_layout_has_htmx_config_live_region_skip_link_and_no_inline_script_or_style(client):
    html = client.get("/questions/origin/").content.decode()
    assert '"allowEval":false' in html
    assert '"historyCacheSize":0' in html
    assert '"historyRestoreAsHxRequest":false' in html
    assert '"includeIndicatorStyles":false' in html
    assert 'id="status" class="visually-hidden" role="status" aria-live="polite"' in html
    assert 'class="skip-link" href="#main"' in html
    assert "htmx-2.min.js" in html
    assert "<script>" not in html
    assert " style=" not in html
    assert "<style" not in html


# --- Check your answers -----------------------------------------------------------------------------------------


def test_check_page_lists_answers_with_change_links_that_return_to_it(client, reference):
    answer_all(client, origin="AU", credentials=("none",), setting="inpatient", years="", destination="GB")
    response = client.get("/questions/check/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert reference.countries["AU"].name in html
    assert reference.countries["GB"].name in html
    assert "Not provided" in html
    assert 'href="/questions/origin/?next=check">Change<span class="visually-hidden"> where you trained</span>' in html
    assert "/plan/?origin=AU&amp;setting=inpatient&amp;destination=GB" in html


def test_last_answer_leads_to_the_check_page(client):
    assert answer_all(client)["Location"] == "/questions/check/"


def test_changing_an_answer_from_the_check_page_returns_there(client, stored_answers):
    answer_all(client)
    html = client.get("/questions/destination/?next=check").content.decode()
    assert 'class="back-link" href="/questions/check/"' in html
    assert 'action="/questions/destination/?next=check"' in html
    response = client.post("/questions/destination/?next=check", {"destination": "CA"})
    assert response.status_code == 303
    assert response["Location"] == "/questions/check/"
    assert stored_answers(client)["destination"] == "CA"


def test_changing_the_origin_clears_credentials_and_asks_them_again(client, stored_answers, au_credential):
    answer_all(client, origin="AU", credentials=(au_credential,))
    response = client.post("/questions/origin/?next=check", {"origin": "GB"})
    assert response["Location"] == "/questions/credentials/?next=check"
    assert "credentials" not in stored_answers(client)
    html = client.get("/questions/credentials/?next=check").content.decode()
    assert f'value="{au_credential}"' not in html


def test_a_plan_link_can_be_edited_through_the_check_page(client, stored_answers):
    response = client.get("/questions/check/?origin=us&setting=outpatient&destination=nz&years=4")
    assert response["Location"] == "/questions/check/"
    assert stored_answers(client) == {
        "origin": "US",
        "credentials": [],
        "setting": "outpatient",
        "years": 4,
        "destination": "NZ",
    }
    # Where the setting changes nothing (an Australian coder), the link's setting is not kept as an answer.
    client.get("/questions/check/?origin=au&setting=outpatient&destination=nz&years=4")
    assert stored_answers(client) == {"origin": "AU", "credentials": [], "years": 4, "destination": "NZ"}
    assert client.get("/questions/check/").status_code == 200


# --- Budgets ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/questions/origin/", "/questions/credentials/", "/questions/experience/", "/questions/check/"]
)
def test_each_page_renders_in_at_most_six_queries(client, django_assert_max_num_queries, url):
    answer_all(client)
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(url, headers=HX).status_code == 200


def test_a_post_uses_at_most_six_queries(client, django_assert_max_num_queries):
    answer(client, "origin", {"origin": "AU"})
    with django_assert_max_num_queries(6):
        assert answer(client, "credentials", {"credentials": ["none"]}).status_code == 303


def test_favicon_redirects_to_the_static_file(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico")


# --- The answers cookie -----------------------------------------------------------------------------------------


def test_answers_live_in_a_signed_httponly_cookie_for_a_week_and_no_session_is_written(client, stored_answers):
    from django.contrib.sessions.models import Session

    response = answer(client, "origin", {"origin": "AU"})
    cookie = response.cookies[settings.ANSWERS_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == 7 * 24 * 3600
    # Signed (value:timestamp:signature), its JSON encoded: no brace or quote of the answers shows through. (A bare
    # "AU" can occur by chance in the base64 signature.)
    assert cookie.value.count(":") >= 2 and not set('{"') & set(cookie.value), "signed, not readable at a glance"
    assert stored_answers(client) == {"origin": "AU"}
    assert not Session.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_an_altered_answers_cookie_counts_as_no_answers(client):
    answer(client, "origin", {"origin": "AU"})
    value = client.cookies[settings.ANSWERS_COOKIE_NAME].value
    client.cookies[settings.ANSWERS_COOKIE_NAME] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert client.get("/questions/credentials/")["Location"] == "/questions/origin/"
    assert client.get("/").status_code == 200


def test_answers_cookie_is_secure_and_host_prefixed_under_https(client, settings):
    settings.ANSWERS_COOKIE_NAME, settings.ANSWERS_COOKIE_SECURE = "__Host-answers", True
    response = client.post("/questions/origin/", {"origin": "AU"}, secure=True)
    cookie = response.cookies["__Host-answers"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert client.get("/questions/credentials/", secure=True).status_code == 200
