"""Ranking destinations: every other country from one origin, easiest first.

Pure, like `pathways.rules`; rankings are memoised by the Reference they were built from.
"""

from __future__ import annotations

from dataclasses import dataclass

from pathways.records import Duration, LearnerProfile, Reference, add_durations
from pathways.rules import learner_settings, plan_without_memo


@dataclass(frozen=True, slots=True)
class RankedDestination:
    code: str
    name: str
    rank: int
    label: str
    new_gaps: int
    major_gaps: int
    moderate_gaps: int
    minor_gaps: int
    credential_time: Duration | None  # the credential steps on the longest path
    credential_time_partial: bool  # some credential or job steps have no published figure
    headline: str

    @property
    def gap_counts(self) -> tuple[int, int, int, int]:
        """`new`, `major`, `moderate` and `minor` gaps: the ranking's tie-break, biggest gaps first."""
        return (self.new_gaps, self.major_gaps, self.moderate_gaps, self.minor_gaps)

    @property
    def credential_months(self) -> tuple[int, int | None] | None:
        return self.credential_time.months() if self.credential_time else None


def rank_destinations(
    origin: str | None, reference: Reference, setting: str = "both", credentials: frozenset[str] = frozenset()
) -> tuple[RankedDestination, ...]:
    """Order: the route's difficulty, then fewer gaps, the biggest first: `new`, then `major`, `moderate` and
    `minor` gaps (domain.md 7.1's tie-break, carried down the scale); the country code only when all are equal."""
    if origin is not None:
        reference.country(origin)
    learner_settings(setting)
    for code in credentials:
        reference.credential(code)
    return reference.rankings.get(
        (origin, setting, credentials), lambda: _rank(origin, reference, setting, credentials)
    )


def _rank(origin, reference, setting, credentials) -> tuple[RankedDestination, ...]:
    ranked = []
    for code, country in reference.countries.items():
        if code == origin or reference.route(origin, code) is None:
            continue
        plan = plan_without_memo(LearnerProfile(origin, credentials, setting, None, code), reference)
        levels = [c.gap for c in plan.classifications] + [g.gap for g in plan.other_gaps]
        counted = [s for s in plan.steps if s.kind in ("credential", "employment") and s.timed]
        ranked.append(
            RankedDestination(
                code=code,
                name=country.name,
                rank=plan.difficulty,
                label=plan.difficulty_label,
                new_gaps=levels.count("new"),
                major_gaps=levels.count("major"),
                moderate_gaps=levels.count("moderate"),
                minor_gaps=levels.count("minor"),
                credential_time=add_durations([s.duration for s in counted if s.duration is not None]),
                credential_time_partial=any(s.duration is None for s in counted),
                headline=plan.headline,
            )
        )
    ranked.sort(key=lambda r: (r.rank, *r.gap_counts, r.code))
    return tuple(ranked)
