"""make bench: throughput, latency, SQL queries and first-visit weight per page.

Starts `make serve` (the production-like server) and, in the same run, a bare Django view
(bench/baseline.py) under the same gunicorn options; drives each page with wrk after a
warm-up; counts SQL queries per page in-process with Django's test client; adds up the
compressed bytes a first visit transfers. Then each speed mechanism is switched off in turn (SPEED_OFF, on a
server of its own) and the pages it serves are measured again: the with/without table. Prints both tables and
writes bench/RESULTS.md, keeping what people wrote below its marker (why each mechanism stays).

Knobs: BENCH_SECONDS (10), BENCH_WARMUP (3), BENCH_CONNECTIONS (16), BENCH_THREADS (2),
WORKERS (2), BENCH_STRICT=1 to exit non-zero when a target is missed, BENCH_MECHANISMS=page-cache,...
to switch off only these mechanisms in the with/without table (BENCH_MECHANISMS=none: no table),
REFERENCE=synthetic to serve 40 fictional countries and 1,560 routes instead of fixtures/ (bench/synthetic.py;
the table then goes to bench/RESULTS-synthetic.md, without the with/without table, and the plan page is also
driven side by side with fixtures/ served at the same time, to set its throughput against the real data's).
A benchmark, not a test: `make test` never runs it.
"""

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PLAN_QUERY,
    ROOT,
    VENV_BIN,
    answer_form,
    apt_install,
    asset_urls,
    css_urls,
    fetch,
    free_port,
    gunicorn_opts,
    machine,
    markdown_table,
    now,
    post_form,
    start,
    stop,
    text_table,
    wait_http,
)
from bench.synthetic import first_plan_query, fixtures_for_reference  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WORKERS = os.environ.get("WORKERS", "2")
WORK = ROOT / "var" / "bench"
REFERENCE = os.environ.get("REFERENCE", "")
RESULTS = ROOT / "bench" / ("RESULTS-synthetic.md" if REFERENCE else "RESULTS.md")
SYNTHETIC_COST = 1.5  # the plan page on the synthetic data: at least 1/1.5 of its throughput on the real data
PAGE_PATHS: list[tuple[str, str]] = []  # (label, path) on the synthetic reference

# Targets from shared/DESIGN.md.
STATELESS_RATIO, FORM_RATIO = 0.60, 0.20
P99_MS, FIRST_VISIT_KB, MAX_QUERIES = 50.0, 80.0, 6

# (label, kind, method, path); kind "stateless" pages are cacheable, "form" pages carry a form.
PAGES = [
    ("start", "stateless", "GET", "/"),
    ("question GET (origin)", "form", "GET", "/questions/origin/"),
    ("question POST (origin, 303)", "form", "POST", "/questions/origin/"),
    ("plan", "stateless", "GET", f"/plan/?{PLAN_QUERY}"),
    ("compare", "stateless", "GET", "/compare/"),
    ("compare ?origin=AU", "stateless", "GET", "/compare/?origin=AU"),
    ("/api/plan/", "stateless", "GET", f"/api/plan/?{PLAN_QUERY}"),
    ("enquiry form GET", "form", "GET", f"/enquire/?{PLAN_QUERY}"),
]


# Speed mechanisms (advisor/settings.py SPEED_OFF), each switched off in turn on a server of its own,
# measured on the pages it serves: (name, what it is, page labels, extra server environment).
MECHANISMS = [
    ("page-cache", "page cache in front of Django (public pages)", ["start", "plan", "compare", "/api/plan/"], {}),
    ("form-cache", "blank form pages cached with per-request holes", ["question GET (origin)", "enquiry form GET"], {}),
    ("version-sql", "raw read of the reference version", ["start", "/api/plan/", "question GET (origin)"], {}),
]
MECHANISMS_ONLY = [name for name in os.environ.get("BENCH_MECHANISMS", "").split(",") if name]


def server_env() -> dict:
    """The server runs on its own database and static root under var/bench, started afresh."""
    env = {"VAR_DIR": str(WORK), "WORKERS": WORKERS, "LOG_LEVEL": "WARNING"}
    return env | ({"FIXTURES_DIR": str(WORK / "synthetic-fixtures")} if REFERENCE else {})


def use_reference() -> None:
    """Point the pages at the chosen reference's countries and credentials (REFERENCE, default fixtures/)."""
    fixtures = fixtures_for_reference(REFERENCE, WORK)
    if fixtures != WORK / "synthetic-fixtures" and REFERENCE:
        shutil.copytree(fixtures, WORK / "synthetic-fixtures")
        fixtures = WORK / "synthetic-fixtures"
    query = first_plan_query(fixtures)
    origin = query.split("&")[0]
    PAGES[:] = [
        (label, kind, method, path.replace(PLAN_QUERY, query).replace("origin=AU", origin))
        for label, kind, method, path in PAGES
    ]
    PAGE_PATHS[:] = [(label, path) for label, _kind, _method, path in PAGES]


def plan_side_by_side(app_url: str) -> str:
    """The plan page on the real data and on the synthetic reference, served at the same time and driven in turn
    (three runs each, medians), so the machine's load weighs on both alike. Returns the verdict line."""
    real_port = free_port()
    real_url = f"http://127.0.0.1:{real_port}"
    (WORK / "real").mkdir(exist_ok=True)
    env = {"VAR_DIR": str(WORK / "real"), "WORKERS": WORKERS, "LOG_LEVEL": "WARNING"}
    print(f"== the plan page side by side: fixtures/ on {real_url}, the synthetic reference on {app_url}", flush=True)
    real = start(["make", "--no-print-directory", "serve", f"PORT={real_port}"], env, WORK / "serve-real.log")
    pages = {"real": real_url + f"/plan/?{PLAN_QUERY}", "synthetic": app_url + dict(PAGE_PATHS)["plan"]}
    runs = {"real": [], "synthetic": []}
    try:
        wait_http(real_url, "/healthz", real)
        for url in pages.values():
            wrk(url, WARMUP)
        for _ in range(3):
            for name, url in pages.items():
                runs[name].append(wrk(url, SECONDS)["rps"])
    finally:
        stop(real)
    real_rps, synthetic_rps = (sorted(runs[name])[1] for name in ("real", "synthetic"))
    cost = real_rps / synthetic_rps
    return (
        f"Plan page side by side (medians of 3 alternating {SECONDS} s runs): {real_rps:.0f} req/s on fixtures/, "
        f"{synthetic_rps:.0f} req/s on the synthetic reference: {cost:.2f}x the cost per request, goal at most "
        f"{SYNTHETIC_COST}x: " + ("PASS" if cost <= SYNTHETIC_COST else "FAIL")
    )


# wrk -------------------------------------------------------------------------------------------


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: int, script: Path | None = None) -> dict:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = to_ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["bad"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


def lua_post(path: str, body: str, cookies: dict) -> Path:
    """A wrk script that replays one form POST with its CSRF cookie and token."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    script = Path(tempfile.mkstemp(prefix="bench-post-", suffix=".lua", dir=WORK)[1])
    script.write_text(
        f'wrk.method = "POST"\nwrk.path = "{path}"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Cookie"] = "{cookie}"\n'
    )
    return script


def prepare_post(base: str, path: str) -> tuple[Path | None, str]:
    """Fetch the form as a browser would, answer it, and check the answer gives a 303."""
    from urllib.parse import urlencode

    page = fetch(base + path)
    if page.status != 200:
        return None, f"not available (GET {page.status})"
    form = post_form(page.text)
    if form is None:
        return None, "not available (no POST form)"
    cookies = page.cookies()
    body = urlencode(answer_form(form))
    check = fetch(base + path, "POST", data=answer_form(form), cookies=cookies)
    if check.status != 303:
        return None, f"not available (POST gave {check.status}, not 303)"
    cookies |= check.cookies()
    return lua_post(path, body, cookies), ""


def measure(app_url, base_url, label, method, path, scripts, baselines) -> dict:
    """wrk on one page, right after a baseline run; {"missing": why} when the page does not answer."""
    script = None
    if method == "POST":
        script, why = prepare_post(app_url, path)
        if script is None:
            return {"missing": why}
        scripts.append(script)
    else:
        status = fetch(app_url + path).status
        if status != 200:
            return {"missing": f"not available (HTTP {status})"}
    # The baseline runs right before each page, so a change in the machine's load during the
    # run moves both figures of a ratio alike.
    baselines.append(wrk(base_url + "/", SECONDS))
    wrk(app_url + path, WARMUP, script)
    result = wrk(app_url + path, SECONDS, script)
    result["base"] = baselines[-1]["rps"]
    print(
        f"   {label}: {result['rps']:.0f} req/s (baseline just before: {result['base']:.0f}),"
        f" p99 {result['p99']:.1f} ms",
        flush=True,
    )
    return result


# Each speed mechanism switched off in turn ------------------------------------------------------


def gunicorn(port: int, env: dict, log: Path):
    """The app as make serve runs it (same database and collected static files), without re-preparing them."""
    env = server_env() | {"DEBUG": "0", "HTTPS": "0", "SECRET_KEY_FILE": str(ROOT / "var/secret_key")} | env
    args = [str(VENV_BIN / "gunicorn"), "advisor.wsgi", "--bind", f"127.0.0.1:{port}", *gunicorn_opts()]
    proc = start(args, env, log)
    wait_http(f"http://127.0.0.1:{port}", "/healthz", proc)
    return proc


def measure_mechanisms(base_url: str, results: dict, scripts: list) -> list[list]:
    """Rows of the with/without table: each mechanism off (SPEED_OFF=name) on the pages it serves, in this run."""
    kinds = {label: (kind, method, path) for label, kind, method, path in PAGES}
    rows = []
    for name, what, labels, env in MECHANISMS:
        if MECHANISMS_ONLY and name not in MECHANISMS_ONLY:
            continue
        print(f"== {name} off: {what}", flush=True)
        runs = {}
        for state, extra in (("with", {}), ("without", {"SPEED_OFF": name})):
            if state == "with" and not env:
                runs["with"] = results  # the main run above
                continue
            port = free_port()
            server = gunicorn(port, env | extra, WORK / f"{name}-{state}.log")
            try:
                runs[state] = {
                    label: measure(f"http://127.0.0.1:{port}", base_url, label, *kinds[label][1:], scripts, [])
                    for label in labels
                }
            finally:
                stop(server)
        for label in labels:
            on, off = runs["with"].get(label, {}), runs["without"].get(label, {})
            if "rps" not in on or "rps" not in off:
                rows.append([name, label, "n/a", "n/a", "", "", ""])
                continue
            need = STATELESS_RATIO if kinds[label][0] == "stateless" else FORM_RATIO
            ratio_on, ratio_off = on["rps"] / on["base"], off["rps"] / off["base"]
            meets_on = ratio_on >= need and on["p99"] < P99_MS
            meets_off = ratio_off >= need and off["p99"] < P99_MS
            budget = "needed" if meets_on and not meets_off else "met without" if meets_off else "missed"
            rows.append(
                [
                    name,
                    label,
                    f"{ratio_on:.0%} (p99 {on['p99']:.1f} ms)",
                    f"{ratio_off:.0%} (p99 {off['p99']:.1f} ms)",
                    f"{(ratio_on - ratio_off) * 100:+.0f}",
                    f"{budget} (≥{need:.0%})",
                ]
            )
    return rows


# First visit weight ------------------------------------------------------------------------------


def first_visit_bytes(base: str, path: str) -> int:
    """Page plus every stylesheet, script, image and icon (and what the CSS pulls in), compressed."""
    accept = {"Accept-Encoding": "br, gzip", "Accept": "text/html,*/*"}
    page = fetch(base + path, headers=accept)
    total = page.header_bytes + len(page.body)
    if not (page.header("Content-Type") or "").startswith("text/html"):
        return total
    html = fetch(base + path).text  # the uncompressed copy, to read the links
    queue, seen = asset_urls(base + path, html), set()
    while queue:
        url = queue.pop(0)
        if url in seen or not url.startswith(base):
            continue
        seen.add(url)
        asset = fetch(url, headers=accept)
        total += asset.header_bytes + len(asset.body)
        if url.split("?")[0].endswith(".css") and asset.status == 200:
            queue += css_urls(url, fetch(url).text)
    return total


# SQL queries per page, in-process --------------------------------------------------------------


def count_queries() -> dict[str, str]:
    """Queries per page against the bench database, cold cache / steady state: GETs through the WSGI application
    gunicorn serves (the page cache in front of Django), POSTs with Django's test client."""
    os.environ.update(server_env() | {"DEBUG": "0", "HTTPS": "0", "SECRET_KEY_FILE": str(ROOT / "var/secret_key")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from advisor.pagecache import store as page_cache
    from advisor.wsgi import application  # configures logging again (django.setup())

    logging.getLogger("advisor.request").setLevel(logging.WARNING)  # one line per request is noise here

    def wsgi_get(path):
        status = []
        body = application(RequestFactory().get(path).environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return int(status[0][:3])

    try:  # the reference data's in-process cache, when the app has one
        from pathways.reference import clear_cache
    except ImportError:
        clear_cache = cache.clear
    counts = {}
    for label, _kind, method, path in PAGES:
        cache.clear()
        page_cache.clear()
        clear_cache()
        client = Client()
        runs = []
        for _ in range(3):  # the page cache stores a page on its second request: the third is the steady state
            if method == "POST":
                page = client.get(path)
                form = post_form(page.content.decode()) if page.status_code == 200 else None
                if form is None:
                    break
                data = {}
                for name, value in answer_form(form):
                    data.setdefault(name, []).append(value)
                with CaptureQueriesContext(connection) as ctx:
                    response = client.post(path, data)
                status = response.status_code
            else:
                with CaptureQueriesContext(connection) as ctx:
                    status = wsgi_get(path)
            if status >= 400:
                break
            runs.append(len(ctx))
        counts[label] = runs[:1] + runs[-1:] if len(runs) > 1 else runs
    return counts


# Main --------------------------------------------------------------------------------------------


def load() -> str:
    return "/".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    apt_install("wrk", "wrk")
    load_before = load()
    if os.getloadavg()[0] > 1.0:
        print(f"== warning: the machine is busy (load average {load_before}): figures will be noisy", flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    if REFERENCE:
        use_reference()
    app_port, base_port = free_port(), free_port()
    app_url, base_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{base_port}"
    print(f"== starting make serve on {app_url} and the baseline on {base_url} ({WORKERS} workers each)", flush=True)
    app = start(["make", "--no-print-directory", "serve", f"PORT={app_port}"], server_env(), WORK / "serve.log")
    baseline = start(
        [str(VENV_BIN / "gunicorn"), "bench.baseline:application", "--bind", f"127.0.0.1:{base_port}"]
        + gunicorn_opts(),
        {"WORKERS": WORKERS},
        WORK / "baseline.log",
    )
    rows, scripts = [], []
    try:
        wait_http(base_url, "/", baseline)
        wait_http(app_url, "/healthz", app)
        print(f"== warm-up {WARMUP} s, then {SECONDS} s per page with wrk -t{THREADS} -c{CONNECTIONS}", flush=True)
        wrk(base_url + "/", WARMUP)
        results, baselines = {}, []
        for label, _kind, method, path in PAGES:
            results[label] = measure(app_url, base_url, label, method, path, scripts, baselines)
            if "missing" not in results[label]:
                results[label]["bytes"] = None if method == "POST" else first_visit_bytes(app_url, path)
        comparison = plan_side_by_side(app_url) if REFERENCE and "rps" in results.get("plan", {}) else ""
        stop(app)
        mechanism_rows = [] if REFERENCE else measure_mechanisms(base_url, results, scripts)
    finally:
        stop(app)
        stop(baseline)
        for script in scripts:
            script.unlink(missing_ok=True)
    print("== counting SQL queries per page (test client, cold cache / steady state)", flush=True)
    queries = count_queries()

    base = sorted(baselines, key=lambda run: run["rps"])[len(baselines) // 2]  # the median run
    rows = [["baseline HttpResponse('ok') (median)", f"{base['rps']:.0f}", "100%", f"{base['p50']:.1f}"]]
    rows[0] += [f"{base['p99']:.1f}"]
    rows[0] += ["-", "-", "-"]
    failures = 0
    for label, kind, _method, _path in PAGES:
        r = results[label]
        if "missing" in r:
            rows.append([label, r["missing"], "", "", "", "", "", "n/a"])
            continue
        ratio = r["rps"] / r["base"]
        need = STATELESS_RATIO if kind == "stateless" else FORM_RATIO
        q = queries.get(label) or []
        kb = r["bytes"] / 1000 if r["bytes"] is not None else None
        misses = []
        if ratio < need:
            misses.append(f"ratio<{need:.0%}")
        if r["p99"] >= P99_MS:
            misses.append(f"p99>={P99_MS:.0f}ms")
        if kb is not None and kb > FIRST_VISIT_KB:
            misses.append(f"first visit>{FIRST_VISIT_KB:.0f}KB")
        if q and q[-1] > MAX_QUERIES:  # steady state; the cold figure is printed alongside
            misses.append(f"queries>{MAX_QUERIES}")
        if r["bad"] or r["socket_errors"]:
            misses.append(f"{r['bad']} bad responses, {r['socket_errors']} socket errors")
        failures += bool(misses)
        rows.append(
            [
                label,
                f"{r['rps']:.0f}",
                f"{ratio:.0%} (≥{need:.0%})",
                f"{r['p50']:.1f}",
                f"{r['p99']:.1f}",
                " / ".join(map(str, q)) if q else "?",
                f"{kb:.1f}" if kb is not None else "-",
                "PASS" if not misses else "FAIL: " + ", ".join(misses),
            ]
        )
    header = ["page", "req/s", "vs baseline", "p50 ms", "p99 ms", "SQL cold / warm", "first visit KB", "result"]
    print()
    print(text_table(header, rows))
    if mechanism_rows:
        print()
        print(text_table(MECHANISM_HEADER, mechanism_rows))
    if comparison:
        failures += comparison.endswith("FAIL")
        print(f"\n{comparison}")
    write_results(header, rows, mechanism_rows, f"{load_before} before, {load()} after", comparison)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}; {failures} row(s) miss a target")
    return 1 if failures and os.environ.get("BENCH_STRICT") == "1" else 0


MECHANISM_HEADER = ["mechanism", "page", "with", "without", "points", "budget"]
# What follows this line in bench/RESULTS.md is written by people (why each mechanism stays) and kept.
KEPT_MARKER = "<!-- Written by hand below: kept by make bench. -->"


def write_results(header: list[str], rows: list[list], mechanism_rows: list[list], loads: str, comparison="") -> None:
    results = RESULTS
    old = results.read_text() if results.exists() else ""
    kept = old[old.index(KEPT_MARKER) :] if KEPT_MARKER in old else KEPT_MARKER + "\n"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    reference = "the synthetic reference (`manage.py synthetic_reference`: 40 fictional countries, 1,560 routes)"
    text = f"""# Benchmark results{" on synthetic data" if REFERENCE else ""}

Measured {now()} on {machine()}; load average (1/5/15 min) {loads}; written by `make bench`
(bench/run.py).

Method: `make serve` (gunicorn, {WORKERS} sync workers, DEBUG off, SQLite, whitenoise, reference data from
{reference if REFERENCE else "fixtures/"}) and, in the same run, a
bare Django view returning `HttpResponse("ok")` under the same gunicorn options (bench/baseline.py). Each page
gets a {WARMUP} s warm-up, then `wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s --latency` from the same machine
({wrk_version.strip()}). The baseline is measured the same way right before each page, and each page's ratio is
to that run (the baseline row shows the median run), so the machine's load changing during a run moves both.
The question POST replays a browser's answer to the origin question (CSRF cookie and
token fetched first) and gets a 303. SQL queries are counted in-process with Django's test client: first request
with empty caches / the same request a third time (the steady state, which the target applies to). First visit = the
page and every stylesheet, script, image and icon it references, fetched with `Accept-Encoding: br, gzip`, headers
included, 1 KB = 1,000 bytes.

Targets (shared/DESIGN.md): pages without personal state ≥ 60% of the baseline's requests per second, pages with
a form ≥ 20%; p99 < 50 ms; first visit ≤ 80 KB; ≤ 6 SQL queries.

{markdown_table(header, rows)}
{chr(10) + comparison + chr(10) if comparison else ""}
## Each speed mechanism switched off in turn

Each mechanism is switched off at start-up (`SPEED_OFF=<name>`) on a server of its own with the same database,
and the pages it serves are measured again the same way (a baseline run right before each page). "with" is the
main table's figure; "points"
is the difference in percentage points of the baseline. A mechanism stays only if the budget needs it or it buys
at least 10 points.

{markdown_table(MECHANISM_HEADER, mechanism_rows) if mechanism_rows else "(not measured in this run)"}

{kept}"""
    results.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
