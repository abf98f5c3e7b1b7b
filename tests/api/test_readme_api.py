"""The README's plan API examples are what the server answers: keys, first items and error messages."""

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

SECTION = Path(__file__).resolve().parents[2].joinpath("README.md").read_text().split("## The plan API")[1]
SECTION = SECTION.split("\n## ")[0]


def test_the_readme_plan_example_matches_the_real_first_items(client):
    body = client.get("/api/plan/?origin=AU&credential=hlt50321&setting=inpatient&destination=GB").json()
    example = SECTION.split("```")[1]
    for key in re.findall(r'^[ {]"(\w+)":', example, re.MULTILINE):
        assert key in body, key
    first = body["classifications"][0]
    assert f'"classifications": [{{"code": "{first["code"]}", "name": "{first["name"]}"' in example
    assert f'"known_from": "{first["known_from"]}"' in example
    assert f'"credentials": [{{"code": "{body["credentials"][0]["code"]}"' in example
    assert f'"steps": [{{"number": 1, "kind": "{body["steps"][0]["kind"]}", "title": "{body["steps"][0]["title"]}"' in (
        example
    )
    for key in ("time_text", "time_note", "first_step"):
        assert f'"{key}": {json.dumps(body[key])}' in example, key
    assert f'"total_months": {json.dumps(body["total_months"])}' in example


def test_the_readme_error_example_is_the_servers(client):
    body = client.get("/api/plan/?origin=XX&setting=sideways").json()
    example = SECTION.split("```")[3]
    for field, messages in body["errors"].items():
        assert f'"{field}": {json.dumps(messages, ensure_ascii=False)}' in example, field
