"""How a page answers: one question, asked of django-htmx's request.htmx, decides between the page and its
htmx partial, for rendering and for the form cache's key alike."""

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from advisor.web.pages import htmx_shape, wants_partial


def _request(**headers):
    request = RequestFactory().get("/questions/origin/", headers=headers)
    HtmxMiddleware(lambda r: None)(request)
    return request


@pytest.mark.parametrize(
    "headers, shape",
    [
        ({}, "full"),
        ({"HX-Request": "true"}, "partial"),
        # Back in the browser restores the whole page, or a fragment would show without its layout.
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, "restore"),
        ({"HX-Request": "false"}, "full"),
    ],
)
def test_htmx_shape(headers, shape):
    request = _request(**headers)
    assert htmx_shape(request) == shape
    assert wants_partial(request) is (shape == "partial")


def test_a_question_fetched_by_htmx_is_its_partial_and_a_history_restore_the_whole_page(client, db):
    partial = client.get("/questions/origin/", headers={"HX-Request": "true"}).content.decode()
    restore = client.get(
        "/questions/origin/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()
    full = client.get("/questions/origin/").content.decode()
    assert "<html" not in partial and "<html" in restore and "<html" in full
