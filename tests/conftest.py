import pytest
from django.conf import settings
from django.core.management import call_command
from pytest_django.plugin import blocking_manager_key

from tests.redis_support import redis_cache, redis_server  # noqa: F401  (fixtures for every test)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real reference data once per test session, as `make run` does."""
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


@pytest.fixture
def stored_answers():
    """The questionnaire answers a test client's cookie holds ({} without one)."""
    from advisor.learners.journey import read_answers

    def read(client):
        cookie = client.cookies.get(settings.ANSWERS_COOKIE_NAME)
        return read_answers(cookie.value) if cookie and cookie.value else {}

    return read


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
    return transactional or bool({"transactional_db", "live_server"} & set(item.fixturenames))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # A transactional test (live_server, thread races) ends by emptying every table, reference data included.
    # Once its fixtures are torn down, put the data back for whatever test runs next (pytest-django runs
    # the tests without a database last, and the rules tests build their Reference from these rows).
    result = yield
    if _flushes_database(item) and nextitem is not None:  # after the last test the database is gone
        with item.config.stash[blocking_manager_key].unblock():
            call_command("load_reference_data", verbosity=0)
    return result
