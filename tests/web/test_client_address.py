"""The client's address behind zero or one trusted proxy: the enquiry rate limit and admin sign-in throttling.

With no proxy configured, X-Forwarded-For is whatever a client typed, and must count for nothing. Behind one
trusted proxy (which appends the address it saw), the client is the last entry, whatever the client put before it.
"""

import logging

import pytest

from advisor.web.client_address import client_ip
from tests.enquiry_support import enquiry_settings, form_data, make_staff  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

PROXY = "10.0.0.2"
ADDRESSES = ["203.0.113.5", "203.0.113.6", "198.51.100.7", "192.0.2.99", PROXY]


@pytest.fixture(autouse=True)
def no_address_in_logs(caplog):
    """Every test here also proves that no client or proxy address reached the logs."""
    caplog.set_level(logging.DEBUG)
    yield
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for address in ADDRESSES:
        assert address not in logged


@pytest.fixture
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def enquire(client, remote=PROXY, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/enquire/", form_data(), **headers).status_code


def sign_in(client, username, password="wrong", remote=PROXY, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/admin/login/", {"username": username, "password": password}, **headers)


# The rate limit


def test_without_a_proxy_a_forged_forwarded_header_does_not_escape_the_rate_limit(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert enquire(client, remote="203.0.113.5", forwarded="198.51.100.7") == 303
    assert enquire(client, remote="203.0.113.5", forwarded="192.0.2.99") == 429
    assert enquire(client, remote="203.0.113.5") == 429


def test_without_a_proxy_a_forged_forwarded_header_cannot_use_up_someone_elses_limit(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert enquire(client, remote="203.0.113.5", forwarded="203.0.113.6") == 303
    assert enquire(client, remote="203.0.113.6") == 303


def test_behind_one_proxy_each_client_has_its_own_rate_limit(client, settings, one_proxy):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert enquire(client, forwarded="203.0.113.5") == 303
    assert enquire(client, forwarded="203.0.113.5") == 429
    assert enquire(client, forwarded="203.0.113.6") == 303


def test_behind_one_proxy_what_the_client_put_before_the_proxys_entry_is_ignored(client, settings, one_proxy):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    assert enquire(client, forwarded="198.51.100.7, 203.0.113.5") == 303
    assert enquire(client, forwarded="192.0.2.99, 203.0.113.5") == 429


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "198.51.100.7", "203.0.113.5"),
        (1, PROXY, "198.51.100.7, 203.0.113.5", "203.0.113.5"),
        (2, PROXY, "198.51.100.7, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        (1, PROXY, "", PROXY),  # a probe that did not come through the proxy
        (1, PROXY, "not-an-address", PROXY),
        (1, PROXY, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_the_client_address_is_read_as_the_proxy_setting_says(rf, settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# Admin sign-in throttling (django-axes)


def test_behind_one_proxy_a_lockout_pauses_the_guessing_client_only(client, settings, one_proxy):
    make_staff("target", "Course advisers")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "target", forwarded="203.0.113.5")
    assert sign_in(client, "target", "a-long-Password-1", forwarded="203.0.113.5").status_code == 429
    # The adviser, from their own network but through the same proxy, still gets in.
    assert sign_in(client, "target", "a-long-Password-1", forwarded="203.0.113.6").status_code == 302


def test_without_a_proxy_rotating_a_forged_forwarded_header_does_not_escape_a_lockout(client, settings):
    make_staff("target", "Course advisers")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "target", remote="203.0.113.5", forwarded=f"192.0.2.{n}")
    locked = sign_in(client, "target", "a-long-Password-1", remote="203.0.113.5", forwarded="198.51.100.7")
    assert locked.status_code == 429
