"""The plan JSON's shapes: what `presenter.plan_json` builds and what /api/openapi.json describes.

Each class is one JSON object of the plan, its fields in the order the JSON gives them (see
`pathways.shapes`). The contract of DESIGN.md holds: fields may be added, none removed or renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pathways.records import GAP_ORDER, SETTINGS
from pathways.shapes import Doc

Count = Annotated[int, Doc(minimum=0)]
Number = Annotated[int, Doc(minimum=1)]
Rank = Annotated[int, Doc(minimum=0, maximum=4)]
Gap = Annotated[str, Doc(enum=list(GAP_ORDER))]
Months = Annotated[
    tuple[Count, Count | None] | None,
    Doc(
        description="[min, max] whole months, rounded outwards, only where a source gives a figure; max is null "
        "where the source gives only a minimum; null means no published figure."
    ),
]
shape = dataclass(frozen=True, slots=True, kw_only=True)


@shape
class Duration:
    """A figure as its source gives it; max null = only a minimum ("at least")."""

    min: Count
    max: Count | None
    unit: Annotated[str, Doc(enum=["day", "week", "month", "year"])]


Figure = Annotated[Duration | None, Doc(description="null = no published figure.")]


@shape
class Provenance:
    """Where a fact comes from: the citation a learner can follow."""

    kind: Annotated[str, Doc(enum=["seed", "official", "third-party", "inferred"])]
    title: str
    url: str
    detail: Annotated[str, Doc(maxLength=0, description="Always empty: kept for compatibility.")] = ""
    last_checked: Annotated[str, Doc(description="ISO date, or empty for derived items.")]
    publisher: str


@shape
class Note:
    code: str
    text: str
    provenance: Provenance


@shape
class Origin:
    code: str
    name: str


@shape
class Destination:
    code: str
    name: str
    profession: str
    grouper: str
    governing_body: str
    coding_scope: str


@shape
class Difficulty:
    rank: Annotated[int, Doc(minimum=0, maximum=4, description="0 = no move needed")]
    label: str


@shape
class Route:
    """The route row the plan follows."""

    origin: str | None
    destination: str
    headline: str
    summary: str
    employer_expectation: str
    local_conventions: str
    provenance: Provenance


@shape
class Classification:
    code: str
    name: str
    kind: str
    edition: str
    gap: Gap
    known_from: str | None
    note: str
    provenance: Provenance
    gap_label: str


@shape
class OtherGap:
    """A gap that is not one classification: a change of setting, a route's extra gap."""

    code: str
    title: str
    gap: Gap
    note: str
    provenance: Provenance
    gap_label: str


@shape
class Credential:
    """What employers expect: the same step = alternatives, a higher step comes after."""

    code: str
    name: str
    awarded_by: str
    kind: str
    held: bool
    note: str
    step: Count
    setting: Annotated[str, Doc(enum=["inpatient", "outpatient", "all"])]
    duration: Figure
    within: Annotated[str | None, Doc(description="Taken during this other credential's period.")]
    duration_note: str
    prerequisites: str
    requires_employment: bool
    keeping_current: str
    provenance: Provenance
    months: Months


@shape
class Option:
    """An alternative: take one of a step's options."""

    code: str
    name: str
    awarded_by: str
    note: str


@shape
class Cover:
    """Something a step teaches, with the size of its gap."""

    code: str
    name: str
    gap: Gap
    gap_label: str


@shape
class Step:
    """What the learner does, in order. A credential step lists what it covers; 'learn' is self-study of what
    no course in the plan covers."""

    number: Number
    kind: Annotated[str, Doc(enum=["learn", "employment", "credential", "progression", "keep-current"])]
    title: str
    detail: str
    options: list[Option]
    months: Months
    duration: Figure
    within: Annotated[
        str | None,
        Doc(
            description="A credential of this plan whose period this step is taken within: "
            "its time is not added to the total."
        ),
    ]
    time_text: Annotated[str, Doc(description="The step's time in words, or empty.")]
    credentials: list[str]
    covers: list[Cover]
    provenance: Provenance


@dataclass(slots=True, kw_only=True)  # the presenter updates last_checked as it meets the same source again
class Source:
    """A source the plan cites, numbered in the order the page first uses it."""

    number: Number
    kind: str
    kind_label: str
    publisher: str
    title: str
    url: str
    last_checked: str


@shape
class Ranked:
    """A destination from this origin, in the ranking (easiest first)."""

    code: str
    name: str
    rank: Rank
    label: str
    new_gaps: Count
    major_gaps: Count
    moderate_gaps: Count
    minor_gaps: Count
    credential_months: Months
    credential_months_partial: bool
    headline: str
    reasons: str


@shape
class Plan:
    """A retraining plan for one learner profile. Fields may be added, none removed or renamed."""

    origin: Annotated[Origin | None, Doc(description="null for someone not trained yet.")]
    destination: Destination
    setting: Annotated[str, Doc(enum=list(SETTINGS))]
    years: Count | None
    held_credentials: list[str]
    difficulty: Difficulty
    headline: str
    summary: str
    move: Annotated[str, Doc(description="The move in words, e.g. 'Australia to United Kingdom'.")]
    route: Annotated[Route | None, Doc(description="null when no move is needed.")]
    transferable_skills: list[str]
    transferable_skill_details: list[Note]
    classifications: list[Classification]
    other_gaps: list[OtherGap]
    credentials: list[Credential]
    steps: list[Step]
    total_months: Months
    total_duration: Figure
    total_is_partial: Annotated[bool, Doc(description="Some steps have no published figure and are not counted.")]
    time_text: Annotated[str, Doc(description="The expected time in words.")]
    time_note: Annotated[str, Doc(description="Which steps the time leaves out, or empty.")]
    first_step: str
    warnings: list[Note]
    notes: list[str]
    note_details: list[Note]
    sources: Annotated[list[Source], Doc(description="Every source the plan cites, numbered.")]
    ranking: Annotated[list[Ranked], Doc(description="Every destination from this origin, easiest first.")]
    reference_version: Count
