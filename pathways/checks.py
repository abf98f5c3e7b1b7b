"""Integrity of the reference data: it informs, it never blocks.

A database system check (tags "pathways" and "database"): `manage.py check --database default`
reports it, and so does `migrate` (which runs the database checks), hence `make run`, `make serve`
and the tests. Its findings are Warnings, so no command, worker or server start refuses to run
because a content editor deleted a row: adviser emails keep going out, and `load_reference_data`
(which repairs the database from fixtures/) keeps working. The same findings are logged when a
worker starts (advisor/wsgi.py) and shown to content editors as a banner in admin.

It reads a handful of columns from each table (about a dozen queries, whatever the number of rows)
and says nothing when the tables do not exist yet.

Ids:
  pathways.W001  a country has no diagnosis classification in use
  pathways.W002  a country has no procedure classification in use
  pathways.W003  an ordered pair of countries has no route
  pathways.W004  a country has no entry route (for someone new to coding)
  pathways.W005  a route expects a credential from another country than its destination
  pathways.W006  a gap level outside the vocabulary
  pathways.W007  a reference to a row that does not exist
  pathways.W008  a route between two countries without a difficulty from 1 to 4
"""

import logging
from itertools import permutations

from django.core.checks import Tags, register
from django.core.checks import Warning as Problem
from django.db import DatabaseError, connection

from pathways.models import (
    Classification,
    ClassificationGap,
    ClassificationKind,
    Country,
    CountryUsage,
    Credential,
    GapLevel,
    Organisation,
    Route,
    RouteCredential,
    RouteNote,
    Source,
    TransferableSkill,
)

REFERENCE_MODELS = [
    Source,
    Organisation,
    Country,
    Classification,
    CountryUsage,
    Credential,
    Route,
    RouteCredential,
    RouteNote,
    ClassificationGap,
    TransferableSkill,
]


logger = logging.getLogger("pathways.integrity")


@register("pathways", Tags.database)
def check_reference_data(app_configs=None, databases=None, **kwargs):
    if app_configs is not None and not any(config.label == "pathways" for config in app_configs):
        return []
    if not databases or "default" not in databases:
        return []
    return current_problems()


def current_problems() -> list[Problem]:
    """The problems in the database now; none when there is no database or no tables to look at."""
    try:
        # Before the first migrate there is nothing to check, and saying so would be noise.
        if Country._meta.db_table not in connection.introspection.table_names():
            return []
        return reference_data_problems()
    except DatabaseError:
        # No database to look at (not created, not reachable, half migrated): other checks and
        # /healthz report that; this check is only about the data.
        return []


def log_problems() -> None:
    """Log each problem once, as a worker starts; never raises (a start must not fail on data)."""
    try:
        problems = current_problems()
    except Exception:  # a start-up log line is not worth a worker that cannot start
        logger.exception("The reference-data integrity check could not run")
        return
    for problem in problems:
        logger.warning("%s: %s", problem.id, problem.msg, extra={"check_id": problem.id})
    if problems:
        logger.warning(
            "The reference data has %d integrity problem(s); `manage.py load_reference_data` restores fixtures/",
            len(problems),
        )


def reference_data_problems() -> list[Problem]:
    """Every integrity problem in the reference data, as system-check Warnings."""
    data = _Snapshot()
    return [
        *data.dangling_references(),
        *data.classifications_in_use(),
        *data.routes(),
        *data.route_credentials(),
        *data.gap_levels(),
    ]


class _Snapshot:
    """The columns the checks need, read once; labels name rows the way content staff do."""

    def __init__(self):
        self.rows = {}
        for model in REFERENCE_MODELS:
            columns = ["pk", *(f.attname for f in model._meta.concrete_fields if f.many_to_one)]
            columns += [
                name for name in ("code", "kind", "difficulty", "level", "extra_gap_level") if _has(model, name)
            ]
            self.rows[model] = list(model.objects.order_by("pk").values(*columns))
        self.ids = {model: {row["pk"] for row in rows} for model, rows in self.rows.items()}
        self.codes = {
            model: {row["pk"]: row["code"] for row in rows}
            for model, rows in self.rows.items()
            if rows and "code" in rows[0]
        }
        through = Credential.classifications.through
        self.credential_classifications = list(through.objects.values_list("credential_id", "classification_id"))
        self.route_labels = {
            row["pk"]: f"{self.code(Country, row['origin_id']) if row['origin_id'] else 'New to coding'} → "
            f"{self.code(Country, row['destination_id'])}"
            for row in self.rows[Route]
        }

    def code(self, model, pk) -> str:
        return self.codes.get(model, {}).get(pk, f"#{pk}")

    def route_label(self, pk) -> str:
        return self.route_labels.get(pk, f"#{pk}")

    def label(self, model, row) -> str:
        if model is CountryUsage:
            return f"{self.code(Country, row['country_id'])} uses {self.code(Classification, row['classification_id'])}"
        if model is Route:
            return self.route_labels[row["pk"]]
        if model is RouteCredential:
            return f"{self.route_label(row['route_id'])}: {self.code(Credential, row['credential_id'])}"
        if model is RouteNote:
            return f"{self.route_label(row['route_id'])}: {row['code']}"
        if model is ClassificationGap:
            return (
                f"{self.code(Classification, row['from_classification_id'])} → "
                f"{self.code(Classification, row['to_classification_id'])}"
            )
        return row.get("code") or f"#{row['pk']}"

    def dangling_references(self):
        # Foreign keys are deferred on SQLite and PostgreSQL, so inside a transaction (a load,
        # a test) a row can point at nothing; say which row and which field.
        for model, rows in self.rows.items():
            foreign_keys = [f for f in model._meta.concrete_fields if f.many_to_one]
            for row in rows:
                for field in foreign_keys:
                    target = row[field.attname]
                    if target is not None and target not in self.ids[field.related_model]:
                        yield Problem(
                            f"{_name(model)} {self.label(model, row)}: its {field.name} points at "
                            f"{field.related_model._meta.verbose_name} #{target}, which does not exist",
                            id="pathways.W007",
                        )
        for credential_id, classification_id in self.credential_classifications:
            if credential_id not in self.ids[Credential] or classification_id not in self.ids[Classification]:
                yield Problem(
                    f"Credential {self.code(Credential, credential_id)} covers classification "
                    f"{self.code(Classification, classification_id)}, but one of them does not exist",
                    id="pathways.W007",
                )

    def classifications_in_use(self):
        kinds = {row["pk"]: row["kind"] for row in self.rows[Classification]}
        in_use = {country: set() for country in self.ids[Country]}
        for row in self.rows[CountryUsage]:
            if row["country_id"] in in_use and row["classification_id"] in kinds:
                in_use[row["country_id"]].add(kinds[row["classification_id"]])
        for country in sorted(in_use, key=lambda pk: self.code(Country, pk)):
            for kind, check_id in ((ClassificationKind.DIAGNOSIS, "W001"), (ClassificationKind.PROCEDURE, "W002")):
                if kind not in in_use[country]:
                    yield Problem(
                        f"Country {self.code(Country, country)} has no {kind.label.lower()} classification in use",
                        hint="Add a country usage for it.",
                        id=f"pathways.{check_id}",
                    )

    def routes(self):
        pairs = {(row["origin_id"], row["destination_id"]) for row in self.rows[Route]}
        countries = sorted(self.ids[Country], key=lambda pk: self.code(Country, pk))
        for origin, destination in permutations(countries, 2):
            if (origin, destination) not in pairs:
                yield Problem(
                    f"Route {self.code(Country, origin)} → {self.code(Country, destination)} is missing",
                    id="pathways.W003",
                )
        for country in countries:
            if (None, country) not in pairs:
                yield Problem(
                    f"Country {self.code(Country, country)} has no entry route (for someone new to coding)",
                    id="pathways.W004",
                )
        for row in self.rows[Route]:
            if row["origin_id"] is not None and not 1 <= row["difficulty"] <= 4:
                yield Problem(
                    f"Route {self.route_labels[row['pk']]} has difficulty {row['difficulty']}; "
                    "a route between two countries needs 1 (low) to 4 (very high)",
                    id="pathways.W008",
                )

    def route_credentials(self):
        credential_country = {row["pk"]: row["country_id"] for row in self.rows[Credential]}
        route_destination = {row["pk"]: row["destination_id"] for row in self.rows[Route]}
        for row in self.rows[RouteCredential]:
            belongs_to = credential_country.get(row["credential_id"])
            destination = route_destination.get(row["route_id"])
            if belongs_to is not None and destination is not None and belongs_to != destination:
                yield Problem(
                    f"Route {self.route_labels[row['route_id']]} expects credential "
                    f"{self.code(Credential, row['credential_id'])}, which belongs to "
                    f"{self.code(Country, belongs_to)}, not {self.code(Country, destination)}",
                    id="pathways.W005",
                )

    def gap_levels(self):
        levels = ", ".join(GapLevel.values)
        for row in self.rows[ClassificationGap]:
            if row["level"] not in GapLevel.values:
                yield Problem(
                    f"Classification gap {self.label(ClassificationGap, row)} has level {row['level']!r}, "
                    f"which is not one of {levels}",
                    id="pathways.W006",
                )
        for row in self.rows[Route]:
            if row["extra_gap_level"] and row["extra_gap_level"] not in GapLevel.values:
                yield Problem(
                    f"Route {self.route_labels[row['pk']]} has extra gap level {row['extra_gap_level']!r}, "
                    f"which is not one of {levels}",
                    id="pathways.W006",
                )


def _has(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def _name(model) -> str:
    return str(model._meta.verbose_name).capitalize()
