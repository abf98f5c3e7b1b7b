"""The enquiry rate limit: every POST counts, valid or not; a refusal is a short 429 page with Retry-After; and
with REDIS_URL set but Redis down, the counters fall back to the database (a real redis-server, stopped)."""

import html
import logging
import time
from unittest import mock

import pytest

from advisor.enquiries import ratelimit
from advisor.enquiries.forms import EnquiryForm
from advisor.enquiries.models import Enquiry, RateLimitBucket
from advisor.web import logs
from tests.enquiry_support import ENQUIRE_URL, PERSONAL, enquiry_settings, form_data  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]


def sent(client, data, **kwargs):
    return client.post(ENQUIRE_URL, data, **kwargs)


def retry_after(response) -> int:
    value = response["Retry-After"]
    assert value.isdigit(), value
    return int(value)


def test_invalid_posts_count_and_the_next_post_gets_429_with_retry_after(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(3, 600)]
    for _ in range(3):
        assert sent(client, form_data(name="")).status_code == 200  # errors shown, and counted
    for data in (form_data(), form_data(name="")):
        response = sent(client, data)
        assert response.status_code == 429
        assert 1 <= retry_after(response) <= 600
    assert Enquiry.objects.count() == 0


def test_retry_after_is_the_time_until_the_window_resets(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    sent(client, form_data())
    response = sent(client, form_data())
    resets_in = (time.time() // 600 + 1) * 600 - time.time()
    assert abs(retry_after(response) - resets_in) <= 2


def test_retry_after_waits_for_the_longest_window_that_refused(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(100, 60), (1, 86400)]
    assert sent(client, form_data()).status_code == 303
    response = sent(client, form_data())
    assert response.status_code == 429
    resets_in = (time.time() // 86400 + 1) * 86400 - time.time()
    assert abs(retry_after(response) - resets_in) <= 2


def test_over_the_limit_the_form_is_neither_validated_nor_drawn_again(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    sent(client, form_data(name=""))
    with (
        mock.patch.object(EnquiryForm, "full_clean", side_effect=AssertionError("validated")),
        mock.patch("advisor.enquiries.views._plan_context", side_effect=AssertionError("plan built")),
    ):
        response = sent(client, form_data())
    page = html.unescape(response.content.decode())
    assert response.status_code == 429
    assert "Send enquiry again" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "no-store" in response["Cache-Control"]


def test_the_429_page_keeps_what_was_typed_and_sending_it_again_later_works(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    sent(client, form_data(name=""))
    data = form_data(marketing_opt_in="on")
    page = html.unescape(sent(client, data).content.decode())
    for field in ("name", "email", "phone", "best_time", "message"):
        assert data[field] in page
    for name in ("submission_id", "form_token", "contact_consent", "marketing_opt_in", "preferred_contact"):
        assert f'<input type="hidden" name="{name}" value="{data[name]}">' in page
    assert 'name="status"' not in sent(client, {**data, "status": "closed"}).content.decode()

    RateLimitBucket.objects.all().delete()  # the window is over
    response = sent(client, data)
    assert response.status_code == 303
    assert Enquiry.objects.get().marketing_opt_in


def test_a_double_submit_lands_on_the_same_confirmation_even_over_the_limit(client, settings):
    settings.ENQUIRY_RATE_LIMITS = [(1, 600)]
    data = form_data()
    first = sent(client, data)
    assert sent(client, form_data()).status_code == 429
    again = sent(client, data)
    assert again.status_code == 303
    assert again["Location"] == first["Location"]
    assert Enquiry.objects.count() == 1


def test_retry_after_is_the_longest_wait_of_the_windows_that_refused(rf, settings):
    request = rf.post("/enquire/", REMOTE_ADDR="192.0.2.10")
    now = 1_800_000_030.0  # 30 s into a 60 s window
    limits = [(2, 60), (3, 3600)]
    assert [ratelimit.retry_after("t", request, limits, now=now) for _ in range(4)] == [0, 0, 30, 3570]
    # The next minute: the short window is fresh, the hour's is still over; the wait is the longest refusal.
    assert ratelimit.retry_after("t", request, limits, now=now + 60) == 3510


# --- Redis down -------------------------------------------------------------------------------------------------


def cache_warnings(caplog) -> list:
    return [r for r in caplog.records if r.name == "advisor.cache" and r.getMessage() == ratelimit.CACHE_DOWN]


@pytest.fixture
def first_warning():
    logs._last_warned.clear()  # each test sees its own first warning
    yield
    logs._last_warned.clear()


def test_with_redis_up_the_counters_live_in_redis(client, settings, redis_cache, first_warning, caplog):
    settings.ENQUIRY_RATE_LIMITS = [(2, 600)]
    statuses = [sent(client, form_data()).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert not RateLimitBucket.objects.exists()
    assert len(list(redis_cache.client().scan_iter(":1:ratelimit:*"))) == 1
    assert cache_warnings(caplog) == []


def test_with_redis_down_the_limit_counts_in_the_database_and_says_so_once(
    client, settings, redis_cache, first_warning, caplog
):
    settings.ENQUIRY_RATE_LIMITS = [(3, 600)]
    caplog.set_level(logging.WARNING)
    redis_cache.stop()

    statuses = [sent(client, form_data(name="" if i % 2 else PERSONAL["name"])).status_code for i in range(8)]

    assert statuses == [303, 200, 303, 429, 429, 429, 429, 429]
    assert Enquiry.objects.count() == 2
    assert RateLimitBucket.objects.get().hits == 8
    warnings = cache_warnings(caplog)
    assert len(warnings) == 1
    assert all(value not in caplog.text for value in PERSONAL.values())


def test_a_redis_that_comes_back_counts_again(client, settings, redis_cache, first_warning):
    settings.ENQUIRY_RATE_LIMITS = [(5, 600)]
    redis_cache.stop()
    assert sent(client, form_data()).status_code == 303
    redis_cache.start()
    assert sent(client, form_data()).status_code == 303
    assert RateLimitBucket.objects.get().hits == 1
    assert len(list(redis_cache.client().scan_iter("*ratelimit*"))) == 1
