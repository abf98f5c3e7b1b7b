"""Ireland, the sixth system (issue 19, domain.md section 10): rows in fixtures/, no code.

The routes are pinned to domain.md section 10.2 in both directions: rank, gap levels, the credential
employers expect and "no published figure" for the time. No Python or template file names the country.
"""

import pathlib
import re

import pytest
from django.core.management import call_command

from pathways.checks import reference_data_problems
from pathways.models import ClassificationGap, Country, CountryUsage, Credential, Organisation, Route, Source
from pathways.presenter import present
from pathways.records import LearnerProfile
from pathways.reference import load_reference
from pathways.rules import build_plan

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIVE = ("AU", "CA", "GB", "NZ", "US")

# domain.md 10.2, "Ranks (INF)".
RANK_INTO = {"AU": 1, "NZ": 1, "GB": 3, "CA": 3, "US": 4}
RANK_OUT_OF = {"AU": 1, "NZ": 1, "GB": 3, "CA": 3, "US": 4}

# domain.md 10.2, "Gaps into IE", for an inpatient coder: classification -> gap level.
GAPS_INTO = {
    origin: dict(zip(("icd-10-am", "achi", "acs", "irish-coding-standards", "ar-drg"), levels, strict=True))
    for origin, levels in {
        "AU": ("minor", "minor", "minor", "minor", "minor"),
        "NZ": ("minor", "minor", "minor", "minor", "minor"),
        "GB": ("minor", "new", "major", "major", "moderate"),
        "CA": ("minor", "new", "major", "major", "moderate"),
        "US": ("moderate", "new", "major", "major", "moderate"),
    }.items()
}

# domain.md 10.2, "Gaps out of IE": to AU and NZ, edition gaps and ICS -> ACS minor.
GAPS_OUT_OF = {
    "AU": {"icd-10-am": "minor", "achi": "minor", "acs": "minor", "ar-drg": "minor"},
    "NZ": {"icd-10-am": "minor", "achi": "minor", "acs": "minor", "nz-conventions": "minor", "wiesnz": "minor"},
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return load_reference()


def plan(reference, origin, destination, setting="inpatient", credentials=()):
    return build_plan(LearnerProfile(origin, frozenset(credentials), setting, None, destination), reference)


def gaps(result):
    return {c.code: c.gap for c in result.classifications}


def test_ireland_is_a_country_with_its_usages_at_the_10th_edition_and_the_irish_coding_standards():
    ireland = Country.objects.get(code="IE")
    assert (ireland.profession, ireland.grouper, ireland.governing_body.code) == ("Clinical coding", "AR-DRG", "hpo")
    usages = {u.classification.code: u for u in CountryUsage.objects.filter(country=ireland)}
    assert set(usages) == {"icd-10-am", "achi", "acs", "irish-coding-standards", "ar-drg"}
    assert {u.setting for u in usages.values()} == {"inpatient"}
    for code in ("icd-10-am", "achi", "acs"):
        assert usages[code].edition == "10th Edition"
    ics = usages["irish-coding-standards"].classification
    assert (ics.kind, ics.modifies.code, ics.publisher.code) == ("standard", "acs", "hpo")


def test_the_organisations_credentials_and_sources_are_there():
    assert {o.code for o in Organisation.objects.filter(country="IE")} == {"hpo", "tu-dublin", "coru"}
    assert {c.code for c in Credential.objects.filter(country__code="IE")} == {
        "hpo-hipe-training",
        "tud-cert-clinical-coding",
    }
    codes = set(Source.objects.values_list("code", flat=True))
    assert {f"ie{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16)} <= codes


def test_no_irish_credential_has_a_time_figure():
    for credential in Credential.objects.filter(country__code="IE"):
        assert (credential.duration_min, credential.duration_max, credential.duration_unit) == (None, None, "")


@pytest.mark.parametrize("origin", FIVE)
def test_routes_into_ireland_follow_section_10_2(reference, origin):
    result = plan(reference, origin, "IE")
    assert result.difficulty == RANK_INTO[origin]
    assert gaps(result) == GAPS_INTO[origin]
    assert result.credentials == ()  # none mandated (IEF9)
    assert present(result).time.lower() == "no published figure"
    route = Route.objects.get_by_natural_key(origin, "IE")
    assert route.verify  # 10.3 item 5: whether Irish hospitals recruit coders trained abroad
    assert not route.credentials.exists()


def test_a_us_outpatient_coder_moving_to_ireland_has_the_setting_shift(reference):
    result = plan(reference, "US", "IE", "outpatient")
    assert [(g.code, g.gap) for g in result.other_gaps] == [("setting-shift", "major")]
    assert not plan(reference, "US", "IE", "inpatient").other_gaps


@pytest.mark.parametrize("destination", FIVE)
def test_routes_out_of_ireland_follow_section_10_2(reference, destination):
    for setting in ("inpatient", "outpatient", "both"):
        result = plan(reference, "IE", destination, setting)
        assert result.difficulty == RANK_OUT_OF[destination]
        if destination in GAPS_OUT_OF and setting == "inpatient":
            assert gaps(result) == GAPS_OUT_OF[destination]
        if destination in ("GB", "CA", "US"):
            # "IE->GB, IE->CA, IE->US as AU->GB, AU->CA, AU->US".
            mirror = plan(reference, "AU", destination, setting)
            assert gaps(result) == gaps(mirror)
            assert [(g.code, g.gap) for g in result.other_gaps] == [(g.code, g.gap) for g in mirror.other_gaps]
            assert [(c.code, c.step) for c in result.credentials] == [(c.code, c.step) for c in mirror.credentials]


def test_from_ireland_australia_expects_the_diploma_and_new_zealand_nothing(reference):
    assert [c.code for c in plan(reference, "IE", "AU").credentials] == ["hlt50321"]
    assert plan(reference, "IE", "NZ").credentials == ()
    assert present(plan(reference, "IE", "NZ")).time.lower() == "no published figure"


def test_new_to_coding_in_ireland_means_a_trainee_post_and_no_published_figure(reference):
    result = plan(reference, None, "IE")
    assert set(gaps(result).values()) == {"new"}
    assert result.credentials == ()
    assert present(result).time.lower() == "no published figure"
    assert "HIPE" in result.route.summary


def test_staying_in_ireland_is_no_move(reference):
    result = plan(reference, "IE", "IE")
    assert result.difficulty == 0 and set(gaps(result).values()) == {"none"}


def test_the_new_gap_rows_of_section_10_2():
    def level(frm, to):
        return ClassificationGap.objects.get_by_natural_key(frm, to).level

    assert level("acs", "irish-coding-standards") == "minor"
    assert level("nz-conventions", "irish-coding-standards") == "minor"
    for standards in ("nccs", "canadian-coding-standards", "us-guidelines"):
        assert level(standards, "irish-coding-standards") == "major"
    assert level("irish-coding-standards", "acs") == "minor"
    assert level("ar-drg", "ar-drg") == "minor"


def test_the_self_gap_notes_name_no_edition():
    # One row serves 10th, 12th and 13th Edition moves alike.
    for code in ("icd-10-am", "achi", "acs"):
        note = ClassificationGap.objects.get_by_natural_key(code, code).note
        assert "12th" not in note and "13th" not in note and "10th" not in note


def test_section_10_3_items_are_flagged_verify_before_launch():
    assert Country.objects.get(code="IE").verify  # 1, 2
    for code in ("icd-10-am", "achi", "acs", "irish-coding-standards", "ar-drg"):
        assert CountryUsage.objects.get_by_natural_key("IE", code).verify  # 1, 2
    assert Credential.objects.get(code="hpo-hipe-training").verify  # 3
    assert Credential.objects.get(code="tud-cert-clinical-coding").verify  # 4
    assert all(route.verify for route in Route.objects.filter(destination__code="IE"))  # 3, 5


def test_the_integrity_check_finds_nothing_wrong_with_the_new_rows(capsys):
    assert reference_data_problems() == []
    call_command("check", databases=["default"])
    assert "pathways." not in capsys.readouterr().err


def test_the_compare_page_counts_and_offers_every_system(client):
    html = client.get("/compare/").content.decode()
    count = Country.objects.count()
    words = {6: "six", 7: "seven"}.get(count)
    assert f"<h1>Compare the {words} coding systems</h1>" in html
    assert "five coding systems" not in html
    assert '<th scope="col">Ireland</th>' in html
    html = client.get("/compare/?origin=IE").content.decode()
    assert 'destination=AU"' in html and 'destination=US"' in html
    assert 'destination=IE"' in client.get("/compare/?origin=AU").content.decode()


def test_the_questionnaire_offers_ireland_as_origin_and_destination(client):
    assert 'value="IE"' in client.get("/questions/origin/").content.decode()
    assert client.post("/questions/origin/", {"origin": "IE"}).status_code == 303
    html = client.get("/questions/credentials/").content.decode()
    assert 'value="hpo-hipe-training"' in html and 'value="tud-cert-clinical-coding"' in html
    client.post("/questions/credentials/", {"credentials": ["hpo-hipe-training"]})
    client.post("/questions/experience/", {"setting": "inpatient", "years": "2"})
    assert 'value="AU"' in client.get("/questions/destination/").content.decode()
    client.post("/questions/origin/", {"origin": "AU"})
    client.post("/questions/credentials/", {"credentials": ["none"]})
    client.post("/questions/experience/", {"setting": "inpatient", "years": "2"})
    assert 'value="IE"' in client.get("/questions/destination/").content.decode()
    response = client.post("/questions/destination/", {"destination": "IE"})
    assert response.status_code == 303


def test_the_api_plans_to_and_from_ireland_and_its_document_admits_the_code(client):
    data = client.get("/api/plan/?origin=AU&setting=inpatient&destination=IE").json()
    assert data["difficulty"]["rank"] == 1
    data = client.get("/api/plan/?origin=IE&setting=inpatient&destination=AU").json()
    assert data["difficulty"]["rank"] == 1
    document = client.get("/api/openapi.json").json()
    origin = next(p for p in document["paths"]["/api/plan/"]["get"]["parameters"] if p["name"] == "destination")
    assert re.fullmatch(origin["schema"]["pattern"].strip("^$"), "IE")


# No Python or template line names the country: a system is rows, not code.

LITERAL = re.compile(r"""["']IE["']|\bIreland\b|\bIrish\b""")


def test_no_python_or_template_file_names_ireland():
    found = []
    for folder in ("advisor", "pathways", "templates"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".html", ".txt"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LITERAL.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_literal_check_would_catch_a_quoted_code_and_the_words_but_not_other_words():
    assert LITERAL.search('code == "IE"') and LITERAL.search("if c == 'IE':") and LITERAL.search("Irish standards")
    assert not LITERAL.search("RECIEVE TIE PIE") and not LITERAL.search('"IEF1"')
