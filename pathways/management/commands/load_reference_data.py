"""Load fixtures/ into the database, so the database holds exactly what the files say.

One transaction: every row is validated as full_clean() would (plain-words errors naming the
file, entry and natural key), matched to an existing row by its natural key (so primary
keys, and anything pointing at them, survive a reload), rows no longer in the files are
deleted, and ReferenceVersion goes up if anything changed. Loading twice gives the same database.
The integrity check runs afterwards and its problems are printed as warnings: they never stop the
load, so this command always brings the database back to what the files say.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError

from pathways.checks import reference_data_problems
from pathways.models import (
    Classification,
    ClassificationGap,
    Country,
    CountryUsage,
    Credential,
    Organisation,
    ReferenceVersion,
    Route,
    RouteCredential,
    RouteNote,
    Source,
    TransferableSkill,
)

# Load order (FIXTURE_FORMAT.md): a file only refers to files above it, or to itself.
FIXTURE_FILES = [
    ("sources.json", Source),
    ("organisations.json", Organisation),
    ("countries.json", Country),
    ("classifications.json", Classification),
    ("country_usages.json", CountryUsage),
    ("credentials.json", Credential),
    ("routes.json", Route),
    ("route_credentials.json", RouteCredential),
    ("route_notes.json", RouteNote),
    ("classification_gaps.json", ClassificationGap),
    ("transferable_skills.json", TransferableSkill),
]

# The "fields" entries that make up each model's natural key, to name an entry in messages
# before it can be resolved.
KEY_FIELDS = {
    CountryUsage: ["country", "classification"],
    Route: ["origin", "destination"],
    RouteCredential: ["route", "setting", "credential"],
    RouteNote: ["route", "code"],
    ClassificationGap: ["from_classification", "to_classification"],
}

# What natural_key() follows, so reading the existing rows is one query per model.
KEY_RELATIONS = {
    CountryUsage: ["country", "classification"],
    Route: ["origin", "destination"],
    RouteCredential: ["route__origin", "route__destination", "credential"],
    RouteNote: ["route__origin", "route__destination"],
    ClassificationGap: ["from_classification", "to_classification"],
}


def with_key_relations(model):
    """The model's rows, with what natural_key() reads already joined in."""
    relations = KEY_RELATIONS.get(model)
    return model.objects.select_related(*relations) if relations else model.objects.all()


def fixtures_dir(option: str | None) -> Path:
    return Path(option) if option else Path(settings.FIXTURE_DIRS[0])


def display_path(path: Path) -> str:
    """fixtures/credentials.json rather than an absolute path, when it is inside the project."""
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = "Load every file in fixtures/ into the database (idempotent; rows not in the files are deleted)."

    def add_arguments(self, parser):
        parser.add_argument("--fixtures-dir", help="Read this directory instead of settings.FIXTURE_DIRS[0].")

    def handle(self, *args, **options):
        directory = fixtures_dir(options["fixtures_dir"])
        if not directory.is_dir():
            # A fresh checkout without data yet must still migrate and serve.
            if options["verbosity"]:
                self.stdout.write(f"No fixtures directory at {display_path(directory)}: nothing loaded.")
            return
        files = _read_files(directory)
        loader = _Loader()
        with transaction.atomic():
            for filename, model in FIXTURE_FILES:
                loader.load_file(display_path(directory / filename), model, files.get(filename, []))
            loader.delete_stale()
            problems = reference_data_problems()
            version = ReferenceVersion.bump() if loader.changed else ReferenceVersion.current()
        if options["verbosity"]:
            counts = loader.counts
            self.stdout.write(
                f"Loaded {counts['rows']} reference rows from {len(files)} files: {counts['created']} created, "
                f"{counts['updated']} updated, {counts['deleted']} deleted, {counts['unchanged']} unchanged "
                f"(reference version {version})."
            )
        if problems:
            lines = "\n".join(f"  {problem.id}: {problem.msg}" for problem in problems)
            self.stderr.write(f"Loaded, but the reference data fails the integrity check:\n{lines}")


def _read_files(directory: Path) -> dict[str, list]:
    known = {filename for filename, _ in FIXTURE_FILES}
    files = {}
    for path in sorted(directory.glob("*.json")):
        where = display_path(path)
        if path.name not in known:
            # A file we would silently skip is a mistake waiting to happen.
            raise CommandError(f"{where}: not a reference data file; expected one of {', '.join(sorted(known))}.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise CommandError(f"{where}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{where}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
            ) from None
        if not isinstance(data, list):
            raise CommandError(f"{where}: expected a JSON array of objects.")
        files[path.name] = data
    return files


def _key_text(key) -> str:
    parts = key if isinstance(key, list | tuple) else [key]
    return ", ".join("null" if part is None else str(part) for part in parts)


def _validation_text(error: ValidationError) -> str:
    messages = []
    for field, field_messages in error.message_dict.items():
        prefix = "" if field == "__all__" else f"{field}: "
        messages += [f"{prefix}{message}" for message in field_messages]
    return " ".join(messages)


class _Loader:
    def __init__(self):
        self.loaded = {}  # model -> {natural key: saved instance}
        self.counts = dict.fromkeys(["rows", "created", "updated", "deleted", "unchanged"], 0)

    @property
    def changed(self) -> bool:
        return any(self.counts[name] for name in ("created", "updated", "deleted"))

    def load_file(self, where: str, model, entries: list):
        self.where, self.model, self.entries = where, model, entries
        self.loaded[model] = {}
        self.existing = {
            row.natural_key(): row
            for row in with_key_relations(model).prefetch_related(*(field.name for field in model._meta.many_to_many))
        }
        # Index entries by natural key so a self-reference (ICD-10-AM modifies ICD-10) can load
        # its target first, wherever it sits in the file.
        self.index_by_key = {}
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get("fields"), dict):
                key = self._raw_key(entry["fields"])
                if all(part is None or isinstance(part, str | int) for part in key):
                    self.index_by_key.setdefault(key, index)
        self.state = {}  # index -> "loading" | "done"
        self.entry_of_key = {}
        for index in range(len(entries)):
            self._load_entry(index)

    def _raw_key(self, fields: dict) -> tuple:
        parts = []
        for name in KEY_FIELDS.get(self.model, ["code"]):
            value = fields.get(name)
            parts += value if isinstance(value, list) else [value]
        return tuple(parts)

    def _fail(self, index: int, message: str, label: bool = True):
        entry = self.entries[index]
        fields = entry.get("fields") if isinstance(entry, dict) else None
        name = f" ({_key_text(self._raw_key(fields))})" if label and isinstance(fields, dict) else ""
        raise CommandError(f"{self.where}, entry {index + 1}{name}: {message}")

    def _load_entry(self, index: int):
        if self.state.get(index) == "done":
            return
        if self.state.get(index) == "loading":
            self._fail(index, "its references go round in a circle back to this entry.")
        self.state[index] = "loading"
        entry = self.entries[index]
        label = self.model._meta.label_lower
        if not isinstance(entry, dict) or not isinstance(entry.get("fields"), dict):
            self._fail(index, f'expected {{"model": "{label}", "fields": {{...}}}}.', label=False)
        if entry.get("model") != label:
            self._fail(index, f"model {entry.get('model')!r} does not belong in this file (expected {label!r}).")
        if "pk" in entry:
            self._fail(index, 'has a "pk"; fixtures identify rows by natural key only.')
        for name in KEY_FIELDS.get(self.model, ["code"]):
            if name not in entry["fields"]:
                self._fail(index, f"{name} is missing; it is part of the natural key.")

        obj, many_to_many = self._build(index, entry["fields"])
        key = obj.natural_key()
        if key in self.entry_of_key:
            self._fail(index, f"duplicate of entry {self.entry_of_key[key] + 1}.")
        existing = self.existing.get(key)
        if existing is not None:
            obj.pk = existing.pk
            obj._state.adding = False
        unchanged = _validate(obj, existing, many_to_many, self._fail_with(index))
        if unchanged:
            obj = existing
            self.counts["unchanged"] += 1
        else:
            try:
                with transaction.atomic():
                    obj.save()
                    for field, targets in many_to_many.items():
                        getattr(obj, field.name).set(targets)
            except DatabaseError as error:
                self._fail(index, f"the database refused it: {error}")
            self.counts["updated" if existing is not None else "created"] += 1
        self.loaded[self.model][key] = obj
        self.entry_of_key[key] = index
        self.counts["rows"] += 1
        self.state[index] = "done"

    def _fail_with(self, index: int):
        return lambda message: self._fail(index, message)

    def _build(self, index: int, fields: dict):
        obj = self.model()
        many_to_many = {}
        for name, value in fields.items():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is None or field.primary_key or not (field.concrete or field.many_to_many):
                self._fail(index, f"unknown field {name!r}.")
            if field.many_to_many:
                if not isinstance(value, list):
                    self._fail(index, f"{name}: expected a list of natural keys, got {json.dumps(value)}.")
                many_to_many[field] = [self._resolve(index, field, key) for key in value]
            elif field.many_to_one:
                setattr(obj, field.name, None if value is None else self._resolve(index, field, value))
            else:
                setattr(obj, field.attname, value)
        return obj, many_to_many

    def _resolve(self, index: int, field, value):
        """The row a natural-key reference names, among the rows this load has kept."""
        target_model = field.related_model
        what = target_model._meta.verbose_name
        prefix = "" if field.name == what else f"{field.name}: "
        if not isinstance(value, list) or not value or not all(part is None or isinstance(part, str) for part in value):
            self._fail(index, f'{prefix}expected a natural key list such as ["AU"], got {json.dumps(value)}.')
        key = tuple(value)
        if target_model is self.model and key not in self.loaded[self.model] and key in self.index_by_key:
            self._load_entry(self.index_by_key[key])
        target = self.loaded.get(target_model, {}).get(key)
        if target is None:
            shown = repr(value[0]) if len(value) == 1 else f"({_key_text(value)})"
            self._fail(index, f"{prefix}{what} {shown} does not exist.")
        return target

    def delete_stale(self):
        """Delete rows the files no longer list, dependants first."""
        for filename, model in reversed(FIXTURE_FILES):
            kept = [obj.pk for obj in self.loaded[model].values()]
            stale = model.objects.exclude(pk__in=kept)
            names = [str(obj) for obj in stale[:5]]
            count = stale.count()
            if not count:
                continue
            try:
                with transaction.atomic():
                    # Stale rows may protect each other (ICD-10-AM modifies ICD-10): let go first.
                    for field in model._meta.concrete_fields:
                        if field.many_to_one and field.related_model is model:
                            stale.update(**{field.name: None})
                    stale.delete()
            except ProtectedError as error:
                used_by = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
                raise CommandError(
                    f"{filename}: cannot remove {model._meta.verbose_name} {', '.join(names)}: "
                    f"still used by {', '.join(used_by)}."
                ) from None
            self.counts["deleted"] += count


def _validate(obj, existing, many_to_many, fail) -> bool:
    """full_clean(), minus the queries that cannot fail here; returns whether the row is unchanged.

    Foreign keys were just resolved to rows this load keeps, so their existence is not asked
    again; a row identical to one already in the database already satisfies the database's
    unique and check constraints. Everything else (field values, choices, clean()) runs for
    every row.
    """
    errors = {}
    resolved = [field.name for field in obj._meta.concrete_fields if field.many_to_one]
    for step in (lambda: obj.clean_fields(exclude=resolved), obj.clean):
        try:
            step()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    unchanged = not errors and existing is not None and _unchanged(existing, obj, many_to_many)
    if not unchanged:
        exclude = {name for name in errors if name != "__all__"}
        for step in (obj.validate_unique, obj.validate_constraints):
            try:
                step(exclude=exclude)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
    if errors:
        fail(_validation_text(ValidationError(errors)))
    return unchanged


def _unchanged(existing, obj, many_to_many) -> bool:
    for field in obj._meta.concrete_fields:
        if not field.primary_key and getattr(existing, field.attname) != getattr(obj, field.attname):
            return False
    for field, targets in many_to_many.items():
        if {target.pk for target in getattr(existing, field.name).all()} != {target.pk for target in targets}:
            return False
    return True
