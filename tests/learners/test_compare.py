"""The compare page: every system side by side, and destinations ranked from an origin."""

import pytest

from pathways.reference import load_reference

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_compare_shows_every_system_side_by_side(client):
    reference = load_reference()
    response = client.get("/compare/")
    html = response.content.decode()
    assert response.status_code == 200
    for country in reference.countries.values():
        assert f'<th scope="col">{country.name}</th>' in html
        assert country.profession in html
    for label in ["Diagnosis classification", "Procedure classification", "Grouper and funding", "Who maintains them"]:
        assert f'<th scope="row">{label}</th>' in html
    assert "OPCS-4" in html
    assert "ICD-10-CA" in html
    assert "public" in response["Cache-Control"]


def test_compare_ranks_every_destination_from_an_origin_each_linking_to_its_plan(client):
    response = client.get("/compare/?origin=au", follow=True)
    assert response.redirect_chain == [("/compare/?origin=AU", 301)]  # one URL per page: one cached copy
    html = response.content.decode()
    assert "From Australia, easiest first" in html
    order = [html.index(f'destination={code}"') for code in ("NZ", "GB", "US")]
    assert order == sorted(order)
    assert 'href="/plan/?origin=AU&amp;setting=inpatient&amp;destination=NZ"' in html
    assert "5 minor gaps" in html and "1 moderate and 4 minor gaps" in html and "0 new" not in html


def test_compare_ranks_destinations_for_someone_new_to_coding(client):
    html = client.get("/compare/?origin=none").content.decode()
    assert 'href="/plan/?origin=none&amp;setting=inpatient&amp;destination=AU"' in html


def test_compare_with_an_unknown_origin_explains_the_problem(client):
    response = client.get("/compare/?origin=zz")
    assert response.status_code == 400
    assert "Select where you trained as a coder" in response.content.decode()
    htmx = client.get("/compare/?origin=zz", headers=HX)
    assert htmx.status_code == 200
    assert "There is a problem" in htmx.content.decode()


def test_compare_serves_a_partial_to_htmx_and_the_full_page_otherwise(client):
    partial = client.get("/compare/?origin=AU", headers=HX)
    assert "<html" not in partial.content.decode()
    assert "HX-Request" in partial["Vary"]
    assert "<html" in client.get("/compare/?origin=AU").content.decode()
    restore = client.get("/compare/?origin=AU", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_compare_renders_in_at_most_six_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get("/compare/?origin=US").status_code == 200


@pytest.mark.parametrize("origin", ["AU", "US", "none"])
def test_every_plan_link_on_a_ranking_is_the_plans_canonical_url(client, origin):
    import re

    html = client.get(f"/compare/?origin={origin}").content.decode()
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(/plan/\?[^"]+)"', html)]
    assert len(links) >= 5
    for link in links:
        assert client.get(link).status_code == 200, link  # not a 301 to another spelling


def test_the_credential_row_groups_each_countrys_credentials_by_setting_in_short_names(client):
    html = " ".join(client.get("/compare/").content.decode().split())
    assert "CCA or RHIT; CIC or CCS (inpatient); COC or CPC or CCS-P (outpatient)" in html
    assert "HLT50321 Diploma of Clinical Coding" in html
