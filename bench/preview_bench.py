"""make bench-preview: how long 'Preview changes to plans' takes on the busiest row, through the admin.

The busiest row is the classification gap whose plans the most profiles use. The edit changes its
level, the admin builds every profile's plan before and after and rolls the edit back. Uses its own
SQLite file under var/, never the development database. Goal: under a second.
"""

import logging
import os
import secrets
import statistics
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-preview.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.update(DEBUG="0", HTTPS="0", LOG_LEVEL="WARNING", PLAIN_STATIC="1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from pathways import impact, rules  # noqa: E402
from pathways.models import ClassificationGap  # noqa: E402
from pathways.reference import load_reference  # noqa: E402

GOAL_SECONDS = 1.0


def main():
    setup_test_environment()  # so the response carries its template context
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore", message="No directory at")
    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench-preview", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    # The gap the most plans read: count, over every profile, the classifications each gap row decides.
    reference = load_reference()
    uses = Counter(
        (item.known_from, item.code)
        for profile in impact.profiles(reference)
        for item in rules.build_plan(profile, reference).classifications
        if (item.known_from, item.code) in reference.gaps
    )
    (from_code, to_code), plans = uses.most_common(1)[0]
    gap = ClassificationGap.objects.get_by_natural_key(from_code, to_code)
    url = f"/admin/pathways/classificationgap/{gap.pk}/change/"
    data = {
        "from_classification": gap.from_classification_id,
        "to_classification": gap.to_classification_id,
        "level": "none" if gap.level != "none" else "new",
        "note": gap.note,
        "source_kind": gap.source_kind,
        "source": gap.source_id or "",
        "source_detail": gap.source_detail,
        "last_checked": gap.last_checked.isoformat(),
        "_preview": "Preview changes to plans",
    }
    times, groups = [], 0
    for _ in range(7):
        start = time.perf_counter()
        response = client.post(url, data)
        times.append(time.perf_counter() - start)
        groups = len(response.context["plan_changes"])
    median = statistics.median(times)
    print(
        f"Preview of {gap} (it decides a gap in {plans} of {len(impact.profiles(reference))} plans; "
        f"{groups} groups of learners see a change): median {median * 1000:.0f} ms over 7, "
        f"max {max(times) * 1000:.0f} ms; goal under {GOAL_SECONDS * 1000:.0f} ms: "
        f"{'PASS' if median < GOAL_SECONDS else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
