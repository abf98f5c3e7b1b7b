"""Write the reference data back to fixtures/, exactly in the format FIXTURE_FORMAT.md fixes.

Stable order (objects by natural key, many-to-many values sorted) and stable layout, so a
load then an export leaves the files byte-identical and one edit in admin shows up as one
changed object in the diff.
"""

import datetime
import json

from django.core import serializers
from django.core.management.base import BaseCommand

from pathways.management.commands.load_reference_data import (
    FIXTURE_FILES,
    display_path,
    fixtures_dir,
    with_key_relations,
)


class Command(BaseCommand):
    help = "Write the reference data in the database to fixtures/ (one JSON file per model)."

    def add_arguments(self, parser):
        parser.add_argument("--fixtures-dir", help="Write to this directory instead of settings.FIXTURE_DIRS[0].")

    def handle(self, *args, **options):
        directory = fixtures_dir(options["fixtures_dir"])
        directory.mkdir(parents=True, exist_ok=True)
        total = 0
        for filename, objects in fixture_objects():
            (directory / filename).write_text(fixture_text(objects), encoding="utf-8", newline="\n")
            total += len(objects)
        if options["verbosity"]:
            self.stdout.write(
                f"Wrote {total} reference rows to {len(FIXTURE_FILES)} files in {display_path(directory)}."
            )


def fixture_objects() -> list[tuple[str, list[dict]]]:
    """Each fixture file's name and the objects it holds, as the database has them now."""
    return [(filename, export_objects(model)) for filename, model in FIXTURE_FILES]


def fixture_text(objects: list[dict]) -> str:
    return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"


def export_objects(model) -> list[dict]:
    rows = sorted(with_key_relations(model), key=lambda row: _sort_key(row.natural_key()))
    objects = serializers.serialize("python", rows, use_natural_foreign_keys=True, use_natural_primary_keys=True)
    for obj, field in ((obj, field) for obj in objects for field in model._meta.many_to_many):
        obj["fields"][field.name] = sorted(([*key] for key in obj["fields"][field.name]), key=_sort_key)
    for obj in objects:
        # Plain JSON values already (natural keys as lists, dates as "YYYY-MM-DD"), so the objects
        # compare equal to the files read back.
        for name, value in obj["fields"].items():
            if isinstance(value, tuple):
                obj["fields"][name] = list(value)
            elif isinstance(value, datetime.date):
                obj["fields"][name] = value.isoformat()
    return objects


def _sort_key(key) -> tuple:
    # Null (an entry route's origin) sorts before any country code.
    return tuple((0, "") if part is None else (1, part) for part in key)
