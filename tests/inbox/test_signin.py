"""Admin sign-in: lockouts for one username and for one address, Retry-After, and staff sessions that end
after a working day without an admin request."""

import time

import pytest
from django.conf import settings as django_settings

from advisor.inbox.signin import STAFF_SEEN_KEY
from tests.enquiry_support import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Password-1"


def sign_in(client, username, password="wrong", address="203.0.113.9"):
    return client.post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_one_password_tried_against_many_usernames_from_one_address_is_paused(client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    make_staff("adviser", "Course advisers")
    for n in range(7):
        assert sign_in(client, f"guess{n}").status_code == 200
    assert sign_in(client, "guess7").status_code == 429
    # Every username from that address is paused, the real one included; another address is not.
    assert sign_in(client, "adviser", PASSWORD).status_code == 429
    assert sign_in(client, "adviser", PASSWORD, address="198.51.100.20").status_code == 302


def test_a_colleague_signing_in_does_not_wipe_the_count_of_guesses_from_the_address(client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    make_staff("colleague", "Course advisers")
    for n in range(4):
        sign_in(client, f"guess{n}")
    assert sign_in(client, "colleague", PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "guess4")
    assert sign_in(client, "guess5").status_code == 429


def test_the_lockout_says_when_to_try_again_with_retry_after(client, settings):
    make_staff("target", "Course advisers")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "target")
    response = sign_in(client, "target")
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    page = response.content.decode()
    assert "Sign-in paused" in page
    assert "paused for 15 minutes" in page


def test_a_staff_session_lasts_a_working_day_from_the_last_admin_request(client):
    make_staff("adviser", "Course advisers")
    assert sign_in(client, "adviser", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == 8 * 3600
    assert client.cookies[django_settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600


def _last_seen(client, hours_ago: float) -> None:
    session = client.session
    session[STAFF_SEEN_KEY] = int(time.time() - hours_ago * 3600)
    session.save()


def test_a_staff_session_idle_for_more_than_a_working_day_must_sign_in_again(client):
    make_staff("adviser", "Course advisers")
    sign_in(client, "adviser", PASSWORD)
    _last_seen(client, 8.1)
    response = client.get("/admin/advisor/enquiry/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/advisor/enquiry/")


def test_a_staff_session_used_within_the_day_stays_signed_in(client):
    make_staff("adviser", "Course advisers")
    sign_in(client, "adviser", PASSWORD)
    _last_seen(client, 7.9)
    assert client.get("/admin/advisor/enquiry/").status_code == 200
    assert time.time() - client.session[STAFF_SEEN_KEY] < 60


def test_a_learners_answers_keep_their_week(client):
    client.post("/questions/origin/", {"origin": "AU"})
    assert client.session.get_expiry_age() == 7 * 24 * 3600
    assert STAFF_SEEN_KEY not in client.session
