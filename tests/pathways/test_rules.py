"""The rules engine: pure tests, no database.

Two kinds of reference data: a fictional world built by hand below (three made-up countries,
proving the rules read rows, not names), and the real fixtures, read once per session through
load_reference() (the `reference` fixture), so these tests never use the `db` fixture.
"""

from dataclasses import replace

import pytest

from pathways import models
from pathways.presenter import plan_json, present, ranking_reasons
from pathways.ranking import rank_destinations
from pathways.reference import load_reference
from pathways.rules import (
    DIFFICULTY_LABELS,
    GAP_LABELS,
    GAP_ORDER,
    ClassificationInfo,
    CountryInfo,
    CredentialInfo,
    Duration,
    GapInfo,
    LearnerProfile,
    NoRoute,
    Provenance,
    Reference,
    RouteCredentialInfo,
    RouteInfo,
    RouteNoteInfo,
    SkillInfo,
    UnknownCode,
    UsageInfo,
    build_plan,
)

# The five of the source article and Ireland (domain.md section 10): every pair, both ways.
COUNTRIES = ("AU", "CA", "GB", "IE", "NZ", "US")
PAIRS = [(o, d) for o in COUNTRIES for d in COUNTRIES if o != d]
SETTINGS = ("inpatient", "outpatient", "both")


@pytest.fixture(scope="session")
def reference(django_db_setup, django_db_blocker):
    """The real reference data, read once for the whole session."""
    with django_db_blocker.unblock():
        return load_reference()


def plan_for(reference, origin, destination, setting="both", credentials=(), years=None):
    return build_plan(LearnerProfile(origin, frozenset(credentials), setting, years, destination), reference)


# --- A fictional world ---------------------------------------------------------------------------

SEEN = Provenance("official", "A made-up source", "https://example.org/source", "page 1", "2026-01-01")


def usage(code, setting="all", edition=""):
    return UsageInfo(code, setting, edition, "", SEEN)


def credential(code, country, **extra):
    return CredentialInfo(
        code=code,
        name=extra.pop("name", code.upper()),
        country=country,
        awarded_by="Body",
        kind=extra.pop("kind", "qualification"),
        provenance=SEEN,
        **extra,
    )


def route(origin, destination, difficulty, credentials=(), notes=(), **extra):
    return RouteInfo(
        origin=origin,
        destination=destination,
        difficulty=difficulty,
        headline=extra.pop("headline", ""),
        summary=f"{origin} to {destination}",
        employer_expectation="Employers expect local training.",
        credentials=tuple(credentials),
        notes=tuple(notes),
        provenance=SEEN,
        **extra,
    )


def make_world(version: int = 7) -> Reference:
    classifications = [
        ClassificationInfo("qa-dx", "QA Diagnoses", "diagnosis", provenance=SEEN),
        ClassificationInfo("qa-px", "QA Procedures", "procedure", provenance=SEEN),
        ClassificationInfo("qa-std", "QA Standards", "standard", provenance=SEEN),
        ClassificationInfo("qb-dx", "QB Diagnoses", "diagnosis", provenance=SEEN),
        ClassificationInfo("qb-ipx", "QB Inpatient Procedures", "procedure", provenance=SEEN),
        ClassificationInfo("qb-opx", "QB Outpatient Procedures", "procedure", provenance=SEEN),
        ClassificationInfo("zz-dx", "ZZ Diagnoses", "diagnosis", provenance=SEEN),
        ClassificationInfo("zz-px", "ZZ Procedures", "procedure", provenance=SEEN),
    ]
    countries = [
        CountryInfo(
            "QA",
            "Qualand",
            "Clinical coding",
            "QA-DRG",
            "QA Authority",
            usages=(
                usage("qa-dx", "inpatient", "3rd"),
                usage("qa-px", "inpatient", "3rd"),
                usage("qa-std", "inpatient", "3rd"),
            ),
            keeping_current="Learn each new edition.",
            provenance=SEEN,
        ),
        CountryInfo(
            "QB",
            "Quebland",
            "Medical coding",
            "QB-DRG",
            "QB Authority",
            usages=(usage("qb-dx", "all"), usage("qb-ipx", "inpatient"), usage("qb-opx", "outpatient")),
            provenance=SEEN,
        ),
        CountryInfo(
            "ZZ",
            "Zedland",
            "Coding",
            "ZZ groups",
            "ZZ Institute",
            usages=(usage("zz-dx", "all"), usage("zz-px", "all"), usage("qa-dx", "all", "2nd")),
            provenance=SEEN,
        ),
    ]
    credentials = [
        credential("qa-dip", "QA", name="QA Diploma", duration=Duration(12, 12, "month"), classifications=("qa-dx",)),
        credential("qb-in", "QB", name="QB Inpatient Cert", kind="certification", duration=Duration(3, 6, "month")),
        credential("qb-in2", "QB", name="QB Hospital Cert", kind="certification"),
        credential(
            "qb-out",
            "QB",
            name="QB Outpatient Cert",
            kind="certification",
            duration=Duration(2, 4, "month"),
            next_credential="qb-in",
            progression_note="Add the inpatient certificate after a year.",
        ),
        credential(
            "zz-course",
            "ZZ",
            name="ZZ Standards Course",
            kind="course",
            requires_employment=True,
            duration=Duration(21, None, "day"),
            within="zz-exam",
            classifications=("zz-px",),
            keeping_current="A refresher every three years.",
        ),
        credential(
            "zz-exam",
            "ZZ",
            name="ZZ Exam",
            kind="exam",
            duration=Duration(2, 3, "year"),
            prerequisites="Two years of coding in Zedland.",
            classifications=("zz-dx", "zz-px"),
        ),
    ]
    zz_creds = [
        RouteCredentialInfo("zz-course", "all", 1, "", SEEN),
        RouteCredentialInfo("zz-exam", "all", 2, "", SEEN),
    ]
    qb_creds = [
        RouteCredentialInfo("qb-in", "inpatient", 1, "", SEEN),
        RouteCredentialInfo("qb-in2", "inpatient", 1, "", SEEN),
        RouteCredentialInfo("qb-out", "outpatient", 1, "", SEEN),
    ]
    qa_creds = [RouteCredentialInfo("qa-dip", "all", 1, "", SEEN)]
    routes = [
        route(
            "QA",
            "QB",
            4,
            qb_creds,
            extra_gap_level="major",
            extra_gap_title="QB billing",
            extra_gap_note="Claims and payers.",
        ),
        route("QA", "ZZ", 3, zz_creds, headline="Across the sea"),
        route(
            "QB",
            "QA",
            4,
            qa_creds,
            [RouteNoteInfo("qb-no", "warning", "QB certificates are not QA training.", 1, SEEN)],
        ),
        route("QB", "ZZ", 4, zz_creds),
        route("ZZ", "QA", 1, qa_creds),
        route("ZZ", "QB", 4, qb_creds),
        route(
            None, "QA", 2, qa_creds, [RouteNoteInfo("qa-entry", "warning", "Foreign courses do not count.", 1, SEEN)]
        ),
        route(None, "QB", 2, qb_creds),
        route(None, "ZZ", 2, zz_creds),
    ]
    gaps = [
        GapInfo("qa-dx", "qb-dx", "moderate", "Differs in detail.", SEEN),
        GapInfo("qa-std", "qb-dx", "major", "Rules differ.", SEEN),
        GapInfo("qa-dx", "zz-dx", "minor", "Close cousins.", SEEN),
        GapInfo("qa-px", "zz-px", "major", "Structured differently.", SEEN),
        GapInfo("qa-dx", "qa-dx", "minor", "Edition change.", SEEN),
        GapInfo("qb-dx", "qa-dx", "moderate", "Differs in detail.", SEEN),
        GapInfo("zz-dx", "qa-dx", "minor", "Close cousins.", SEEN),
    ]
    skills = [SkillInfo("read", "Reading medical records", 1, SEEN)]
    return Reference(
        version=version,
        countries=countries,
        classifications=classifications,
        credentials=credentials,
        routes=routes,
        gaps=gaps,
        skills=skills,
    )


@pytest.fixture(scope="module")
def world():
    return make_world()


def test_a_made_up_country_gets_a_plan_from_its_rows_alone(world):
    plan = plan_for(world, "QA", "ZZ", "inpatient", years=3)
    gaps = {c.code: (c.gap, c.known_from) for c in plan.classifications}
    assert gaps == {"zz-dx": ("minor", "qa-dx"), "zz-px": ("major", "qa-px"), "qa-dx": ("minor", "qa-dx")}
    assert plan.difficulty == 3 and plan.difficulty_label == "High"
    assert plan.headline == "Across the sea"
    assert [c.code for c in plan.credentials] == ["zz-course", "zz-exam"]
    assert [s.kind for s in plan.steps] == ["employment", "credential", "credential", "learn", "keep-current"]
    # What each course teaches is listed inside its step, once; the rest is one self-study step.
    assert [[c.code for c in s.covers] for s in plan.steps] == [[], ["zz-px"], ["zz-dx"], ["qa-dx"], []]


def test_same_classification_and_edition_is_no_gap(world):
    plan = plan_for(world, "QB", "QB", "outpatient")
    assert {c.gap for c in plan.classifications} == {"none"}
    assert plan.difficulty == 0 and plan.difficulty_label == "No move needed"


def test_a_classification_nothing_maps_onto_is_new_with_no_known_source(world):
    plan = plan_for(world, "QB", "QA", "inpatient")
    new = [c for c in plan.classifications if c.gap == "new"]
    assert {c.code for c in new} == {"qa-px", "qa-std"}
    assert all(c.known_from is None for c in new)


def test_the_smallest_gap_from_anything_known_wins(world):
    # QA knows qa-dx (moderate to qb-dx) and qa-std (major to qb-dx): moderate wins.
    plan = plan_for(world, "QA", "QB", "inpatient")
    qb_dx = next(c for c in plan.classifications if c.code == "qb-dx")
    assert (qb_dx.gap, qb_dx.known_from) == ("moderate", "qa-dx")


def test_someone_new_to_coding_learns_everything_on_the_entry_route(world):
    plan = plan_for(world, None, "QA", "both")
    assert {c.gap for c in plan.classifications} == {"new"}
    assert [c.code for c in plan.credentials] == ["qa-dip"]
    assert plan.difficulty == 2
    assert "Foreign courses do not count." in [w.text for w in plan.warnings]
    assert plan.transferable_skills == ()


def test_the_learners_setting_picks_the_destination_classifications_and_credentials(world):
    # New to coding, heading for QB, whose rows differ by setting: the setting they want decides.
    inpatient = plan_for(world, None, "QB", "inpatient")
    outpatient = plan_for(world, None, "QB", "outpatient")
    both = plan_for(world, None, "QB", "both")
    assert [c.code for c in inpatient.classifications] == ["qb-dx", "qb-ipx"]
    assert [c.code for c in outpatient.classifications] == ["qb-dx", "qb-opx"]
    assert {c.code for c in both.classifications} == {"qb-dx", "qb-ipx", "qb-opx"}
    assert {c.code for c in inpatient.credentials} == {"qb-in", "qb-in2"}
    assert {c.code for c in outpatient.credentials} == {"qb-out"}
    assert {c.code for c in both.credentials} == {"qb-in", "qb-in2", "qb-out"}


def test_credentials_at_the_same_step_are_alternatives_in_one_step(world):
    plan = plan_for(world, None, "QB", "inpatient")
    step = next(s for s in plan.steps if s.kind == "credential")
    assert step.credentials == ("qb-in", "qb-in2")
    assert [o["name"] for o in present(plan).steps[0].options] == ["QB Inpatient Cert", "QB Hospital Cert"]
    # One alternative has no published figure, so the step has none either.
    assert step.duration is None


def test_holding_one_alternative_skips_the_step_and_marks_it_held(world):
    plan = plan_for(world, "QA", "QB", "inpatient", credentials=["qb-in2"])
    assert [c.held for c in plan.credentials] == [False, True]
    assert not [s for s in plan.steps if s.kind == "credential"]


def test_an_outpatient_coder_moving_to_an_admitted_care_country_gets_a_setting_shift(world):
    plan = plan_for(world, "QB", "QA", "outpatient")
    assert [g.code for g in plan.other_gaps] == ["setting-shift"]
    assert plan.other_gaps[0].gap == "major"
    assert any("episode-based abstraction" in w.text for w in plan.warnings)
    inpatient = plan_for(world, "QB", "QA", "inpatient")
    assert not [g for g in inpatient.other_gaps if g.code == "setting-shift"]


def test_leaving_a_split_country_for_one_whose_rows_cover_every_setting_there_is_no_setting_shift(world):
    # QB splits by setting; ZZ's rows cover every setting alike, the outpatient coder's included.
    outpatient = plan_for(world, "QB", "ZZ", "outpatient")
    assert outpatient.other_gaps == () and not [w for w in outpatient.warnings if "setting" in w.code]
    assert {c.code for c in outpatient.classifications} == {"zz-dx", "zz-px", "qa-dx"}


def test_a_credential_that_needs_a_job_comes_after_getting_one_with_a_warning(world):
    plan = plan_for(world, "QA", "ZZ", "inpatient")
    kinds = [s.kind for s in plan.steps]
    assert kinds.index("employment") < kinds.index("credential")
    assert any(w.code == "requires-employment-zz-course" and "employed" in w.text for w in plan.warnings)


def test_time_comes_only_from_credential_figures_in_the_sources_own_terms(world):
    plan = plan_for(world, "QA", "ZZ", "inpatient")
    assert [s.duration for s in plan.steps] == [
        None,
        Duration(21, None, "day"),
        Duration(2, 3, "year"),
        None,
        None,
    ]
    # A minimum stays a minimum: no maximum is made up, in the records or the JSON.
    assert plan.steps[1].months == (0, None)


def test_a_course_taken_within_another_credentials_period_adds_nothing_to_the_total(world):
    plan = plan_for(world, "QA", "ZZ", "inpatient")
    assert plan.steps[1].within == "zz-exam"
    assert plan.total == Duration(2, 3, "year") and plan.total_months == (24, 36)
    # The job and the self-study step have no figure: said once, as the reason, not added.
    assert plan.untimed_steps == 2
    words = present(plan)
    assert words.time == "2 to 3 years"
    assert words.time_note == "Steps 1 and 4 have no published figure and are not counted."


def test_a_credential_from_elsewhere_does_not_replace_the_destinations(world):
    plan = plan_for(world, "QB", "QA", "inpatient", credentials=["qb-in"])
    warning = next(w for w in plan.warnings if w.code == "held-credentials-do-not-replace")
    assert "QB Inpatient Cert does not replace" in warning.text and "QA Diploma" in warning.text


def test_a_route_note_with_the_engines_code_says_it_instead_of_the_generic_warning(world):
    qb_to_qa = world.routes[("QB", "QA")]
    own_words = RouteNoteInfo(
        "held-credentials-do-not-replace", "warning", "QA hospitals want the QA Diploma, whatever you hold.", 1, SEEN
    )
    reworded = Reference(
        countries=list(world.countries.values()),
        classifications=list(world.classifications.values()),
        credentials=list(world.credentials.values()),
        routes=[r for key, r in world.routes.items() if key != ("QB", "QA")]
        + [replace(qb_to_qa, notes=(*qb_to_qa.notes, own_words))],
        gaps=list(world.gaps.values()),
        skills=list(world.skills),
    )
    plan = plan_for(reworded, "QB", "QA", "inpatient", credentials=["qb-in"])
    said = [w for w in plan.warnings if w.code == "held-credentials-do-not-replace"]
    assert [(w.text, w.provenance) for w in said] == [(own_words.text, SEEN)]
    assert not any("does not replace" in w.text for w in plan.warnings)
    # Other route warnings are untouched.
    assert any(w.code == "qb-no" for w in plan.warnings)


def test_years_are_shown_against_the_prerequisites_the_data_states(world):
    plan = plan_for(world, "QA", "ZZ", "inpatient", years=1)
    note = next(n for n in plan.notes if n.code == "prerequisites-zz-exam")
    assert note.text == "You have 1 year of coding experience. ZZ Exam asks for: Two years of coding in Zedland."
    without = plan_for(world, "QA", "ZZ", "inpatient")
    assert next(n for n in without.notes if n.code == "prerequisites-zz-exam").text.startswith("ZZ Exam asks for")


def test_staying_put_shows_the_next_credential_and_keeping_current(world):
    plan = plan_for(world, "QB", "QB", "outpatient", credentials=["qb-out"])
    assert plan.route is None
    assert [s.title for s in present(plan).steps] == ["Move up from QB Outpatient Cert to QB Inpatient Cert"]
    assert plan.steps[0].months == (3, 6)
    staying = plan_for(world, "QA", "QA", "inpatient")
    assert [s.kind for s in staying.steps] == ["credential", "keep-current"]


def test_a_route_extra_gap_counts_as_a_gap(world):
    plan = plan_for(world, "QA", "QB", "inpatient")
    assert [(g.title, g.gap) for g in plan.other_gaps] == [("QB billing", "major")]


def test_ranking_orders_by_difficulty_then_new_then_major_gaps(world):
    ranking = rank_destinations("QA", world, "inpatient")
    assert [r.code for r in ranking] == ["ZZ", "QB"]
    assert ranking[0].new_gaps == 0 and ranking[0].major_gaps == 1
    assert "1 major and 2 minor gaps" in ranking_reasons(ranking[0])
    assert ranking[0].credential_months == (24, 36) and ranking[0].credential_time_partial


def test_a_tie_on_rank_new_and_major_gaps_goes_to_fewer_moderate_then_fewer_minor_gaps():
    # Four made-up destinations of rank 1 from QA, none with a new or major gap: the country code (QC first)
    # would order them backwards. Fewer moderate gaps come first, then fewer minor gaps.
    names = {"QC": "Cland", "QD": "Dland", "QE": "Eland", "QF": "Fland"}
    levels = {"QC": ("moderate", "moderate"), "QD": ("moderate", "minor"), "QE": ("minor", "minor"), "QF": ("minor",)}
    classifications = [ClassificationInfo("qa-dx", "QA Diagnoses", "diagnosis", provenance=SEEN)]
    countries = [CountryInfo("QA", "Qualand", usages=(usage("qa-dx", "inpatient"),), provenance=SEEN)]
    gaps = []
    for code, levels_to in levels.items():
        own = [f"{code.lower()}-{n}" for n in range(len(levels_to))]
        classifications += [ClassificationInfo(c, c.upper(), "diagnosis", provenance=SEEN) for c in own]
        countries.append(CountryInfo(code, names[code], usages=tuple(usage(c) for c in own), provenance=SEEN))
        gaps += [GapInfo("qa-dx", c, level, "", SEEN) for c, level in zip(own, levels_to, strict=True)]
    small = Reference(
        countries=countries,
        classifications=classifications,
        routes=[route("QA", code, 1) for code in names],
        gaps=gaps,
    )
    ranking = rank_destinations("QA", small, "inpatient")
    assert [r.code for r in ranking] == ["QF", "QE", "QD", "QC"]
    assert [(r.moderate_gaps, r.minor_gaps) for r in ranking] == [(0, 1), (0, 2), (1, 1), (2, 0)]
    assert ranking_reasons(ranking[0]).startswith("1 minor gap;")


def test_unknown_codes_raise_a_value_error(world):
    with pytest.raises(UnknownCode):
        plan_for(world, "XX", "QA")
    with pytest.raises(UnknownCode):
        plan_for(world, "QA", "QB", credentials=["nope"])
    with pytest.raises(ValueError):
        plan_for(world, "QA", "QB", setting="sideways")
    with pytest.raises(UnknownCode):
        world.credentials_for("XX")


def test_a_missing_route_is_a_clear_error():
    lonely = Reference(countries=[CountryInfo("QA", "Qualand"), CountryInfo("QB", "Quebland")])
    with pytest.raises(NoRoute):
        plan_for(lonely, "QA", "QB")


def test_the_same_profile_gives_the_same_plan_object(world):
    assert plan_for(world, "QA", "ZZ") is plan_for(world, "QA", "ZZ")


def test_credentials_for_lists_a_countrys_credentials_by_name(world):
    assert [c.code for c in world.credentials_for("QB")] == ["qb-in2", "qb-in", "qb-out"]


def test_labels_copied_into_rules_match_the_models():
    assert dict(models.Difficulty.choices) == DIFFICULTY_LABELS
    assert dict(models.GapLevel.choices) == GAP_LABELS
    assert tuple(models.GapLevel.values) == GAP_ORDER


# --- The real reference data ----------------------------------------------------------------------


def _first_step_credentials(reference, origin, destination, setting):
    route = reference.route(origin, destination)
    plan = plan_for(reference, origin, destination, setting)
    steps = sorted({c.step for c in plan.credentials})
    return [c.code for c in plan.credentials if c.step == steps[0]] if steps else [], route


@pytest.mark.parametrize("held", [False, True], ids=["without", "holding"])
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize(("origin", "destination"), PAIRS, ids=[f"{o}-{d}" for o, d in PAIRS])
def test_every_route_gives_a_sound_plan(reference, origin, destination, setting, held):
    first_step, route = _first_step_credentials(reference, origin, destination, setting)
    credentials = first_step[:1] if held else []
    plan = plan_for(reference, origin, destination, setting, credentials)
    assert plan.difficulty == route.difficulty and 1 <= plan.difficulty <= 4
    assert plan.classifications, "a destination always codes with something"
    for item in plan.classifications:
        assert item.gap in GAP_ORDER
        assert (item.known_from is None) == (item.gap == "new")
        assert item.provenance.kind in ("seed", "official", "third-party", "inferred")
    for item in plan.credentials:
        assert item.held == (item.code in credentials)
    if held and first_step:
        held_steps = {c.step for c in plan.credentials if c.held}
        assert not [s for s in plan.steps if s.kind == "credential" and first_step[0] in s.credentials]
        assert held_steps
    credential_steps = [s for s in plan.steps if s.kind == "credential"]
    for step in credential_steps:
        assert step.duration is None or step.duration.max is None or step.duration.min <= step.duration.max
    assert plan.transferable_skills
    data = plan_json(plan, reference)
    assert data["difficulty"]["rank"] == route.difficulty
    assert all(item["provenance"]["kind"] for key in ("classifications", "credentials") for item in data[key])
    assert [r["code"] for r in data["ranking"]] and origin not in [r["code"] for r in data["ranking"]]


@pytest.mark.parametrize("destination", COUNTRIES)
def test_new_to_coding_follows_the_destinations_entry_route(reference, destination):
    plan = plan_for(reference, None, destination)
    route = reference.route(None, destination)
    assert plan.origin is None and plan.route == route
    assert {c.gap for c in plan.classifications} == {"new"}
    assert plan.difficulty == route.difficulty
    assert {n.code for n in route.notes} <= {n.code for n in plan.warnings + plan.notes}


def test_new_to_coding_in_australia_means_the_diploma_and_a_warning_about_us_courses(reference):
    plan = plan_for(reference, None, "AU", "inpatient")
    assert [c.code for c in plan.credentials] == ["hlt50321"]
    diploma = next(s for s in plan.steps if s.kind == "credential")
    # About 12 months as one provider delivers it (issue 19): the figure keeps its source's words.
    assert diploma.duration == Duration(12, 12, "month", about=True, basis="as one provider delivers it")
    assert present(plan).time == "About 12 months, as one provider delivers it"
    assert any("medical coding" in w.text.lower() and "australia" in w.text.lower() for w in plan.warnings)


@pytest.mark.parametrize("country", COUNTRIES)
def test_staying_in_your_country_is_no_move_but_progression(reference, country):
    plan = plan_for(reference, country, country)
    assert plan.difficulty == 0 and plan.route is None
    assert {c.gap for c in plan.classifications} == {"none"}
    assert plan.steps, "progression or the entry route, never an empty plan"


@pytest.mark.parametrize(
    ("country", "held", "next_code"),
    [("US", "ahima-cca", "ahima-ccs"), ("GB", "nhs-ccsc", "nccq-acc")],
)
def test_staying_put_with_a_credential_shows_its_next_one(reference, country, held, next_code):
    plan = plan_for(reference, country, country, credentials=[held])
    assert any(s.kind == "progression" for s in plan.steps)
    assert next_code in [c.code for c in plan.credentials if not c.held]


def test_a_cpc_apprentice_is_told_how_to_become_a_full_cpc(reference):
    plan = plan_for(reference, "US", "US", "outpatient", credentials=["aapc-cpc"])
    cpc = reference.credential("aapc-cpc")
    assert cpc.progression_note
    texts = [s.detail for s in present(plan).steps] + [n.text for n in plan.notes]
    assert any(cpc.progression_note in text for text in texts)


def test_leaving_the_us_outpatient_coders_face_a_setting_shift_and_inpatient_coders_do_not(reference):
    # Domain.md 7.1, read through the usage rows: a shift only into a country whose rows describe no outpatient
    # coding. Canada codes ambulatory care with the same classifications (NACRS), so no shift there.
    for destination in ("AU", "GB", "NZ", "IE", "CA"):
        outpatient = plan_for(reference, "US", destination, "outpatient")
        inpatient = plan_for(reference, "US", destination, "inpatient")
        expected = destination != "CA"
        assert ("setting-shift" in [g.code for g in outpatient.other_gaps]) is expected, destination
        assert "setting-shift" not in [g.code for g in inpatient.other_gaps], destination


def test_arriving_in_the_us_the_setting_picks_the_credential_track(reference):
    # Someone new to coding chooses a track; a coder from a country that codes admitted care gets the inpatient
    # one whatever the setting parameter says (domain.md 7.1), with the other track named in a note.
    inpatient = {c.code for c in plan_for(reference, None, "US", "inpatient").credentials}
    outpatient = {c.code for c in plan_for(reference, None, "US", "outpatient").credentials}
    assert {"ahima-ccs", "aapc-cic"} <= inpatient
    assert "aapc-cpc" in outpatient and "aapc-cic" not in outpatient
    assert "cpt" in [c.code for c in plan_for(reference, None, "US", "outpatient").classifications]
    from_australia = plan_for(reference, "AU", "US", "outpatient")
    same = plan_for(reference, "AU", "US", "inpatient")
    assert from_australia.setting == "inpatient"
    assert (from_australia.credentials, from_australia.steps, from_australia.notes) == (
        same.credentials,
        same.steps,
        same.notes,
    )
    assert {"ahima-ccs", "aapc-cic"} == {c.code for c in from_australia.credentials}
    assert "icd-10-pcs" in [c.code for c in from_australia.classifications]
    other = next(n.text for n in from_australia.notes if n.code == "other-setting")
    assert "CPT and HCPCS Level II" in other and "the CPC" in other


def test_from_australia_new_zealand_is_the_smallest_move_and_the_us_the_biggest(reference):
    ranking = rank_destinations("AU", reference)
    # S22: more readily to New Zealand than to any other country. Ireland ranks 1 too (domain.md 10.2); the
    # gaps break the tie (the Irish standards sit on an ACS three editions back).
    assert ranking[0].rank == 1 and ranking[0].code == "NZ"
    assert ranking[-1].code == "US" and ranking[-1].rank == 4
    assert [r.rank for r in ranking] == sorted(r.rank for r in ranking)


def test_opcs4_is_new_for_an_australian_coder_moving_to_the_uk(reference):
    plan = plan_for(reference, "AU", "GB", "inpatient")
    opcs = next(c for c in plan.classifications if c.code == "opcs-4")
    assert opcs.gap == "new"


def test_cci_is_a_major_gap_for_an_australian_coder_moving_to_canada(reference):
    plan = plan_for(reference, "AU", "CA", "inpatient")
    cci = next(c for c in plan.classifications if c.code == "cci")
    assert (cci.gap, cci.known_from) == ("major", "achi")


def test_a_us_certification_does_not_replace_australian_training(reference):
    plan = plan_for(reference, "US", "AU", "outpatient", credentials=["aapc-cpc"])
    assert not any(c.held for c in plan.credentials)
    assert "hlt50321" in [c.code for c in plan.credentials]
    assert any(w.code == "held-credentials-do-not-replace" for w in plan.warnings)


def test_a_us_coder_holding_a_us_credential_is_told_once_that_it_does_not_replace_australian_training(reference):
    plan = plan_for(reference, "US", "AU", "outpatient", credentials=["aapc-cpc"])
    said = [w for w in plan.warnings if "not replace" in w.text]
    assert [w.code for w in said] == ["held-credentials-do-not-replace"]
    assert said[0].provenance.kind == "seed" and "HLT50321" in said[0].text
    # A US coder holding nothing still reads the route's warning.
    assert [w.code for w in plan_for(reference, "US", "AU", "outpatient").warnings if "not replace" in w.text] == [
        "held-credentials-do-not-replace"
    ]


def test_a_route_without_its_own_wording_keeps_the_generic_warning(reference):
    plan = plan_for(reference, "GB", "US", "inpatient", credentials=["nccq-acc"])
    said = [w for w in plan.warnings if "not replace" in w.text]
    assert [w.code for w in said] == ["held-credentials-do-not-replace"]
    assert said[0].text.startswith("National Clinical Coding Qualification (UK)")


def test_the_uk_standards_course_is_only_open_once_employed(reference):
    plan = plan_for(reference, "AU", "GB", "inpatient", credentials=["hlt50321"])
    kinds = [s.kind for s in plan.steps]
    assert kinds.index("employment") < kinds.index("credential")
    warning = next(w for w in plan.warnings if w.code == "requires-employment-nhs-ccsc")
    assert "employed" in warning.text


def test_ranking_covers_every_other_destination_in_order(reference):
    for origin in (*COUNTRIES, None):
        ranking = rank_destinations(origin, reference)
        assert {r.code for r in ranking} == set(COUNTRIES) - {origin}
        keys = [(r.rank, r.new_gaps, r.major_gaps, r.moderate_gaps, r.minor_gaps, r.code) for r in ranking]
        assert keys == sorted(keys)


def test_a_uk_plan_puts_the_coding_job_first_and_says_the_nhs_rule_once(reference):
    plan = plan_for(reference, "AU", "GB", "inpatient", credentials=["hlt50321"])
    assert plan.steps[0].kind == "employment"
    said = [w for w in plan.warnings if "employed" in w.text]
    # The route's own note (sourced) replaces the engine's generic wording for the same rule.
    assert [w.code for w in said] == ["requires-employment-nhs-ccsc"]
    assert said[0].provenance.kind != "inferred"


def test_a_held_credential_is_told_the_destination_wants_its_sequence_of_credentials(reference):
    plan = plan_for(reference, "AU", "US", "inpatient", credentials=["hlt50321"])
    warning = next(w for w in plan.warnings if w.code == "held-credentials-do-not-replace")
    assert "Certified Coding Specialist" in warning.text and " or " in warning.text
    plan = plan_for(reference, "US", "GB", "inpatient", credentials=["ahima-ccs"])
    warning = next(w for w in plan.warnings if w.code == "held-credentials-do-not-replace")
    assert ", then National Clinical Coding Qualification" in warning.text


def test_the_plan_and_ranking_memos_are_bounded_and_drop_the_least_recently_used():
    world = make_world()
    small = Reference(
        countries=list(world.countries.values()),
        classifications=list(world.classifications.values()),
        credentials=list(world.credentials.values()),
        routes=list(world.routes.values()),
        gaps=list(world.gaps.values()),
        plan_memo_size=2,
        ranking_memo_size=1,
    )
    first = plan_for(small, "QA", "ZZ")
    plan_for(small, "QA", "QB")
    assert plan_for(small, "QA", "ZZ") is first  # used again: now the most recent
    plan_for(small, "ZZ", "QA")  # evicts QA->QB, the least recently used
    assert len(small.plans) == 2
    assert plan_for(small, "QA", "ZZ") is first
    rank_destinations("QA", small)
    rank_destinations("QB", small)
    assert len(small.rankings) == 1


def test_holding_the_next_credential_too_ends_the_progression_advice(reference):
    both = plan_for(reference, "IE", "IE", credentials=["hpo-hipe-training", "tud-cert-clinical-coding"])
    assert not [n for n in both.notes if n.code.startswith("progression-")]
    assert not [s for s in both.steps if s.kind == "progression"]
    first = plan_for(reference, "IE", "IE", credentials=["hpo-hipe-training"])
    assert [s.credentials for s in first.steps if s.kind == "progression"] == [("tud-cert-clinical-coding",)]


def test_someone_progressing_is_not_told_what_entry_credentials_ask_for(reference):
    plan = plan_for(reference, "US", "US", "both", credentials=["aapc-cpc", "aapc-cic"])
    assert not [n for n in plan.notes if n.code.startswith("prerequisites-")]
    newcomer = plan_for(reference, None, "US", "inpatient")
    assert "prerequisites-ahima-ccs" in [n.code for n in newcomer.notes]
