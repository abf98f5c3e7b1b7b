"""The reference data as plain, frozen records, and `Reference`, which indexes them for the rules.

Contract:
- Standard library only, no Django: `pathways.reference.load_reference()` turns database rows into
  these records; `pathways.rules` and `pathways.ranking` are pure functions of them.
- A `Provenance` is what a learner may see of a fact's source: publisher, title, link and the date
  it was last checked. Our working notes about a row (fact ids, reasoning) stay in the database
  and in admin; they are never copied into a record.
- A `Duration` is a figure as its source gives it, in the source's unit. A minimum alone ("at
  least 21 days") has no maximum; it is never widened into a range.
- The plan's own records (`RetrainingPlan` and its parts) are here too, so that the rules, the
  ranking and the presenter share them without importing one another.
- `Reference` is immutable once built. It owns two bounded memos (least recently used first out),
  for plans and rankings, whose sizes the caller passes in.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from types import MappingProxyType

SETTINGS = ("inpatient", "outpatient", "both")
GAP_ORDER = ("none", "minor", "moderate", "major", "new")
GAP_RANK = {level: rank for rank, level in enumerate(GAP_ORDER)}
KIND_ORDER = ("diagnosis", "procedure", "supplies", "standard", "grouper")
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

# Copies of the labels in pathways.models (this module cannot import Django); reference.py passes the
# models' own labels, and a test checks the two agree.
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
# Months in one unit: only for the plan JSON's `months` and for adding figures given in different units.
MONTHS_PER_UNIT = {"day": 12 / 365.25, "week": 12 * 7 / 365.25, "month": 1, "year": 12}


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


@dataclass(frozen=True, slots=True)
class Provenance:
    kind: str  # seed | official | third-party | inferred
    title: str = ""
    url: str = ""
    publisher: str = ""
    last_checked: str = ""  # ISO date


WORKED_OUT = Provenance(kind="inferred", title="Worked out by Coding Pathways from the other facts in this plan")


@dataclass(frozen=True, slots=True)
class Duration:
    """A published figure: `max` None means the source gives only a minimum."""

    min: int
    max: int | None
    unit: str  # day | week | month | year
    about: bool = False  # the source gives it as approximate: "about 12 months"
    basis: str = ""  # whose figure it is, said wherever it is shown: "as one provider delivers it"

    def months(self) -> tuple[int, int | None]:
        """Whole months, rounded outwards so a range never shrinks: the plan JSON's `months`."""
        factor = MONTHS_PER_UNIT[self.unit]
        low = math.floor(self.min * factor + 1e-9)
        return low, None if self.max is None else math.ceil(self.max * factor - 1e-9)


def _qualifiers(durations) -> dict:
    """A sum or span of figures is approximate if any is, and keeps the one basis they share (none if they differ)."""
    bases = {d.basis for d in durations if d.basis}
    return {"about": any(d.about for d in durations), "basis": bases.pop() if len(bases) == 1 else ""}


def add_durations(durations: list[Duration]) -> Duration | None:
    """Periods taken one after another. Same unit: added in it; mixed units: added in months."""
    if not durations:
        return None
    open_ended = any(d.max is None for d in durations)
    units = {d.unit for d in durations}
    if len(units) == 1:
        high = None if open_ended else sum(d.max for d in durations)
        return Duration(sum(d.min for d in durations), high, units.pop(), **_qualifiers(durations))
    low = math.floor(sum(d.min * MONTHS_PER_UNIT[d.unit] for d in durations) + 1e-9)
    high = None if open_ended else math.ceil(sum(d.max * MONTHS_PER_UNIT[d.unit] for d in durations) - 1e-9)
    return Duration(low, high, "month", **_qualifiers(durations))


def either_duration(durations: list[Duration | None]) -> Duration | None:
    """The span across alternatives, only when every alternative has a figure."""
    if not durations or any(d is None for d in durations):
        return None
    qualifiers = _qualifiers(durations)
    units = {d.unit for d in durations}
    if len(units) > 1:
        durations = [Duration(*d.months(), "month") for d in durations]
    high = None if any(d.max is None for d in durations) else max(d.max for d in durations)
    return Duration(min(d.min for d in durations), high, durations[0].unit, **qualifiers)


@dataclass(frozen=True, slots=True)
class ClassificationInfo:
    code: str
    name: str
    kind: str
    edition: str = ""
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
    name_in_sentence: str = ""  # when it differs from name: "the United Kingdom"
    profession: str = ""
    grouper: str = ""
    governing_body: str = ""
    coding_scope: str = ""
    keeping_current: str = ""
    usages: tuple[UsageInfo, ...] = ()
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))
    # Filled in by Reference: classification codes by kind, e.g. {"diagnosis": ("icd-10-am",)}.
    classifications: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def in_sentence(self) -> str:
        """The name as it reads inside a sentence: "in the United Kingdom", "in Australia"."""
        return self.name_in_sentence or self.name


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    code: str
    name: str
    country: str
    awarded_by: str
    kind: str  # qualification | course | certification | exam | assessment | membership
    setting: str = "all"
    classifications: tuple[str, ...] = ()
    duration: Duration | None = None
    within: str | None = None  # taken during this other credential's period
    duration_note: str = ""
    summary: str = ""
    prerequisites: str = ""
    requires_employment: bool = False
    next_credential: str | None = None
    progression_note: str = ""
    keeping_current: str = ""
    provenance: Provenance = field(default_factory=lambda: Provenance("inferred"))
    # Where the duration figures and note come from when another document states them (a third-party
    # study time); None: the row's own source.
    duration_provenance: Provenance | None = None


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
    setting: str = "all"  # where coders learn it: inpatient | outpatient | all


@dataclass(frozen=True, slots=True)
class LearnerProfile:
    origin: str | None
    credentials: frozenset[str]
    setting: str  # "inpatient" | "outpatient" | "both"
    years: int | None
    destination: str


class Memo:
    """A bounded map, least recently used out first: memory stays flat whatever the traffic."""

    def __init__(self, size: int):
        self.size = max(size, 0)
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, key: Hashable, compute: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        if self.size:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


class Reference:
    """All reference data, as plain records with the indexes the rules need precomputed.

    Treat it as immutable: build a new one when the data changes.
    """

    def __init__(
        self,
        *,
        version: int = 0,
        stamp: tuple | None = None,
        countries: list[CountryInfo] | tuple[CountryInfo, ...] = (),
        classifications: list[ClassificationInfo] | tuple[ClassificationInfo, ...] = (),
        credentials: list[CredentialInfo] | tuple[CredentialInfo, ...] = (),
        routes: list[RouteInfo] | tuple[RouteInfo, ...] = (),
        gaps: list[GapInfo] | tuple[GapInfo, ...] = (),
        skills: list[SkillInfo] | tuple[SkillInfo, ...] = (),
        difficulty_labels: dict[int, str] | None = None,
        gap_labels: dict[str, str] | None = None,
        setting_labels: dict[str, str] | None = None,
        plan_memo_size: int = 2_000,
        ranking_memo_size: int = 500,
    ):
        self.version = version
        # (version, changed_at) of the ReferenceVersion row it was read with (pathways.reference).
        self.stamp = stamp if stamp is not None else (version, None)
        self.classifications: dict[str, ClassificationInfo] = {c.code: c for c in classifications}
        self.countries: dict[str, CountryInfo] = {}
        for country in sorted(countries, key=lambda c: c.code):
            usages = tuple(sorted(country.usages, key=self._usage_sort_key))
            by_kind: dict[str, list[str]] = {}
            for usage in usages:
                info = self.classifications.get(usage.classification)
                by_kind.setdefault(info.kind if info else "", []).append(usage.classification)
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
        # The data never changes, so neither does a plan or a ranking for the same question.
        self.plans = Memo(plan_memo_size)
        self.rankings = Memo(ranking_memo_size)

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

    def described_settings(self, country_code: str) -> frozenset[str]:
        """The settings a country's usage rows describe (a row for "all" describes both)."""
        found: set[str] = set()
        for usage in self.country(country_code).usages:
            found |= {"inpatient", "outpatient"} if usage.setting == "all" else {usage.setting}
        return frozenset(found)

    def differs_by_setting(self, country_code: str) -> bool:
        """Whether the country's rows give inpatient and outpatient coding different classifications: only then
        does a coder's setting change what they know or need (the setting question is asked)."""
        usages = self.country(country_code).usages
        inpatient = {u.classification for u in usages if u.setting in ("inpatient", "all")}
        outpatient = {u.classification for u in usages if u.setting in ("outpatient", "all")}
        return bool(inpatient and outpatient) and inpatient != outpatient

    def usages_for(self, country_code: str, settings: frozenset[str]) -> tuple[tuple[UsageInfo, ...], bool]:
        """The usages that apply to a coder working in `settings`, and whether the country had to be read in
        the settings its rows describe because they describe none of the coder's."""
        described = self.described_settings(country_code)
        shifted = bool(described) and not (described & settings)
        effective = described if shifted else settings
        usages = self.country(country_code).usages
        return tuple(u for u in usages if u.setting == "all" or u.setting in effective), shifted


# --- The plan -----------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class PlanGap:
    """A gap that is not one classification: a route's extra gap or a change of setting."""

    code: str
    title: str
    gap: str
    note: str
    provenance: Provenance


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
    duration: Duration | None
    within: str | None
    duration_note: str
    prerequisites: str
    requires_employment: bool
    keeping_current: str
    provenance: Provenance  # the credential's own source: its figures, prerequisites and upkeep
    # The source of `note`: the route row's when the route says why the credential is expected, else the credential's.
    note_provenance: Provenance | None = None
    duration_provenance: Provenance | None = None  # the source of the duration figures and note

    @property
    def months(self) -> tuple[int, int | None] | None:
        return self.duration.months() if self.duration else None


@dataclass(frozen=True, slots=True)
class Cover:
    """Something a step teaches: a classification, standard or grouper, or another gap, with its level."""

    code: str
    name: str
    gap: str


@dataclass(frozen=True, slots=True)
class PlanStep:
    kind: str  # employment | credential | learn | progression | keep-current
    credentials: tuple[str, ...] = ()  # alternatives, or what a job or upkeep is for
    covers: tuple[Cover, ...] = ()
    duration: Duration | None = None
    within: str | None = None  # taken during this other credential of the plan: not added to the total
    held_from: str | None = None  # progression: the name of the credential held now
    text: str = ""  # the data's own words for this step (a progression or keeping-current note)
    provenance: Provenance = WORKED_OUT

    @property
    def months(self) -> tuple[int, int | None] | None:
        return self.duration.months() if self.duration else None

    @property
    def timed(self) -> bool:
        """Counts towards the plan's time: keeping current is ongoing, and a period inside another adds nothing."""
        return self.kind != "keep-current" and self.within is None


@dataclass(frozen=True, slots=True)
class PlanNote:
    code: str
    text: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class RetrainingPlan:
    profile: LearnerProfile
    setting: str  # the setting the plan is for: the learner's, where it matters (rules.plan_setting)
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
    total: Duration | None
    untimed_steps: int  # steps that count towards the time but have no published figure
    warnings: tuple[PlanNote, ...]
    notes: tuple[PlanNote, ...]

    @property
    def total_months(self) -> tuple[int, int | None] | None:
        return self.total.months() if self.total else None

    def credential(self, code: str) -> PlanCredential:
        return next(c for c in self.credentials if c.code == code)
