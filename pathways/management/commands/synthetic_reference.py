"""Write a synthetic reference (fictional countries, every ordered pair routed) as fixtures, to measure cost as the
data grows: `make bench REFERENCE=synthetic` and `make soak REFERENCE=synthetic` load it instead of fixtures/.

The output is fixture JSON in the format of fixtures/*.json (natural keys, no primary keys), one file per model,
so `load_reference_data --fixtures-dir DIR` loads it and the integrity check passes. It knows nothing of
pathways.rules. Fields it does not know about (added to the models later) are filled the way a blank form would
be: left out when they have a default or may be blank, else a neutral value of their type.

With the default 40 countries: 40 countries, 175 classifications, 120 credentials, 1,600 routes (1,560 between
countries, 40 entry routes) with 3,200 route credentials and 1,600 notes, 3,200 classification gaps.
"""

import json
import random
import string
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import models

from pathways.management.commands.load_reference_data import FIXTURE_FILES
from pathways.models import Source

# ISO 3166-1 leaves these alpha-2 codes to users: no real country will ever have them.
USER_ASSIGNED_CODES = [f"X{letter}" for letter in string.ascii_uppercase] + [f"Q{c}" for c in "MNOPQRSTUVWXYZ"]
SYLLABLES = ["ar", "bel", "cor", "dun", "el", "fen", "gal", "hal", "is", "jor", "kel", "lun", "mar", "nor", "or"]
ENDINGS = ["ia", "land", "mark", "stan", "ora", "ovia"]
CHECKED = "2026-01-01"
GAP_LEVELS = ["minor", "moderate", "major", "new"]


def _provenance() -> dict:
    return {"source_kind": "inferred", "source": ["synthetic"], "source_detail": "Synthetic", "last_checked": CHECKED}


def _blank_value(field):
    """What a field the generator does not know gets: None to leave it to its default or blank."""
    if field.has_default() or field.blank or field.null or field.primary_key or field.many_to_one:
        return None
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
        return 1
    if isinstance(field, models.DateField):
        return CHECKED
    if isinstance(field, models.URLField):
        return "https://example.org/"
    return "Synthetic"


def _row(model, **fields) -> dict:
    for field in model._meta.concrete_fields:
        if field.name not in fields and (value := _blank_value(field)) is not None:
            fields[field.name] = value
    return {"model": model._meta.label_lower, "fields": fields}


def synthetic_reference(countries: int, seed: int = 1) -> dict[str, list[dict]]:
    """The fixture files, by name, for `countries` fictional countries."""
    if not 2 <= countries <= len(USER_ASSIGNED_CODES):
        raise CommandError(f"Choose from 2 to {len(USER_ASSIGNED_CODES)} countries.")
    rng = random.Random(seed)
    model = dict(FIXTURE_FILES)
    codes = USER_ASSIGNED_CODES[:countries]
    names = iter(
        dict.fromkeys(
            (rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(ENDINGS)).capitalize() for _ in range(2000)
        )
    )
    files = {filename: [] for filename, _ in FIXTURE_FILES}

    def add(filename, **fields):
        if filename != "sources.json":
            fields = {**_provenance(), **fields}
        files[filename].append(_row(model[filename], **fields))

    add("sources.json", code="synthetic", title="Synthetic reference data", kind=Source._meta.get_field("kind").default)
    add("organisations.json", code="synthetic-who", name="Synthetic Health Organization")
    add("classifications.json", code="synthetic-icd", name="Synthetic ICD", kind="diagnosis",
        publisher=["synthetic-who"])  # fmt: skip
    for code in codes:
        low, name = code.lower(), next(names)
        add("organisations.json", code=f"body-{low}", name=f"{name} Coding Authority", country=code)
        add(
            "countries.json",
            code=code,
            name=name,
            profession=rng.choice(["Clinical coding", "Medical coding", "Health information management"]),
            grouper=f"{code}-DRG",
            governing_body=[f"body-{low}"],
        )
        kinds = {"dx": "diagnosis", "px": "procedure", "std": "standard", "grp": "grouper"}
        for prefix, kind in kinds.items():
            add(
                "classifications.json",
                code=f"{prefix}-{low}",
                name=f"{name} {kind}",
                kind=kind,
                publisher=[f"body-{low}"],
                modifies=["synthetic-icd"] if prefix == "dx" else None,
            )
            # Every third country codes outpatient procedures in another classification.
            split = prefix == "px" and codes.index(code) % 3 == 0
            add(
                "country_usages.json",
                country=[code],
                classification=[f"{prefix}-{low}"],
                setting="inpatient" if split else "all",
            )
        if codes.index(code) % 3 == 0:
            add("classifications.json", code=f"opx-{low}", name=f"{name} outpatient", kind="procedure",
                publisher=[f"body-{low}"])  # fmt: skip
            add("country_usages.json", country=[code], classification=[f"opx-{low}"], setting="outpatient")
        for suffix, kind, months in (("entry", "qualification", (12, 18)), ("cert", "certification", (3, None))):
            add(
                "credentials.json",
                code=f"{low}-{suffix}",
                name=f"{name} {kind}",
                country=[code],
                awarded_by=[f"body-{low}"],
                kind=kind,
                classifications=[[f"dx-{low}"], [f"px-{low}"]],
                duration_min=months[0],
                duration_max=months[1],
                duration_unit="month",
                summary=f"A synthetic {kind}.",
            )
        add("credentials.json", code=f"{low}-exam", name=f"{name} exam", country=[code], awarded_by=[f"body-{low}"],
            kind="exam", summary="A synthetic exam.")  # fmt: skip

    for destination in codes:
        low = destination.lower()
        for origin in [None, *codes]:
            if origin == destination:
                continue
            route = [origin, destination]
            add(
                "routes.json",
                origin=[origin] if origin else None,
                destination=[destination],
                difficulty=2 if origin is None else rng.randint(1, 4),
                summary="A synthetic route.",
                employer_expectation="Employers expect the local qualification.",
            )
            for step, suffix in ((1, "entry"), (2, "cert")):
                add("route_credentials.json", route=route, setting="all", step=step, credential=[f"{low}-{suffix}"])
            add("route_notes.json", route=route, code="synthetic-note", kind=rng.choice(["note", "warning"]),
                text="A synthetic note.")  # fmt: skip

    for origin in codes:
        for destination in codes:
            for prefix in ("dx", "px"):
                level = "minor" if origin == destination else rng.choice(GAP_LEVELS)
                add(
                    "classification_gaps.json",
                    from_classification=[f"{prefix}-{origin.lower()}"],
                    to_classification=[f"{prefix}-{destination.lower()}"],
                    level=level,
                )
    for order in range(1, 11):
        add("transferable_skills.json", code=f"skill-{order}", text=f"Synthetic skill {order}", order=order)
    return files


class Command(BaseCommand):
    help = "Write a synthetic reference (fictional countries, every pair routed) as fixtures to a folder."

    def add_arguments(self, parser):
        parser.add_argument("--countries", type=int, default=40, help="How many fictional countries (2 to 40).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--output", help="The folder to write (default: a new temporary folder).")

    def handle(self, *args, **options):
        files = synthetic_reference(options["countries"], options["seed"])
        output = Path(options["output"] or tempfile.mkdtemp(prefix="synthetic-reference-"))
        output.mkdir(parents=True, exist_ok=True)
        for filename, rows in files.items():
            (output / filename).write_text(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        counts = ", ".join(f"{len(rows)} {filename.removesuffix('.json')}" for filename, rows in files.items())
        self.stdout.write(f"Wrote {output}: {counts}.")
        self.stdout.write(f"Load it with: manage.py load_reference_data --fixtures-dir {output}")
        return None
