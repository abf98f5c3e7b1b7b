"""Building a plan: a learner's profile plus the reference data gives a retraining plan.

Contract:
- Standard library only, no Django; pure functions of the records in `pathways.records`.
- No branch names a country, classification or credential: countries differ only by their rows
  (usages, gaps, routes, credentials, notes), so a sixth country needs rows, not code.
- Steps are what the learner does, in order: find the job a course is only open to, take each
  credential in the route's order (what it teaches listed inside its step, never before it), study
  on their own what no course covers, keep their credentials current.
- Time comes only from credential figures, as their source gives them. A credential taken within
  another's period adds nothing to the total, which follows the longest path.
- Decisions only: `pathways.presenter` turns a plan into words and JSON.
- `build_plan(profile, reference)` raises `UnknownCode` (a `ValueError`) for codes not in the
  reference and `NoRoute` when the data has no route for the pair.
"""

from __future__ import annotations

from pathways.records import (  # noqa: F401  (the names other modules import from here)  # noqa: F401
    DIFFICULTY_LABELS,
    GAP_LABELS,
    GAP_ORDER,
    GAP_RANK,
    SETTINGS,
    WORKED_OUT,
    ClassificationInfo,
    CountryInfo,
    Cover,
    CredentialInfo,
    Duration,
    GapInfo,
    LearnerProfile,
    NoRoute,
    PlanClassification,
    PlanCredential,
    PlanError,
    PlanGap,
    PlanNote,
    PlanStep,
    Provenance,
    Reference,
    RetrainingPlan,
    RouteCredentialInfo,
    RouteInfo,
    RouteNoteInfo,
    SkillInfo,
    UnknownCode,
    UsageInfo,
    add_durations,
    either_duration,
)

# --- Building a plan ---------------------------------------------------------------------------


def learner_settings(setting: str) -> frozenset[str]:
    if setting == "both":
        return frozenset({"inpatient", "outpatient"})
    if setting in ("inpatient", "outpatient"):
        return frozenset({setting})
    raise UnknownCode("setting", setting)


def asks_setting(reference: Reference, origin: str | None, destination: str | None) -> bool:
    """Whether a learner's setting changes their plan: only where the classifications they bring (the origin's;
    for someone new to coding, the destination's) differ by setting. The rows decide, not a country's name."""
    country = origin if origin is not None else destination
    return country is not None and reference.differs_by_setting(country)


def plan_setting(reference: Reference, origin: str | None, destination: str, setting: str) -> str:
    """The setting a plan is for: the learner's answer where it matters (`asks_setting`), otherwise the
    settings the country's rows describe, as one word ("both" for both)."""
    learner_settings(setting)  # an unknown value is refused either way
    if asks_setting(reference, origin, destination):
        return setting
    described = reference.described_settings(origin if origin is not None else destination)
    return next(iter(described)) if len(described) == 1 else "both"


def join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _settings_phrase(reference: Reference, settings) -> str:
    return join([reference.setting_labels.get(s, s).lower() for s in sorted(settings)])


def check_profile(profile: LearnerProfile, reference: Reference) -> None:
    if profile.origin is not None:
        reference.country(profile.origin)
    reference.country(profile.destination)
    learner_settings(profile.setting)
    for code in profile.credentials:
        reference.credential(code)


def build_plan(profile: LearnerProfile, reference: Reference) -> RetrainingPlan:
    """The plan for a profile; the same plan object for the same profile and reference."""

    def compute() -> RetrainingPlan:
        check_profile(profile, reference)
        return plan_without_memo(profile, reference)

    return reference.plans.get(profile, compute)


def _gap_for(target: UsageInfo, known: dict[str, UsageInfo], reference: Reference) -> tuple:
    """Level, the known classification that helps, a note and its provenance."""
    code = target.classification
    info = reference.classifications.get(code)
    name = info.name if info else code
    if code in known:
        theirs = known[code]
        if theirs.edition == target.edition:
            edition = f" ({target.edition})" if target.edition else ""
            return "none", code, f"You already code with {name}{edition}.", target.provenance
        row = reference.gaps.get((code, code))
        if row is not None:
            return row.level, code, row.note, row.provenance
        note = f"You know {name} ({theirs.edition or 'another edition'}); learn what changed in {target.edition}."
        return "minor", code, note, WORKED_OUT
    best: GapInfo | None = None
    for from_code in known:
        row = reference.gaps.get((from_code, code))
        if row is not None and (best is None or GAP_RANK[row.level] < GAP_RANK[best.level]):
            best = row
    if best is not None:
        # A "new" row still says why (and where it comes from), but nothing known helps.
        known_from = None if best.level == "new" else best.from_classification
        return best.level, known_from, best.note, best.provenance
    return "new", None, f"Nothing you already code with maps onto {name}: learn it from scratch.", WORKED_OUT


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


def _plan_credential(cred: CredentialInfo, held: bool, step: int, setting: str, note: str, provenance: Provenance):
    """`note` and its `provenance` are the route row's (why the destination expects the credential), when it
    has a note; the credential's figures, prerequisites and upkeep always cite the credential's own source."""
    note_provenance = provenance if note and provenance.kind else cred.provenance
    return PlanCredential(
        code=cred.code,
        name=cred.name,
        awarded_by=cred.awarded_by,
        kind=cred.kind,
        held=held,
        note=note or cred.summary,
        step=step,
        setting=setting,
        duration=cred.duration,
        within=cred.within,
        duration_note=cred.duration_note,
        prerequisites=cred.prerequisites,
        requires_employment=cred.requires_employment,
        keeping_current=cred.keeping_current,
        provenance=cred.provenance,
        note_provenance=note_provenance,
        duration_provenance=cred.duration_provenance or cred.provenance,
    )


def _known_usages(origin, settings, held, reference) -> tuple[UsageInfo, ...]:
    """What a coder from `origin` knows: its classifications in their settings. Where the origin codes a setting
    with classifications of its own, the credentials held say which of those they used: a physician-office
    certification teaches CPT, not the hospital-outpatient grouper."""
    usages, _ = reference.usages_for(origin.code, settings)
    if not reference.differs_by_setting(origin.code):
        return usages
    taught = {
        code
        for credential in held
        if credential in reference.credentials and reference.credentials[credential].country == origin.code
        for code in reference.credentials[credential].classifications
    }
    dropped = set()
    for setting in settings:
        own = {u.classification for u in usages if u.setting == setting}
        if own & taught:
            dropped |= own - taught
    return tuple(u for u in usages if u.classification not in dropped)


def _classifications(origin, destination, settings, held, reference) -> tuple[list[PlanClassification], bool]:
    """Each classification the destination uses in the learner's setting, with its gap; and whether
    the destination had to be read in the settings its rows describe."""
    known: dict[str, UsageInfo] = {}
    if origin is not None:
        known = {u.classification: u for u in _known_usages(origin, settings, held, reference)}
    dest_usages, dest_shifted = reference.usages_for(destination.code, settings)
    result = []
    for usage in dest_usages:
        info = reference.classifications.get(usage.classification)
        level, known_from, note, provenance = _gap_for(usage, known, reference)
        result.append(
            PlanClassification(
                code=usage.classification,
                name=info.name if info else usage.classification,
                kind=info.kind if info else "",
                edition=usage.edition or (info.edition if info else ""),
                gap=level,
                known_from=known_from,
                note=note or usage.note,
                provenance=provenance,
            )
        )
    return result, dest_shifted


def _setting_shift(origin, destination, settings, into, reference) -> PlanGap:
    """The change for a coder whose settings the destination's rows do not describe (`usages_for` shifted): the
    destination's settings they move `into`."""
    where = _settings_phrase(reference, into)
    text = (
        f"You coded {_settings_phrase(reference, settings)} work in {origin.in_sentence}; the coding this plan "
        f"prepares you for in {destination.in_sentence} is {where}. "
    )
    if "inpatient" in into:
        text += (
            "Expect to learn episode-based abstraction: reading the whole record, choosing the principal diagnosis "
            "and sequencing every additional diagnosis and procedure."
        )
    else:
        text += f"Expect to learn how {where} work is coded there."
    return PlanGap("setting-shift", f"{where[:1].upper()}{where[1:]} coding", "major", text, WORKED_OUT)


def _other_setting_note(origin, destination, settings, route, reference) -> PlanNote | None:
    """For a learner who was not asked their setting, heading where another setting has classifications or
    credentials of its own: the plan's setting made visible, and what the other one asks for."""
    other = reference.described_settings(destination.code) - settings
    if not other or not reference.differs_by_setting(destination.code):
        return None
    mine = {u.classification for u in reference.usages_for(destination.code, settings)[0]}
    names = [
        reference.classifications[u.classification].name
        for u in reference.usages_for(destination.code, other)[0]
        if u.classification not in mine and u.classification in reference.classifications
    ]
    credentials = [
        reference.credentials[rc.credential].name
        for rc in _expected_credentials(route, other)
        if rc.setting != "all" and rc.credential in reference.credentials
    ]
    if not names:
        return None
    text = (
        f"This plan is for {_settings_phrase(reference, settings)} work, as coded in {origin.in_sentence}. "
        f"{destination.in_sentence[:1].upper()}{destination.in_sentence[1:]} codes "
        f"{_settings_phrase(reference, other)} work with {join(names)} as well"
    )
    text += f"; employers there ask for {join(credentials, 'or')}." if credentials else "."
    return PlanNote("other-setting", text, WORKED_OUT)


def plan_without_memo(profile: LearnerProfile, reference: Reference) -> RetrainingPlan:
    setting = plan_setting(reference, profile.origin, profile.destination, profile.setting)
    settings = learner_settings(setting)
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

    classifications, dest_shifted = _classifications(origin, destination, settings, held, reference)
    shift_into = frozenset()
    if origin is not None and not no_move and dest_shifted:
        shift_into = reference.described_settings(destination.code) - settings
        shift = _setting_shift(origin, destination, settings, shift_into, reference)
        other_gaps.append(shift)
        warnings.append(PlanNote(shift.code, shift.note, shift.provenance))
    if origin is not None and not no_move and not asks_setting(reference, origin.code, None):
        other_setting = _other_setting_note(origin, destination, settings, route, reference)
        if other_setting is not None:
            notes.append(other_setting)
    if route is not None and route.extra_gap_level:
        other_gaps.append(
            PlanGap("route-gap", route.extra_gap_title, route.extra_gap_level, route.extra_gap_note, route.provenance)
        )

    # Credentials employers expect, by step; the same step = alternatives.
    credentials: list[PlanCredential] = []
    for rc in _expected_credentials(
        credential_route, reference.described_settings(destination.code) if dest_shifted else settings
    ):
        cred = reference.credentials.get(rc.credential)
        if cred is not None:
            credentials.append(_plan_credential(cred, cred.code in held, rc.step, rc.setting, rc.note, rc.provenance))

    if no_move:
        steps = _progression_steps(profile, reference, destination, credentials, notes)
    else:
        steps = _move_steps(credentials, classifications, other_gaps, shift_into, reference)
        for credential in credentials:
            if credential.requires_employment and not credential.held:
                warnings.append(
                    PlanNote(
                        f"requires-employment-{credential.code}",
                        f"{credential.name} is only open once you are employed as a coder in "
                        f"{destination.in_sentence}: you cannot take it before you arrive.",
                        reference.credentials[credential.code].provenance,
                    )
                )

    notes_route = route if route is not None else (credential_route if origin is None else None)
    route_note_codes = {note.code for note in notes_route.notes} if notes_route is not None else set()

    # Foreign credentials the destination does not list do not stand in for its own.
    expected_codes = {c.code for c in credentials}
    foreign_held = [
        reference.credentials[c] for c in sorted(held) if reference.credentials[c].country != destination.code
    ]
    if foreign_held and credentials and not (held & expected_codes):
        warnings.append(
            PlanNote(
                "held-credentials-do-not-replace",
                f"{join([c.name for c in foreign_held])} {'does' if len(foreign_held) == 1 else 'do'} not replace "
                f"what employers there expect ({_credential_sequence(credentials)}). Your skills carry over; "
                "the credential does not.",
                WORKED_OUT,
            )
        )

    # Prerequisites as the data states them, for the credentials the steps ask for; experience is compared by the
    # learner, not by code.
    in_steps = {code for step in steps for code in step.credentials}
    for credential in credentials:
        if credential.held or not credential.prerequisites or credential.requires_employment:
            continue  # a course open only to employees: its warning already says what it asks for
        if credential.code not in in_steps:
            continue  # an alternative to one they hold, or an entry credential someone progressing has passed
        if profile.years is not None:
            years = f"{profile.years} year{'s' if profile.years != 1 else ''}"
            text = f"You have {years} of coding experience. {credential.name} asks for: {credential.prerequisites}"
        else:
            text = f"{credential.name} asks for: {credential.prerequisites}"
        notes.append(PlanNote(f"prerequisites-{credential.code}", text, credential.provenance))

    if notes_route is not None:
        # A route note with the code of a warning or note worked out here says it in the route's own, sourced words.
        warnings = [w for w in warnings if w.code not in route_note_codes]
        notes = [n for n in notes if n.code not in route_note_codes]
        for note in notes_route.notes:
            (warnings if note.kind == "warning" else notes).append(PlanNote(note.code, note.text, note.provenance))

    timed = [s for s in steps if s.timed]
    total = add_durations([s.duration for s in timed if s.duration is not None])

    if no_move:
        difficulty = 0
        headline = f"No move needed: progress and keep current in {destination.in_sentence}"
        summary = ""  # how to keep current is the last step; said once
    else:
        difficulty = route.difficulty
        headline = route.headline or f"{origin.name if origin else 'New to coding'} to {destination.name}"
        summary = route.summary

    return RetrainingPlan(
        profile=profile,
        setting=setting,
        reference_version=reference.version,
        origin=origin,
        destination=destination,
        difficulty=difficulty,
        difficulty_label=reference.difficulty_labels.get(difficulty, str(difficulty)),
        headline=headline,
        summary=summary,
        route=route,
        # What they bring: the skills learned in the settings they coded in.
        transferable_skills=tuple(s for s in reference.skills if s.setting == "all" or s.setting in settings)
        if origin is not None
        else (),
        classifications=tuple(classifications),
        other_gaps=tuple(other_gaps),
        credentials=tuple(credentials),
        steps=tuple(steps),
        total=total,
        untimed_steps=sum(1 for s in timed if s.duration is None),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def _move_steps(
    credentials: list[PlanCredential],
    classifications: list[PlanClassification],
    other_gaps: list[PlanGap],
    shift_into: frozenset[str],
    reference: Reference,
) -> list[PlanStep]:
    """The job a course needs first, each credential step with what it teaches, self-study for the rest,
    then keeping current. A credential for the very setting a learner moves into (its row's setting, not "all")
    teaches that setting's coding: the change of setting is covered in its step."""
    by_step: dict[int, list[PlanCredential]] = {}
    for credential in credentials:
        by_step.setdefault(credential.step, []).append(credential)
    planned = {c.code for c in credentials if not c.held}
    gaps = {c.code: c for c in classifications if c.gap != "none"}
    steps: list[PlanStep] = []
    covered: set[str] = set()
    employed = False
    for number in sorted(by_step):
        options = by_step[number]
        taught = {code for c in options for code in reference.credentials[c.code].classifications}
        if any(reference.credentials[c.code].setting in shift_into for c in options):
            taught.add("setting-shift")
        if any(c.held for c in options):
            covered |= taught  # the learner already has this step (or one of its alternatives)
            continue
        needs_job = [c for c in options if c.requires_employment]
        if needs_job and not employed:
            employed = True
            steps.append(PlanStep("employment", tuple(c.code for c in needs_job), provenance=needs_job[0].provenance))
        covers = tuple(Cover(c.code, c.name, c.gap) for c in gaps.values() if c.code in taught - covered)
        covers += tuple(Cover(g.code, g.title, g.gap) for g in other_gaps if g.code in taught - covered)
        covered |= taught
        within = {c.within for c in options}
        steps.append(
            PlanStep(
                "credential",
                tuple(c.code for c in options),
                covers,
                either_duration([c.duration for c in options]),
                within.pop() if len(within) == 1 and within & planned else None,
                provenance=options[0].note_provenance or options[0].provenance,
            )
        )
    left = [Cover(c.code, c.name, c.gap) for c in gaps.values() if c.code not in covered]
    left += [Cover(g.code, g.title, g.gap) for g in other_gaps if g.code not in covered]
    if left:
        left.sort(key=lambda cover: -GAP_RANK[cover.gap])
        steps.append(PlanStep("learn", covers=tuple(left)))
    upkeep = tuple(c.code for c in credentials if not c.held and c.keeping_current)
    if upkeep:
        steps.append(PlanStep("keep-current", upkeep, provenance=reference.credentials[upkeep[0]].provenance))
    return steps


def _credential_sequence(credentials: list[PlanCredential]) -> str:
    """ "A or B, then C": alternatives share a step, later steps follow."""
    by_step: dict[int, list[str]] = {}
    for credential in credentials:
        by_step.setdefault(credential.step, []).append(credential.name)
    return ", then ".join(join(sorted(names), "or") for _, names in sorted(by_step.items()))


def _progression_steps(
    profile: LearnerProfile,
    reference: Reference,
    destination: CountryInfo,
    credentials: list[PlanCredential],
    notes: list[PlanNote],
) -> list[PlanStep]:
    """Staying put: the next credential for each one held, else the entry route's credentials."""
    held = [reference.credentials[c] for c in sorted(profile.credentials)]
    local_held = [c for c in held if c.country == destination.code]
    if not local_held:
        steps = [s for s in _move_steps(credentials, [], [], frozenset(), reference) if s.kind != "keep-current"]
    else:
        steps = []
        for cred in local_held:
            nxt = reference.credentials.get(cred.next_credential) if cred.next_credential else None
            if nxt is None or nxt.code in profile.credentials:
                if nxt is None and cred.progression_note:  # where to go next, unless they hold that too
                    notes.append(PlanNote(f"progression-{cred.code}", cred.progression_note, cred.provenance))
                continue
            steps.append(
                PlanStep(
                    "progression",
                    (nxt.code,),
                    duration=nxt.duration,
                    held_from=cred.name,
                    text=cred.progression_note,
                    provenance=cred.provenance,
                )
            )
            if nxt.code not in {c.code for c in credentials}:
                credentials.append(_plan_credential(nxt, False, 1, nxt.setting, cred.progression_note, cred.provenance))
    upkeep = tuple(c.code for c in local_held if c.keeping_current)
    if destination.keeping_current or upkeep:
        steps.append(
            PlanStep("keep-current", upkeep, text=destination.keeping_current, provenance=destination.provenance)
        )
    return steps
