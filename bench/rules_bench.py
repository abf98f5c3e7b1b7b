"""make bench-rules: how fast the rules engine and /api/plan/ are, in process (no server).

Prints a small table: plans per second from a warm cache (memoised, and computed afresh),
load_reference() calls per second, and SQL queries plus requests per second for warm
/api/plan/ requests through Django's test client. Uses its own SQLite file under var/, so it
never touches the development database.
"""

import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-rules.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.update(DEBUG="0", HTTPS="0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from pathways import presenter, rules  # noqa: E402
from pathways.reference import load_reference  # noqa: E402

GOAL_PLANS = 20_000
GOAL_QUERIES = 2


def profiles(reference: rules.Reference) -> list[rules.LearnerProfile]:
    """Every origin (and none) x destination x setting, without and with the destination's first credential."""
    result = []
    for origin in [None, *reference.countries]:
        for destination in reference.countries:
            for setting in rules.SETTINGS:
                result.append(rules.LearnerProfile(origin, frozenset(), setting, None, destination))
                route = reference.route(origin, destination) or reference.route(None, destination)
                if route and route.credentials:
                    held = frozenset({route.credentials[0].credential})
                    result.append(rules.LearnerProfile(origin, held, setting, 2, destination))
    return result


def per_second(func, items, seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for item in items:
            func(item)
        count += len(items)
    return count / elapsed


def main() -> None:
    (ROOT / "var").mkdir(exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference_data", verbosity=0)
    reference = load_reference()
    cases = profiles(reference)
    for profile in cases:  # warm the memo
        rules.build_plan(profile, reference)

    warm = per_second(lambda p: rules.build_plan(p, reference), cases)

    def fresh(profile):
        # What a first /api/plan/ request for a profile costs: the plan, its ranking and its JSON.
        reference.plans.clear()
        reference.rankings.clear()
        presenter.plan_json(rules.build_plan(profile, reference), reference)

    afresh = per_second(fresh, cases)
    no_ranking = per_second(lambda p: rules.plan_without_memo(p, reference), cases)
    loads = per_second(lambda _: load_reference(), [None] * 100)

    client = Client()
    queries = [
        {"origin": "AU", "credential": "hlt50321", "setting": "inpatient", "years": 2, "destination": "GB"},
        {"origin": "none", "destination": "AU"},
        {"origin": "US", "setting": "outpatient", "destination": "NZ"},
    ]
    most_queries = 0
    for query in queries:
        client.get("/api/plan/", query)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/plan/", query)
        assert response.status_code == 200, response.content
        most_queries = max(most_queries, len(captured))
    api = per_second(lambda q: client.get("/api/plan/", q), queries)

    rows = [
        ("build_plan, warm (memoised per profile)", f"{warm:,.0f} plans/s", f">= {GOAL_PLANS:,}", warm >= GOAL_PLANS),
        ("plan JSON, computed afresh (with ranking)", f"{afresh:,.0f} plans/s", "-", None),
        ("build_plan, computed afresh (no ranking)", f"{no_ranking:,.0f} plans/s", "-", None),
        ("load_reference(), warm", f"{loads:,.0f} calls/s", "-", None),
        (
            "/api/plan/ warm, SQL queries",
            f"{most_queries} per request",
            f"<= {GOAL_QUERIES}",
            most_queries <= GOAL_QUERIES,
        ),
        ("/api/plan/ warm, test client", f"{api:,.0f} requests/s", "-", None),
    ]
    print(
        f"Rules benchmark: {len(cases)} profiles, reference version {reference.version}, "
        f"{len(reference.countries)} countries, {len(reference.routes)} routes"
    )
    print(f"| {'measure':<44} | {'figure':<22} | {'goal':<9} | result |")
    print(f"|{'-' * 46}|{'-' * 24}|{'-' * 11}|--------|")
    for name, figure, goal, ok in rows:
        result = "-" if ok is None else ("PASS" if ok else "FAIL")
        print(f"| {name:<44} | {figure:<22} | {goal:<9} | {result:<6} |")


if __name__ == "__main__":
    main()
