"""/healthz: 200 when the database answers, 503 when it does not (a real failed connection, no mock)."""

import json
import threading

from django.db import connections
from django.test import Client


def test_healthz_answers_200_with_a_small_json_body_when_the_database_answers(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def _unreachable(settings_dict: dict) -> dict:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return {**settings_dict, "NAME": "/nonexistent-directory/healthz.sqlite3", "TEST": {}}
    # Nothing listens on port 1; connect_timeout bounds the wait if something filters it.
    options = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    return {**settings_dict, "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": options}


def _probe_unreachable(method: str) -> dict:
    # Connections are per thread: in a fresh thread, point this thread's connection at a
    # database that cannot be reached, and ask /healthz. The test's own connection is untouched.
    result = {}

    def probe():
        connection = connections["default"]
        connection.settings_dict = _unreachable(connection.settings_dict)
        try:
            response = getattr(Client(), method)("/healthz")
            result["status"], result["body"] = response.status_code, response.content
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=30)
    return result


def test_healthz_answers_503_when_the_database_does_not(db):
    result = _probe_unreachable("get")
    assert result["status"] == 503
    assert json.loads(result["body"]) == {"status": "error", "database": "unavailable"}


def test_healthz_answers_head_as_monitors_send_it(db, client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "application/json"
    assert _probe_unreachable("head") == {"status": 503, "body": b""}


def test_healthz_only_answers_get_and_head(db, client):
    assert client.post("/healthz").status_code == 405
