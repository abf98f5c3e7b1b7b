"""advisor.sessions: Django's database sessions with plain SQL for loading and updating."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from advisor.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved(data):
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_a_saved_session_loads_with_both_this_store_and_djangos_own():
    key = saved({"answers": {"origin": "AU"}})
    assert SessionStore(key).load() == {"answers": {"origin": "AU"}}
    assert DjangoStore(key).load() == {"answers": {"origin": "AU"}}


def test_an_update_is_written_and_extends_the_expiry():
    key = saved({"answers": {"origin": "AU"}})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=1))
    store = SessionStore(key)
    store["answers"] = {"origin": "GB"}
    store.save()
    assert DjangoStore(key).load() == {"answers": {"origin": "GB"}}
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(days=6)


def test_an_expired_or_unknown_session_loads_empty():
    key = saved({"answers": {"origin": "AU"}})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert SessionStore("x" * 32).load() == {}


def test_updating_a_session_deleted_meanwhile_fails_as_djangos_does():
    key = saved({"answers": {"origin": "AU"}})
    store = SessionStore(key)
    store["answers"] = {"origin": "GB"}
    Session.objects.filter(session_key=key).delete()
    with pytest.raises(UpdateError):
        store.save()
