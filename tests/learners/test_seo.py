"""What search engines see: a description on every page, and a robots.txt that lets them crawl the public pages."""

import re

import pytest

pytestmark = pytest.mark.django_db

PLAN_URL = "/plan/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"


def description(response) -> str:
    found = re.findall(r'<meta name="description" content="([^"]*)">', response.content.decode())
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("url", ["/", "/questions/origin/", "/compare/", "/privacy/", PLAN_URL, "/no-such-page/"])
def test_every_page_has_one_description_of_search_result_length(client, url):
    text = description(client.get(url))
    assert 50 <= len(text) <= 200


def test_the_start_page_describes_the_service(client):
    assert "clinical and medical coders moving between Australia" in description(client.get("/"))


def test_the_plan_page_describes_that_plan(client):
    text = description(client.get(PLAN_URL))
    assert text.startswith("A retraining plan for a clinical coder moving from Australia to the United Kingdom")
    assert "(2 to 3 years)" in text


def test_an_entry_plan_says_it_is_for_starting_out(client):
    text = description(client.get("/plan/?origin=none&setting=inpatient&destination=NZ"))
    assert text.startswith("A plan for starting out as a clinical coder in New Zealand")


def test_robots_txt_lets_crawlers_in_but_keeps_them_out_of_the_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    # Lighthouse's is-crawlable audit (and search engines) must not find a public page blocked.
    assert "Disallow: /" not in lines
    assert not any(line.startswith(("Disallow: /plan", "Disallow: /questions", "Disallow: /enquire")) for line in lines)
