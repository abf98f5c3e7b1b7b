"""The rules engine: a learner's profile plus the reference data gives a retraining plan.

Contract:
- Standard library only, no Django: `pathways.reference.load_reference()` turns database rows
  into the plain, frozen data classes below, and everything here is a pure function of them.
- No branch names a country, classification or credential. Countries differ only by their
  rows (usages, gaps, routes, credentials, notes), so a sixth country needs rows, not code.
- Months come only from credential figures (`months_min`/`months_max`); anything else is
  "time varies", never a guess. Every item carries the provenance of the row it comes from.
- `build_plan(profile, reference)` raises `UnknownCode` (a `ValueError`) for codes not in the
  reference and `NoRoute` when the data has no route for the pair.

`Reference` precomputes its indexes once, and memoises plans and rankings per profile: it is
immutable, so a plan for the same profile is the same plan until the data (and so the
Reference) changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

SETTINGS = ("inpatient", "outpatient", "both")
GAP_ORDER = ("none", "minor", "moderate", "major", "new")
_GAP_RANK = {level: rank for rank, level in enumerate(GAP_ORDER)}
KIND_ORDER = ("diagnosis", "procedure", "supplies", "standard", "grouper")
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

# Copies of the labels in pathways.models (this module cannot import Django); reference.py
# passes the models' own labels, and a test checks the two agree.
DIFFICULTY_LABELS = {0: "No move needed", 1: "Low", 2: "Medium", 3: "High", 4: "Very high"}
GAP_LABELS = {
    "none": "None",
    "minor": "Minor",
    "moderate": "Moderate",
    "major": "Major",
    "new": "New: learn from scratch",
}
SETTING_LABELS = {
    "inpatient": "Inpatient (admitted care)",
    "outpatient": "Outpatient, office and ambulatory",
    "all": "All settings",
    "both": "Inpatient and outpatient",
}
# How each gap level reads as a step, most work first.
_LEARN_STEP_TITLES = {
    "new": "Learn from scratch: {names}",
    "major": "Retrain in: {names}",
    "moderate": "Learn the differences in: {names}",
    "minor": "Catch up on local changes in: {names}",
}

_PLAN_CACHE_LIMIT = 20_000


class PlanError(ValueError):
    """The profile cannot be planned with this reference data."""


class UnknownCode(PlanError):
    def __init__(self, what: str, code: object):
        self.what = what
        self.code = code
        super().__init__(f"Unknown {what}: {code!r}")


class NoRoute(PlanError):
    def __init__(self, origin: str | None, destination: str):
        self.origin = origin
        self.destination = destination
        super().__init__(f"No route from {origin or 'new to coding'} to {destination} in the reference data")


# --- Reference data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Provenance:
    kind: str  # seed | official | third-party | inferred
    title: str = ""
    url: str = ""
    detail: str = ""
    last_checked: str = ""  # ISO date

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "title": self.title,
            "url": self.url,
            "detail": self.detail,
            "last_checked": self.last_checked,
        }


@functools.cache
def _derived(detail: str) -> Provenance:
    """Provenance of something this module works out from other rows rather than reads."""
    return Provenance(kind="inferred", title="Worked out by Coding Pathways", detail=detail)


@dataclass(frozen=True, slots=True)
class ClassificationInfo:
    code: str
    name: str
    kind: str
    edition: str = ""
    publisher: str = ""
    modifies: str | None = None
    description: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class UsageInfo:
    classification: str
    setting: str  # inpatient | outpatient | all
    edition: str = ""
    note: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class CountryInfo:
    code: str
    name: str
    profession: str = ""
    grouper: str = ""
    governing_body: str = ""
    coding_scope: str = ""
    keeping_current: str = ""
    funding_note: str = ""
    usages: tuple[UsageInfo, ...] = ()
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))
    # Filled in by Reference: classification codes by kind, e.g. {"diagnosis": ("icd-10-am",)}.
    classifications: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    code: str
    name: str
    country: str
    awarded_by: str
    kind: str
    setting: str = "all"
    classifications: tuple[str, ...] = ()
    months_min: int | None = None
    months_max: int | None = None
    duration_note: str = ""
    summary: str = ""
    prerequisites: str = ""
    requires_employment: bool = False
    next_credential: str | None = None
    progression_note: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))

    @property
    def months(self) -> tuple[int, int] | None:
        """Both figures, or none: a single bound would make the other one a guess."""
        if self.months_min is None or self.months_max is None:
            return None
        return (self.months_min, self.months_max)


@dataclass(frozen=True, slots=True)
class RouteCredentialInfo:
    credential: str
    setting: str = "all"
    step: int = 1
    note: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class RouteNoteInfo:
    code: str
    kind: str  # warning | note
    text: str
    order: int = 1
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class RouteInfo:
    origin: str | None
    destination: str
    difficulty: int
    headline: str = ""
    summary: str = ""
    employer_expectation: str = ""
    local_conventions: str = ""
    extra_gap_level: str = ""
    extra_gap_title: str = ""
    extra_gap_note: str = ""
    credentials: tuple[RouteCredentialInfo, ...] = ()
    notes: tuple[RouteNoteInfo, ...] = ()
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class GapInfo:
    from_classification: str
    to_classification: str
    level: str
    note: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


@dataclass(frozen=True, slots=True)
class SkillInfo:
    code: str
    text: str
    order: int = 1
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))


class Reference:
    """All reference data, as plain objects with the indexes build_plan needs precomputed.

    Treat it as immutable: build a new one when the data changes.
    """

    def __init__(
        self,
        *,
        version: int = 0,
        countries: list[CountryInfo] | tuple[CountryInfo, ...] = (),
        classifications: list[ClassificationInfo] | tuple[ClassificationInfo, ...] = (),
        credentials: list[CredentialInfo] | tuple[CredentialInfo, ...] = (),
        routes: list[RouteInfo] | tuple[RouteInfo, ...] = (),
        gaps: list[GapInfo] | tuple[GapInfo, ...] = (),
        skills: list[SkillInfo] | tuple[SkillInfo, ...] = (),
        difficulty_labels: dict[int, str] | None = None,
        gap_labels: dict[str, str] | None = None,
        setting_labels: dict[str, str] | None = None,
    ):
        self.version = version
        self.classifications: dict[str, ClassificationInfo] = {c.code: c for c in classifications}
        self.countries: dict[str, CountryInfo] = {}
        for country in sorted(countries, key=lambda c: c.code):
            usages = tuple(sorted(country.usages, key=lambda u: self._usage_sort_key(u)))
            by_kind: dict[str, list[str]] = {}
            for usage in usages:
                kind = (
                    self.classifications[usage.classification].kind
                    if usage.classification in self.classifications
                    else ""
                )
                by_kind.setdefault(kind, []).append(usage.classification)
            self.countries[country.code] = replace(
                country, usages=usages, classifications=MappingProxyType({k: tuple(v) for k, v in by_kind.items()})
            )
        self.credentials: dict[str, CredentialInfo] = {c.code: c for c in credentials}
        self.routes: dict[tuple[str | None, str], RouteInfo] = {}
        for route in routes:
            creds = tuple(sorted(route.credentials, key=lambda rc: (rc.step, rc.setting, rc.credential)))
            notes = tuple(sorted(route.notes, key=lambda n: (n.order, n.code)))
            self.routes[(route.origin, route.destination)] = replace(route, credentials=creds, notes=notes)
        self.gaps: dict[tuple[str, str], GapInfo] = {(g.from_classification, g.to_classification): g for g in gaps}
        self.skills: tuple[SkillInfo, ...] = tuple(sorted(skills, key=lambda s: (s.order, s.code)))
        self.difficulty_labels = dict(difficulty_labels or DIFFICULTY_LABELS)
        self.gap_labels = dict(gap_labels or GAP_LABELS)
        self.setting_labels = {**SETTING_LABELS, **(setting_labels or {})}
        self._credentials_by_country: dict[str, list[CredentialInfo]] = {}
        for credential in sorted(self.credentials.values(), key=lambda c: (c.country, c.name.lower(), c.code)):
            self._credentials_by_country.setdefault(credential.country, []).append(credential)
        # Memoised results: the reference never changes, so neither does a plan for a profile.
        self._plans: dict[LearnerProfile, RetrainingPlan] = {}
        self._rankings: dict[tuple, tuple[RankedDestination, ...]] = {}
        self._usage_memo: dict[tuple[str, frozenset[str]], tuple[tuple[UsageInfo, ...], bool]] = {}

    def _usage_sort_key(self, usage: UsageInfo) -> tuple:
        info = self.classifications.get(usage.classification)
        return (_KIND_RANK.get(info.kind if info else "", 99), usage.classification)

    def country(self, code: str) -> CountryInfo:
        try:
            return self.countries[code]
        except KeyError:
            raise UnknownCode("country", code) from None

    def credential(self, code: str) -> CredentialInfo:
        try:
            return self.credentials[code]
        except KeyError:
            raise UnknownCode("credential", code) from None

    def credentials_for(self, country_code: str) -> list[CredentialInfo]:
        """The credentials awarded in a country, by name: the questionnaire's choices."""
        self.country(country_code)
        return list(self._credentials_by_country.get(country_code, ()))

    def route(self, origin: str | None, destination: str) -> RouteInfo | None:
        return self.routes.get((origin, destination))

    def usages_for(self, country_code: str, settings: frozenset[str]) -> tuple[tuple[UsageInfo, ...], bool]:
        """The usages that apply to a learner working in `settings`, and whether the country
        had to be read in its other setting because it does not code in theirs."""
        key = (country_code, settings)
        if key not in self._usage_memo:
            usages = self.country(country_code).usages
            specific = {u.setting for u in usages if u.setting != "all"}
            shifted = bool(specific) and not (specific & settings)
            effective = specific if shifted else settings
            chosen = tuple(u for u in usages if u.setting == "all" or u.setting in effective)
            self._usage_memo[key] = (chosen, shifted)
        return self._usage_memo[key]

    def split_settings(self, country_code: str) -> frozenset[str]:
        """The settings a country codes with classifications of their own (empty: one way for all)."""
        return frozenset(u.setting for u in self.country(country_code).usages if u.setting != "all")


# --- The learner and the plan -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LearnerProfile:
    origin: str | None
    credentials: frozenset[str]
    setting: str  # "inpatient" | "outpatient" | "both"
    years: int | None
    destination: str


@dataclass(frozen=True, slots=True)
class PlanClassification:
    code: str
    name: str
    kind: str
    edition: str
    gap: str
    known_from: str | None
    note: str
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "edition": self.edition,
            "gap": self.gap,
            "gap_label": GAP_LABELS.get(self.gap, self.gap),
            "known_from": self.known_from,
            "note": self.note,
            "provenance": self.provenance.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class PlanGap:
    """A gap that is not one classification: a route's extra gap or a change of setting."""

    code: str
    title: str
    gap: str
    note: str
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "gap": self.gap,
            "gap_label": GAP_LABELS.get(self.gap, self.gap),
            "note": self.note,
            "provenance": self.provenance.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class PlanCredential:
    code: str
    name: str
    awarded_by: str
    kind: str
    held: bool
    note: str
    step: int
    setting: str
    months: tuple[int, int] | None
    duration_note: str
    prerequisites: str
    requires_employment: bool
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "awarded_by": self.awarded_by,
            "kind": self.kind,
            "held": self.held,
            "note": self.note,
            "step": self.step,
            "setting": self.setting,
            "months": list(self.months) if self.months else None,
            "duration_note": self.duration_note,
            "prerequisites": self.prerequisites,
            "requires_employment": self.requires_employment,
            "provenance": self.provenance.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class PlanStep:
    kind: str  # learn | employment | credential | progression | keep-current
    title: str
    detail: str
    months: tuple[int, int] | None
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "detail": self.detail,
            "months": list(self.months) if self.months else None,
            "provenance": self.provenance.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class PlanNote:
    code: str
    text: str
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "provenance": self.provenance.as_dict()}


@dataclass(frozen=True, slots=True)
class RankedDestination:
    code: str
    name: str
    rank: int
    label: str
    new_gaps: int
    major_gaps: int
    credential_months: tuple[int, int] | None
    credential_months_partial: bool
    headline: str
    reasons: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "rank": self.rank,
            "label": self.label,
            "new_gaps": self.new_gaps,
            "major_gaps": self.major_gaps,
            "credential_months": list(self.credential_months) if self.credential_months else None,
            "credential_months_partial": self.credential_months_partial,
            "headline": self.headline,
            "reasons": self.reasons,
        }


@dataclass(frozen=True, slots=True)
class RetrainingPlan:
    profile: LearnerProfile
    reference_version: int
    origin: CountryInfo | None
    destination: CountryInfo
    difficulty: int
    difficulty_label: str
    headline: str
    summary: str
    route: RouteInfo | None
    transferable_skills: tuple[SkillInfo, ...]
    classifications: tuple[PlanClassification, ...]
    other_gaps: tuple[PlanGap, ...]
    credentials: tuple[PlanCredential, ...]
    steps: tuple[PlanStep, ...]
    total_months: tuple[int, int] | None
    total_is_partial: bool
    warnings: tuple[PlanNote, ...]
    notes: tuple[PlanNote, ...]
    ranking: tuple[RankedDestination, ...]

    @property
    def no_move(self) -> bool:
        return self.origin is not None and self.origin.code == self.destination.code

    def as_dict(self) -> dict[str, Any]:
        """The plan JSON of DESIGN.md, plus the added fields the OpenAPI document lists."""
        profile = self.profile
        route = self.route
        return {
            "origin": {"code": self.origin.code, "name": self.origin.name} if self.origin else None,
            "destination": {
                "code": self.destination.code,
                "name": self.destination.name,
                "profession": self.destination.profession,
                "grouper": self.destination.grouper,
                "governing_body": self.destination.governing_body,
                "coding_scope": self.destination.coding_scope,
            },
            "setting": profile.setting,
            "years": profile.years,
            "held_credentials": sorted(profile.credentials),
            "difficulty": {"rank": self.difficulty, "label": self.difficulty_label},
            "headline": self.headline,
            "summary": self.summary,
            "route": None
            if route is None
            else {
                "origin": route.origin,
                "destination": route.destination,
                "headline": route.headline,
                "summary": route.summary,
                "employer_expectation": route.employer_expectation,
                "local_conventions": route.local_conventions,
                "provenance": route.provenance.as_dict(),
            },
            "transferable_skills": [s.text for s in self.transferable_skills],
            "transferable_skill_details": [
                {"code": s.code, "text": s.text, "provenance": s.provenance.as_dict()} for s in self.transferable_skills
            ],
            "classifications": [c.as_dict() for c in self.classifications],
            "other_gaps": [g.as_dict() for g in self.other_gaps],
            "credentials": [c.as_dict() for c in self.credentials],
            "steps": [s.as_dict() for s in self.steps],
            "total_months": list(self.total_months) if self.total_months else None,
            "total_is_partial": self.total_is_partial,
            "warnings": [w.as_dict() for w in self.warnings],
            "notes": [n.text for n in self.notes],
            "note_details": [n.as_dict() for n in self.notes],
            "ranking": [r.as_dict() for r in self.ranking],
            "reference_version": self.reference_version,
        }


# --- Building a plan ---------------------------------------------------------------------------


def learner_settings(setting: str) -> frozenset[str]:
    if setting == "both":
        return frozenset({"inpatient", "outpatient"})
    if setting in ("inpatient", "outpatient"):
        return frozenset({setting})
    raise UnknownCode("setting", setting)


def _names(reference: Reference, codes) -> str:
    names = [reference.classifications[c].name if c in reference.classifications else c for c in codes]
    return _join(names)


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _settings_phrase(reference: Reference, settings) -> str:
    return _join([reference.setting_labels.get(s, s).lower() for s in sorted(settings)])


def _check(profile: LearnerProfile, reference: Reference) -> None:
    if profile.origin is not None:
        reference.country(profile.origin)
    reference.country(profile.destination)
    learner_settings(profile.setting)
    for code in profile.credentials:
        reference.credential(code)


def _gap_for(
    target: UsageInfo, known: dict[str, UsageInfo], reference: Reference
) -> tuple[str, str | None, str, Provenance]:
    """Level, the known classification that helps, a note and its provenance (rubric 7.1)."""
    code = target.classification
    info = reference.classifications.get(code)
    name = info.name if info else code
    if code in known:
        theirs = known[code]
        if theirs.edition == target.edition:
            edition = f" ({target.edition})" if target.edition else ""
            note = f"You already code with {name}{edition}."
            return "none", code, note, target.provenance
        row = reference.gaps.get((code, code))
        if row is not None:
            return row.level, code, row.note, row.provenance
        note = f"You know {name} ({theirs.edition or 'another edition'}); learn what changed in {target.edition}."
        return "minor", code, note, _derived("Same classification, different edition (gap rubric)")
    best: GapInfo | None = None
    for from_code in known:
        row = reference.gaps.get((from_code, code))
        if row is not None and (best is None or _GAP_RANK[row.level] < _GAP_RANK[best.level]):
            best = row
    if best is not None:
        # A "new" row still says why (and where it comes from), but nothing known helps.
        known_from = None if best.level == "new" else best.from_classification
        return best.level, known_from, best.note, best.provenance
    note = f"Nothing you already code with maps onto {name}: learn it from scratch."
    return "new", None, note, _derived("No classification gap row links what you know to it")


def _month_sum(ranges: list[tuple[int, int] | None]) -> tuple[tuple[int, int] | None, bool]:
    known = [r for r in ranges if r is not None]
    partial = len(known) < len(ranges)
    if not known:
        return None, partial
    return (sum(r[0] for r in known), sum(r[1] for r in known)), partial


def _alternatives_months(credentials: list[CredentialInfo]) -> tuple[int, int] | None:
    """The range across alternatives, only when every alternative has figures."""
    months = [c.months for c in credentials]
    if not months or any(m is None for m in months):
        return None
    return (min(m[0] for m in months), max(m[1] for m in months))


def _expected_credentials(route: RouteInfo | None, settings: frozenset[str]) -> list[RouteCredentialInfo]:
    if route is None:
        return []
    seen: set[str] = set()
    rows = []
    for rc in route.credentials:
        if (rc.setting == "all" or rc.setting in settings) and rc.credential not in seen:
            seen.add(rc.credential)
            rows.append(rc)
    return rows


def build_plan(profile: LearnerProfile, reference: Reference) -> RetrainingPlan:
    plan = reference._plans.get(profile)
    if plan is None:
        _check(profile, reference)
        plan = _build_plan(profile, reference, with_ranking=True)
        if len(reference._plans) >= _PLAN_CACHE_LIMIT:
            reference._plans.clear()
        reference._plans[profile] = plan
    return plan


def _build_plan(profile: LearnerProfile, reference: Reference, *, with_ranking: bool) -> RetrainingPlan:
    settings = learner_settings(profile.setting)
    destination = reference.country(profile.destination)
    origin = reference.country(profile.origin) if profile.origin is not None else None
    no_move = origin is not None and origin.code == destination.code
    held = profile.credentials
    warnings: list[PlanNote] = []
    notes: list[PlanNote] = []
    other_gaps: list[PlanGap] = []

    # Which route's rows apply: the pair's route, the entry route for someone new to coding,
    # or (no move) the entry route for the credentials a learner who holds nothing would need.
    if no_move:
        route = None
        credential_route = reference.route(None, destination.code)
    else:
        route = reference.route(origin.code if origin else None, destination.code)
        if route is None:
            raise NoRoute(origin.code if origin else None, destination.code)
        credential_route = route

    # What the learner codes with today, read in their setting.
    known: dict[str, UsageInfo] = {}
    origin_shifted = False
    if origin is not None:
        origin_usages, origin_shifted = reference.usages_for(origin.code, settings)
        known = {u.classification: u for u in origin_usages}
    dest_usages, dest_shifted = reference.usages_for(destination.code, settings)
    dest_settings = reference.split_settings(destination.code)

    classifications = []
    for usage in dest_usages:
        info = reference.classifications.get(usage.classification)
        level, known_from, note, provenance = _gap_for(usage, known, reference)
        classifications.append(
            PlanClassification(
                code=usage.classification,
                name=info.name if info else usage.classification,
                kind=info.kind if info else "",
                edition=usage.edition or (info.edition if info else ""),
                gap=level,
                known_from=known_from,
                note=note or (usage.note if usage.note else ""),
                provenance=provenance,
            )
        )

    # A change of setting is read from where each country's classifications apply.
    if origin is not None and not no_move:
        origin_settings = reference.split_settings(origin.code)
        missing = origin_settings - settings
        setting_phrase = _settings_phrase(reference, settings)
        shift = None
        if dest_shifted:
            where = _settings_phrase(reference, dest_settings)
            shift = f"{destination.name} codes {where} with its own classifications, not {setting_phrase} work. "
        elif origin_settings and not dest_settings and "inpatient" in missing:
            # The origin splits its coders by setting and the learner did not code admitted care;
            # the destination codes every setting the same way, admitted episodes included.
            where = _settings_phrase(reference, missing)
            shift = (
                f"In {origin.name} you coded {setting_phrase} work only, while {destination.name} coders work "
                f"across settings, {where} included. "
            )
        if shift:
            text = (
                f"{shift}Expect to learn episode-based abstraction of {where}: reading the whole record, choosing the "
                "principal diagnosis and sequencing every additional diagnosis and procedure."
            )
            provenance = _derived("From where each country's classifications apply (country usage rows)")
            other_gaps.append(
                PlanGap("setting-shift", f"{where[:1].upper()}{where[1:]} coding", "major", text, provenance)
            )
            warnings.append(PlanNote("setting-shift", text, provenance))
        if origin_shifted:
            where = _settings_phrase(reference, origin_settings)
            notes.append(
                PlanNote(
                    "origin-setting",
                    f"{origin.name} codes {where} with its own classifications; this plan assumes that is "
                    "what you coded there.",
                    _derived("From where the origin's classifications apply (country usage rows)"),
                )
            )

    if route is not None and route.extra_gap_level:
        other_gaps.append(
            PlanGap(
                "route-gap",
                route.extra_gap_title,
                route.extra_gap_level,
                route.extra_gap_note,
                route.provenance,
            )
        )

    # Credentials employers expect, by step; same step = alternatives.
    expected = _expected_credentials(credential_route, dest_settings if dest_shifted else settings)
    credentials: list[PlanCredential] = []
    for rc in expected:
        cred = reference.credentials.get(rc.credential)
        if cred is None:
            continue
        credentials.append(_plan_credential(cred, rc.credential in held, rc.step, rc.setting, rc.note, rc.provenance))

    steps: list[PlanStep] = []
    if no_move:
        steps.extend(_progression_steps(profile, reference, destination, credentials, notes))
    else:
        credential_steps = _credential_steps(credentials, reference, destination, warnings)
        # A course open only to employed coders is where its classifications are taught, so the job comes first.
        steps.extend(s for s in credential_steps if s.kind == "employment")
        steps.extend(_learn_steps(classifications, other_gaps, credentials, reference))
        steps.extend(s for s in credential_steps if s.kind != "employment")

    notes_route = route if route is not None else (credential_route if origin is None else None)
    route_note_codes = {note.code for note in notes_route.notes} if notes_route is not None else set()

    # Foreign credentials the destination does not list do not stand in for its own. A route note with the
    # same code says so in the route's own, sourced words: then it stands alone rather than twice.
    expected_codes = {c.code for c in credentials}
    foreign_held = [
        reference.credentials[c] for c in sorted(held) if reference.credentials[c].country != destination.code
    ]
    if foreign_held and credentials and not (held & expected_codes):
        held_names = _join([c.name for c in foreign_held])
        warnings.append(
            PlanNote(
                "held-credentials-do-not-replace",
                f"{held_names} {'does' if len(foreign_held) == 1 else 'do'} not replace what employers "
                f"there expect ({_credential_sequence(credentials)}). Your skills carry over; the credential does not.",
                _derived("The route's expected credentials do not include the ones you hold"),
            )
        )

    # Prerequisites as the data states them; experience is compared by the learner, not by code.
    for credential in credentials:
        if credential.held or not credential.prerequisites:
            continue
        if profile.years is not None:
            years = f"{profile.years} year{'s' if profile.years != 1 else ''}"
            text = f"You have {years} of coding experience. {credential.name} asks for: {credential.prerequisites}"
        else:
            text = f"{credential.name} asks for: {credential.prerequisites}"
        notes.append(PlanNote(f"prerequisites-{credential.code}", text, credential.provenance))

    if notes_route is not None:
        # A route note with the code of a warning worked out here says it in the route's own, sourced words:
        # it replaces the worked-out one rather than repeating it.
        warnings = [w for w in warnings if w.code not in route_note_codes]
        for note in notes_route.notes:
            target = warnings if note.kind == "warning" else notes
            target.append(PlanNote(note.code, note.text, note.provenance))
        if notes_route.local_conventions:
            notes.append(PlanNote("local-conventions", notes_route.local_conventions, notes_route.provenance))

    total, partial = _month_sum([s.months for s in steps])
    if partial:
        notes.append(
            PlanNote(
                "total-is-partial",
                "Some steps have no published duration, so the total counts only the steps with figures: "
                "allow more time.",
                _derived("Sum of the steps with published durations"),
            )
        )

    if no_move:
        difficulty = 0
        headline = f"No move needed: progress and keep current in {destination.name}"
        summary = destination.keeping_current
    else:
        difficulty = route.difficulty
        headline = route.headline or f"{origin.name if origin else 'New to coding'} to {destination.name}"
        summary = route.summary

    ranking: tuple[RankedDestination, ...] = ()
    if with_ranking:
        ranking = rank_destinations(profile.origin, reference, profile.setting, profile.credentials)

    return RetrainingPlan(
        profile=profile,
        reference_version=reference.version,
        origin=origin,
        destination=destination,
        difficulty=difficulty,
        difficulty_label=reference.difficulty_labels.get(difficulty, str(difficulty)),
        headline=headline,
        summary=summary,
        route=route,
        transferable_skills=reference.skills if origin is not None else (),
        classifications=tuple(classifications),
        other_gaps=tuple(other_gaps),
        credentials=tuple(credentials),
        steps=tuple(steps),
        total_months=total,
        total_is_partial=partial,
        warnings=tuple(warnings),
        notes=tuple(notes),
        ranking=ranking,
    )


def _plan_credential(
    cred: CredentialInfo, held: bool, step: int, setting: str, note: str, provenance: Provenance
) -> PlanCredential:
    return PlanCredential(
        code=cred.code,
        name=cred.name,
        awarded_by=cred.awarded_by,
        kind=cred.kind,
        held=held,
        note=note or cred.summary,
        step=step,
        setting=setting,
        months=cred.months,
        duration_note=cred.duration_note,
        prerequisites=cred.prerequisites,
        requires_employment=cred.requires_employment,
        provenance=provenance if provenance.kind else cred.provenance,
    )


def _learn_steps(
    classifications: list[PlanClassification],
    other_gaps: list[PlanGap],
    credentials: list[PlanCredential],
    reference: Reference,
) -> list[PlanStep]:
    """One step per gap level, most work first, naming the expected courses that teach them."""
    taught_by: dict[str, list[str]] = {}
    for credential in credentials:
        if credential.held:
            continue
        for code in reference.credentials[credential.code].classifications:
            taught_by.setdefault(code, []).append(credential.name)
    steps = []
    for level in ("new", "major", "moderate", "minor"):
        items = [c for c in classifications if c.gap == level]
        extras = [g for g in other_gaps if g.gap == level]
        if not items and not extras:
            continue
        names = [c.name for c in items] + [g.title for g in extras]
        details = [f"{c.name}: {c.note}" if c.note else c.name for c in items]
        details += [f"{g.title}: {g.note}" if g.note else g.title for g in extras]
        courses = sorted({name for c in items for name in taught_by.get(c.code, ())})
        if courses:
            details.append(f"Taught in {_join(courses, 'or')}.")
        details.append("Time varies: no published figure.")
        steps.append(
            PlanStep(
                "learn",
                _LEARN_STEP_TITLES[level].format(names=_join(names)),
                " ".join(details),
                None,
                _derived(f"Grouped from the {reference.gap_labels.get(level, level).lower()} gaps above"),
            )
        )
    return steps


def _credential_steps(
    credentials: list[PlanCredential], reference: Reference, destination: CountryInfo, warnings: list[PlanNote]
) -> list[PlanStep]:
    steps: list[PlanStep] = []
    employed = False
    by_step: dict[int, list[PlanCredential]] = {}
    for credential in credentials:
        by_step.setdefault(credential.step, []).append(credential)
    for number in sorted(by_step):
        options = by_step[number]
        if any(c.held for c in options):
            continue  # the learner already has this step (or one of its alternatives)
        needs_job = [c for c in options if c.requires_employment]
        if needs_job and not employed:
            employed = True
            names = _join([c.name for c in needs_job], "or")
            steps.append(
                PlanStep(
                    "employment",
                    "Get a coding job first",
                    f"{names} is only open to people already employed as coders there ({destination.name}). "
                    "Time varies: no published figure.",
                    None,
                    needs_job[0].provenance,
                )
            )
        for credential in needs_job:
            warnings.append(
                PlanNote(
                    f"requires-employment-{credential.code}",
                    f"{credential.name} is only open once you are employed as a coder there ({destination.name}): "
                    "you cannot take it before you arrive.",
                    reference.credentials[credential.code].provenance,
                )
            )
        infos = [reference.credentials[c.code] for c in options]
        months = _alternatives_months(infos)
        if len(options) == 1:
            title = f"Gain the {options[0].name}"
        else:
            title = f"Gain one of: {_join([c.name for c in options], 'or')}"
        detail = " ".join(_credential_detail(c) for c in options)
        if months is None:
            detail += " Time varies: no published figure for every option."
        steps.append(PlanStep("credential", title, detail.strip(), months, options[0].provenance))
    return steps


def _credential_sequence(credentials: list[PlanCredential]) -> str:
    """ "A or B, then C": alternatives share a step, later steps follow."""
    by_step: dict[int, list[str]] = {}
    for credential in credentials:
        by_step.setdefault(credential.step, []).append(credential.name)
    return ", then ".join(_join(sorted(names), "or") for _, names in sorted(by_step.items()))


def _credential_detail(credential: PlanCredential) -> str:
    parts = [f"{credential.name} ({credential.awarded_by})."]
    if credential.note:
        parts.append(credential.note)
    if credential.duration_note:
        parts.append(f"Duration: {credential.duration_note.rstrip('.')}.")
    return " ".join(parts)


def _progression_steps(
    profile: LearnerProfile,
    reference: Reference,
    destination: CountryInfo,
    credentials: list[PlanCredential],
    notes: list[PlanNote],
) -> list[PlanStep]:
    """Staying put: the next credential for each one held, else the entry route's credentials."""
    steps: list[PlanStep] = []
    held = [reference.credentials[c] for c in sorted(profile.credentials)]
    local_held = [c for c in held if c.country == destination.code]
    if local_held:
        for cred in local_held:
            nxt = reference.credentials.get(cred.next_credential) if cred.next_credential else None
            if nxt is None or nxt.code in profile.credentials:
                if cred.progression_note:
                    notes.append(PlanNote(f"progression-{cred.code}", cred.progression_note, cred.provenance))
                continue
            detail = cred.progression_note or _credential_detail(
                _plan_credential(nxt, False, 1, nxt.setting, "", nxt.provenance)
            )
            if nxt.months is None:
                detail += " Time varies: no published figure."
            steps.append(
                PlanStep("progression", f"Progress from {cred.name} to {nxt.name}", detail, nxt.months, cred.provenance)
            )
            if nxt.code not in {c.code for c in credentials}:
                credentials.append(_plan_credential(nxt, False, 1, nxt.setting, cred.progression_note, nxt.provenance))
    else:
        steps.extend(_credential_steps(credentials, reference, destination, []))
    if destination.keeping_current:
        steps.append(
            PlanStep(
                "keep-current",
                "Keep current",
                destination.keeping_current + " Time varies: no published figure.",
                None,
                destination.provenance,
            )
        )
    return steps


# --- Ranking -------------------------------------------------------------------------------------


def rank_destinations(
    origin: str | None, reference: Reference, setting: str = "both", credentials: frozenset[str] = frozenset()
) -> tuple[RankedDestination, ...]:
    """Every other destination from one origin (or for someone new to coding), easiest first.

    Order: the route's difficulty, then the number of `new` gaps, then `major` gaps, then code.
    """
    key = (origin, setting, credentials)
    cached = reference._rankings.get(key)
    if cached is not None:
        return cached
    if origin is not None:
        reference.country(origin)
    learner_settings(setting)
    for code in credentials:
        reference.credential(code)
    ranked = []
    for code, country in reference.countries.items():
        if code == origin or reference.route(origin, code) is None:
            continue
        profile = LearnerProfile(origin, credentials, setting, None, code)
        plan = _build_plan(profile, reference, with_ranking=False)
        levels = [c.gap for c in plan.classifications] + [g.gap for g in plan.other_gaps]
        new, major = levels.count("new"), levels.count("major")
        burden, partial = _month_sum([s.months for s in plan.steps if s.kind in ("credential", "employment")])
        reasons = [f"{new} new and {major} major gap{'s' if major != 1 else ''}"]
        if burden is not None:
            reasons.append(
                f"credentials {_months_text(burden)}{' plus steps with no published figure' if partial else ''}"
            )
        elif partial:
            reasons.append("credential time varies (no published figure)")
        else:
            reasons.append("no credential step")
        ranked.append(
            RankedDestination(
                code=code,
                name=country.name,
                rank=plan.difficulty,
                label=plan.difficulty_label,
                new_gaps=new,
                major_gaps=major,
                credential_months=burden,
                credential_months_partial=partial,
                headline=plan.headline,
                reasons="; ".join(reasons),
            )
        )
    ranked.sort(key=lambda r: (r.rank, r.new_gaps, r.major_gaps, r.code))
    result = tuple(ranked)
    reference._rankings[key] = result
    return result


def _months_text(months: tuple[int, int]) -> str:
    low, high = months
    if low == high:
        return f"{low} month{'s' if low != 1 else ''}"
    return f"{low}–{high} months"


def months_text(months: tuple[int, int] | list[int] | None) -> str:
    """How a month range reads to a learner; "time varies" when there is no figure."""
    if not months:
        return "time varies"
    return _months_text((months[0], months[1]))
