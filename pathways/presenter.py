"""What a plan says: the one place a RetrainingPlan becomes words and JSON.

Contract:
- `present(plan)` gives the plan page's words: the move, where the learner stands, how hard, how
  long (and why some steps are not counted), the steps in order with what each covers, warnings,
  notes and numbered sources (publisher, title, link, last checked).
- `copy_sources(...)` numbers the sources cited by other pages' own copy (start, compare) the same way.
- `plan_json(plan, reference)` is the plan JSON of DESIGN.md, built from the same words into the
  shapes of `pathways.plan_shapes` (which /api/openapi.json describes), so the API, the enquiry
  snapshot, the adviser's summary, the notification email and the `plan` command (`summary_lines`,
  `plan_text`) all say what the page says. The page's timeline is drawn by `pathways.timeline`.
- Standard library only. A figure reads as its source gives it: a range ("2 to 3 years"), a minimum
  ("at least 21 days") or "no published figure"; never "at least A to B".
"""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from pathways import plan_shapes as shapes
from pathways.plan_shapes import Source
from pathways.ranking import rank_destinations
from pathways.records import GAP_LABELS, WORKED_OUT, Duration, Provenance, Reference
from pathways.rules import PlanStep, RetrainingPlan, join
from pathways.shapes import as_json

UNITS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months"), "year": ("year", "years")}
# How the step for each kind of credential begins.
VERBS = {
    "qualification": "complete",
    "course": "complete",
    "certification": "pass the exam for",
    "exam": "pass",
    "assessment": "apply for",
    "membership": "apply for",
}
SOURCE_KIND_LABELS = {
    "seed": "Source article",
    "official": "Official source",
    "third-party": "Third-party source",
    "inferred": "Worked out from",
}


def duration_text(duration: Duration | None) -> str:
    """ "12 months", "10 to 12 weeks", "at least 21 days" or "no published figure"; "about 12 months, as one
    provider delivers it" when the source gives it as approximate and as one provider's figure."""
    if duration is None:
        return "no published figure"
    one, many = UNITS[duration.unit]
    if duration.max is None:
        text = f"at least {duration.min} {one if duration.min == 1 else many}"
    elif duration.min == duration.max:
        text = f"{duration.min} {one if duration.min == 1 else many}"
    else:
        text = f"{duration.min} to {duration.max} {many}"
    if duration.about and duration.max is not None:
        text = f"about {text}"
    return f"{text}, {duration.basis}" if duration.basis else text


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def number_in_words(n: int) -> str:
    """One to twelve in words, as the copy writes them; larger numbers in digits."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def systems_phrase(reference: Reference) -> str:
    """ "the six coding systems": the count follows the countries in the reference data."""
    return f"the {number_in_words(len(reference.countries))} coding systems"


def countries_phrase(reference: Reference) -> str:
    """Every country's name as a sentence reads it, by name: "Australia, Canada ... and the United States"."""
    countries = sorted(reference.countries.values(), key=lambda c: c.name)
    return join([c.in_sentence for c in countries])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class StepText:
    number: int
    kind: str
    title: str
    time: str  # "" when the step has no published figure (or, keeping current, none is due)
    detail: str
    options: list[dict]  # alternatives: name, awarded_by, note
    covers: list[dict]  # code, name, gap, gap_label
    duration: Duration | None
    timed: bool
    source: int
    time_source: int = 0  # the source that states the step's figure, when it has one


@dataclass
class PlanText:
    move: str
    headline: str
    summary: str
    difficulty: str
    time: str
    time_note: str
    first_step: str
    steps: list[StepText]
    warnings: list[dict]  # text, source
    notes: list[dict]
    employer_expectation: str
    local_conventions: str
    summary_source: int = 0
    # Source numbers of the reference detail, in the plan's order: classifications then other gaps,
    # credentials, transferable skills.
    gap_sources: list[int] = field(default_factory=list)
    credential_sources: list[int] = field(default_factory=list)
    # The source of each credential's duration note (the same number as its own source when that states it).
    credential_duration_sources: list[int] = field(default_factory=list)
    skill_sources: list[int] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    checked: datetime.date | None = None  # when the plan's facts were last checked: the oldest date among them


class _Sources:
    """Numbers each distinct citation once, in the order the page first uses it."""

    def __init__(self):
        self.items: dict[tuple, Source] = {}
        self.oldest = ""  # the oldest last-checked date of any fact cited

    def cite(self, provenance: Provenance) -> int:
        if provenance.last_checked and (not self.oldest or provenance.last_checked < self.oldest):
            self.oldest = provenance.last_checked
        if not provenance.title:
            provenance = WORKED_OUT if provenance.kind == "inferred" else provenance
        key = (provenance.kind, provenance.publisher, provenance.title, provenance.url)
        if key not in self.items:
            self.items[key] = Source(
                number=len(self.items) + 1,
                kind=provenance.kind,
                kind_label=SOURCE_KIND_LABELS.get(provenance.kind, provenance.kind),
                publisher=provenance.publisher,
                title=provenance.title,
                url=provenance.url,
                last_checked=provenance.last_checked,
            )
        elif provenance.last_checked > self.items[key].last_checked:
            self.items[key].last_checked = provenance.last_checked
        return self.items[key].number


def copy_sources(provenances: Mapping[str, Provenance | None]) -> tuple[dict[str, int], list[Source]]:
    """The sources a page's own copy cites (start, compare), numbered as a plan numbers its own: the number
    of each name in `provenances` (in the page's order; None for a source the data lacks is left out) and
    the numbered list the page ends with."""
    sources = _Sources()
    numbers = {name: sources.cite(provenance) for name, provenance in provenances.items() if provenance is not None}
    return numbers, list(sources.items.values())


def move_name(plan: RetrainingPlan) -> str:
    if plan.origin is None:
        return f"Starting out in {plan.destination.in_sentence}"
    if plan.origin.code == plan.destination.code:
        return f"Progressing in {plan.destination.in_sentence}"
    return f"{plan.origin.name} to {plan.destination.name}"


def _step_credentials(step: PlanStep, plan: RetrainingPlan) -> list:
    """The plan's credentials a step names, in the step's order."""
    return [plan.credential(code) for code in step.credentials if any(c.code == code for c in plan.credentials)]


def _step_words(step: PlanStep, plan: RetrainingPlan, has_courses: bool) -> tuple[str, str, list[dict]]:
    """Title, detail and the alternatives of one step."""
    creds = _step_credentials(step, plan)
    if step.kind == "employment":
        return "Get a coding job first", "", []
    if step.kind == "learn":
        if has_courses:
            return "Study on your own what no course here covers", "", []
        # No credential to take: what employers look at is the whole answer, so it is said here, once.
        return "Study on your own", plan.route.employer_expectation if plan.route else "", []
    if step.kind == "progression":
        return f"Move up from {step.held_from} to {creds[0].name}", step.text, []
    if step.kind == "keep-current":
        parts = ([step.text] if step.text else []) + [f"{c.name}: {c.keeping_current}" for c in creds]
        return "Keep current", " ".join(parts), []
    if len(creds) == 1:
        credential = creds[0]
        title = _cap(f"{VERBS.get(credential.kind, 'complete')} the {credential.name}")
        return title, " ".join(filter(None, [f"Awarded by {credential.awarded_by}.", credential.note])), []
    kinds = {VERBS.get(c.kind, "complete") for c in creds}
    verb = kinds.pop() if len(kinds) == 1 else "complete"
    title = _cap(f"{verb} one of these" if verb != "complete" else "Complete one of these")
    options = [{"code": c.code, "name": c.name, "awarded_by": c.awarded_by, "note": c.note} for c in creds]
    return title, "", options


def _first_step(steps: list[StepText]) -> str:
    """Step 1's title; a choice of two or three options names them, as "one of these" alone says nothing."""
    if not steps:
        return ""
    first = steps[0]
    if 2 <= len(first.options) <= 3:
        return f"{first.title}: {join([o['name'] for o in first.options], 'or')}"
    return first.title


def present(plan: RetrainingPlan) -> PlanText:
    sources = _Sources()
    has_courses = any(s.kind == "credential" for s in plan.steps)
    steps = []
    for number, step in enumerate(plan.steps, 1):
        title, detail, options = _step_words(step, plan, has_courses)
        time = duration_text(step.duration) if step.duration else ""
        if time and step.within:
            parent = next(
                n for n, s in enumerate(plan.steps, 1) if s.kind == "credential" and step.within in s.credentials
            )
            time += f", taken during step {parent}"
        provenance = step.provenance
        if step.kind == "learn" and detail and plan.route is not None:
            provenance = plan.route.provenance  # the route's own words about what employers look at
        timed_by = [c for c in _step_credentials(step, plan) if c.duration is not None]
        # The page shows the time (with its own source) before the detail.
        time_source = 0
        if time and timed_by:
            time_source = sources.cite(timed_by[0].duration_provenance or timed_by[0].provenance)
        source = sources.cite(provenance)
        steps.append(
            StepText(
                number=number,
                kind=step.kind,
                title=title,
                time=_cap(time),
                detail=detail,
                options=options,
                covers=[
                    {"code": c.code, "name": c.name, "gap": c.gap, "gap_label": GAP_LABELS.get(c.gap, c.gap)}
                    for c in step.covers
                ],
                duration=step.duration,
                timed=step.timed,
                source=source,
                time_source=time_source,
            )
        )
    untimed = [s.number for s in steps if s.timed and s.duration is None]
    if plan.total is not None:
        time = _cap(duration_text(plan.total))
    else:
        time = "No published figure" if plan.steps else "No steps to take"
    time_note = ""
    if untimed and plan.total is not None:
        many = len(untimed) > 1
        time_note = (
            f"Step{'s' if many else ''} {join([str(n) for n in untimed])} "
            f"{'have' if many else 'has'} no published figure and {'are' if many else 'is'} not counted."
        )
    route = plan.route
    text = PlanText(
        move=move_name(plan),
        headline=plan.headline,
        summary=plan.summary,
        difficulty=f"{plan.difficulty_label} ({plan.difficulty} out of 4)",
        time=time,
        time_note=time_note,
        first_step=_first_step(steps),
        steps=steps,
        warnings=[{"code": w.code, "text": w.text, "source": sources.cite(w.provenance)} for w in plan.warnings],
        notes=[{"code": n.code, "text": n.text, "source": sources.cite(n.provenance)} for n in plan.notes],
        employer_expectation=route.employer_expectation if route and has_courses else "",
        local_conventions=route.local_conventions if route else "",
    )
    if route is not None:
        text.summary_source = sources.cite(route.provenance)
    text.gap_sources = [sources.cite(item.provenance) for item in (*plan.classifications, *plan.other_gaps)]
    text.credential_sources = [sources.cite(item.provenance) for item in plan.credentials]
    text.credential_duration_sources = [
        sources.cite(item.duration_provenance or item.provenance) if item.duration_note else 0
        for item in plan.credentials
    ]
    text.skill_sources = [sources.cite(item.provenance) for item in plan.transferable_skills]
    text.sources = list(sources.items.values())
    text.checked = datetime.date.fromisoformat(sources.oldest) if sources.oldest else None
    return text


# --- JSON ------------------------------------------------------------------------------------------


def _fill(shape: type, record, **given):
    """A shape from a record: the record's values for the fields of the same name, then those given."""
    return shape(**{f.name: getattr(record, f.name) for f in fields(shape) if hasattr(record, f.name)} | given)


def _provenance(value: Provenance) -> shapes.Provenance:
    # `detail` stays in the contract, always empty (its default): our working notes are never published.
    return _fill(shapes.Provenance, value)


def _duration(duration: Duration | None) -> shapes.Duration | None:
    return _fill(shapes.Duration, duration) if duration else None


def _note(note) -> shapes.Note:
    return _fill(shapes.Note, note, provenance=_provenance(note.provenance))


def ranking_reasons(ranked) -> str:
    # The counts the order uses, so two destinations of the same rank show why one comes first.
    levels = ("new", "major", "moderate", "minor")
    counts = [(n, level) for n, level in zip(ranked.gap_counts, levels, strict=True) if n]
    words = [f"{n} {level}" for n, level in counts]
    reasons = [f"{join(words)} gap{'s' if counts[-1][0] != 1 else ''}" if counts else "no gaps"]
    if ranked.credential_time is not None:
        extra = " plus steps with no published figure" if ranked.credential_time_partial else ""
        reasons.append(f"credentials {duration_text(ranked.credential_time)}{extra}")
    elif ranked.credential_time_partial:
        reasons.append("credential time: no published figure")
    else:
        reasons.append("no credential step")
    return "; ".join(reasons)


def plan_json(plan: RetrainingPlan, reference: Reference) -> dict:
    """The plan JSON of DESIGN.md, plus the added fields: the shapes of pathways.plan_shapes, filled in."""
    text = present(plan)
    profile = plan.profile
    steps = [
        _fill(
            shapes.Step,
            words,
            kind=step.kind,
            options=[shapes.Option(**option) for option in words.options],
            months=step.months,
            duration=_duration(step.duration),
            within=step.within,
            time_text=words.time,
            credentials=step.credentials,
            covers=[shapes.Cover(**cover) for cover in words.covers],
            provenance=_provenance(step.provenance),
        )
        for step, words in zip(plan.steps, text.steps, strict=True)
    ]
    ranking = [
        _fill(
            shapes.Ranked,
            r,
            credential_months=r.credential_months or None,
            credential_months_partial=r.credential_time_partial,
            reasons=ranking_reasons(r),
        )
        for r in rank_destinations(profile.origin, reference, plan.setting, profile.credentials)
    ]
    body = _fill(
        shapes.Plan,
        plan,
        origin=_fill(shapes.Origin, plan.origin) if plan.origin else None,
        destination=_fill(shapes.Destination, plan.destination),
        setting=plan.setting,
        years=profile.years,
        held_credentials=sorted(profile.credentials),
        difficulty=shapes.Difficulty(rank=plan.difficulty, label=plan.difficulty_label),
        move=text.move,
        route=_fill(shapes.Route, plan.route, provenance=_provenance(plan.route.provenance)) if plan.route else None,
        transferable_skills=[s.text for s in plan.transferable_skills],
        transferable_skill_details=[_note(s) for s in plan.transferable_skills],
        classifications=[
            _fill(
                shapes.Classification, c, provenance=_provenance(c.provenance), gap_label=GAP_LABELS.get(c.gap, c.gap)
            )
            for c in plan.classifications
        ],
        other_gaps=[
            _fill(shapes.OtherGap, g, provenance=_provenance(g.provenance), gap_label=GAP_LABELS.get(g.gap, g.gap))
            for g in plan.other_gaps
        ],
        credentials=[
            _fill(shapes.Credential, c, duration=_duration(c.duration), provenance=_provenance(c.provenance))
            for c in plan.credentials
        ],
        steps=steps,
        total_duration=_duration(plan.total),
        total_is_partial=plan.untimed_steps > 0,
        time_text=text.time,
        time_note=text.time_note,
        first_step=text.first_step,
        warnings=[_note(w) for w in plan.warnings],
        notes=[n.text for n in plan.notes],
        note_details=[_note(n) for n in plan.notes],
        sources=text.sources,
        ranking=ranking,
    )
    return as_json(body)


# --- Plain text (adviser summary, email, command) ----------------------------------------------------


def summary_lines(data: dict) -> list[str]:
    """The plan's answer in a few lines, from the plan JSON (an enquiry's snapshot included)."""
    if not data:
        return []
    difficulty = (data.get("difficulty") or {}).get("label", "?")
    time = data.get("time_text") or "not recorded with this enquiry"  # snapshots older than the presenter
    lines = [data.get("move") or _move_from(data), f"Difficulty: {difficulty}. Expected time: {time}."]
    if data.get("time_note"):
        lines.append(data["time_note"])
    for step in data.get("steps") or []:
        time = f" ({step['time_text']})" if step.get("time_text") else ""
        lines.append(f"{step.get('number', '')}. {step.get('title', '')}{time}")
    return lines


@dataclass(frozen=True)
class AdviserSummary:
    """A plan snapshot as an adviser reads it (the enquiry page in admin, a reply's {plan_summary}): the move,
    the answer, the learner's answers, then the steps' titles. `lines()` is the text; admin builds its HTML
    from the same parts."""

    move: str
    answer: str
    notes: list[str]
    answers: str
    steps: list[str]

    def lines(self) -> list[str]:
        return [self.move, self.answer, *self.notes, self.answers, *(f"- {step}" for step in self.steps)]


NO_PLAN = "No plan: a general enquiry."


def adviser_summary(data: dict, credentials: Mapping | None = None) -> AdviserSummary | None:
    """The summary of a plan snapshot, or None for a general enquiry. Held credentials are named from
    `credentials` (a Reference's: code -> record with a name), or by their codes when it has no such code."""
    if not data:
        return None
    known = credentials or {}
    held = [known[code].name if code in known else code for code in data.get("held_credentials") or []]
    years = data.get("years")
    head = summary_lines(data)
    return AdviserSummary(
        move=head[0],
        answer=head[1],
        notes=[data["time_note"]] if data.get("time_note") else [],
        answers=(
            f"Setting: {data.get('setting', '?')}; years of experience: {'not given' if years is None else years};"
            f" held: {', '.join(held) or 'nothing'}"
        ),
        steps=[
            step.get("title", "") + (f" ({step['time_text']})" if step.get("time_text") else "")
            for step in data.get("steps") or []
        ],
    )


def adviser_summary_text(data: dict, credentials: Mapping | None = None) -> str:
    summary = adviser_summary(data, credentials)
    return "\n".join(summary.lines()) if summary else NO_PLAN


def _move_from(data: dict) -> str:
    destination = (data.get("destination") or {}).get("name", "?")
    origin = (data.get("origin") or {}).get("name")
    return f"{origin} to {destination}" if origin else f"Starting out in {destination}"


def plan_text(data: dict, width: int = 88) -> str:
    """The whole plan for a terminal: the summary, what each step covers, warnings and notes."""

    def wrap(text: str, indent: str = "  ") -> str:
        return textwrap.fill(
            text, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
        )

    head = summary_lines(data)
    lines = [head[0], wrap(data.get("summary") or data.get("headline", ""), ""), "", *head[1:2]]
    if data.get("time_note"):
        lines.append(data["time_note"])
    lines += ["", "Steps:"]
    for step in data.get("steps") or []:
        time = f" – {step['time_text']}" if step.get("time_text") else ""
        lines.append(wrap(f"{step['number']}. {step['title']}{time}", ""))
        if step.get("detail"):
            lines.append(wrap(step["detail"], "     "))
        for option in step.get("options") or []:
            lines.append(wrap(f"- {option['name']} ({option['awarded_by']}). {option['note']}", "     "))
        if step.get("covers"):
            covers = "; ".join(f"{c['name']} ({c['gap_label'].lower()})" for c in step["covers"])
            lines.append(wrap(f"Covers: {covers}", "     "))
    if data.get("warnings"):
        lines += ["", "Before you start:"] + [wrap(f"! {w['text']}") for w in data["warnings"]]
    if data.get("notes"):
        lines += ["", "Good to know:"] + [wrap(f"- {note}") for note in data["notes"]]
    return "\n".join(lines) + "\n"
