"""The plan summary advisers read (the enquiry page in admin, a reply's {plan_summary}) comes from the presenter
as text, from the enquiry's plan snapshot alone: no database, no admin HTML."""

from types import SimpleNamespace

from pathways import presenter

SNAPSHOT = {
    "move": "Australia to United Kingdom",
    "time_text": "2 to 3 years",
    "difficulty": {"rank": 3, "label": "High"},
    "time_note": "Some steps are taken together, so they are counted once.",
    "steps": [
        {"number": 1, "title": "Get a coding job in the NHS"},
        {"number": 2, "title": "Complete the NCCQ", "time_text": "2 to 3 years"},
    ],
    "setting": "inpatient",
    "years": 4,
    "held_credentials": ["hlt50321", "gone-since"],
}


def test_it_names_the_move_the_answer_the_learners_answers_and_the_steps():
    summary = presenter.adviser_summary(
        SNAPSHOT, {"hlt50321": SimpleNamespace(name="HLT50321 Diploma of Clinical Coding")}
    )
    assert summary.move == "Australia to United Kingdom"
    assert summary.answer == "Difficulty: High. Expected time: 2 to 3 years."
    assert summary.notes == ["Some steps are taken together, so they are counted once."]
    # A credential the reference data no longer has is named by its code, never dropped.
    assert summary.answers == (
        "Setting: inpatient; years of experience: 4; held: HLT50321 Diploma of Clinical Coding, gone-since"
    )
    assert summary.steps == ["Get a coding job in the NHS", "Complete the NCCQ (2 to 3 years)"]


def test_its_text_is_one_line_a_part_with_the_steps_as_a_list():
    text = presenter.adviser_summary_text({**SNAPSHOT, "time_note": "", "years": None, "held_credentials": []})
    assert text.splitlines() == [
        "Australia to United Kingdom",
        "Difficulty: High. Expected time: 2 to 3 years.",
        "Setting: inpatient; years of experience: not given; held: nothing",
        "- Get a coding job in the NHS",
        "- Complete the NCCQ (2 to 3 years)",
    ]


def test_a_general_enquiry_has_no_plan_to_summarise():
    assert presenter.adviser_summary({}) is None
    assert presenter.adviser_summary_text({}) == "No plan: a general enquiry."
