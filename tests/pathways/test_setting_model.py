"""The setting model (issue 19): which setting a plan is for, the change of setting, and what follows from it are
read from the usage rows, and no two sentences of one plan contradict each other about it."""

import dataclasses

import pytest

from pathways import presenter
from pathways.records import UsageInfo
from pathways.reference import load_reference
from pathways.rules import SETTINGS, LearnerProfile, asks_setting, build_plan, learner_settings, plan_setting
from tests.pathways.test_rules import make_world


@pytest.fixture(scope="module")
def reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return load_reference()


def _plan(reference, origin, destination, setting, held=()):
    return build_plan(LearnerProfile(origin, frozenset(held), setting, None, destination), reference)


def _all_plans(reference):
    for origin in [None, *reference.countries]:
        for destination in reference.countries:
            if origin != destination and reference.route(origin, destination) is None:
                continue
            held_options = [()] + ([(c.code,) for c in reference.credentials_for(origin)] if origin else [])
            for setting in dict.fromkeys(plan_setting(reference, origin, destination, s) for s in SETTINGS):
                for held in held_options:
                    yield _plan(reference, origin, destination, setting, held)


def _page_text(plan):
    words = presenter.present(plan)
    texts = [words.move, *(w["text"] for w in words.warnings), *(n["text"] for n in words.notes)]
    texts += [c.note for c in plan.classifications] + [g.note for g in plan.other_gaps]
    return " ".join(texts)


def test_the_setting_is_asked_only_where_the_rows_differ_by_setting(reference):
    asked = {code for code in reference.countries if asks_setting(reference, code, None)}
    # The US codes outpatient work with CPT, HCPCS and APC; Canada's inpatient grouper is CMG+. Every other country's
    # rows describe admitted care only.
    assert asked == {"US", "CA"}
    assert asks_setting(reference, None, "US") and not asks_setting(reference, None, "AU")


def test_the_rows_decide_not_the_country():
    # In a made-up world, Qualand codes admitted care only and is not asked; give it one outpatient-only
    # classification and its coders are asked, with no line of code naming it.
    world = make_world()
    assert (
        not asks_setting(world, "QA", None) and asks_setting(world, "QB", None) and not asks_setting(world, "ZZ", None)
    )
    assert plan_setting(world, "QA", "ZZ", "outpatient") == "inpatient"
    qa = world.countries["QA"]
    changed = make_world()
    changed.countries["QA"] = dataclasses.replace(qa, usages=(*qa.usages, UsageInfo("qb-opx", "outpatient")))
    assert asks_setting(changed, "QA", None) and plan_setting(changed, "QA", "ZZ", "outpatient") == "outpatient"


def test_an_australian_coder_gets_one_plan_whatever_the_setting_parameter_says(reference):
    # AU to GB outpatient used to say both "this plan assumes you coded inpatient" and "expect to learn inpatient".
    plans = [_plan(reference, "AU", "GB", setting) for setting in SETTINGS]
    assert {p.setting for p in plans} == {"inpatient"}
    assert len({(p.classifications, p.steps, p.warnings, p.notes) for p in plans}) == 1
    assert not plans[1].other_gaps
    assert "assumes" not in _page_text(plans[1])


def test_a_us_outpatient_coder_moving_to_australia_reads_one_consistent_plan(reference):
    plan = _plan(reference, "US", "AU", "outpatient")
    words = presenter.present(plan)
    bring = [s.code for s in plan.transferable_skills]
    # Choosing the principal diagnosis is to be learned, so it is not also something they bring.
    assert "diagnosis-selection" not in bring and "reading-medical-records" in bring
    shift = next(w["text"] for w in words.warnings if w["code"] == "setting-shift")
    assert shift.startswith(
        "You coded outpatient, office and ambulatory work in the United States; the coding this plan prepares you "
        "for in Australia is inpatient (admitted care). Expect to learn episode-based abstraction"
    )
    assert "not outpatient" not in shift  # whether Australia codes outpatient work is unknown (domain.md 4)
    # The HLT50321 Diploma teaches admitted-care abstraction (unit HLTCCD005): its step covers the shift, and no
    # self-study step repeats it.
    diploma = next(s for s in plan.steps if s.kind == "credential")
    assert diploma.credentials == ("hlt50321",) and "setting-shift" in [c.code for c in diploma.covers]
    assert not [s for s in plan.steps if s.kind == "learn" and "setting-shift" in [c.code for c in s.covers]]


def test_an_inpatient_or_dual_setting_us_coder_keeps_the_principal_diagnosis_skill(reference):
    for setting in ("inpatient", "both"):
        plan = _plan(reference, "US", "AU", setting)
        assert "diagnosis-selection" in [s.code for s in plan.transferable_skills]
        assert not plan.other_gaps or "setting-shift" not in [g.code for g in plan.other_gaps]


def test_ar_drg_does_not_build_on_apc_for_a_physician_based_cpc_holder(reference):
    cpc = _plan(reference, "US", "AU", "outpatient", ("aapc-cpc",))
    ar_drg = next(c for c in cpc.classifications if c.code == "ar-drg")
    assert ar_drg.known_from is None and ar_drg.gap == "new"
    # A hospital outpatient coder (COC: APCs) does bring APC.
    coc = _plan(reference, "US", "AU", "outpatient", ("aapc-coc",))
    assert next(c for c in coc.classifications if c.code == "ar-drg").known_from == "apc"


def test_canada_codes_ambulatory_care_so_a_us_outpatient_coder_has_no_setting_shift_there(reference):
    plan = _plan(reference, "US", "CA", "outpatient")
    assert plan.setting == "outpatient" and not plan.other_gaps
    assert {c.code for c in plan.classifications} == {"icd-10-ca", "cci", "canadian-coding-standards"}
    # An ambulatory coder from Canada moving to a country whose rows describe admitted care only does shift.
    assert "setting-shift" in [g.code for g in _plan(reference, "CA", "AU", "outpatient").other_gaps]


def test_no_plan_says_a_country_codes_no_outpatient_work_or_contradicts_its_own_setting(reference):
    checked = 0
    for plan in _all_plans(reference):
        text = _page_text(plan)
        assert "not outpatient" not in text and "codes no outpatient" not in text, plan.profile
        shifted = "setting-shift" in [g.code for g in plan.other_gaps]
        if shifted:
            # Only a coder whose setting was asked can shift, and they do not "bring" what the shift teaches.
            assert asks_setting(reference, plan.profile.origin, None), plan.profile
            assert all(
                s.setting == "all" or s.setting in learner_settings(plan.setting) for s in plan.transferable_skills
            )
            covered = [c.code for s in plan.steps for c in s.covers].count("setting-shift")
            assert covered == 1, plan.profile  # in one step: a course's or self-study, never both
        checked += 1
    assert checked > 100
