"""A database that cannot be reached (a restart, a failover): stored pages go on being served, every other page
says the service is briefly unavailable (503 with Retry-After), and nothing fails once it is back. The database
is really unreachable (a connection to nowhere, in a thread of its own), nothing is mocked."""

import threading

import pytest
from django.db import connections
from django.test import Client

from advisor.pagecache import store
from tests.web.test_healthz import _unreachable
from tests.wsgi_client import wsgi_get

pytestmark = pytest.mark.django_db

PLAN = "/plan/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"


def _while_unreachable(requests) -> list:
    """Run `requests()` in a thread whose database connection points nowhere; its result."""
    result = []

    def probe():
        connection = connections["default"]
        connection.close()
        connection.settings_dict = _unreachable(connection.settings_dict)
        try:
            result.append(requests())
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=60)
    return result[0]


def test_pages_that_need_the_database_say_it_is_briefly_unavailable():
    response = _while_unreachable(lambda: Client().get("/questions/origin/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Sorry, the service is briefly unavailable" in response.content.decode()
    assert "Content-Security-Policy" in response


def test_stored_pages_are_still_served_from_the_last_version_read(settings):
    settings.PAGE_CACHE_VERSION_SECONDS = 0  # the version is read on every request: the read fails
    store.clear()
    for _ in range(3):
        assert wsgi_get(PLAN).status_code == 200
    answers = _while_unreachable(lambda: [wsgi_get(PLAN) for _ in range(3)])
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert wsgi_get(PLAN).status_code == 200  # and after
