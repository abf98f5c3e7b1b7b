"""make soak: does worker memory have a ceiling under traffic that never repeats?

Starts `make serve` (its own SQLite under var/soak, a free port), then sends SOAK_REQUESTS (10,000) distinct
plan page and /api/plan/ requests (random origin, credential set, setting, years and destination, every
destination), then the very same requests again, and prints each gunicorn worker's resident memory (RSS)
before, after the first pass and after the second. Goal (shared/DESIGN.md): each worker grows by at most
30 MB over the first pass, and not at all on the second (at most SOAK_FLAT_MB, 2, for allocator noise).

Knobs: SOAK_REQUESTS, SOAK_CLIENTS (8), SOAK_SEED (1), WORKERS (2), REFERENCE (a fixtures directory, or
"synthetic" for the generated 40-country reference), SOAK_STRICT=1 to exit non-zero when a goal is missed.
A benchmark, not a test: `make test` never runs it.
"""

import http.client
import json
import os
import random
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, machine, markdown_table, now, start, stop, text_table, wait_http  # noqa: E402
from bench.synthetic import fixtures_for_reference  # noqa: E402

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "10000"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "8"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
WORKERS = os.environ.get("WORKERS", "2")
GROWTH_MB, FLAT_MB = 30.0, float(os.environ.get("SOAK_FLAT_MB", "2"))
WORK = ROOT / "var" / "soak"


def distinct_queries(fixtures: Path, count: int, seed: int) -> list[str]:
    """`count` different plan URLs, half pages and half API, over every destination."""
    countries = [row["fields"]["code"] for row in json.loads((fixtures / "countries.json").read_text())]
    credentials = [row["fields"]["code"] for row in json.loads((fixtures / "credentials.json").read_text())]
    rng = random.Random(seed)
    urls: dict[str, None] = {}
    while len(urls) < count:
        params = [("origin", rng.choice([*countries, "none"]))]
        params += [("credential", code) for code in rng.sample(credentials, rng.randint(0, 4))]
        params.append(("setting", rng.choice(["inpatient", "outpatient", "both"])))
        if rng.random() < 0.8:
            params.append(("years", rng.randint(0, 60)))
        params.append(("destination", countries[len(urls) % len(countries)]))  # every destination alike
        path = "/plan/" if len(urls) % 2 == 0 else "/api/plan/"
        urls.setdefault(f"{path}?{urlencode(params)}")
    return list(urls)


def send_all(port: int, urls: list[str]) -> tuple[Counter, float]:
    """Every URL once, from CLIENTS keep-alive connections; the status codes seen and the seconds taken."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    queue = iter(urls)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seen: Counter = Counter()
        while True:
            with lock:
                url = next(queue, None)
            if url is None:
                break
            try:
                conn.request("GET", url, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                response.read()
                seen[response.status] += 1
            except (OSError, http.client.HTTPException):
                seen["error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            statuses.update(seen)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, time.monotonic() - started


def _proc(pid: int, name: str) -> str:
    return (Path("/proc") / str(pid) / name).read_text()


def gunicorn_workers(group: int) -> list[int]:
    """The worker processes of the gunicorn started in process group `group` (children of its master)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = _proc(int(entry.name), "stat")
            cmdline = _proc(int(entry.name), "cmdline")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, pgid = int(fields[1]), int(fields[2])
        if pgid == group and "gunicorn" in cmdline:
            found[int(entry.name)] = ppid
    masters = [pid for pid, ppid in found.items() if ppid not in found]
    return sorted(pid for pid, ppid in found.items() if ppid in masters)


def rss_mb(pid: int) -> float:
    for line in _proc(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> int:
    fixtures = fixtures_for_reference(os.environ.get("REFERENCE", ""), WORK)
    urls = distinct_queries(fixtures, REQUESTS, SEED)
    shutil.rmtree(WORK / "db", ignore_errors=True)
    (WORK / "db").mkdir(parents=True)
    port = free_port()
    env = {"VAR_DIR": str(WORK / "db"), "WORKERS": WORKERS, "LOG_LEVEL": "WARNING", "FIXTURES_DIR": str(fixtures)}
    print(f"== starting make serve on http://127.0.0.1:{port} ({WORKERS} workers, reference: {fixtures})", flush=True)
    server = start(["make", "--no-print-directory", "serve", f"PORT={port}"], env, WORK / "serve.log")
    try:
        wait_http(f"http://127.0.0.1:{port}", "/healthz", server)
        # Warm every worker up on the pages (imports, templates, the reference data) before the first reading.
        warm = distinct_queries(fixtures, 200, SEED + 1)
        send_all(port, warm * 2)
        workers = gunicorn_workers(server.pid)
        if not workers:
            raise RuntimeError("found no gunicorn workers")
        readings = {pid: [rss_mb(pid)] for pid in workers}
        for number in (1, 2):
            print(f"== pass {number}: {len(urls):,} distinct requests from {CLIENTS} clients", flush=True)
            statuses, seconds = send_all(port, urls)
            print(f"   {dict(statuses)} in {seconds:.0f} s ({len(urls) / seconds:.0f} req/s)", flush=True)
            if set(gunicorn_workers(server.pid)) != set(workers):
                raise RuntimeError("a worker was replaced during the run: its memory cannot be compared")
            for pid in workers:
                readings[pid].append(rss_mb(pid))
    finally:
        stop(server)

    rows, misses = [], 0
    for n, pid in enumerate(workers, 1):
        before, first, second = readings[pid]
        grew, again = first - before, second - first
        ok = grew <= GROWTH_MB and again <= FLAT_MB
        misses += not ok
        rows.append(
            [
                f"worker {n}",
                f"{before:.1f}",
                f"{first:.1f}",
                f"{second:.1f}",
                f"{grew:+.1f}",
                f"{again:+.1f}",
                "PASS" if ok else f"FAIL (goal: ≤ {GROWTH_MB:.0f} MB, then ≤ {FLAT_MB:g} MB)",
            ]
        )
    header = ["worker", "RSS before MB", "after pass 1", "after pass 2", "pass 1 growth", "pass 2 growth", "result"]
    print()
    print(text_table(header, rows))
    write_results(header, rows, fixtures)
    print(f"\nwrote bench/SOAK.md; {misses} worker(s) miss the goal")
    return 1 if misses and os.environ.get("SOAK_STRICT") == "1" else 0


def write_results(header: list[str], rows: list[list], fixtures: Path) -> None:
    load = "/".join(f"{n:.2f}" for n in os.getloadavg())
    reference = "fixtures/" if fixtures.resolve() == (ROOT / "fixtures").resolve() else "the synthetic reference"
    text = f"""# Memory soak results

Measured {now()} on {machine()}; load average after the run {load}; written by `make soak` (bench/soak.py).

Method: `make serve` (gunicorn, {WORKERS} sync workers, SQLite under var/soak, reference data from {reference}).
Every worker is warmed up on 400 requests first, then {REQUESTS:,} distinct requests (half plan pages, half
`/api/plan/`, random origin, credential set of 0 to 4, setting and years, every destination alike; seed {SEED})
are sent from {CLIENTS} keep-alive clients, then exactly the same requests again. RSS is VmRSS from /proc.

Goal (shared/DESIGN.md): at most {GROWTH_MB:.0f} MB growth per worker over the first pass, flat (at most
{FLAT_MB:g} MB) over the second.

{markdown_table(header, rows)}
"""
    (ROOT / "bench" / "SOAK.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
