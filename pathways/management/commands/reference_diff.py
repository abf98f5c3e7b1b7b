"""Compare fixtures/ with the database: which rows differ, and which learners' plans each would change.

Nothing is written: each change is applied in a transaction that is rolled back. Exit status 0
when the files and the database agree, 1 when loading the files would change something.
"""

import json
import sys
from pathlib import Path

from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.db.models import ProtectedError, UniqueConstraint

from pathways import impact
from pathways.management.commands.export_reference_data import FIXTURE_FILES, export_objects, fixtures_dir
from pathways.reference import load_reference


def key_fields(model) -> list[str]:
    """The fields that name a row in a fixture file: its code, else its unique pair or triple."""
    if any(field.name == "code" and field.unique for field in model._meta.fields):
        return ["code"]
    return next(list(c.fields) for c in model._meta.constraints if isinstance(c, UniqueConstraint) and not c.condition)


def row_key(model, obj) -> tuple:
    parts = []
    for name in key_fields(model):
        value = obj["fields"][name]
        parts.extend(value if isinstance(value, list) else [value])
    return tuple(parts)


def row_changes(model, on_disk: list[dict]) -> list[dict]:
    """Rows added, removed or changed in the file, compared with the database."""
    in_db = {row_key(model, obj): obj for obj in export_objects(model)}
    in_file = {row_key(model, obj): obj for obj in on_disk}
    changes = []
    for key in sorted(in_db.keys() | in_file.keys(), key=lambda k: tuple((v is not None, str(v)) for v in k)):
        old, new = in_db.get(key), in_file.get(key)
        if old == new:
            continue
        if old is None:
            changes.append({"change": "added", "key": key, "object": new, "fields": []})
        elif new is None:
            changes.append({"change": "removed", "key": key, "object": old, "fields": []})
        else:
            fields = sorted(
                name
                for name in old["fields"].keys() | new["fields"].keys()
                if old["fields"].get(name) != new["fields"].get(name)
            )
            changes.append({"change": "changed", "key": key, "object": new, "fields": fields})
    return changes


def _apply(model, change):
    def apply():
        if change["change"] == "removed":
            model.objects.get_by_natural_key(*change["key"]).delete()
        else:
            for obj in serializers.deserialize("python", [change["object"]], ignorenonexistent=True):
                obj.object.full_clean(validate_unique=False, validate_constraints=False)
                obj.save()

    return apply


class Command(BaseCommand):
    help = "Show which rows fixtures/ would change in the database, and which learners' plans each changes."

    def add_arguments(self, parser):
        parser.add_argument("--fixtures-dir", help="Compare this directory instead of settings.FIXTURE_DIRS[0].")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        directory = fixtures_dir(options["fixtures_dir"])
        before = load_reference()
        rows = []
        for filename, model in FIXTURE_FILES:
            path = Path(directory) / filename
            try:
                on_disk = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(f"{path}: {error}") from error
            for change in row_changes(model, on_disk):
                try:
                    plans = impact.plan_changes(before, impact.reference_after(_apply(model, change)))
                    note = ""
                except (
                    ObjectDoesNotExist,
                    ProtectedError,
                    ValidationError,
                    DatabaseError,
                    serializers.base.DeserializationError,
                ):
                    plans, note = None, "depends on other changes in the files: see all changes together"
                rows.append({"file": filename, **change, "plans": plans, "note": note})
        together = []
        if rows:
            try:
                together = impact.plan_changes(
                    before,
                    impact.reference_after(
                        lambda: call_command("load_reference_data", fixtures_dir=directory, verbosity=0)
                    ),
                )
            except CommandError as error:
                raise CommandError(f"The files would not load: {error}") from error
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "changed": bool(rows),
                        "rows": [_row_json(row) for row in rows],
                        "plans": [_impact_json(i) for i in together],
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
        else:
            self._print(rows, together, directory)
        if rows:
            sys.exit(1)

    def _print(self, rows, together, directory):
        if not rows:
            self.stdout.write(f"No changes: the database holds exactly what {directory} says.")
            return
        for row in rows:
            what = f" ({', '.join(row['fields'])})" if row["fields"] else ""
            self.stdout.write(f"{row['file']}: {row['change']} {_key_text(row['key'])}{what}")
            if row["note"]:
                self.stdout.write(f"  Plans: {row['note']}.")
            else:
                self._print_plans(row["plans"], indent="  ")
        self.stdout.write("")
        self.stdout.write(f"All {len(rows)} change{'s' if len(rows) != 1 else ''} together:")
        self._print_plans(together, indent="  ")

    def _print_plans(self, plans, indent):
        if not plans:
            self.stdout.write(f"{indent}No plan changes.")
        for group in plans:
            difficulty = (
                group.difficulty[0] if group.difficulty[0] == group.difficulty[1] else " → ".join(group.difficulty)
            )
            self.stdout.write(f"{indent}{group.move} ({group.learners}; difficulty {difficulty})")
            for change in group.changes:
                self.stdout.write(f"{indent}  {change.aspect}")
                self.stdout.write(f"{indent}    before: {_lines(change.before)}")
                self.stdout.write(f"{indent}    after:  {_lines(change.after)}")


def _key_text(key) -> str:
    return " / ".join("new to coding" if part is None else str(part) for part in key)


def _lines(lines) -> str:
    return "; ".join(lines) if lines else "(nothing)"


def _impact_json(group) -> dict:
    return {
        "move": group.move,
        "learners": {"settings": group.settings, "holding": group.held},
        "difficulty": {"before": group.difficulty[0], "after": group.difficulty[1]},
        "changes": [{"aspect": c.aspect, "before": list(c.before), "after": list(c.after)} for c in group.changes],
    }


def _row_json(row) -> dict:
    return {
        "file": row["file"],
        "change": row["change"],
        "key": list(row["key"]),
        "fields": row["fields"],
        "plans": None if row["plans"] is None else [_impact_json(i) for i in row["plans"]],
        "note": row["note"],
    }
