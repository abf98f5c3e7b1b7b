"""The one bridge from database rows to the plain data pathways.rules works on.

Contract:
- `load_reference()` returns a `rules.Reference` built from every reference-data table in a
  fixed number of queries (one per table, whatever the number of rows).
- The Reference is cached in the process. Each call reads the ReferenceVersion row (1 query)
  and rebuilds when it differs from the one the cache was built from. Reading the row every
  time, rather than trusting it for a second or so, means a change saved through one worker
  (admin, load_reference_data) is seen by every other worker on its very next request, at the
  cost of one primary-key read.
- The Reference is consistent with one version. Its dozen reads share no snapshot (a transaction around
  them would take SQLite's write lock, ours beginning IMMEDIATE, and under PostgreSQL's READ COMMITTED
  would still read each table afresh), so `build_reference()` reads the version row before and after them,
  and reads again, up to BUILD_ATTEMPTS times, when an edit committed in between: every write to reference
  data moves the version inside its own transaction (pathways.signals). It is stamped (`reference.stamp`)
  and cached with the version read before its reads, never a later one: if the version still moved on the
  last attempt, the next request finds a newer version and builds again.
- `clear_cache()` forgets the cached Reference (tests that change rows without a version bump).
- Learners see a fact's source (publisher, title, link, last checked), never our working note about
  it (`source_detail`, admin only): it is not read here at all.
- The Reference's plan and ranking memos are bounded by settings.PLAN_MEMO_SIZE and RANKING_MEMO_SIZE.
"""

import threading

from django.conf import settings
from django.db import connection

from pathways import models
from pathways import records as rules

_lock = threading.Lock()
_cached: rules.Reference | None = None

BUILD_ATTEMPTS = 4

PROVENANCE_FIELDS = ("source_kind", "source_id", "last_checked")


def current_stamp() -> tuple:
    """The version row as (version, changed_at); (0, None) before any reference data exists.

    Plain SQL: this runs on every request, and the ORM's queryset machinery costs about 15
    times the query itself here (~570 µs against ~35 µs on SQLite).
    """
    if "version-sql" in settings.SPEED_OFF:
        row = models.ReferenceVersion.objects.order_by("id").values_list("version", "changed_at").first()
        return tuple(row) if row else (0, None)
    table = connection.ops.quote_name(models.ReferenceVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version, changed_at FROM {table} ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return tuple(row) if row else (0, None)


def load_reference() -> rules.Reference:
    global _cached
    stamp = current_stamp()
    cached = _cached
    if cached is not None and cached.stamp == stamp:
        return cached
    with _lock:
        cached = _cached
        if cached is not None and cached.stamp == stamp:
            return cached
        _cached = build_reference()
        return _cached


def last_loaded() -> rules.Reference:
    """The reference this worker built last, without reading the version row (loading it when there is none).

    For wording every page shares (the count of coding systems in the menu): a page that shows reference
    data has called load_reference() before it renders, so this is that request's reference; other pages may
    read the previous version's until the worker next loads, which only matters the moment a country is added.
    """
    cached = _cached
    return cached if cached is not None else load_reference()


def source_provenance(code: str) -> rules.Provenance | None:
    """The source of that code as a page's own copy cites it (start, compare), or None when there is none.

    It carries no last-checked date: that belongs to a fact's row, and copy written into a template has none.
    One query, on the pages that cite a source outside a plan.
    """
    row = models.Source.objects.filter(code=code).values("kind", "title", "url", "publisher").first()
    if row is None:
        return None
    return rules.Provenance(kind=row["kind"], title=row["title"], url=row["url"], publisher=row["publisher"])


def clear_cache() -> None:
    global _cached
    _cached = None


def build_reference() -> rules.Reference:
    """Read every table once and return the plain Reference (no caching here), consistent with one version."""
    for _ in range(BUILD_ATTEMPTS - 1):
        stamp = current_stamp()
        try:
            reference = _read_reference(stamp)
        except LookupError:
            # A row names one its table did not have when read: an edit committed in between, or, if the
            # version did not move, data that is broken.
            if current_stamp() == stamp:
                raise
            continue
        if current_stamp() == stamp:
            return reference
    # Edits keep committing: this last attempt stands, stamped with the version read before it, which is
    # then already old, so whatever caches it builds again on its next request.
    return _read_reference(current_stamp())


def _duration_provenance(row, sources, provenance) -> rules.Provenance | None:
    """A credential's duration source, when a document other than the row's own states its figures; it was
    checked when the row was."""
    source = sources.get(row["duration_source_id"])
    if source is None:
        return None
    return provenance({"source_kind": source["kind"], "source_id": source["id"], "last_checked": row["last_checked"]})


def _read_reference(stamp: tuple) -> rules.Reference:
    sources = {row["id"]: row for row in models.Source.objects.values("id", "kind", "title", "url", "publisher")}

    def provenance(row) -> rules.Provenance:
        source = sources.get(row["source_id"]) or {}
        checked = row["last_checked"]
        return rules.Provenance(
            kind=row["source_kind"],
            title=source.get("title", ""),
            url=source.get("url", ""),
            publisher=source.get("publisher", ""),
            last_checked=checked.isoformat() if checked else "",
        )

    organisations = {row["id"]: row["name"] for row in models.Organisation.objects.values("id", "name")}

    classification_rows = list(
        models.Classification.objects.values("id", "code", "name", "kind", "edition", *PROVENANCE_FIELDS)
    )
    classification_codes = {row["id"]: row["code"] for row in classification_rows}
    classifications = [
        rules.ClassificationInfo(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            edition=row["edition"],
            provenance=provenance(row),
        )
        for row in classification_rows
    ]

    usages: dict[int, list[rules.UsageInfo]] = {}
    for row in models.CountryUsage.objects.values(
        "country_id", "classification_id", "setting", "edition", "note", *PROVENANCE_FIELDS
    ):
        usages.setdefault(row["country_id"], []).append(
            rules.UsageInfo(
                classification=classification_codes[row["classification_id"]],
                setting=row["setting"],
                edition=row["edition"],
                note=row["note"],
                provenance=provenance(row),
            )
        )

    country_rows = list(
        models.Country.objects.values(
            "id",
            "code",
            "name",
            "name_in_sentence",
            "profession",
            "grouper",
            "governing_body_id",
            "coding_scope",
            "keeping_current",
            *PROVENANCE_FIELDS,
        )
    )
    country_codes = {row["id"]: row["code"] for row in country_rows}
    countries = [
        rules.CountryInfo(
            code=row["code"],
            name=row["name"],
            name_in_sentence=row["name_in_sentence"],
            profession=row["profession"],
            grouper=row["grouper"],
            governing_body=organisations.get(row["governing_body_id"], ""),
            coding_scope=row["coding_scope"],
            keeping_current=row["keeping_current"],
            usages=tuple(usages.get(row["id"], ())),
            provenance=provenance(row),
        )
        for row in country_rows
    ]

    taught: dict[int, list[str]] = {}
    through = models.Credential.classifications.through
    for credential_id, classification_id in through.objects.values_list("credential_id", "classification_id"):
        taught.setdefault(credential_id, []).append(classification_codes[classification_id])
    credential_rows = list(
        models.Credential.objects.values(
            "id",
            "code",
            "name",
            "country_id",
            "awarded_by_id",
            "kind",
            "setting",
            "duration_min",
            "duration_max",
            "duration_unit",
            "taken_within_id",
            "duration_note",
            "summary",
            "prerequisites",
            "requires_employment",
            "next_credential_id",
            "progression_note",
            "keeping_current",
            "duration_source_id",
            "duration_about",
            "duration_basis",
            *PROVENANCE_FIELDS,
        )
    )
    credential_codes = {row["id"]: row["code"] for row in credential_rows}
    credentials = [
        rules.CredentialInfo(
            code=row["code"],
            name=row["name"],
            country=country_codes[row["country_id"]],
            awarded_by=organisations.get(row["awarded_by_id"], ""),
            kind=row["kind"],
            setting=row["setting"],
            classifications=tuple(sorted(taught.get(row["id"], ()))),
            duration=_duration(row),
            within=credential_codes.get(row["taken_within_id"]),
            duration_note=row["duration_note"],
            summary=row["summary"],
            prerequisites=row["prerequisites"],
            requires_employment=row["requires_employment"],
            next_credential=credential_codes.get(row["next_credential_id"]),
            progression_note=row["progression_note"],
            keeping_current=row["keeping_current"],
            provenance=provenance(row),
            duration_provenance=_duration_provenance(row, sources, provenance),
        )
        for row in credential_rows
    ]

    route_credentials: dict[int, list[rules.RouteCredentialInfo]] = {}
    for row in models.RouteCredential.objects.values(
        "route_id", "setting", "step", "credential_id", "note", *PROVENANCE_FIELDS
    ):
        route_credentials.setdefault(row["route_id"], []).append(
            rules.RouteCredentialInfo(
                credential=credential_codes[row["credential_id"]],
                setting=row["setting"],
                step=row["step"],
                note=row["note"],
                provenance=provenance(row),
            )
        )
    route_notes: dict[int, list[rules.RouteNoteInfo]] = {}
    for row in models.RouteNote.objects.values("route_id", "code", "kind", "text", "order", *PROVENANCE_FIELDS):
        route_notes.setdefault(row["route_id"], []).append(
            rules.RouteNoteInfo(
                code=row["code"], kind=row["kind"], text=row["text"], order=row["order"], provenance=provenance(row)
            )
        )
    routes = [
        rules.RouteInfo(
            origin=country_codes.get(row["origin_id"]),
            destination=country_codes[row["destination_id"]],
            difficulty=row["difficulty"],
            headline=row["headline"],
            summary=row["summary"],
            employer_expectation=row["employer_expectation"],
            local_conventions=row["local_conventions"],
            extra_gap_level=row["extra_gap_level"],
            extra_gap_title=row["extra_gap_title"],
            extra_gap_note=row["extra_gap_note"],
            credentials=tuple(route_credentials.get(row["id"], ())),
            notes=tuple(route_notes.get(row["id"], ())),
            provenance=provenance(row),
        )
        for row in models.Route.objects.values(
            "id",
            "origin_id",
            "destination_id",
            "difficulty",
            "headline",
            "summary",
            "employer_expectation",
            "local_conventions",
            "extra_gap_level",
            "extra_gap_title",
            "extra_gap_note",
            *PROVENANCE_FIELDS,
        )
    ]

    gaps = [
        rules.GapInfo(
            from_classification=classification_codes[row["from_classification_id"]],
            to_classification=classification_codes[row["to_classification_id"]],
            level=row["level"],
            note=row["note"],
            provenance=provenance(row),
        )
        for row in models.ClassificationGap.objects.values(
            "from_classification_id", "to_classification_id", "level", "note", *PROVENANCE_FIELDS
        )
    ]
    skills = [
        rules.SkillInfo(
            code=row["code"], text=row["text"], setting=row["setting"], order=row["order"], provenance=provenance(row)
        )
        for row in models.TransferableSkill.objects.values("code", "text", "setting", "order", *PROVENANCE_FIELDS)
    ]

    return rules.Reference(
        version=stamp[0],
        stamp=stamp,
        countries=countries,
        classifications=classifications,
        credentials=credentials,
        routes=routes,
        gaps=gaps,
        skills=skills,
        difficulty_labels=dict(models.Difficulty.choices),
        gap_labels=dict(models.GapLevel.choices),
        setting_labels=dict(models.Setting.choices),
        plan_memo_size=settings.PLAN_MEMO_SIZE,
        ranking_memo_size=settings.RANKING_MEMO_SIZE,
    )


def _duration(row) -> rules.Duration | None:
    if row["duration_min"] is None or not row["duration_unit"]:
        return None
    return rules.Duration(
        row["duration_min"], row["duration_max"], row["duration_unit"], row["duration_about"], row["duration_basis"]
    )
