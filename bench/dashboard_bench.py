"""make bench-dashboard: how long the advisers' dashboard and funnel pages take on a big database.

Starts a throwaway PostgreSQL (as .ci/run and make loadtest do), migrates it, fills it with 100,000
synthetic enquiries spread over two years and a year of funnel counters, then fetches each page in
process (Django's test client, signed in as a course adviser) and prints the median and 90th-percentile
times and the SQL queries per page. Goal: the dashboard and the funnel as advisers open them (the last 12
weeks) under 300 ms each; the same pages over a year are printed for scale. It is a measurement, not a
test: it fails nobody's build (it exits 1 when a judged page misses the goal).
"""

import logging
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtest.run import Postgres  # noqa: E402

ENQUIRIES = int(os.environ.get("BENCH_ENQUIRIES", "100000"))
COUNTER_DAYS = int(os.environ.get("BENCH_COUNTER_DAYS", "365"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
GOAL_MS = 300

# Synthetic enquiries, made by the database itself (seconds, not minutes): received at random over two years;
# recent ones open, older ones mostly finished (one in fifty still in follow-up); four in five contacted within
# 0 to 72 hours; one in twenty spam.
FILL_ENQUIRIES = """
INSERT INTO advisor_enquiry (
    reference, submission_id, created_at, name, email, phone, preferred_contact, best_time, message, info_pack,
    plan_params, plan_snapshot, reference_version, origin_code, destination_code, notice_version,
    contact_consent_at, marketing_opt_in, is_spam, spam_reason, ip_hash, status, assigned_to_id, contacted_at)
SELECT 'B-' || lpad(n::text, 8, '0'), md5(n::text)::uuid, received, 'Synthetic learner', 'learner@example.org',
    '', CASE WHEN n %% 3 = 0 THEN 'phone' ELSE 'email' END, '', '', '', '{}'::jsonb, '{}'::jsonb, '1',
    (ARRAY['AU','CA','GB','NZ','US','none'])[1 + n %% 6], (ARRAY['AU','CA','GB','NZ','US'])[1 + (n / 7) %% 5],
    '2026-11', received, false, n %% 20 = 0, CASE WHEN n %% 20 = 0 THEN 'honeypot' ELSE '' END, '',
    CASE WHEN received > now() - interval '10 days' THEN (ARRAY['new','new','contacted','follow_up'])[1 + n %% 4]
         WHEN received > now() - interval '60 days'
              THEN (ARRAY['closed','enrolled','contacted','follow_up'])[1 + n %% 4]
         WHEN n %% 50 = 1 THEN 'follow_up'
         ELSE (ARRAY['closed','enrolled','closed'])[1 + n %% 3] END,
    CASE WHEN n %% 4 = 0 THEN NULL ELSE %(first_user)s + n %% 5 END,
    CASE WHEN n %% 5 = 0 THEN NULL ELSE received + (random() * interval '72 hours') END
FROM (SELECT n, now() - random() * interval '730 days' AS received FROM generate_series(1, %(count)s) AS n) AS s
"""
FILL_COUNTERS = """
INSERT INTO advisor_funnelcount (day, step, origin, destination, hits)
SELECT current_date - d, step, '', '', (1000 - ord * 90 + random() * 50)::int
FROM generate_series(0, %(days)s - 1) AS d,
     unnest(ARRAY['start','origin','credentials','experience','destination','check','enquiry_form','enquiry_sent'])
     WITH ORDINALITY AS steps(step, ord)
UNION ALL
SELECT current_date - d, 'plan', o, t, (random() * 40)::int
FROM generate_series(0, %(days)s - 1) AS d, unnest(ARRAY['AU','CA','GB','NZ','US','none']) AS o,
     unnest(ARRAY['AU','CA','GB','NZ','US']) AS t
"""


def main() -> int:
    postgres = Postgres()
    postgres.start()
    try:
        os.environ.update(
            DATABASE_URL=postgres.url,
            DJANGO_SETTINGS_MODULE="advisor.settings",
            SECRET_KEY=secrets.token_urlsafe(50),
            DEBUG="0",
            HTTPS="0",
            LOG_LEVEL="WARNING",
            PLAIN_STATIC="1",
        )
        import django

        django.setup()
        logging.getLogger("advisor.request").setLevel(logging.WARNING)  # one line per request is noise here
        return run()
    finally:
        postgres.stop()


def run() -> int:
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    advisers = Group.objects.get(name="Course advisers")
    users = [User.objects.create_user(f"adviser{i}", is_staff=True) for i in range(5)]
    for user in users:
        user.groups.add(advisers)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_ENQUIRIES, {"count": ENQUIRIES, "first_user": users[0].pk})
        cursor.execute("UPDATE advisor_enquiry SET contacted_at = NULL WHERE status = 'new'")
        cursor.execute(FILL_COUNTERS, {"days": COUNTER_DAYS})
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM advisor_enquiry")
        enquiries = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), coalesce(sum(hits), 0) FROM advisor_funnelcount")
        counter_rows, hits = cursor.fetchone()
    print(f"Filled in {time.perf_counter() - started:.1f} s: {enquiries:,} enquiries, {counter_rows:,} counter rows")
    print(f"({hits:,} hits over {COUNTER_DAYS} days), PostgreSQL {connection.pg_version}")

    client = Client()
    client.force_login(users[0])
    # (name, URL, judged): the two pages as advisers open them carry the goal; a year's view is shown for scale.
    pages = [
        ("dashboard (last 12 weeks)", "/admin/advisor/enquiry/dashboard/", True),
        ("funnel (last 12 weeks)", "/admin/advisor/enquiry/funnel/", True),
        ("dashboard (a year)", "/admin/advisor/enquiry/dashboard/?start={year_ago}&end={today}", False),
        ("funnel (a year)", "/admin/advisor/enquiry/funnel/?start={year_ago}&end={today}", False),
        ("dashboard CSV (a year)", "/admin/advisor/enquiry/dashboard/csv/?start={year_ago}&end={today}", False),
    ]
    today = timezone.localdate()
    dates = {"today": today.isoformat(), "year_ago": (today - timedelta(days=364)).isoformat()}
    print(f"\n{RUNS} requests per page after 3 warm-up requests, in process, signed in as a course adviser.")
    print("| page | median ms | p90 ms | SQL queries | goal |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for name, url, judged in pages:
        url = url.format(**dates)
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        times = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        if judged:
            worst = max(worst, median)
            verdict = f"< {GOAL_MS} ms: " + ("PASS" if median < GOAL_MS else "FAIL")
        else:
            verdict = "for scale"
        print(f"| {name} | {median:.0f} | {p90:.0f} | {len(queries)} | {verdict} |")
        if os.environ.get("BENCH_SHOW_SQL"):
            for query in queries:
                print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    return 0 if worst < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
