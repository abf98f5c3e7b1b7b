"""Which learners' plans an edit to the reference data changes, and how, before anything is saved.

`reference_after(apply)` runs `apply` (which saves an edit the usual way: forms, inlines,
cascades) inside a transaction that is always rolled back, and returns the Reference as it
would be. `plan_changes(before, after)` builds the plan of every profile from both and lists,
per move, what a learner would see change: difficulty, expected time, steps, gap levels and
warnings. Profiles that change the same way are listed together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from pathways import presenter, rules
from pathways.reference import build_reference

# Difficulty is shown for every group, changed or not; these are listed only when they change.
ASPECTS = ("Expected time", "Steps", "Gap levels", "Warnings", "Other wording")


def reference_after(apply: Callable[[], object]) -> rules.Reference:
    """The Reference with `apply`'s changes, which are then rolled back: nothing is kept."""
    with transaction.atomic():
        apply()
        after = build_reference()
        transaction.set_rollback(True)
    return after


def profiles(reference: rules.Reference) -> list[rules.LearnerProfile]:
    """One learner per move, setting and credential held (none, or one of the origin's)."""
    found = []
    for origin in [None, *reference.countries]:
        held_options = [frozenset()]
        if origin is not None:
            held_options += [frozenset({c.code}) for c in reference.credentials_for(origin)]
        for destination in reference.countries:
            if origin != destination and reference.route(origin, destination) is None:
                continue
            # Each setting whose plan can differ: where it does not, the one the plan is for.
            for setting in dict.fromkeys(rules.plan_setting(reference, origin, destination, s) for s in rules.SETTINGS):
                found += [rules.LearnerProfile(origin, held, setting, None, destination) for held in held_options]
    return found


def digest(profile: rules.LearnerProfile, reference: rules.Reference) -> dict[str, tuple[str, ...]]:
    """What a learner reads of a plan, aspect by aspect, in the presenter's words; empty when there is no plan."""
    try:
        plan = rules.build_plan(profile, reference)
    except rules.PlanError:
        return {}
    words = presenter.present(plan)
    return {
        "Difficulty": (words.difficulty,),
        "Expected time": tuple(text for text in (words.time, words.time_note) if text),
        "Steps": tuple(_step_line(step) for step in words.steps),
        "Gap levels": tuple(
            f"{_name(item)}: {reference.gap_labels.get(item.gap, item.gap)}"
            for item in (*plan.classifications, *plan.other_gaps)
        ),
        "Warnings": tuple(warning["text"] for warning in words.warnings),
        # Everything else a learner reads: headline, summary, step details, notes, credentials, skills.
        "Other wording": tuple(
            text
            for text in (
                words.headline,
                words.summary,
                *(step.detail for step in words.steps),
                *(f"{option['name']}: {option.get('note', '')}" for step in words.steps for option in step.options),
                *(f"{item.name}: {item.note}" for item in plan.classifications),
                *(f"{item.title}: {item.note}" for item in plan.other_gaps),
                *(f"{item.name} ({item.awarded_by}): {item.note}" for item in plan.credentials),
                *(note["text"] for note in words.notes),
                words.employer_expectation,
                words.local_conventions,
                *(skill.text for skill in plan.transferable_skills),
            )
            if text
        ),
    }


@dataclass(frozen=True)
class Change:
    aspect: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass
class MoveImpact:
    """Learners on one move whose plans change in the same way."""

    move: str
    difficulty: tuple[str, str]
    changes: tuple[Change, ...]
    settings: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    @property
    def learners(self) -> str:
        return f"{rules.join(self.settings)} coders, holding {rules.join(self.held, 'or')}"


def _step_line(step) -> str:
    """A step as the page shows it: title, time and what it covers with each gap level."""
    line = f"{step.title} ({step.time})" if step.time else step.title
    if step.covers:
        line += ": " + ", ".join(f"{cover['name']} {cover['gap_label'].lower()}" for cover in step.covers)
    return line


def _change(aspect: str, before: tuple[str, ...], after: tuple[str, ...]) -> Change:
    if aspect == "Other wording":  # long: only the sentences that go and the ones that come
        before, after = tuple(t for t in before if t not in after), tuple(t for t in after if t not in before)
    return Change(aspect, before, after)


def _name(item) -> str:
    return getattr(item, "name", None) or getattr(item, "title", "")


def _move(profile: rules.LearnerProfile, reference: rules.Reference) -> str:
    def country(code):
        return reference.countries[code].name if code in reference.countries else code

    if profile.origin is None:
        return f"New to coding → {country(profile.destination)}"
    if profile.origin == profile.destination:
        return f"Staying in {country(profile.destination)}"
    return f"{country(profile.origin)} → {country(profile.destination)}"


def plan_changes(before: rules.Reference, after: rules.Reference) -> list[MoveImpact]:
    """Every profile whose plan reads differently, grouped by move and by identical change."""
    grouped: dict[tuple[str, tuple[str, str], tuple[Change, ...]], MoveImpact] = {}
    for profile in dict.fromkeys([*profiles(before), *profiles(after)]):
        if not all(code in before.credentials and code in after.credentials for code in profile.credentials):
            continue  # a learner can only hold what both versions list
        old, new = digest(profile, before), digest(profile, after)
        if old == new:
            continue
        changes = tuple(
            _change(aspect, old.get(aspect, ("No plan",)), new.get(aspect, ("No plan",)))
            for aspect in ASPECTS
            if old.get(aspect) != new.get(aspect)
        )
        reference = after if new else before
        move = _move(profile, reference)
        difficulty = (old.get("Difficulty", ("No plan",))[0], new.get("Difficulty", ("No plan",))[0])
        impact = grouped.setdefault((move, difficulty, changes), MoveImpact(move, difficulty, changes))
        if profile.setting not in impact.settings:
            impact.settings.append(profile.setting)
        for code in sorted(profile.credentials) or [None]:
            name = reference.credentials[code].name if code in reference.credentials else "nothing"
            if name not in impact.held:
                impact.held.append(name)
    return sorted(grouped.values(), key=lambda impact: impact.move)
