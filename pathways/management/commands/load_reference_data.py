"""Load fixtures/ into the database, so the database holds exactly what the files say.

Django's own deserializer does the work (natural keys, as loaddata reads them): each entry is matched to an
existing row by its natural key, so primary keys, and anything pointing at them, survive a reload. Around it,
in one transaction: every entry is checked and full_clean()ed, with errors in plain words naming the file and
the entry; rows no longer in the files are deleted; and ReferenceVersion goes up once, as for any write
(pathways.signals). If the files match the database the load keeps nothing, so the version stays. Loading
twice gives the same database. Nothing here names a model's fields: a field added to a reference model loads
(and exports) without a change here. The integrity check runs afterwards and its problems are printed as
warnings: they never stop the load, so this command always brings the database back to what the files say.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError

from pathways import models
from pathways.checks import reference_data_problems

# Load order (FIXTURE_FORMAT.md): a file only refers to files above it, or to itself.
FIXTURE_FILES = [
    ("sources.json", models.Source),
    ("organisations.json", models.Organisation),
    ("countries.json", models.Country),
    ("classifications.json", models.Classification),
    ("country_usages.json", models.CountryUsage),
    ("credentials.json", models.Credential),
    ("routes.json", models.Route),
    ("route_credentials.json", models.RouteCredential),
    ("route_notes.json", models.RouteNote),
    ("classification_gaps.json", models.ClassificationGap),
    ("transferable_skills.json", models.TransferableSkill),
]


def with_key_relations(model):
    """The model's rows with their foreign keys, and theirs, joined in: natural_key() then reads no more rows."""
    paths = []
    for field in model._meta.concrete_fields:
        if field.many_to_one:
            paths.append(field.name)
            paths += [f"{field.name}__{f.name}" for f in field.related_model._meta.concrete_fields if f.many_to_one]
    rows = model.objects.select_related(*paths) if paths else model.objects.all()
    return rows.prefetch_related(*(field.name for field in model._meta.many_to_many))


def fixtures_dir(option: str | None) -> Path:
    return Path(option) if option else Path(settings.FIXTURE_DIRS[0])


def display_path(path: Path) -> str:
    """fixtures/credentials.json rather than an absolute path, when it is inside the project."""
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


def snapshot() -> dict:
    """Every reference row as the export writes it, by model and natural key: what a load may change."""
    result = {}
    for _, model in FIXTURE_FILES:
        rows = list(with_key_relations(model))
        objects = serializers.serialize("python", rows, use_natural_foreign_keys=True, use_natural_primary_keys=True)
        result[model] = {row.natural_key(): _as_json(obj["fields"]) for row, obj in zip(rows, objects, strict=True)}
    return result


def _as_json(fields: dict) -> dict:
    """Fields as the files hold them (lists for keys, dates as text), many-to-many keys in order: comparable."""
    fields = json.loads(json.dumps(fields, cls=DjangoJSONEncoder))
    return {name: sorted(value) if isinstance(value, list) and value and isinstance(value[0], list) else value
            for name, value in fields.items()}  # fmt: skip


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
        with transaction.atomic():
            before = snapshot()
            kept = {}  # model -> {natural key: primary key} of the rows the files hold
            for filename, model in FIXTURE_FILES:
                _load_file(display_path(directory / filename), model, files.get(filename, []), kept, before[model])
            _delete_stale({model: set(rows.values()) for model, rows in kept.items()})
            problems = reference_data_problems()
            counts = _compare(before, snapshot())
            if not (counts["created"] or counts["updated"] or counts["deleted"]):
                # The files match the database: keep nothing of the load, neither the rows it saved again
                # (entries that leave out default values) nor their history nor the version bump they made.
                transaction.set_rollback(True)
        version = models.ReferenceVersion.current()
        if options["verbosity"]:
            rows = sum(len(pks) for pks in kept.values())
            self.stdout.write(
                f"Loaded {rows} reference rows from {len(files)} files: {counts['created']} created, "
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


def _load_file(where: str, model, entries: list, kept: dict, existing: dict) -> None:
    """Save every entry of one file into kept[model]; `existing` is the model's part of the snapshot taken
    before the load, so an unchanged row is neither saved nor checked against the database again."""
    seen, pending = {}, []
    kept[model] = {}
    saved = {True: [], False: []}  # created, updated: for the rows' history

    def fail(index, message, obj=None):
        name = f" ({_key_text(obj.natural_key())})" if obj is not None else ""
        raise CommandError(f"{where}, entry {index + 1}{name}: {message}")

    for index, entry in enumerate(entries):
        _check_shape(entry, model, lambda message, index=index: fail(index, message))
        # A reference must name a row the files hold, not one still in the database that they dropped. Rows of
        # the same file (ICD-10-AM modifies ICD-10) are checked once the whole file is in.
        for field, key in _references(model, entry):
            if field.related_model is not model and tuple(key) not in kept.get(field.related_model, [tuple(key)]):
                fail(index, _missing(field, key))
        try:
            (item,) = serializers.deserialize("python", [entry], handle_forward_references=True)
        except (DeserializationError, ValidationError, ObjectDoesNotExist, ValueError, TypeError) as error:
            fail(index, _plain(error))
        obj = item.object
        # The deserializer found the row by its natural key (pk set): validate it as the row it updates.
        obj._state.adding = obj.pk is None
        key = obj.natural_key()
        if key in seen:
            fail(index, f"duplicate of entry {seen[key] + 1}.", obj)
        seen[key] = index
        relations = [field.name for field in model._meta.concrete_fields if field.many_to_one]
        if not obj._state.adding and existing.get(key) == _as_json(entry["fields"]):
            # The row as it stands: its values, choices and clean() still count; its keys and constraints held.
            _validate(obj, lambda m, i=index, o=obj: fail(i, m, o), exclude=relations, database=False)
        else:
            deferred = [field.name for field in item.deferred_fields]
            _validate(obj, lambda m, i=index, o=obj: fail(i, m, o), exclude=deferred, database=True)
            adding = obj._state.adding
            try:
                with transaction.atomic():
                    item.save()
            except DatabaseError as error:
                fail(index, f"the database refused it: {error}", obj)
            saved[adding].append(obj)
        kept[model][key] = obj.pk
        pending.append((index, item, entry))
    # References within the file (ICD-10-AM modifies ICD-10), wherever the row they name sits in it.
    for index, item, entry in pending:
        obj = item.object
        for field, key in _references(model, entry):
            if field.related_model is model and tuple(key) not in seen:
                fail(index, _missing(field, key), obj)
        if item.deferred_fields:
            with transaction.atomic():
                item.save_deferred_fields()
            _validate(obj, lambda m, i=index, o=obj: fail(i, m, o), exclude=[], database=True)
    # The deserializer saves raw, without history: record what the files changed, so editors can revert to it.
    for adding, rows in saved.items():
        if rows and hasattr(model, "history"):
            model.history.bulk_history_create(rows, update=not adding, default_change_reason="Loaded from fixtures/")


def _references(model, entry: dict):
    """(field, natural key) for every row an entry refers to."""
    for name, value in entry["fields"].items():
        field = model._meta.get_field(name)
        if field.many_to_many:
            yield from ((field, key) for key in value)
        elif field.many_to_one and value is not None:
            yield field, value


def _check_shape(entry, model, fail) -> None:
    """What the deserializer would misread: the wrong model, a primary key, a reference that is not a natural key."""
    label = model._meta.label_lower
    if not isinstance(entry, dict) or not isinstance(entry.get("fields"), dict):
        fail(f'expected {{"model": "{label}", "fields": {{...}}}}.')
    if entry.get("model") != label:
        fail(f"model {entry.get('model')!r} does not belong in this file (expected {label!r}).")
    if "pk" in entry:
        fail('has a "pk"; fixtures identify rows by natural key only.')
    for name, value in entry["fields"].items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is None or field.primary_key or not (field.concrete or field.many_to_many):
            fail(f"unknown field {name!r}.")
        keys = value if field.many_to_many else [] if value is None else [value] if field.many_to_one else None
        if keys is None:
            continue
        if not isinstance(keys, list) or not all(
            isinstance(key, list) and key and all(part is None or isinstance(part, str) for part in key) for key in keys
        ):
            example = "[[...], ...]" if field.many_to_many else '["AU"]'
            fail(f"{name}: expected a natural key list such as {example}, got {json.dumps(value)}.")


def _missing(field, key) -> str:
    """ "credential 'aapc-xyz' does not exist.", naming the field too when its name is not the model's."""
    what = field.related_model._meta.verbose_name
    prefix = "" if field.name == what else f"{field.name}: "
    shown = repr(key[0]) if len(key) == 1 else f"({_key_text(key)})"
    return f"{prefix}{what} {shown} does not exist."


def _validate(obj, fail, exclude: list[str], database: bool) -> None:
    """full_clean(); without `database`, only what needs no query (values, choices, clean())."""
    errors = {}
    steps = [lambda: obj.clean_fields(exclude=exclude), obj.clean]
    if database:
        steps += [lambda: obj.validate_unique(exclude=exclude), lambda: obj.validate_constraints(exclude=exclude)]
    for step in steps:
        try:
            step()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        fail(_validation_text(ValidationError(errors)))


def _delete_stale(kept: dict) -> None:
    """Delete rows the files no longer list, dependants first."""
    for filename, model in reversed(FIXTURE_FILES):
        stale = model.objects.exclude(pk__in=kept[model])
        names = [str(obj) for obj in stale[:5]]
        if not names:
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


def _compare(before: dict, after: dict) -> dict:
    counts = dict.fromkeys(["created", "updated", "deleted", "unchanged"], 0)
    for model, rows in after.items():
        old = before[model]
        counts["deleted"] += len(old.keys() - rows.keys())
        for key, fields in rows.items():
            state = "created" if key not in old else "unchanged" if old[key] == fields else "updated"
            counts[state] += 1
    return counts


def _key_text(key) -> str:
    parts = key if isinstance(key, list | tuple) else [key]
    return ", ".join("null" if part is None else str(part) for part in parts)


def _plain(error) -> str:
    if isinstance(error, ValidationError):
        return _validation_text(error)
    cause = error.__cause__ or error.__context__
    return str(cause if isinstance(cause, ValidationError | ValueError) else error)


def _validation_text(error: ValidationError) -> str:
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    messages = []
    for field, field_messages in error.message_dict.items():
        prefix = "" if field == "__all__" else f"{field}: "
        messages += [f"{prefix}{message}" for message in field_messages]
    return " ".join(messages)
