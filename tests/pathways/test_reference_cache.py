"""load_reference(): a fixed number of queries, cached per process, rebuilt when the version changes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pathways import models
from pathways.ranking import rank_destinations
from pathways.reference import build_reference, clear_cache, load_reference
from pathways.rules import LearnerProfile, build_plan

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def fresh_cache():
    # Each test's rows are rolled back afterwards; never let one test's Reference leak into the next.
    clear_cache()
    yield
    clear_cache()


def test_a_warm_reference_costs_one_query_and_is_the_same_object(django_assert_num_queries):
    first = load_reference()
    with django_assert_num_queries(1):
        again = load_reference()
    assert again is first


def test_bumping_the_version_rebuilds_the_reference():
    first = load_reference()
    models.ReferenceVersion.bump()
    second = load_reference()
    assert second is not first
    assert second.version == first.version + 1


def test_another_process_bumping_the_row_directly_is_noticed():
    first = load_reference()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {models.ReferenceVersion._meta.db_table} SET version = version + 1")
    assert load_reference() is not first


def test_an_admin_style_edit_with_a_bump_reaches_the_plan():
    reference = load_reference()
    before = build_plan(LearnerProfile("AU", frozenset(), "inpatient", None, "NZ"), reference)
    models.Route.objects.filter(origin__code="AU", destination__code="NZ").update(headline="Changed in admin")
    assert load_reference() is reference, "no bump, no rebuild: the version row is the signal"
    models.ReferenceVersion.bump()
    after = build_plan(LearnerProfile("AU", frozenset(), "inpatient", None, "NZ"), load_reference())
    assert before.headline != "Changed in admin"
    assert after.headline == "Changed in admin"


def test_building_the_reference_takes_the_same_number_of_queries_whatever_the_data():
    with CaptureQueriesContext(connection) as real:
        build_reference()
    add_fictional_country()
    with CaptureQueriesContext(connection) as bigger:
        build_reference()
    assert len(real) == len(bigger) <= 15


def test_credentials_for_lists_the_questionnaire_choices():
    reference = load_reference()
    codes = [c.code for c in reference.credentials_for("AU")]
    assert "hlt50321" in codes
    assert all(reference.credential(code).country == "AU" for code in codes)
    assert reference.country("AU").classifications["diagnosis"] == ("icd-10-am",)


# --- A sixth, fictional country, added as rows ------------------------------------------------------


def _prov(**extra):
    return {"source_kind": "inferred", "last_checked": TODAY, **extra}


def add_fictional_country():
    """Zedland (ZZ): its own classifications, gaps both ways, routes both ways and a credential."""
    org = models.Organisation.objects.create(code="zz-institute", name="Zedland Coding Institute", **_prov())
    zz = models.Country.objects.create(
        code="ZZ",
        name="Zedland",
        profession="Record coding",
        grouper="ZZ-groups",
        governing_body=org,
        keeping_current="Follow the yearly Zedland bulletin.",
        **_prov(),
    )
    dx = models.Classification.objects.create(
        code="zz-dx", name="ZZ Diagnoses", kind="diagnosis", publisher=org, **_prov()
    )
    px = models.Classification.objects.create(
        code="zz-px", name="ZZ Procedures", kind="procedure", publisher=org, **_prov()
    )
    for classification in (dx, px):
        models.CountryUsage.objects.create(country=zz, classification=classification, setting="all", **_prov())
    icd_am = models.Classification.objects.get(code="icd-10-am")
    achi = models.Classification.objects.get(code="achi")
    models.ClassificationGap.objects.create(from_classification=icd_am, to_classification=dx, level="minor", **_prov())
    models.ClassificationGap.objects.create(from_classification=achi, to_classification=px, level="major", **_prov())
    models.ClassificationGap.objects.create(
        from_classification=dx, to_classification=icd_am, level="moderate", **_prov()
    )
    diploma = models.Credential.objects.create(
        code="zz-diploma",
        name="Zedland Coding Diploma",
        country=zz,
        awarded_by=org,
        kind="qualification",
        duration_min=6,
        duration_max=9,
        duration_unit="month",
        requires_employment=True,
        **_prov(),
    )
    au = models.Country.objects.get(code="AU")
    hlt = models.Credential.objects.get(code="hlt50321")
    routes = {
        ("AU", "ZZ"): models.Route.objects.create(
            origin=au,
            destination=zz,
            difficulty=2,
            headline="Over the hills",
            summary="AU to ZZ",
            employer_expectation="The Zedland diploma.",
            **_prov(),
        ),
        ("ZZ", "AU"): models.Route.objects.create(
            origin=zz, destination=au, difficulty=3, summary="ZZ to AU", employer_expectation="HLT50321", **_prov()
        ),
        (None, "ZZ"): models.Route.objects.create(
            origin=None, destination=zz, difficulty=2, summary="Into ZZ", employer_expectation="The diploma.", **_prov()
        ),
    }
    for key, credential in ((("AU", "ZZ"), diploma), ((None, "ZZ"), diploma), (("ZZ", "AU"), hlt)):
        models.RouteCredential.objects.create(route=routes[key], credential=credential, setting="all", **_prov())
    models.RouteNote.objects.create(
        route=routes[("AU", "ZZ")], code="zz-visa", kind="warning", text="Zedland needs a work visa.", **_prov()
    )
    models.ReferenceVersion.bump()


def test_a_sixth_fictional_country_added_as_rows_gets_a_correct_plan():
    add_fictional_country()
    reference = load_reference()
    plan = build_plan(LearnerProfile("AU", frozenset({"hlt50321"}), "inpatient", 2, "ZZ"), reference)
    gaps = {c.code: (c.gap, c.known_from) for c in plan.classifications}
    assert gaps == {"zz-dx": ("minor", "icd-10-am"), "zz-px": ("major", "achi")}
    assert (plan.difficulty, plan.headline) == (2, "Over the hills")
    assert [c.code for c in plan.credentials] == ["zz-diploma"]
    # The job the diploma needs, the diploma, then one self-study step for the gaps no course covers.
    assert [s.kind for s in plan.steps] == ["employment", "credential", "learn"]
    assert [c.code for c in plan.steps[2].covers] == ["zz-px", "zz-dx"]
    assert plan.total_months == (6, 9) and plan.untimed_steps == 2
    warnings = {w.code: w.text for w in plan.warnings}
    assert warnings["zz-visa"] == "Zedland needs a work visa."
    assert "employed" in warnings["requires-employment-zz-diploma"]
    assert "held-credentials-do-not-replace" in warnings

    back = build_plan(LearnerProfile("ZZ", frozenset(), "inpatient", None, "AU"), reference)
    assert next(c for c in back.classifications if c.code == "icd-10-am").gap == "moderate"
    assert next(c for c in back.classifications if c.code == "achi").gap == "new"
    assert "setting-shift" not in [g.code for g in back.other_gaps]
    # Zedland codes every setting alike: its coders are not asked, and the setting parameter changes nothing.
    outpatient = build_plan(LearnerProfile("ZZ", frozenset(), "outpatient", None, "AU"), reference)
    assert outpatient.setting == back.setting == "both" and outpatient.steps == back.steps
    assert "setting-shift" not in [g.code for g in outpatient.other_gaps]

    assert "ZZ" in [r.code for r in rank_destinations("AU", reference)]
    staying = build_plan(LearnerProfile("ZZ", frozenset(), "both", None, "ZZ"), reference)
    assert staying.difficulty == 0 and staying.steps[-1].kind == "keep-current"


def test_memo_sizes_come_from_settings(settings):
    settings.PLAN_MEMO_SIZE, settings.RANKING_MEMO_SIZE = 7, 3
    reference = build_reference()
    assert (reference.plans.size, reference.rankings.size) == (7, 3)
