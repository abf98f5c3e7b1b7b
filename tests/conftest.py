import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real reference data once per test session, as `make run` does."""
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)
