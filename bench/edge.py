"""make bench-edge: which layer keeps public pages on a fleet, the app's own page cache or nginx's proxy_cache.

Everything runs behind the same nginx site, deploy/nginx/coding-pathways.conf rendered onto loopback as make
fleettest renders it (TLS as shipped, a throwaway certificate for pathways.example.org), in front of two app
servers each (gunicorn with make serve's options, 2 sync workers, SQLite, all on one database under var/edge):

  A  the app's page cache (advisor/pagecache/front.py), as shipped;
  B  nginx's proxy_cache for the public pages (/, /plan/, /compare/, /api/plan/), the app's cache off
     (SPEED_OFF=page-cache), kept as long as the app's Cache-Control says (public, max-age=600; 60 on the API);
  C  both;
  D  bench/baseline.py's bare view behind the same site, for scale.

The start page, the canonical plan page and /api/plan/ are driven with `wrk -t2 -c16 --latency` over https,
in alternating rounds (A, B, C, A, B, C, ...) so the machine's load weighs on each alike; medians are reported.
wrk names the site's host (SNI and Host), resolved to 127.0.0.1 by an /etc/hosts of its own (a private mount
namespace: `unshare -m`), so nothing on the machine changes. Then, on each layer: what a reference-data edit
saved on the shared database (`manage.py shell -c`, a country renamed with obj.save()) costs in stale pages,
how Vary (HX-Request, Accept-Encoding, Cookie) is handled, the security headers of a hit, and what junk links
leave in the cache. Prints the tables and appends a section to bench/RESULTS.md.

Knobs: BENCH_SECONDS (10), BENCH_WARMUP (3), BENCH_ROUNDS (3), EDGE_EDIT_CAP (75 s: how long an edit is
watched for), EDGE_WRITE=0 to print without writing bench/RESULTS.md.
"""

import contextlib
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fleettest.run as fleet  # noqa: E402
from bench.common import (  # noqa: E402
    PLAN_QUERY,
    ROOT,
    VENV_BIN,
    answer_form,
    apt_install,
    free_port,
    gunicorn_opts,
    machine,
    markdown_table,
    now,
    post_form,
    start,
    stop,
    text_table,
)
from bench.run import to_ms  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
EDIT_CAP = float(os.environ.get("EDGE_EDIT_CAP", "75"))
WORK = ROOT / "var" / "edge"
RESULTS = ROOT / "bench" / "RESULTS.md"
HOST = fleet.HOST
fleet.WORK = WORK  # fleettest's nginx, certificate and rendered paths go under var/edge for this run

PAGES = [("start", "/"), ("plan", f"/plan/?{PLAN_QUERY}"), ("/api/plan/", f"/api/plan/?{PLAN_QUERY}")]
LAYERS = {
    "A": "app's page cache (as shipped)",
    "B": "nginx proxy_cache, app's cache off",
    "C": "both",
    "D": "bare Django view HttpResponse('ok'), for scale",
}
CACHED = ("A", "B", "C")
PUBLIC_MAX_AGE = 600  # advisor/learners/views.py: what the app's public pages say in Cache-Control
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security", "Referrer-Policy")


# nginx: the shipped site, and the same site with proxy_cache for the public pages ------------------------------


def with_proxy_cache(site: str, cache_dir: Path) -> str:
    """The rendered site with nginx's cache in front of the app for the four public paths (nothing else cached).
    proxy_cache_valid is the pages' max-age; a Cache-Control from the app takes precedence (60 s on the API)."""
    head = (
        f"proxy_cache_path {cache_dir} levels=1:2 keys_zone=coding_pathways_pages:10m max_size=256m "
        "inactive=10m use_temp_path=off;\n"
        'map $uri $coding_pathways_not_public {\n    "/" 0;\n    "/plan/" 0;\n    "/compare/" 0;\n'
        '    "/api/plan/" 0;\n    default 1;\n}\n'
    )
    cache = (
        "        proxy_cache coding_pathways_pages;\n"
        f"        proxy_cache_valid 200 {PUBLIC_MAX_AGE}s;\n"
        "        proxy_cache_bypass $coding_pathways_not_public;\n"
        "        proxy_no_cache $coding_pathways_not_public;\n"
        "        proxy_cache_lock on;\n"
    )
    site, n = re.subn(r"(\n    location / \{\n        proxy_pass http://coding_pathways;\n)", rf"\g<1>{cache}", site)
    if n != 1:
        raise RuntimeError("the site's proxied location / was not found once")
    hsts = "    add_header Strict-Transport-Security $coding_pathways_hsts always;\n"
    if site.count(hsts) != 1:
        raise RuntimeError("the site's HSTS line was not found once")
    site = site.replace(hsts, hsts + "    add_header X-Edge-Cache $upstream_cache_status always;\n")
    return head + site


class EdgeNginx(fleet.Nginx):
    def __init__(self, name: str, upstreams: list[str], cert: Path, key: Path, cache: bool, bare: bool = False):
        super().__init__(name, upstreams, cert, key)
        self.cache_dir = self.prefix / "cache"
        site = self.prefix / "coding-pathways.conf"
        text = site.read_text().replace(f"{WORK / 'nginx' / 'logs'}/", f"{self.prefix / 'logs'}/")
        if cache:
            self.cache_dir.mkdir(exist_ok=True)
            text = with_proxy_cache(text, self.cache_dir)
        if bare:  # bench/baseline.py only allows 127.0.0.1 and localhost as Host
            proxied = "        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For"
            at = text.find(proxied, text.find("\n    location / {\n        proxy_pass"))  # the https site's
            if at < 0:
                raise RuntimeError("the https site's proxied Host line was not found")
            text = text[:at] + proxied.replace("$host", "127.0.0.1") + text[at + len(proxied) :]
        site.write_text(text)

    def cache_entries(self) -> int:
        return sum(1 for p in self.cache_dir.rglob("*") if p.is_file()) if self.cache_dir.exists() else 0


# App servers -----------------------------------------------------------------------------------------------------


def app_env(extra: dict | None = None) -> dict:
    """make serve's environment behind a TLS proxy (its Makefile note), on var/edge's database and static root."""
    return {
        "DEBUG": "0",
        "HTTPS": "1",
        "BEHIND_TLS_PROXY": "1",
        "TRUSTED_PROXY_COUNT": "1",
        "ALLOWED_HOSTS": HOST,
        "SECRET_KEY_FILE": str(ROOT / "var" / "secret_key"),
        "VAR_DIR": str(WORK / "var"),
        "WORKERS": "2",
        "LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


def manage(*args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **app_env()},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def gunicorn(name: str, extra: dict | None) -> tuple[subprocess.Popen, int]:
    """An app server (extra: its environment beyond app_env()), or with None bench/baseline.py's bare view."""
    port = free_port()
    app, env = (
        ("advisor.wsgi", app_env(extra)) if extra is not None else ("bench.baseline:application", {"WORKERS": "2"})
    )
    args = [str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", *gunicorn_opts()]
    return start(args, env, WORK / f"{name}.log"), port


def target(layer: str, path: str) -> str:
    return "/" if layer == "D" else path  # the bare view answers / only


# Clients ---------------------------------------------------------------------------------------------------------


HOSTS = WORK / "hosts"


def wrk(port: int, path: str, seconds: int) -> dict:
    """wrk over https to the site's host name on loopback, in a mount namespace whose /etc/hosts names it."""
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "--timeout", "5s", f"https://{HOST}:{port}{path}"]
    shell = 'mount --bind "$0" /etc/hosts && exec "$@"'
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell, str(HOSTS), *args], capture_output=True, text=True, check=True
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = to_ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["bad"] = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return result


class Client:
    """HTTPS requests to one nginx, the certificate checked (fleettest's Http)."""

    def __init__(self, port: int, cert: Path):
        self.cert = cert
        self.http = fleet.Http()
        self.http.context = ssl.create_default_context(cafile=str(cert))
        self.port = port

    def get(self, path: str, headers: dict | None = None, cookies: dict | None = None, **kw):
        return self.http.request(path, headers=headers, cookies=cookies, port=self.port, **kw)


def body_text(response) -> str:
    return fleet.text_of(response)


# Correctness -----------------------------------------------------------------------------------------------------


NONCE = re.compile(r' nonce="[^"]*"')


def truth(port: int, path: str, headers: dict) -> tuple[str, str]:
    """What an app server without any page cache answers (straight to it, with the headers nginx adds)."""
    head = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", **headers}
    r = fleet.Http().request(path, headers=head, scheme="http", port=port)
    return (r.header("Content-Encoding") or "", NONCE.sub("", body_text(r)))


def vary_facts(client: Client, uncached_port: int) -> dict:
    """Requests with and without each header in turn, so repeats are hits where the layer keeps pages: is every
    answer what the app gives uncached for that request (body, nonces aside, and Content-Encoding)?"""
    facts = {}

    def right(path: str, headers: dict) -> bool:
        r = client.get(path, headers=headers)
        return (r.header("Content-Encoding") or "", NONCE.sub("", body_text(r))) == truth(uncached_port, path, headers)

    hx = [{}, {}, {"HX-Request": "true"}, {"HX-Request": "true"}, {}, {"HX-Request": "true"}]
    checks = [right(path, h) for path in ("/", "/compare/") for h in hx]
    facts["HX-Request"] = f"{sum(checks)}/{len(checks)} answers right (start, compare)"
    gz = {"Accept-Encoding": "gzip"}
    checks = [right(f"/plan/?{PLAN_QUERY}", h) for h in (gz, gz, {}, {}, gz, {})]
    facts["Accept-Encoding"] = f"{sum(checks)}/{len(checks)} answers right (plan)"
    # Cookie on the start page: a learner mid-questions gets their own copy ("Continue where you left off"),
    # everyone else the shared one; and visitors with other cookies.
    jar: dict = {}
    page = client.get("/questions/origin/")
    jar.update(page.cookies())
    form = post_form(body_text(page))
    posted = client.http.request(
        "/questions/origin/",
        "POST",
        data=answer_form(form),
        headers={"Origin": f"https://{HOST}", "Referer": f"https://{HOST}/questions/origin/"},
        cookies=jar,
        port=client.port,
    )
    jar.update(posted.cookies())
    resume = "Continue where you left off"
    personal = [resume in body_text(client.get("/", cookies=jar)) for _ in range(2)]
    shared = [resume not in body_text(client.get("/")) for _ in range(2)]
    facts["Cookie (start)"] = (
        f"mid-questions {sum(personal)}/2 own copy (POST {posted.status}), cookieless {sum(shared)}/2 shared copy"
    )
    # Security headers on a repeat (a hit): each exactly once, as the app sent it.
    r = client.get(f"/plan/?{PLAN_QUERY}")
    counts = {name: sum(1 for k, _ in r.headers if k.lower() == name.lower()) for name in SECURITY_HEADERS}
    doubled = [name for name, n in counts.items() if n != 1]
    facts["security headers on a hit"] = (
        "each once" if not doubled else "not once: " + ", ".join(f"{n}×{counts[n]}" for n in doubled)
    )
    facts["_cache_status"] = r.header("X-Edge-Cache") or "-"
    return facts


def cookie_and_junk_entries(client: Client, nginx: EdgeNginx) -> dict:
    """What visitors' cookies and junk plan links leave in nginx's cache (entries on disk, before and after)."""
    before = nginx.cache_entries()
    hits = 0
    for i in range(20):
        for _ in range(2):
            r = client.get("/", cookies={"theme": f"t{i}"})
        hits += (r.header("X-Edge-Cache") or "") == "HIT"
    after_cookies = nginx.cache_entries()
    statuses = set()
    for i in range(40):
        statuses.add(client.get(f"/plan/?origin=X{i}").status)
    after_junk = nginx.cache_entries()
    return {
        "cookie_entries": after_cookies - before,
        "cookie_hits": hits,
        "junk_entries": after_junk - after_cookies,
        "junk_statuses": sorted(statuses),
    }


def edit_staleness(clients: dict[str, Client], marker: str) -> dict:
    """Save a rename of a country on the shared database, then watch every (layer, page) until 20 answers in a
    row show it: seconds from the commit to the last old page served (None: still old at the cap)."""
    for client in clients.values():  # every page in every cache first
        for _, path in PAGES:
            for _ in range(4):
                client.get(path)
    code = (
        "import time; from pathways.models import Country; c = Country.objects.get(code='GB'); "
        f"c.name += {' ' + marker!r}; c.name_in_sentence += {' ' + marker!r}; c.save(); print(time.time())"
    )
    results: dict = {}
    committed: list[float] = []  # the wall-clock time the save returned (committed), read from the shell
    stop_at = [time.time() + 600]

    def watch(layer: str, label: str, path: str) -> None:
        """Until 20 answers in a row show the edit: the wall-clock time of the last old answer."""
        client = Client(clients[layer].port, clients[layer].cert)
        last_old, streak, served = 0.0, 0, 0
        while time.time() < stop_at[0]:
            sent = time.time()
            r = client.get(path)
            served += 1
            if marker in body_text(r):
                streak += 1
                if streak >= 20:
                    results[(layer, label)] = (last_old, served)
                    return
            else:
                last_old, streak = sent, 0
            time.sleep(0.05)
        results[(layer, label)] = (None, served)

    threads = [threading.Thread(target=watch, args=(layer, label, path)) for layer in clients for label, path in PAGES]
    for thread in threads:
        thread.start()
    try:
        committed.append(float(manage("shell", "-c", code).split()[-1]))
    finally:
        stop_at[0] = (committed[0] if committed else time.time()) + EDIT_CAP
    for thread in threads:
        thread.join()
    return {
        key: (None if last is None else max(0.0, last - committed[0]), served)
        for key, (last, served) in results.items()
    }


# Main ------------------------------------------------------------------------------------------------------------


def load() -> str:
    return "/".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    apt_install("wrk", "wrk")
    for tool in ("unshare", "openssl", fleet.NGINX):
        if not shutil.which(tool):
            sys.exit(f"bench-edge needs {tool}")
    load_before, started_at = load(), now()
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "var").mkdir(parents=True)
    HOSTS.write_text(f"127.0.0.1 {HOST}\n127.0.0.1 localhost\n")
    print(f"== var/edge: migrate, load_reference_data, collectstatic (load average {load_before})", flush=True)
    manage("migrate", "--no-input", "--verbosity", "0")
    manage("load_reference_data")
    manage("collectstatic", "--no-input", "--verbosity", "0")
    cert, key = fleet.make_certificate()

    servers: list[subprocess.Popen] = []
    nginxes: list[EdgeNginx] = []
    try:
        ports = {}
        off = {"SPEED_OFF": "page-cache"}
        for name, extra in (("a1", {}), ("a2", {}), ("b1", off), ("b2", off), ("d1", None), ("d2", None)):
            proc, ports[name] = gunicorn(name, extra)
            servers.append(proc)
        for name, proc in zip(ports, servers, strict=True):
            fleet.wait_for(lambda p=ports[name]: fleet._listening(p), 120, f"app server {name}", proc)
        upstream = {k: f"127.0.0.1:{p}" for k, p in ports.items()}
        sites = {
            "A": EdgeNginx("nginx-a", [upstream["a1"], upstream["a2"]], cert, key, cache=False),
            "B": EdgeNginx("nginx-b", [upstream["b1"], upstream["b2"]], cert, key, cache=True),
            "C": EdgeNginx("nginx-c", [upstream["a1"], upstream["a2"]], cert, key, cache=True),
            "D": EdgeNginx("nginx-d", [upstream["d1"], upstream["d2"]], cert, key, cache=False, bare=True),
        }
        for nginx in sites.values():
            nginx.test()
            nginxes.append(nginx)
            nginx.start()
        clients = {}
        for layer, nginx in sites.items():
            clients[layer] = Client(nginx.https_port, cert)
            fleet.wait_for(lambda c=clients[layer]: c.get("/healthz").status == 200, 120, f"site {layer}")
        for layer, client in clients.items():
            for label, path in PAGES:
                status = client.get(target(layer, path)).status
                if status != 200:
                    raise RuntimeError(f"{layer} {label}: HTTP {status}")
        print(f"== nginx A/B/C/D on {', '.join(str(n.https_port) for n in sites.values())}; app servers {ports}")

        # Throughput: per page, a warm-up on each layer, then ROUNDS alternating runs.
        runs: dict = {(layer, label): [] for layer in sites for label, _ in PAGES}
        print(f"== wrk -t2 -c16 over https: {WARMUP} s warm-up, then {ROUNDS} alternating rounds of {SECONDS} s")
        for label, path in PAGES:
            for layer, nginx in sites.items():
                wrk(nginx.https_port, target(layer, path), WARMUP)
            for round_ in range(ROUNDS):
                for layer, nginx in sites.items():
                    result = wrk(nginx.https_port, target(layer, path), SECONDS)
                    runs[(layer, label)].append(result)
                    print(
                        f"   {label} round {round_ + 1} {layer}: {result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms,"
                        f" p99 {result['p99']:.1f} ms, {result['bad']} bad",
                        flush=True,
                    )
        load_mid = load()

        print("== Vary, security headers, cookies and junk links on each layer", flush=True)
        facts = {layer: vary_facts(clients[layer], ports["b1"]) for layer in CACHED}
        entries = {layer: cookie_and_junk_entries(clients[layer], sites[layer]) for layer in ("B", "C")}
        print(f"== a reference-data edit on the shared database, watched for up to {EDIT_CAP:.0f} s", flush=True)
        stale = edit_staleness({k: clients[k] for k in CACHED}, f"edited-{time.strftime('%H%M%S')}")
    finally:
        for nginx in nginxes:
            nginx.stop()
        for proc in servers:
            stop(proc)
        fleet.cleanup()
    load_after = load()

    # Tables.
    header = ["page", "layer", "req/s", "p50 ms", "p99 ms", "bad", "req/s runs"]
    rows = []
    for label, _ in PAGES:
        base = statistics.median(r["rps"] for r in runs[("A", label)])
        for layer in sites:
            rs = runs[(layer, label)]
            rps = statistics.median(r["rps"] for r in rs)
            rows.append(
                [
                    label,
                    f"{layer}: {LAYERS[layer]}",
                    f"{rps:.0f} ({rps / base:.0%} of A)" if layer != "A" else f"{rps:.0f}",
                    f"{statistics.median(r['p50'] for r in rs):.1f}",
                    f"{statistics.median(r['p99'] for r in rs):.1f}",
                    str(sum(r["bad"] for r in rs)),
                    " / ".join(f"{r['rps']:.0f}" for r in rs),
                ]
            )
    fact_header = ["", *(f"{layer}: {LAYERS[layer]}" for layer in CACHED)]
    fact_rows = []
    for label, _ in PAGES:
        cells = []
        for layer in CACHED:
            last_old, served = stale[(layer, label)]
            cells.append(
                f"still old at {EDIT_CAP:.0f} s ({served} requests)"
                if last_old is None
                else f"{last_old:.2f} s"
                if last_old > 0
                else "none after the save"
            )
        fact_rows.append([f"edit: last old {label} served after", *cells])
    for name in ("HX-Request", "Accept-Encoding", "Cookie (start)", "security headers on a hit"):
        fact_rows.append(
            [f"Vary: {name}" if "headers" not in name else name, *(facts[layer][name] for layer in CACHED)]
        )
    fact_rows.append(
        [
            "20 visitors with other cookies on /",
            "never stored (requests with cookies go to Django)",
            *(
                f"{entries[layer]['cookie_entries']} new cache entries, {entries[layer]['cookie_hits']}/20 repeats HIT"
                for layer in ("B", "C")
            ),
        ]
    )
    fact_rows.append(
        [
            "40 junk plan links (/plan/?origin=X0 to X39)",
            "never stored (only a canonical 200 is)",
            *(
                f"{entries[layer]['junk_entries']} new cache entries (HTTP "
                + ", ".join(map(str, entries[layer]["junk_statuses"]))
                + ")"
                for layer in ("B", "C")
            ),
        ]
    )
    print()
    print(text_table(header, rows))
    print()
    print(text_table(fact_header, fact_rows))
    loads = f"{load_before} before, {load_mid} after the wrk runs, {load_after} at the end"
    print(f"\nload average (1/5/15 min): {loads}")
    if os.environ.get("EDGE_WRITE", "1") != "0":
        write_section(started_at, loads, header, rows, fact_header, fact_rows)
        print(f"appended a section to {RESULTS.relative_to(ROOT)}")
    return 0


SECTION = "## The page layer on a fleet: the app's page cache or nginx's proxy_cache (make bench-edge)"
WHY_MARKER = "<!-- bench-edge: why -->"


def write_section(started_at, loads, header, rows, fact_header, fact_rows) -> None:
    """Append this run's section to bench/RESULTS.md (after make bench's kept part), replacing the one a previous
    make bench-edge wrote; the paragraph under WHY_MARKER, written by people, is kept."""
    text = RESULTS.read_text()
    why = ""
    if SECTION in text:
        text, old = text.split("\n" + SECTION, 1)
        if WHY_MARKER in old:
            why = old.split(WHY_MARKER, 1)[1].strip("\n")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].strip()
    section = f"""
{SECTION}

Measured {started_at} on {machine()}; load average (1/5/15 min) {loads}; written by `make bench-edge`
(bench/edge.py).

Method: deploy/nginx/coding-pathways.conf rendered onto loopback as make fleettest renders it (TLS as shipped, a
throwaway certificate), four copies of it side by side, each in front of two app servers (gunicorn with `make
serve`'s options, 2 sync workers each, DEBUG off, behind a TLS proxy, SQLite, one database for all): A the app's page
cache as shipped (per-process memory, as `make serve` runs it); B nginx's `proxy_cache` for `/`, `/plan/`,
`/compare/` and `/api/plan/` only (`proxy_cache_valid 200 {PUBLIC_MAX_AGE}s`, the pages' max-age; the app's own
Cache-Control wins: 600 s on pages, 60 s on the API), with the app's cache off (`SPEED_OFF=page-cache`); C both;
D, for scale, bench/baseline.py's bare `HttpResponse("ok")` view (the site's proxied Host set to 127.0.0.1, which it
allows).
`wrk -t2 -c16 --latency` over https ({wrk_version}), {WARMUP} s warm-up per layer and page, then {ROUNDS}
alternating rounds of {SECONDS} s (A, B, C, D, A, B, C, D, ...); medians. The edit: a country (GB, on every page below)
renamed with `obj.save()` through `manage.py shell -c` on the shared database, after every page was fetched into
every cache; each page watched through each nginx until 20 answers in a row show the new name (capped at
{EDIT_CAP:.0f} s).

{markdown_table(header, rows)}

{markdown_table(fact_header, fact_rows)}

{WHY_MARKER}
{why}
"""
    RESULTS.write_text(text.rstrip("\n") + "\n" + section.rstrip("\n") + "\n")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            fleet.cleanup()
        sys.exit(130)
