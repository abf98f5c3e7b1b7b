"""A client generated from /api/openapi.json by openapi-python-client, offline, parses every reachable plan.

Every origin (and none) to every destination with a route, in each setting the plan can be for
(rules.plan_setting), holding nothing and holding each of the origin's credentials: the generated models'
from_dict must read every body without an error, and keep what it read.
"""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pathways import rules
from pathways.reference import load_reference

pytestmark = pytest.mark.django_db

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def test_a_generated_client_parses_every_reachable_plan(client, tmp_path, monkeypatch):
    spec = tmp_path / "openapi.json"
    spec.write_bytes(client.get("/api/openapi.json").content)
    done = subprocess.run(
        [GENERATOR, "generate", "--path", spec, "--output-path", tmp_path / "client", "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    monkeypatch.syspath_prepend(tmp_path)
    models = importlib.import_module("client.models")

    reference = load_reference()
    parsed = 0
    for origin in [*sorted(reference.countries), None]:
        credentials = [c.code for c in reference.credentials_for(origin)] if origin else []
        for destination in sorted(reference.countries):
            if origin not in (None, destination) and reference.route(origin, destination) is None:
                continue
            settings = {rules.plan_setting(reference, origin, destination, s) for s in rules.SETTINGS}
            for setting in sorted(settings):
                for held in [[], *[[code] for code in credentials]]:
                    query = {"origin": origin or "none", "setting": setting, "destination": destination}
                    response = client.get("/api/plan/", {**query, "credential": held})
                    assert response.status_code == 200, (query, held, response.content)
                    plan = models.Plan.from_dict(json.loads(response.content))
                    assert plan.destination.code == destination and plan.setting == setting
                    assert plan.to_dict() == json.loads(response.content), (query, held)
                    parsed += 1
    assert parsed > 100
    print(f"generated client parsed {parsed} plans")
