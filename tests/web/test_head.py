"""HEAD is answered wherever GET is (require_safe): health checks and monitors that use it get the GET's status and
headers, and no body. Other methods are still refused."""

import pytest

from tests.enquiry_support import ENQUIRE_URL, enquiry_settings, make_enquiry, make_staff  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

# Headers that differ between any two requests: the time, and the CSRF cookie and per-response nonces.
PER_REQUEST = {"Date", "Expires", "Set-Cookie", "Content-Security-Policy", "Content-Length"}


def same_headers(get, head) -> None:
    assert {k: v for k, v in head.headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in get.headers.items() if k not in PER_REQUEST
    }


def assert_head_like_get(client, url, status=200):
    get = client.get(url)
    head = client.head(url)
    assert get.status_code == status, url
    assert head.status_code == status, url
    assert head.content == b""
    same_headers(get, head)
    return head


@pytest.fixture
def enquiry():
    return make_enquiry()


@pytest.fixture
def adviser(client):
    user = make_staff("ada", "Course advisers")
    client.force_login(user)
    return user


def test_healthz_answers_head_with_its_headers_and_no_body(client):
    head = assert_head_like_get(client, "/healthz")
    assert head["Content-Type"] == "application/json"
    assert "no-cache" in head["Cache-Control"]


def test_the_favicon_redirect_answers_head(client):
    head = assert_head_like_get(client, "/favicon.ico", status=301)
    assert head["Location"].endswith("favicon.ico")


@pytest.mark.parametrize("url", [ENQUIRE_URL, "/enquire/", "/privacy/"])
def test_public_enquiry_pages_answer_head(client, url):
    assert_head_like_get(client, url)


def test_the_confirmation_page_answers_head(client, enquiry):
    assert_head_like_get(client, f"/enquire/sent/{enquiry.reference}/")


def test_an_unknown_confirmation_is_404_for_head_too(client):
    assert client.head("/enquire/sent/E-ZZZZZZ/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/advisor/enquiry/dashboard/",
        "/admin/advisor/enquiry/dashboard/csv/",
        "/admin/advisor/enquiry/funnel/",
        "/admin/advisor/enquiry/funnel/csv/",
    ],
)
def test_the_dashboard_pages_answer_head_and_refuse_writes(client, url):
    client.force_login(make_staff("root", superuser=True))
    assert_head_like_get(client, url)
    assert client.post(url).status_code == 405


def test_the_reply_page_answers_head(client, adviser, enquiry):
    assert_head_like_get(client, f"/admin/advisor/enquiry/{enquiry.pk}/reply/")
    assert client.put(f"/admin/advisor/enquiry/{enquiry.pk}/reply/").status_code == 405


@pytest.mark.parametrize("url", ["/healthz", "/favicon.ico", "/privacy/", ENQUIRE_URL])
def test_other_methods_are_still_refused(client, url):
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405
