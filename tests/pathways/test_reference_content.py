"""The reference data says what domain.md and the source article say.

These read the rows tests/conftest.py loads from fixtures/ once per session.
"""

import datetime
import itertools

import pytest

from pathways.models import (
    Classification,
    ClassificationGap,
    Country,
    CountryUsage,
    Credential,
    GapLevel,
    Organisation,
    Provenance,
    Route,
    RouteCredential,
    RouteNote,
    SourceKind,
)

# The source article's five (SEED_TABLE) and Ireland (domain.md section 10).
SEED_COUNTRIES = ["AU", "CA", "GB", "NZ", "US"]
COUNTRIES = ["AU", "CA", "GB", "IE", "NZ", "US"]

# The source article's "at a glance" table (seed fact S23), cell for cell:
# term used, diagnosis classification, procedure classification, grouper / funding.
SEED_TABLE = {
    "AU": ("Clinical coding", "ICD-10-AM", "ACHI", "AR-DRG"),
    "US": ("Medical coding", "ICD-10-CM", "CPT (outpatient) and ICD-10-PCS (inpatient)", "MS-DRG and APC"),
    "GB": ("Clinical coding", "ICD-10 (WHO)", "OPCS-4", "HRG"),
    "CA": ("Coding (within HIM)", "ICD-10-CA", "CCI", "CMG+"),
    "NZ": ("Clinical coding", "ICD-10-AM", "ACHI", "NZ case-weight"),
}

# Issue 2 and domain.md section 5: every credential the data must hold.
CREDENTIAL_CODES = {
    "hlt50321", "22274vic", "himaa-chim", "himaa-chip", "ccsa-cert", "uni-him", "vetassess-599915",
    "nhs-ccsc", "nccq-acc", "uk-enic-soc",
    "cchim-accredited-him", "cchim-chim", "cchim-chim-external",
    "aapc-cpc", "aapc-coc", "aapc-cic",
    "ahima-cca", "ahima-ccs", "ahima-ccs-p", "ahima-rhit", "ahima-rhia",
    "hpo-hipe-training", "tud-cert-clinical-coding",  # domain.md section 10.2
}  # fmt: skip

# domain.md section 7.4: the only durations any source gives, in months.
# (min, max, unit) exactly as each source gives it: a minimum alone keeps max None.
KNOWN_DURATIONS = {
    "hlt50321": (12, 12, "month"),  # about 12 months as TalentMed delivers it (S33)
    "nccq-acc": (2, 3, "year"),  # a 2-3 year development plan (EXT30)
    "nhs-ccsc": (21, None, "day"),  # at least 21 days (EXT29), not "1 month"
    "vetassess-599915": (10, 12, "week"),  # 10-12 weeks, a third-party figure (EXT14b), not "3-3 months"
    "uni-him": (12, 12, "week"),  # one 12-week subject (EXT38), not "3-3 months"
}

# domain.md section 7.2, and 10.2 for Ireland: rows = from, columns = to.
DIFFICULTY = {
    "AU": {"NZ": 1, "GB": 3, "CA": 3, "US": 4, "IE": 1},
    "NZ": {"AU": 1, "GB": 3, "CA": 3, "US": 4, "IE": 1},
    "GB": {"AU": 3, "NZ": 3, "CA": 3, "US": 4, "IE": 3},
    "CA": {"AU": 3, "NZ": 3, "GB": 3, "US": 4, "IE": 3},
    "US": {"AU": 4, "NZ": 4, "GB": 4, "CA": 4, "IE": 4},
    "IE": {"AU": 1, "NZ": 1, "GB": 3, "CA": 3, "US": 4},
}


def _usages(country, kind):
    return list(
        CountryUsage.objects.filter(country__code=country, classification__kind=kind)
        .select_related("classification")
        .order_by("classification__code")
    )


def _table_row(country):
    """A country's row of the comparison table, rebuilt from the database."""
    row = Country.objects.get(code=country)
    diagnosis = " and ".join(u.classification.name for u in _usages(country, "diagnosis"))
    procedures = _usages(country, "procedure")
    if len(procedures) == 1:
        procedure = procedures[0].classification.name
    else:
        procedure = " and ".join(f"{u.classification.name} ({u.setting})" for u in procedures)
    return row.profession, diagnosis, procedure, row.grouper


@pytest.mark.django_db
@pytest.mark.parametrize("country", SEED_COUNTRIES)
def test_the_database_reproduces_the_source_articles_comparison_table(country):
    assert _table_row(country) == SEED_TABLE[country]


@pytest.mark.django_db
def test_every_country_has_a_route_to_every_other_and_an_entry_route():
    assert sorted(Country.objects.values_list("code", flat=True)) == COUNTRIES
    pairs = set(Route.objects.filter(origin__isnull=False).values_list("origin__code", "destination__code"))
    assert pairs == set(itertools.permutations(COUNTRIES, 2))
    entries = Route.objects.filter(origin__isnull=True).values_list("destination__code", flat=True)
    assert sorted(entries) == COUNTRIES


@pytest.mark.django_db
def test_every_credential_domain_md_lists_is_there():
    assert set(Credential.objects.values_list("code", flat=True)) == CREDENTIAL_CODES


@pytest.mark.django_db
@pytest.mark.parametrize("country", COUNTRIES)
def test_every_country_codes_diagnoses_and_procedures_and_has_a_grouper(country):
    assert _usages(country, "diagnosis")
    assert _usages(country, "procedure")
    assert _usages(country, "grouper")


@pytest.mark.django_db
def test_new_zealand_codes_in_the_12th_edition_while_australia_moved_to_the_13th():
    for code in ("icd-10-am", "achi", "acs"):
        au = CountryUsage.objects.get(country__code="AU", classification__code=code)
        nz = CountryUsage.objects.get(country__code="NZ", classification__code=code)
        assert au.edition.startswith("13th Edition")
        assert nz.edition == "12th Edition"
    assert "12th" in CountryUsage.objects.get(country__code="NZ", classification__code="icd-10-am").note


@pytest.mark.django_db
def test_us_procedure_classifications_follow_the_setting():
    settings = dict(CountryUsage.objects.filter(country__code="US").values_list("classification__code", "setting"))
    assert settings["icd-10-cm"] == "all"
    assert settings["icd-10-pcs"] == "inpatient"
    assert settings["cpt"] == settings["hcpcs"] == "outpatient"


@pytest.mark.django_db
def test_every_gap_level_is_in_the_vocabulary_and_the_key_gaps_match_the_seed():
    levels = set(ClassificationGap.objects.values_list("level", flat=True))
    assert levels <= set(GapLevel.values)
    assert {"minor", "moderate", "major", "new"} <= levels

    def level(frm, to):
        return ClassificationGap.objects.get(from_classification__code=frm, to_classification__code=to).level

    assert level("achi", "opcs-4") == "new"  # S29: OPCS-4 from scratch
    assert level("achi", "cci") == "major"  # S30: structured differently
    assert level("icd-10-am", "icd-10-cm") == "moderate"  # S31: differs in detail
    assert level("acs", "us-guidelines") == "major"  # S26: not interchangeable
    assert level("ar-drg", "wiesnz") == level("wiesnz", "ar-drg") == "minor"
    for same in ("icd-10-am", "achi", "acs"):
        assert level(same, same) == "minor"  # 12th and 13th Editions


@pytest.mark.django_db
def test_route_difficulty_follows_the_grid_with_the_seeds_two_headlines():
    for route in Route.objects.filter(origin__isnull=False).select_related("origin", "destination"):
        assert route.difficulty == DIFFICULTY[route.origin.code][route.destination.code], str(route)
    assert Route.objects.get_by_natural_key("AU", "NZ").headline == "The shortest jump"
    assert Route.objects.get_by_natural_key("AU", "US").headline == "The biggest jump"
    for route in Route.objects.filter(origin__isnull=True):
        assert route.source_kind == SourceKind.INFERRED and route.source_detail


@pytest.mark.django_db
def test_every_route_has_a_headline_of_its_own_and_only_the_seeds_two_are_seed_wording():
    routes = list(Route.objects.select_related("origin", "destination"))
    headlines = [route.headline for route in routes]
    assert all(headlines) and len(set(headlines)) == len(routes)
    seed_wording = {"The shortest jump", "The biggest jump"}
    assert {route.headline for route in routes if route.headline in seed_wording} == seed_wording
    for route in routes:
        if route.source_kind == SourceKind.SEED and route.headline not in seed_wording:
            assert "headline ours" in route.source_detail, str(route)


@pytest.mark.django_db
def test_the_reimbursement_gap_title_reads_mid_sentence():
    titles = set(Route.objects.exclude(extra_gap_title="").values_list("extra_gap_title", flat=True))
    assert titles == {"US reimbursement environment"}


@pytest.mark.django_db
def test_routes_into_the_us_carry_the_reimbursement_gap_and_no_others_do():
    for route in Route.objects.select_related("destination"):
        assert (route.extra_gap_level == "major") == (route.destination.code == "US"), str(route)


@pytest.mark.django_db
def test_new_zealand_mandates_no_credential_and_says_so():
    assert not RouteCredential.objects.filter(route__destination__code="NZ").exists()
    for route in Route.objects.filter(destination__code="NZ"):
        assert route.employer_expectation


@pytest.mark.django_db
def test_us_credentials_depend_on_the_setting_and_same_step_means_alternatives():
    rows = RouteCredential.objects.filter(route__origin__code="AU", route__destination__code="US")
    by_setting = {}
    for row in rows.select_related("credential"):
        by_setting.setdefault(row.setting, set()).add((row.step, row.credential.code))
    assert by_setting["inpatient"] == {(1, "ahima-ccs"), (1, "aapc-cic")}
    assert by_setting["outpatient"] == {(1, "aapc-coc"), (1, "aapc-cpc"), (1, "ahima-ccs-p")}


@pytest.mark.django_db
def test_the_uk_order_is_the_standards_course_once_employed_then_the_nccq():
    steps = RouteCredential.objects.filter(route__origin__code="AU", route__destination__code="GB")
    assert list(steps.order_by("step").values_list("step", "credential__code")) == [(1, "nhs-ccsc"), (2, "nccq-acc")]
    ccsc = Credential.objects.get(code="nhs-ccsc")
    assert ccsc.requires_employment and ccsc.next_credential.code == "nccq-acc"


@pytest.mark.django_db
def test_durations_appear_only_where_a_source_gives_a_figure():
    for credential in Credential.objects.all():
        duration = (credential.duration_min, credential.duration_max, credential.duration_unit or None)
        assert duration == KNOWN_DURATIONS.get(credential.code, (None, None, None)), credential.code
    for unknown in ("cchim-accredited-him", "22274vic", "aapc-cic"):
        credential = Credential.objects.get(code=unknown)
        assert credential.duration_min is None and credential.duration_max is None


@pytest.mark.django_db
def test_the_standards_course_is_taken_within_the_nccq_development_plan():
    assert Credential.objects.get(code="nhs-ccsc").taken_within.code == "nccq-acc"
    assert not Credential.objects.exclude(code="nhs-ccsc").filter(taken_within__isnull=False).exists()


@pytest.mark.django_db
def test_progression_at_home_is_in_the_data():
    assert Credential.objects.get(code="ahima-cca").next_credential.code == "ahima-ccs"
    assert "CPC-A" in Credential.objects.get(code="aapc-cpc").progression_note
    assert "13th" in Country.objects.get(code="AU").keeping_current
    for country in Country.objects.all():
        assert country.keeping_current, country.code


@pytest.mark.django_db
def test_stale_seed_facts_are_stored_current_with_a_note():
    assert Country.objects.get(code="GB").governing_body.name.startswith("NHS England")
    assert Credential.objects.get(code="cchim-chim").awarded_by.code == "cchim"
    assert "Payment by Results" in Country.objects.get(code="GB").funding_note
    assert "NHS Payment Scheme" in Country.objects.get(code="GB").funding_note


def _provenance_rows():
    for model in Provenance.__subclasses__():
        yield from model.objects.select_related("source")


@pytest.mark.django_db
def test_every_row_carries_provenance_consistent_with_its_source():
    for row in _provenance_rows():
        label = f"{type(row).__name__} {row}"
        # domain.md was compiled on 2026-11-27; its section 10 (Ireland) on 2026-12-06.
        assert row.last_checked in (datetime.date(2026, 11, 27), datetime.date(2026, 12, 6)), label
        assert row.source_detail, label
        if row.source_kind == SourceKind.INFERRED:
            assert row.source is None, label
        else:
            assert row.source is not None and row.source.kind == row.source_kind, label


@pytest.mark.django_db
def test_seed_facts_are_marked_as_coming_from_the_seed():
    seed_rows = [
        Country.objects.get(code="AU"),
        Route.objects.get_by_natural_key("AU", "NZ"),
        Route.objects.get_by_natural_key("AU", "US"),
        Credential.objects.get(code="hlt50321"),
        ClassificationGap.objects.get_by_natural_key("achi", "opcs-4"),
    ]
    for row in seed_rows:
        assert (row.source_kind, row.source.code) == (SourceKind.SEED, "seed"), str(row)
    for country in Country.objects.filter(code__in=SEED_COUNTRIES):
        assert country.source_kind == SourceKind.SEED  # profession and grouper come from S23


# Wording a coder would call wrong (issue 9): each checked against domain.md and the source article.


def _route(origin, destination):
    return (
        Route.objects.get(origin__code=origin, destination__code=destination)
        if origin
        else Route.objects.get(origin__isnull=True, destination__code=destination)
    )


def _note(origin, destination, code):
    return RouteNote.objects.get(route=_route(origin, destination), code=code).text


@pytest.mark.django_db
def test_the_canadian_entry_route_is_a_full_programme_not_a_top_up():
    entry = _route(None, "CA")
    assert entry.headline.startswith("A full HIM programme")
    assert "top-up" not in entry.employer_expectation
    # Coders who already trained elsewhere do need the top-up the seed speaks of (S30).
    assert "top-up" in _route("AU", "CA").employer_expectation


@pytest.mark.django_db
def test_the_uk_entry_route_does_not_talk_about_an_overseas_qualification():
    assert "overseas" not in _route(None, "GB").employer_expectation


@pytest.mark.django_db
def test_canadian_coders_are_not_said_to_code_only_admitted_episodes():
    # Canada codes in all settings (CIHI's DAD and NACRS): the UK, NZ and AU notes may say admitted care.
    assert set(
        CountryUsage.objects.filter(country__code="CA", classification__kind="diagnosis").values_list(
            "setting", flat=True
        )
    ) == {"all"}
    # Canadian coders are asked their setting, so the plan follows it; no note assumes admitted care.
    texts = RouteNote.objects.filter(route__origin__code="CA", route__destination__code="US").values_list(
        "text", flat=True
    )
    assert texts and not [t for t in texts if "admitted" in t or "inpatient track" in t]
    assert "hospital outpatient" in _note("CA", "US", "cpc-physician-based")


@pytest.mark.parametrize("origin", ["GB", "US"])
@pytest.mark.django_db
def test_the_external_pathway_warning_assumes_no_australian_diploma(origin):
    assert "diploma" not in _note(origin, "CA", "external-pathway-needs-degree").lower()


@pytest.mark.django_db
def test_rhia_and_rhit_are_called_credentials_not_degrees():
    text = _note("US", "CA", "rhia-degree")
    assert "RHIA or RHIT degree" not in text and "credentials, not degrees" in text


@pytest.mark.django_db
def test_every_route_into_the_us_names_hcpcs_which_the_plan_lists_as_new():
    for origin in ("AU", "CA", "GB", "NZ"):
        assert "HCPCS" in _route(origin, "US").summary, origin


@pytest.mark.django_db
def test_the_hrg_row_does_not_contradict_its_publisher():
    hrg = Classification.objects.get(code="hrg")
    assert hrg.publisher.code == "nhs-england-tcds" and "not by TCDS" not in hrg.description


@pytest.mark.django_db
def test_new_zealand_entry_route_says_the_diploma_teaches_a_later_edition():
    summary = _route(None, "NZ").summary
    assert "(12th Edition), usually through a HIMAA course or the HLT50321 Diploma" not in summary
    assert "the Diploma teaches the 13th" in summary


@pytest.mark.django_db
def test_no_route_states_flatly_that_new_zealand_requires_no_qualification():
    # domain.md section 8 item 7: NZ entry requirements are not verified.
    for route in Route.objects.filter(destination__code="NZ"):
        assert "No qualification is required" not in route.employer_expectation
        assert "not confirmed" in route.employer_expectation
    for note in RouteNote.objects.filter(code="himaa-courses"):
        assert "asks for no particular qualification" not in note.text


@pytest.mark.django_db
def test_seed_wording_is_kept_where_the_data_quotes_it():
    texts = [r.summary for r in Route.objects.all()] + [n.text for n in RouteNote.objects.all()]
    assert not [t for t in texts if "very differently" in t or "very different procedure" in t]
    assert not [t for t in texts if "in many details" in t]
    assert "structured differently" in _route("AU", "CA").summary  # S30
    assert "differs in detail" in _route("AU", "US").summary  # S31
    assert not [t for t in texts if "skilled-occupation lists" in t]
    assert "skilled-occupation profiles" in _note("AU", "GB", "home-value")  # S32


@pytest.mark.django_db
def test_australian_training_is_said_to_be_vocational_not_university_based():
    for route in Route.objects.filter(destination__code="AU"):
        assert "vocational, not university-based" in route.employer_expectation  # S13


@pytest.mark.django_db
def test_nothing_says_ihacpa_modules_are_free():
    assert "free" not in Organisation.objects.get(code="ihacpa").role
