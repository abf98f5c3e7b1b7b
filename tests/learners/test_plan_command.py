"""manage.py plan: a readable plan, --json equal to the API's body, clear errors for bad arguments."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pathways.reference import clear_cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


def run(*args):
    out = StringIO()
    call_command("plan", *args, stdout=out)
    return out.getvalue()


def test_the_readme_example_prints_a_readable_plan():
    text = run("--origin", "AU", "--credential", "hlt50321", "--setting", "inpatient", "--destination", "GB")
    assert text.startswith("Australia to United Kingdom\n")
    assert "Difficulty: High. Expected time: 2 to 3 years." in text
    assert "1. Get a coding job first" in text
    assert "OPCS-4 (new: learn from scratch)" in text
    assert "Steps:" in text and "Before you start:" in text


def test_json_prints_exactly_the_api_body(client):
    args = [
        "--origin",
        "au",
        "--credential",
        "HLT50321",
        "--setting",
        "inpatient",
        "--years",
        "2",
        "--destination",
        "gb",
    ]
    printed = run(*args, "--json")
    response = client.get(
        "/api/plan/",
        {"origin": "AU", "credential": "hlt50321", "setting": "inpatient", "years": 2, "destination": "GB"},
    )
    assert json.loads(printed) == response.json()
    assert printed.strip() == response.content.decode()


def test_new_to_coding_and_staying_put_print_too():
    assert run("--origin", "none", "--destination", "AU").startswith("Starting out in Australia\n")
    staying = run("--origin", "US", "--destination", "US", "--credential", "aapc-cpc")
    assert "Difficulty: No move needed." in staying


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "XX", "--destination", "GB"], "--origin: We have no information about XX"),
        (["--origin", "AU"], "--destination: Choose the country you want to work in."),
        (["--origin", "AU", "--destination", "GB", "--years", "-3"], "--years:"),
        (["--origin", "AU", "--destination", "GB", "--credential", "nope"], "--credential:"),
        (["--origin", "AU", "--destination", "GB", "--setting", "space"], "--setting:"),
    ],
)
def test_bad_arguments_give_a_clear_message_and_a_non_zero_exit(args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_bad_arguments_exit_non_zero_from_the_shell(capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "plan", "--origin", "XX", "--destination", "GB"]).execute()
    assert exit_info.value.code != 0
    assert "--origin" in capsys.readouterr().err
