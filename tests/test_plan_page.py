"""The plan page: a permalink built from the plan parameters, cached for everyone, 400 for a bad link."""

import pytest

from pathways.reference import load_reference

pytestmark = pytest.mark.django_db

AU_TO_GB = "/plan/?origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"


def test_plan_shows_headline_difficulty_steps_gaps_credentials_and_sources(client):
    response = client.get(AU_TO_GB)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Australia to United Kingdom</h1>" in html
    assert "<title>Your plan: Australia to United Kingdom" in html
    assert 'class="headline"' in html
    assert '<svg width="120" height="40"' in html
    assert "Difficulty: High</strong> (3 out of 4)" in html
    # Some UK steps have no published duration, so the headline time is a floor, not a promise.
    assert "Expected time: at least 25–37 months" in html
    assert '<ol class="timeline">' in html
    assert "Time varies" in html
    assert '<caption id="gaps-caption">What you need to learn</caption>' in html
    assert "OPCS-4" in html
    assert "New: learn from scratch" in html
    assert "Credentials employers expect" in html
    assert "awarded by" in html
    assert "What you already bring" in html
    assert '<details class="provenance">' in html


def test_plan_marks_a_held_credential(client):
    html = client.get("/plan/?origin=AU&credential=hlt50321&setting=inpatient&destination=AU").content.decode()
    assert "You hold this" in html
    assert "<h1>Progressing in Australia</h1>" in html


def test_plan_for_someone_new_to_coding(client):
    response = client.get("/plan/?origin=none&setting=inpatient&destination=AU")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Starting out in Australia" in html
    assert "HLT50321" in html


def test_plan_links_to_an_adviser_compare_and_change_answers_with_the_same_parameters(client):
    html = client.get(AU_TO_GB).content.decode()
    query = "origin=AU&amp;credential=hlt50321&amp;setting=inpatient&amp;years=2&amp;destination=GB"
    assert f'href="/enquire/?{query}"' in html
    assert f'href="/questions/check/?{query}"' in html
    assert 'href="/compare/?origin=AU"' in html


def test_plan_codes_are_accepted_in_any_case(client):
    assert client.get("/plan/?origin=au&credential=HLT50321&setting=inpatient&destination=gb").status_code == 200


def test_plan_is_public_and_cacheable_by_url(client):
    response = client.get(AU_TO_GB)
    assert "public" in response["Cache-Control"]
    assert "max-age=" in response["Cache-Control"]
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_bad_plan_link_gives_400_with_a_message_per_field(client):
    response = client.get("/plan/?origin=XX&years=-1")
    html = response.content.decode()
    assert response.status_code == 400
    assert "<title>Error: There is a problem with this link" in html
    assert "Where you trained:" in html
    assert "Years of experience:" in html
    assert "Where you want to work:" in html


@pytest.mark.parametrize("query", ["origin=AU&destination=GB&years=1e9", "origin=AU&origin=NZ&destination=GB", "x=%ff"])
def test_odd_plan_links_never_give_a_500(client, query):
    assert client.get(f"/plan/?{query}").status_code == 400


def test_every_route_renders(client):
    reference = load_reference()
    for origin in [*reference.countries, "none"]:
        for destination in reference.countries:
            url = f"/plan/?origin={origin}&setting=both&destination={destination}"
            assert client.get(url).status_code == 200, url


def test_plan_renders_in_at_most_six_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get(AU_TO_GB + "&fresh=1").status_code in (200, 400)
    with django_assert_max_num_queries(6):
        assert client.get(AU_TO_GB).status_code == 200


def test_print_stylesheet_hides_the_site_chrome(client):
    from django.contrib.staticfiles import finders

    with open(finders.find("css/site.css")) as file:
        css = file.read()
    assert "@media print" in css
    assert ".site-header, .site-footer" in css
