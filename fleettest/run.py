"""make fleettest: deploy/ as an operator installs it, on loopback, under faults.

What runs, each from deploy/'s own files (addresses, ports and paths changed for loopback, nothing else):
- nginx (Debian's, with Debian's nginx.conf) with deploy/nginx/coding-pathways.conf, TLS included: a throwaway
  certificate for pathways.example.org, which the clients check;
- redis-server (Debian's) with deploy/redis.conf;
- a throwaway PostgreSQL, as make loadtest starts it;
- two app servers and two task workers, each started with the ExecStart, Environment= and EnvironmentFile= of
  deploy/systemd/coding-pathways.service and coding-pathways-worker.service, the environment file written from
  deploy/env.example (test values for the database, Redis and mail). As systemd would: each app server's
  socket (coding-pathways.socket's ListenStream=, on a loopback port) is held here and handed to gunicorn as
  fd 3 with LISTEN_FDS/LISTEN_PID, a start counts once gunicorn says READY=1 on NOTIFY_SOCKET (Type=notify),
  a stop follows KillMode and TimeoutStopSec, and a crashed service starts again after RestartSec;
- the oneshot services the timers start, once each; systemd-analyze verify on every unit.

While learners walk the questions to their plans and people send enquiries through nginx, it
1. saves an edit to reference data in admin on server A, as a content editor, and times when server B (directly
   and through nginx) shows it: budget PAGE_CACHE_VERSION_SECONDS + 1 s;
2. stops Redis for 30 s, then starts it again: no 5xx;
3. SIGKILLs app server A (master and workers; its socket stays, so requests wait for the restart), then loses
   app server B's machine (SIGKILL and its socket closed for 10 s: nginx's proxy_next_upstream takes over), and
   SIGKILLs a task worker mid-task; each comes back: no 5xx but at the instant of a kill;
4. restarts PostgreSQL: no 5xx once it is back;
5. rolls a release (a copy of the tree whose base template differs) one app server at a time, then fetches
   every public page through nginx, gzipped and not: no page of the older release;
6. floods the plan page with junk query parameters for 60 s: no new page-cache entry in Redis; the canonical
   plan page's requests/s before, during and after.
Then it reconciles what clients were confirmed with the rows in PostgreSQL and the mail the SMTP sink took,
prints the table, writes fleettest/RESULTS.md and exits 1 when a budget is missed.

Knobs: FLEETTEST_LEARNERS (4), FLEETTEST_ENQUIRERS (2), FLEETTEST_REDIS_DOWN (30 s), FLEETTEST_FLOOD (60 s),
FLEETTEST_EDITS (3), FLEETTEST_KEEP=1 keeps var/fleettest/releases afterwards.
"""

import contextlib
import fcntl
import gzip
import html
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PLAN_QUERY,
    ROOT,
    Response,
    answer_form,
    free_port,
    gunicorn_opts,
    machine,
    markdown_table,
    now,
    post_form,
    text_table,
)
from loadtest.run import DRAIN_PASS, Postgres, SmtpSink, fill  # noqa: E402

LEARNERS = int(os.environ.get("FLEETTEST_LEARNERS", "4"))
ENQUIRERS = int(os.environ.get("FLEETTEST_ENQUIRERS", "2"))
REDIS_DOWN = float(os.environ.get("FLEETTEST_REDIS_DOWN", "30"))
FLOOD = float(os.environ.get("FLEETTEST_FLOOD", "60"))
EDITS = int(os.environ.get("FLEETTEST_EDITS", "3"))
FLOOD_PROCESSES, FLOOD_THREADS = 2, 4
KEEP = os.environ.get("FLEETTEST_KEEP", "") == "1"
MIN_SECONDS = 1  # the enquiry time-trap for this run (ENQUIRY_MIN_SECONDS), so people send more enquiries

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
WORK = ROOT / "var" / "fleettest"
HOST = "pathways.example.org"  # the site's server_name and ALLOWED_HOSTS, as shipped
VENV = ROOT / ".venv"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECURITY_HEADERS = [
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
    "Strict-Transport-Security",
]
PROFILES = [
    PLAN_QUERY,
    "origin=AU&setting=inpatient&destination=NZ",
    "origin=NZ&setting=inpatient&destination=AU",
    "origin=GB&setting=inpatient&destination=AU",
    "origin=US&setting=outpatient&destination=CA",
    "origin=CA&setting=both&destination=US",
    "origin=none&setting=inpatient&destination=GB",
    "origin=US&setting=both&destination=AU",
    "origin=GB&setting=inpatient&destination=NZ",
    "origin=NZ&setting=inpatient&destination=GB",
]
PUBLIC_PAGES = [
    "/",
    "/questions/origin/",
    "/compare/",
    "/compare/?origin=AU",
    f"/enquire/?{PLAN_QUERY}",
    "/privacy/",
    *[f"/plan/?{p}" for p in PROFILES],
]

# Every process this run starts, so that nothing outlives it (see cleanup()).
PROCS: list[subprocess.Popen] = []


def say(text: str) -> None:
    print(text, flush=True)


# Processes ------------------------------------------------------------------------------------------------


def spawn(args: list[str], env: dict, cwd: Path, log: Path, pass_fds=()) -> subprocess.Popen:
    """Start a command in a session of its own (a process group to signal), with exactly env."""
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=pass_fds
    )
    PROCS.append(proc)
    return proc


def killpg(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def terminate(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        killpg(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            killpg(proc, signal.SIGKILL)
            proc.wait()
    killpg(proc, signal.SIGKILL)  # whatever the leader left behind in its group


def cleanup() -> None:
    for proc in reversed(PROCS):
        with contextlib.suppress(Exception):
            terminate(proc, 10)


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> float:
    """Poll check() until it is true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with status {proc.returncode}")
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


# systemd units, read as systemd reads them -------------------------------------------------------------------


class Unit:
    """The settings of a unit file: every key's values in order (Environment= and ExecStart= may repeat)."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name
        self.values: dict[tuple[str, str], list[str]] = defaultdict(list)
        section, pending = "", ""
        for raw in path.read_text().splitlines():
            line = pending + raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
            elif "=" in line:
                key, value = line.split("=", 1)
                self.values[(section, key.strip())].append(value.strip())

    def get(self, key: str, section: str = "Service", default: str = "") -> str:
        found = self.values.get((section, key))
        return found[-1] if found else default

    def all(self, key: str, section: str = "Service") -> list[str]:
        return self.values.get((section, key), [])


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, blank lines, quotes)."""
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def seconds(value: str) -> float:
    """systemd time spans as the units write them: 20, 20s, 2min, 500ms."""
    found = re.fullmatch(r"([\d.]+)\s*(ms|s|sec|min|m)?", value.strip())
    if not found:
        raise ValueError(f"cannot read the time span {value!r}")
    number, unit = float(found.group(1)), found.group(2) or "s"
    return number * {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60}[unit]


class Substitution:
    """The paths of an installed system, and what they are on this machine."""

    def __init__(self, app_dir: Path, env_file: Path):
        self.pairs = [
            ("/srv/coding-pathways/.venv", str(VENV)),
            ("/srv/coding-pathways", str(app_dir)),
            ("/etc/coding-pathways/env", str(env_file)),
            ("/etc/coding-pathways", str(WORK / "etc")),
            ("/var/lib/coding-pathways", str(WORK / "var")),
        ]

    def __call__(self, text: str) -> str:
        for old, new in self.pairs:
            text = text.replace(old, new)
        return text


def unit_command(unit: Unit, sub: Substitution, key: str = "ExecStart") -> list[tuple[list[str], dict, Path]]:
    """Each ExecStart= of a unit as (argv, environment, working directory), as systemd would run it."""
    env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8", "HOME": "/root"}
    for assignments in unit.all("Environment"):
        for item in shlex.split(sub(assignments)):
            name, value = item.split("=", 1)
            env[name] = value
    for file in unit.all("EnvironmentFile"):
        path = Path(sub(file.lstrip("-")))
        if path.exists() or not file.startswith("-"):
            env.update(read_env_file(path))
    commands = []
    for line in unit.all(key):
        args = []
        for token in shlex.split(sub(line).lstrip("-@:+!")):
            if whole := re.fullmatch(r"\$(\w+)", token):
                args.extend(env.get(whole.group(1), "").split())
            else:
                args.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), token))
        commands.append((args, env, Path(sub(unit.get("WorkingDirectory", default=str(ROOT))))))
    return commands


class Socket:
    """A .socket unit's ListenStream=, held open here across restarts of its service, as systemd holds it."""

    def __init__(self, unit: Unit, port: int):
        streams = unit.all("ListenStream", "Socket")
        if len(streams) != 1:
            raise RuntimeError(f"{unit.name}: expected one ListenStream=, found {streams}")
        self.shipped = streams[0]
        self.sock = socket.create_server(("127.0.0.1", port), backlog=int(unit.get("Backlog", "Socket", "128")))
        # systemd hands it over as fd 3; any number above that here, moved there in the child.
        self.fd = fcntl.fcntl(self.sock.fileno(), fcntl.F_DUPFD, 10)

    def close(self) -> None:
        os.close(self.fd)
        self.sock.close()


class Notify:
    """The NOTIFY_SOCKET of a Type=notify service: systemd counts it started once it says READY=1."""

    def __init__(self, name: str):
        self.path = WORK / f"notify-{name}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.ready = threading.Event()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                message = self.sock.recv(4096).decode(errors="replace")
            except OSError:
                return
            if "READY=1" in message.split("\n"):
                self.ready.set()


DUE_TASKS = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING') AND "
    "(run_after IS NULL OR run_after <= now() OR run_after = '9999-01-01T00:00:00Z') AND "
    "NOT (status = 'RUNNING' AND started_at < now() - interval '30 seconds')"
)
RUNNING_FOR_WORKER = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING' AND worker_ids @> %s"
)

# What systemd does between fork and exec for a socket-activated service: the socket becomes fd 3, and
# LISTEN_FDS/LISTEN_PID (the service's own pid, known only after the fork) say so.
HAND_OVER_SOCKET = """
import os, sys
fd = int(sys.argv[1])
os.dup2(fd, 3)
os.close(fd)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[2], sys.argv[2:])
"""


class Service:
    """One systemd service's main process: started with its ExecStart (on its .socket's socket, told to notify
    when Type=notify), stopped as its KillMode says."""

    def __init__(self, unit: Unit, name: str, env_file: Path, app_dir: Path, listen: Socket | None = None):
        self.unit, self.name, self.env_file, self.app_dir, self.listen = unit, name, env_file, app_dir, listen
        self.proc: subprocess.Popen | None = None
        self.log = WORK / "logs" / f"{name}.log"
        self.starts = 0
        self.notify = Notify(name) if unit.get("Type") == "notify" else None
        self.ready_after: list[float] = []  # seconds from start to READY=1, per start

    def command(self):
        return unit_command(self.unit, Substitution(self.app_dir, self.env_file))[0]

    def start(self) -> None:
        args, env, cwd = self.command()
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n==== fleettest: start {self.starts} from {cwd} at {time.strftime('%H:%M:%S')}\n")
        pass_fds = ()
        if self.listen is not None:
            # As systemd's socket activation: the socket as fd 3, LISTEN_FDS=1 and LISTEN_PID the service's pid.
            fd = self.listen.fd
            args = [sys.executable, "-c", HAND_OVER_SOCKET, str(fd), *args]
            pass_fds = (fd,)
        if self.notify is not None:
            self.notify.ready.clear()
            env = {**env, "NOTIFY_SOCKET": str(self.notify.path)}
        self.started_at = time.monotonic()
        self.proc = spawn(args, env, cwd, self.log, pass_fds)

    def wait_ready(self, timeout: float = 90) -> float:
        """As systemd waits for a Type=notify service (TimeoutStartSec): seconds until READY=1."""
        if self.notify is None:
            return 0.0
        took = wait_for(self.notify.ready.is_set, timeout, f"{self.name}: READY=1", self.proc)
        self.ready_after.append(time.monotonic() - self.started_at)
        return took

    def stop(self) -> float:
        """As systemctl stop: SIGTERM to the main process (KillMode=mixed), SIGKILL to all after TimeoutStopSec."""
        started = time.monotonic()
        proc, timeout = self.proc, seconds(self.unit.get("TimeoutStopSec", default="90"))
        if proc is None or proc.poll() is not None:
            return 0.0
        if self.unit.get("KillMode", default="control-group") == "mixed":
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
        else:
            killpg(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
        killpg(proc, signal.SIGKILL)
        proc.wait()
        return time.monotonic() - started

    def kill(self) -> None:
        """A crash: SIGKILL to every process of the service."""
        killpg(self.proc, signal.SIGKILL)
        self.proc.wait()

    @property
    def restart_sec(self) -> float:
        return seconds(self.unit.get("RestartSec", default="0.1"))


# HTTP: a browser-like client through nginx (TLS checked against the throwaway CA) --------------------------


class _TLSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a loopback port that names the site's host (SNI, certificate check)."""

    def __init__(self, port: int, server_name: str, context: ssl.SSLContext, timeout: float):
        super().__init__("127.0.0.1", port, context=context, timeout=timeout)
        self.server_name = server_name

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.server_name)


class Http:
    """Requests through nginx or straight to an app server; keep-alive per thread, like a browser."""

    def __init__(self):
        self.https_port = self.http_port = 0
        self.context: ssl.SSLContext | None = None
        self.local = threading.local()

    def _connection(self, scheme: str, port: int, server_name: str, timeout: float):
        pool = self.local.__dict__.setdefault("pool", {})
        key = (scheme, port, server_name)
        if key not in pool:
            if scheme == "https":
                pool[key] = _TLSConnection(port, server_name, self.context, timeout)
            else:
                pool[key] = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            pool[key].fresh = True
        return pool[key], pool, key

    def request(
        self,
        path: str,
        method: str = "GET",
        data=None,
        headers: dict | None = None,
        cookies: dict | None = None,
        *,
        scheme: str = "https",
        port: int | None = None,
        host: str = HOST,
        body: bytes | None = None,
        timeout: float = 40,
    ) -> Response:
        port = port or (self.https_port if scheme == "https" else self.http_port)
        head = {"Host": host, "User-Agent": "coding-pathways-fleettest", **(headers or {})}
        if cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (0, 1):
            conn, pool, key = self._connection(scheme, port, host, timeout)
            reused = not conn.fresh
            conn.fresh = False
            try:
                conn.request(method, path, body=body, headers=head)
                resp = conn.getresponse()
                content = resp.read()
                if resp.getheader("Connection", "").lower() == "close" or resp.will_close:
                    conn.close()
                    del pool[key]
                return Response(resp.status, resp.getheaders(), content, 0)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                conn.close()
                del pool[key]
                if reused and attempt == 0:
                    continue  # nginx closed an idle keep-alive connection: a browser just reconnects
                raise error
            except Exception:
                conn.close()
                pool.pop(key, None)
                raise
        raise AssertionError("unreachable")


def text_of(response: Response) -> str:
    body = response.body
    if (response.header("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8", "replace")


def update_cookies(jar: dict, response: Response) -> None:
    jar.update(response.cookies())


class Log:
    """Every request through nginx: (start, end, phase, what, outcome)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[tuple[float, float, str, str, str]] = []
        self.phase = "start"

    def add(self, started: float, what: str, outcome: str, phase: str) -> None:
        with self.lock:
            self.requests.append((started, time.monotonic(), phase, what, outcome))


class Traffic:
    """Learners walking the questions to their plans, and people sending enquiries, through nginx."""

    def __init__(self, client: Http, log: Log):
        self.client, self.log = client, log
        self.running = threading.Event()
        self.running.set()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.outcomes: list[dict] = []
        self.counter = 0
        self.active = 0  # journeys and enquiries under way
        self.lock = threading.Lock()

    def get(self, what: str, path: str, jar: dict | None = None, method="GET", data=None) -> Response | None:
        started, phase = time.monotonic(), self.log.phase
        headers = {"Accept-Encoding": "gzip", "Accept": "text/html"}
        if method == "POST":
            headers["Origin"] = f"https://{HOST}"  # as a browser sends it; Django's CSRF check compares it
        try:
            response = self.client.request(path, method, data=data, headers=headers, cookies=jar)
        except (OSError, http.client.HTTPException) as error:
            self.log.add(started, what, f"error {type(error).__name__}", phase)
            return None
        self.log.add(started, what, str(response.status), phase)
        if jar is not None:
            update_cookies(jar, response)
        return response

    def start(self) -> None:
        self.active = LEARNERS + ENQUIRERS  # each thread counts itself idle in _wait()
        for n in range(LEARNERS):
            self.threads.append(threading.Thread(target=self._learner, args=(n,), daemon=True))
        for _ in range(ENQUIRERS):
            self.threads.append(threading.Thread(target=self._enquirer, daemon=True))
        for thread in self.threads:
            thread.start()

    def pause(self) -> None:
        """Stop starting journeys and enquiries, and wait for those under way to end."""
        self.running.clear()
        deadline = time.monotonic() + 60
        while self.active and time.monotonic() < deadline:
            time.sleep(0.1)

    def resume(self) -> None:
        self.running.set()

    def stop(self) -> None:
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(60)

    def _wait(self) -> bool:
        with self.lock:
            self.active -= 1
        self.running.wait()
        with self.lock:
            self.active += 1
        return not self.stopping.is_set()

    def _learner(self, n: int) -> None:
        rng = random.Random(n)
        while self._wait():
            jar: dict = {}
            self.get("GET start", "/", jar)
            path = "/questions/origin/"
            for _ in range(6):
                page = self.get("GET question", path, jar)
                if page is None or page.status != 200 or (form := post_form(text_of(page))) is None:
                    break
                answer = self.get("POST question", path, jar, "POST", answer_form(form))
                if answer is None or answer.status not in (302, 303):
                    break
                target = urlsplit(urljoin(path, answer.header("Location")))
                path = target.path + (f"?{target.query}" if target.query else "")
                if not path.startswith("/questions/"):
                    self.get("GET plan (from the questions)", path, jar)
                    break
            profile = rng.choice(PROFILES)
            plan = self.get("GET plan", f"/plan/?{profile}", jar)
            self.get("GET compare", "/compare/?origin=" + profile.split("&")[0].split("=")[1], jar)
            self.get("GET api plan", f"/api/plan/?{profile}", jar)
            if plan is not None and plan.status == 200:
                css = re.search(r'href="(/static/[^"]+\.css)"', text_of(plan))
                if css:
                    self.get("GET static", css.group(1))
            time.sleep(rng.uniform(0.05, 0.3))

    def _enquirer(self) -> None:
        while self._wait():
            with self.lock:
                self.counter += 1
                n = self.counter
            outcome = self._enquire(n, double=random.random() < 0.1)
            with self.lock:
                self.outcomes.append(outcome)

    def _enquire(self, n: int, double: bool) -> dict:
        """Open the form, take a moment, send it (twice at once for a double click), retrying as a person."""
        outcome = {"n": n, "double": double, "refs": [], "submission_id": None}
        path = f"/enquire/?{PLAN_QUERY}"
        page = None
        for attempt in range(8):
            page = self.get("GET enquiry form", path)
            if page is not None and page.status == 200:
                break
            time.sleep(min(0.3 * (attempt + 1), 2))
        if page is None or page.status != 200 or (form := post_form(text_of(page))) is None:
            outcome["problem"] = "could not load the form"
            return outcome
        jar = page.cookies()
        data = fill(form, 100000 + n)
        outcome["submission_id"] = dict(data).get("submission_id")
        action = urlsplit(urljoin(path, form["action"] or path))
        action = action.path + (f"?{action.query}" if action.query else "")
        time.sleep(MIN_SECONDS + random.uniform(0.2, 0.6))
        if double:
            results = [None, None]
            pair = [
                threading.Thread(target=lambda i=i: results.__setitem__(i, self._submit(action, data, jar)))
                for i in range(2)
            ]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join()
            outcome["refs"] = results
        else:
            outcome["refs"] = [self._submit(action, data, jar)]
        return outcome

    def _submit(self, action: str, data, jar: dict) -> str | None:
        for attempt in range(10):  # about 20 s of a person pressing "send" again
            response = self.get("POST enquiry", action, dict(jar), "POST", data)
            if response is not None and response.status in (302, 303):
                location = response.header("Location")
                self.get("GET confirmation", urlsplit(urljoin(action, location)).path, dict(jar))
                found = re.search(r"/enquire/sent/([^/]+)/", location)
                return found.group(1) if found else location
            time.sleep(min(0.3 * (attempt + 1), 3))
        return None


# Forms in admin: every field as the browser would send it ----------------------------------------------------


class FormValues(HTMLParser):
    """The values a browser would send for each POST form: inputs, checked boxes, selected options, textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._form = None
        self._select: tuple[str, list, list] | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = []
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [], [])
        elif tag == "option" and self._select is not None:
            (self._select[2] if "selected" in a else self._select[1]).append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            for value in selected or options[:1]:
                self._form.append((name, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None


def admin_form(page: str) -> list[tuple[str, str]]:
    parser = FormValues()
    parser.feed(page)
    return max(parser.forms, key=len, default=[])


# An upstream that echoes what nginx sent it (for the proxy-header checks) -------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


# nginx and Redis from deploy/ ---------------------------------------------------------------------------------


def render_site(upstreams: list[str], https_port: int, http_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx/coding-pathways.conf on loopback: ports, upstream servers, certificate and paths changed.
    Each change must find what it changes, so the shipped file cannot drift from what is tested."""
    text = (DEPLOY / "nginx" / "coding-pathways.conf").read_text()

    def replace(pattern: str, new, expected: int | None = None, flags=re.M) -> None:
        nonlocal text
        text, count = re.subn(pattern, new, text, flags=flags)
        if count == 0 or (expected is not None and count != expected):
            raise RuntimeError(f"deploy/nginx/coding-pathways.conf: {pattern!r} matched {count} times")

    replace(r"^\s*listen \[::\]:.*\n", "")
    replace(r"^(\s*)listen 443 ", rf"\g<1>listen 127.0.0.1:{https_port} ", 2)
    replace(r"^(\s*)listen 80\b", rf"\g<1>listen 127.0.0.1:{http_port}", 2)
    servers = re.findall(r"^\s*server\s+(\S+:\d+)(.*);", text, re.M)
    if not servers:
        raise RuntimeError("deploy/nginx/coding-pathways.conf: no upstream servers")
    options = servers[0][1]
    block = "".join(f"    server {u}{options};\n" for u in upstreams)
    replace(r"(upstream coding_pathways \{\n)((?:\s*server\s+\S+:\d+.*;\n)+)", lambda m: m.group(1) + block, 1)
    replace(r"ssl_certificate \S+;", f"ssl_certificate {cert};", 1)
    replace(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", 1)
    replace(r"/var/log/nginx/", f"{WORK / 'nginx' / 'logs'}/")
    replace(r"/srv/coding-pathways", str(ROOT))
    replace(r"/var/lib/coding-pathways", str(WORK / "var"))
    for left in ("/etc/letsencrypt", "/srv/", "/var/lib/coding-pathways", "10.0.0.", " 443", "listen 80"):
        if left in text:
            raise RuntimeError(f"the rendered site still says {left!r}")
    return text


def render_nginx_conf(site: Path, prefix: Path) -> str:
    """Debian's /etc/nginx/nginx.conf, with the logs, pid and temporary files in prefix and only this site."""
    base = Path("/etc/nginx/nginx.conf")
    text = base.read_text() if base.exists() else "events {}\nhttp {\ninclude /etc/nginx/mime.types;\n}\n"
    text = re.sub(r"^\s*pid .*;\n", "", text, flags=re.M)
    text = re.sub(r"^(\s*)error_log .*;", rf"\g<1>error_log {prefix}/logs/error.log;", text, flags=re.M)
    text = re.sub(r"^(\s*)access_log .*;", rf"\g<1>access_log {prefix}/logs/access.log;", text, flags=re.M)
    text = re.sub(r"^\s*include /etc/nginx/(conf\.d|sites-enabled)/.*;\n", "", text, flags=re.M)
    temp = "".join(
        f"\t{kind}_temp_path {prefix}/tmp/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = re.sub(r"^http \{\n", f"http {{\n{temp}\tinclude {site};\n", text, count=1, flags=re.M)
    if "error_log" not in text:
        text = f"error_log {prefix}/logs/error.log;\n" + text
    return text


class Nginx:
    def __init__(self, name: str, upstreams: list[str], cert: Path, key: Path):
        self.prefix = WORK / name
        for sub in ("logs", "tmp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        self.https_port, self.http_port = free_port(), free_port()
        site = self.prefix / "coding-pathways.conf"
        site.write_text(render_site(upstreams, self.https_port, self.http_port, cert, key))
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(render_nginx_conf(site, self.prefix))
        self.args = [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-g", f"pid {self.prefix}/nginx.pid;"]
        self.proc: subprocess.Popen | None = None

    def test(self) -> str:
        done = subprocess.run([*self.args, "-t"], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"nginx -t refused the site:\n{done.stderr}")
        return done.stderr.strip().splitlines()[-1]

    def start(self) -> None:
        self.proc = spawn(
            [*self.args[:-1], f"{self.args[-1]} daemon off;"],
            dict(os.environ),
            ROOT,
            self.prefix / "logs" / "stderr.log",
        )
        wait_for(lambda: _listening(self.https_port), 20, "nginx", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGQUIT)  # graceful
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            terminate(self.proc)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Redis:
    """redis-server with deploy/redis.conf (included as the README says), on a loopback port of this run."""

    def __init__(self):
        self.port = free_port()
        self.dir = WORK / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "redis.conf"
        self.conf.write_text(
            f"include {DEPLOY / 'redis.conf'}\nport {self.port}\ndir {self.dir}\ndaemonize no\n"
            f"logfile {self.dir / 'redis.log'}\npidfile {self.dir / 'redis.pid'}\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = spawn([REDIS_SERVER, str(self.conf)], dict(os.environ), ROOT, self.dir / "stdout.log")
        wait_for(lambda: self.client().ping(), 20, "redis-server", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=5)

    def stats(self) -> dict:
        r = self.client()
        pages = sum(1 for _ in r.scan_iter(match="pages:*", count=1000))
        return {"keys": r.dbsize(), "pages": pages, "memory": r.info("memory")["used_memory"]}


def make_certificate() -> tuple[Path, Path]:
    """A throwaway certificate for the site's host name, which the clients trust (and check) for this run."""
    directory = WORK / "tls"
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ]
        + ["-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"],
        check=True,
        capture_output=True,
    )
    return cert, key


def copy_release(name: str) -> Path:
    """The working tree (tracked and new files) copied, with a marker in the base template: one release."""
    target = WORK / "releases" / name
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for relative in filter(None, files):
        source = ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    base = target / "templates" / "base.html"
    text = base.read_text()
    if "</body>" not in text:
        raise RuntimeError("templates/base.html has no </body> to put the release marker before")
    base.write_text(text.replace("</body>", f"<!-- fleettest release {name} -->\n</body>", 1))
    return target


# The run -------------------------------------------------------------------------------------------------------


class Fleet:
    def __init__(self):
        self.log = Log()
        self.http = Http()
        self.checks: list[list] = []  # [what, detail, PASS/FAIL]
        self.facts: list[str] = []
        self.windows: list[tuple[float, float, str]] = []  # (start, end, kind): 5xx excused inside
        self.results: dict = {}

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append([what, detail, "PASS" if ok else "FAIL"])
        say(f"   {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
        return ok

    # -- setup --

    def env_file(self, name: str) -> Path:
        """deploy/env.example with this run's database, Redis, mail and addresses."""
        values = read_env_file(DEPLOY / "env.example")
        shipped = set(values)
        values = {k: Substitution(self.releases["r1"], Path())(v) for k, v in values.items()}
        values.update(
            {
                "DATABASE_URL": self.pg.url,
                "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
                "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
                # Every person comes from 127.0.0.1 (through nginx): the per-address limits are raised.
                "ENQUIRY_RATE_LIMIT": "1000000",
                "ENQUIRY_RATE_LIMIT_DAY": "1000000",
                "ENQUIRY_MIN_SECONDS": str(MIN_SECONDS),
            }
        )
        self.overridden = sorted(
            k for k in values if k not in shipped or k in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")
        )
        path = WORK / "etc" / name
        path.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()))
        path.chmod(0o640)
        return path

    def manage(self, *args: str, check: bool = True, release: str = "r1") -> subprocess.CompletedProcess:
        """A manage.py command with the worker unit's environment, as an operator runs one."""
        sub = Substitution(self.releases[release], self.env_a)
        _, env, cwd = unit_command(self.units["coding-pathways-worker.service"], sub)[0]
        done = subprocess.run(
            [str(VENV / "bin" / "python"), "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True
        )
        if check and done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def setup(self) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        for sub in ("logs", "etc", "var"):
            (WORK / sub).mkdir(parents=True)
        self.units = {p.name: Unit(p) for p in sorted(UNITS.glob("*.service"))}
        self.sockets = {p.name: Unit(p) for p in sorted(UNITS.glob("*.socket"))}
        self.timers = {p.name: Unit(p) for p in sorted(UNITS.glob("*.timer"))}
        say("== releases r1 and r2: copies of the working tree whose base template differs")
        self.releases = {name: copy_release(name) for name in ("r1", "r2")}
        self.pg, self.sink, self.redis = Postgres(), SmtpSink(0.0, 0.01), Redis()
        say(
            f"== PostgreSQL on {self.pg.port}, Redis on {self.redis.port} (deploy/redis.conf), "
            f"SMTP sink on {self.sink.port}"
        )
        self.pg.start()
        self.pg_started = True
        self.sink.start()
        self.redis.start()
        (WORK / "etc" / "secret_key").write_text(__import__("secrets").token_urlsafe(50))
        self.ports = {"a": free_port(), "b": free_port()}
        # Two machines' /etc/coding-pathways/env: the same file (the same SECRET_KEY, as every server needs).
        self.env_a = self.env_file("env-a")
        self.env_b = self.env_file("env-b")
        say("== once per release: migrate, load_reference_data; on each app server: collectstatic")
        self.manage("migrate", "--no-input", "--verbosity", "0")
        self.manage("load_reference_data")
        self.manage("collectstatic", "--no-input", "--verbosity", "0")
        app, worker = self.units["coding-pathways.service"], self.units["coding-pathways-worker.service"]
        r1 = self.releases["r1"]
        socket_unit = self.sockets[app.get("Requires", "Unit")]
        self.servers = {
            "a": Service(app, "app-a", self.env_a, r1, Socket(socket_unit, self.ports["a"])),
            "b": Service(app, "app-b", self.env_b, r1, Socket(socket_unit, self.ports["b"])),
        }
        self.workers = [Service(worker, "worker-1", self.env_a, r1), Service(worker, "worker-2", self.env_b, r1)]
        say(
            f"== app servers A and B (coding-pathways.socket, .service) on {self.ports['a']} and {self.ports['b']}, "
            "2 task workers"
        )
        for server in self.servers.values():
            server.start()
        for worker_ in self.workers:
            worker_.start()
        for key, server in self.servers.items():
            server.wait_ready()
            wait_for(lambda key=key: self.direct(key, "/healthz").status == 200, 120, f"app server {key}", server.proc)
        cert, keyfile = make_certificate()
        self.http.context = ssl.create_default_context(cafile=str(cert))
        self.cert, self.key = cert, keyfile
        upstreams = [f"127.0.0.1:{self.ports['a']}", f"127.0.0.1:{self.ports['b']}"]
        self.nginx = Nginx("nginx", upstreams, cert, keyfile)
        say(
            f"== nginx (deploy/nginx/coding-pathways.conf) on https {self.nginx.https_port}, "
            f"http {self.nginx.http_port}"
        )
        self.check("nginx -t accepts the site", True, self.nginx.test())
        self.nginx.start()
        self.http.https_port, self.http.http_port = self.nginx.https_port, self.nginx.http_port
        self.fail_timeout = seconds(
            re.search(r"fail_timeout=(\w+)", (DEPLOY / "nginx" / "coding-pathways.conf").read_text()).group(1)
        )

    def direct(self, server: str, path: str, method="GET", data=None, cookies=None, headers=None) -> Response:
        """Straight to an app server, with the headers nginx would add."""
        head = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", **(headers or {})}
        if method == "POST":
            head["Origin"] = f"https://{HOST}"
        return self.http.request(
            path, method, data=data, headers=head, cookies=cookies, scheme="http", port=self.ports[server], timeout=30
        )

    # -- what deploy/ promises, checked once the fleet is up --

    def check_deploy_files(self) -> None:
        say("== deploy/ as shipped")
        # gunicorn options: the unit's are make serve's.
        args = self.servers["a"].command()[0]
        unit_opts = args[args.index("advisor.wsgi") + 1 :]
        unit_opts = [o for i, o in enumerate(unit_opts) if o != "--bind" and (i == 0 or unit_opts[i - 1] != "--bind")]
        self.check(
            "coding-pathways.service runs gunicorn with make serve's options (GUNICORN_OPTS)",
            unit_opts == gunicorn_opts(),
            " ".join(unit_opts),
        )
        # env.example names only settings the app reads (or the units use).
        settings_text = (ROOT / "advisor" / "settings.py").read_text()
        names = re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.M)
        unknown = [
            n
            for n in names
            if n not in ("BIND", "WORKERS")
            and f'"{n}"' not in settings_text
            and f'"{n.removesuffix("_FILE")}"' not in settings_text
        ]
        self.check(
            "deploy/env.example names only settings the app reads",
            not unknown,
            ", ".join(unknown) or f"{len(names)} variables",
        )
        # systemd's own reading of the units, with this machine's paths.
        rendered = WORK / "systemd"
        rendered.mkdir(exist_ok=True)
        sub = Substitution(self.releases["r1"], self.env_a)
        for path in sorted(UNITS.iterdir()):
            (rendered / path.name).write_text(sub(path.read_text()))
        verify = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in rendered.iterdir())],
            capture_output=True,
            text=True,
            env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
        )
        complaints = [line for line in (verify.stdout + verify.stderr).splitlines() if line.strip()]
        self.check(
            "systemd-analyze verify on every unit",
            verify.returncode == 0 and not complaints,
            "; ".join(complaints[:3]) or f"{len(list(rendered.iterdir()))} units",
        )
        for name, timer in self.timers.items():
            service = name.removesuffix(".timer") + ".service"
            calendars = timer.all("OnCalendar", "Timer")
            parsed = all(
                subprocess.run(["systemd-analyze", "calendar", c], capture_output=True).returncode == 0
                for c in calendars
            )
            self.check(
                f"{name} starts {service}", service in self.units and parsed and bool(calendars), ", ".join(calendars)
            )
        # Redis as deploy/redis.conf sets it.
        r = self.redis.client()
        config = {k: r.config_get(k)[k] for k in ("maxmemory", "maxmemory-policy", "save", "appendonly", "bind")}
        self.check(
            "redis-server runs deploy/redis.conf: 256 MB, allkeys-lru, no persistence, loopback",
            config["maxmemory"] == str(256 * 1024 * 1024)
            and config["maxmemory-policy"] == "allkeys-lru"
            and config["save"] == ""
            and config["appendonly"] == "no"
            and config["bind"].split()[0] == "127.0.0.1",
            ", ".join(f"{k} {v!r}" for k, v in config.items()),
        )

    def check_nginx(self) -> None:
        say("== nginx: TLS, redirects, static files, headers, limits")
        plan = self.http.request(f"/plan/?{PLAN_QUERY}")
        counts = {h: sum(1 for k, _ in plan.headers if k.lower() == h.lower()) for h in SECURITY_HEADERS}
        self.check(
            "plan page over TLS: 200, each security header once (the app's, none doubled)",
            plan.status == 200 and set(counts.values()) == {1},
            f"HTTP {plan.status}; " + ", ".join(f"{h} x{c}" for h, c in counts.items() if c != 1),
        )
        moved = self.http.request(f"/plan/?{PLAN_QUERY}", scheme="http")
        self.check(
            "plain HTTP moves to HTTPS",
            moved.status == 301 and moved.header("Location") == f"https://{HOST}/plan/?{PLAN_QUERY}",
            f"HTTP {moved.status} {moved.header('Location')}",
        )
        health = self.http.request("/healthz", scheme="http")
        self.check(
            "plain-HTTP /healthz reaches the app",
            health.status == 200 and b'"ok"' in health.body,
            f"HTTP {health.status}",
        )
        try:
            self.http.request("/", scheme="http", host="other.example")
            unknown = "answered"
        except (http.client.RemoteDisconnected, ConnectionResetError):
            unknown = "closed"
        self.check("another host name over HTTP: closed unanswered (444)", unknown == "closed", unknown)
        try:
            self.http.request("/", host="other.example")
            sni = "answered"
        except ssl.SSLError as error:
            sni = f"handshake refused ({error.reason})"
        self.check("another host name over TLS: handshake refused", sni.startswith("handshake"), sni)
        css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', text_of(plan))
        if css:
            asset = self.http.request(css.group(1), headers={"Accept-Encoding": "gzip"})
            self.check(
                "hashed static file: 200, gzip, cached a year (immutable), nosniff",
                asset.status == 200
                and asset.header("Content-Encoding") == "gzip"
                and "immutable" in (asset.header("Cache-Control") or "")
                and asset.header("X-Content-Type-Options") == "nosniff",
                f"{css.group(1)}: HTTP {asset.status}, {asset.header('Content-Encoding')}, "
                f"{asset.header('Cache-Control')}",
            )
        else:
            self.check("hashed static file", False, "no hashed stylesheet on the plan page")
        probe = WORK / "var" / "staticfiles" / "fleettest-probe.txt"
        probe.write_text("served by nginx\n")  # whitenoise only knows the files present when a worker starts
        served = self.http.request("/static/fleettest-probe.txt")
        self.check(
            "/static/ is served by nginx from STATIC_ROOT",
            served.status == 200 and served.body == b"served by nginx\n",
            f"HTTP {served.status}",
        )
        for what, response, status in (
            ("414 (request line over 4 KB)", self.http.request("/plan/?" + "x" * 6000), 414),
            ("400 (header field over 4 KB)", self.http.request("/", headers={"X-Big": "y" * 6000}), 400),
            (
                "413 (body over 3 MB)",
                self.http.request(
                    "/enquire/",
                    "POST",
                    body=b"z" * (4 * 1024 * 1024),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{HOST}"},
                ),
                413,
            ),
            ("404 (missing static file)", self.http.request("/static/no-such-file.0123456789ab.css"), 404),
        ):
            missing = [h for h in SECURITY_HEADERS if response.header(h) is None]
            self.check(
                f"nginx's own {what}: security headers",
                response.status == status and not missing and response.header("Cache-Control") is None,
                f"HTTP {response.status}" + (f", missing {', '.join(missing)}" if missing else ""),
            )
        form_page = self.http.request(f"/enquire/?{PLAN_QUERY}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.text)
        big = self.http.request(
            f"/enquire/?{PLAN_QUERY}",
            "POST",
            data={"csrfmiddlewaretoken": token.group(1) if token else "", "name": "z" * 2_700_000},
            headers={"Origin": f"https://{HOST}"},
            cookies=form_page.cookies(),
        )
        self.check(
            "a 2.7 MB form reaches the app's own 'too much to send' page (not nginx's 413)",
            big.status == 400 and b"Too much to send" in big.body,
            f"HTTP {big.status}",
        )

    def check_proxy_headers(self) -> None:
        """The same site in front of an upstream that echoes its request headers, and one that is down."""
        say("== nginx in front of an echo upstream: proxy headers, next upstream, its own 502 page")
        echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        threading.Thread(target=echo.serve_forever, daemon=True).start()
        dead = free_port()
        variant = Nginx("nginx-echo", [f"127.0.0.1:{echo.server_address[1]}", f"127.0.0.1:{dead}"], self.cert, self.key)
        variant.test()
        variant.start()
        client = Http()
        client.context, client.https_port, client.http_port = self.http.context, variant.https_port, variant.http_port
        try:
            seen = [
                client.request(
                    "/plan/",
                    headers={
                        "X-Forwarded-For": "203.0.113.7",
                        "X-Forwarded-Proto": "http",
                        "X-Forwarded-Host": "evil.example",
                        "Forwarded": "for=1.2.3.4",
                    },
                )
                for _ in range(6)
            ]
            self.check(
                "GETs with one upstream down all answered (proxy_next_upstream)",
                all(r.status == 200 for r in seen),
                str(Counter(r.status for r in seen)),
            )
            headers = json.loads(seen[0].body) if seen[0].status == 200 else {}
            self.check(
                "X-Forwarded-For: the client's own entry kept left, nginx appends the address it saw",
                headers.get("x-forwarded-for") == "203.0.113.7, 127.0.0.1",
                repr(headers.get("x-forwarded-for")),
            )
            self.check(
                "X-Forwarded-Proto overwritten (https), never passed through",
                headers.get("x-forwarded-proto") == "https",
                repr(headers.get("x-forwarded-proto")),
            )
            self.check(
                "Host passed on; X-Forwarded-Host and Forwarded dropped",
                headers.get("host") == HOST and "x-forwarded-host" not in headers and "forwarded" not in headers,
                f"host {headers.get('host')!r}",
            )
            plain = client.request("/healthz", scheme="http", headers={"X-Forwarded-Proto": "https"})
            plain_headers = json.loads(plain.body) if plain.status == 200 else {}
            self.check(
                "plain-HTTP /healthz: X-Forwarded-Proto http, whatever the client says",
                plain_headers.get("x-forwarded-proto") == "http",
                repr(plain_headers.get("x-forwarded-proto")),
            )
            echo.shutdown()
            echo.server_close()
            down = client.request("/plan/")
            missing = [h for h in SECURITY_HEADERS if down.header(h) is None]
            self.check(
                "no upstream answers: nginx's own 502 page says so, with the security headers",
                down.status == 502 and b"briefly unavailable" in down.body and not missing,
                f"HTTP {down.status}" + (f", missing {', '.join(missing)}" if missing else ""),
            )
            page = re.search(r'href="(/static/[^"]+)"', down.body.decode(errors="replace"))
            if page:
                style = self.http.request(page.group(1))
                self.check(
                    "the 502 page's stylesheet exists (unhashed name in STATIC_ROOT)",
                    style.status == 200,
                    f"{page.group(1)}: HTTP {style.status}",
                )
        finally:
            variant.stop()
            with contextlib.suppress(Exception):
                echo.server_close()

    def check_loopback_only(self) -> None:
        ports = {
            self.pg.port,
            self.redis.port,
            self.sink.port,
            self.nginx.https_port,
            self.nginx.http_port,
            *self.ports.values(),
        }
        public = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    address, port = fields[1].split(":")
                    if fields[3] == "0A" and int(port, 16) in ports:  # LISTEN
                        loopback = address in ("0100007F", "00000000000000000000000001000000")
                        if not loopback:
                            public.append(f"{int(port, 16)} on {address}")
        self.check("every listener of this run is on loopback", not public, ", ".join(public) or f"{len(ports)} ports")

    # -- faults --

    def phase(self, name: str) -> None:
        self.log.phase = name
        say(f"== {name}")

    def edit_reference(self) -> None:
        """An edit saved in admin on server A (as a content editor); when do B and nginx show it?"""
        self.phase("edit reference data on A")
        password = "fleet-" + __import__("secrets").token_urlsafe(12)
        script = (
            "from django.contrib.auth.models import Group, User\n"
            "u, _ = User.objects.get_or_create(username='fleet-editor')\n"
            f"u.is_staff = True; u.set_password({password!r}); u.save()\n"
            "u.groups.add(Group.objects.get(name='Content editors'))\n"
            "import json; from pathways.models import Source\n"
            "print(json.dumps(list(Source.objects.values_list('pk', 'title'))))\n"
        )
        sources = json.loads(self.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        plan_path = f"/plan/?{PLAN_QUERY}"
        page = text_of(self.direct("a", plan_path))
        pk = next((pk for pk, title in sources if title and html.escape(title, quote=False) in page), None)
        if pk is None:
            self.check("a source cited on the plan page to edit", False)
            return
        jar: dict = {}
        login = self.direct("a", "/admin/login/?next=/admin/")
        update_cookies(jar, login)
        form = dict(admin_form(text_of(login)))
        signed = self.direct(
            "a",
            "/admin/login/?next=/admin/",
            "POST",
            {**form, "username": "fleet-editor", "password": password, "next": "/admin/"},
            jar,
        )
        update_cookies(jar, signed)
        if not self.check(
            "content editor signs in to admin on server A", signed.status == 302, f"HTTP {signed.status}"
        ):
            return
        budget = float(read_env_file(self.env_b).get("PAGE_CACHE_VERSION_SECONDS", "1")) + 1
        results = []
        for n in range(1, EDITS + 1):
            change = f"/admin/pathways/source/{pk}/change/"
            for server in ("a", "b"):
                self.direct(server, plan_path)  # cached on both before the edit
            for _ in range(4):
                self.http.request(plan_path)
            edit_page = self.direct("a", change, cookies=jar)
            values = admin_form(text_of(edit_page))
            marker = f"FleetEdit{n}x{random.randrange(10**6)}"
            old_title = dict(values).get("title", "")
            values = [(k, v) for k, v in values if k not in ("title", "change_reason")]
            values += [
                ("title", re.sub(r" FleetEdit\w+$", "", old_title) + " " + marker),
                ("change_reason", f"make fleettest edit {n}"),
                ("_save", "Save"),
            ]
            saved = self.direct("a", change, "POST", values, jar)
            saved_at = time.monotonic()
            if saved.status != 302:
                errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', text_of(saved), re.S)
                self.check(f"edit {n} saved in admin", False, f"HTTP {saved.status} {errors[:2]}")
                return
            # Each server has two workers (any of which may answer) and nginx has both servers: the edit is
            # visible on one once no fetch after that moment shows the old page.
            fetchers = {
                "A": lambda: self.direct("a", plan_path),
                "B": lambda: self.direct("b", plan_path),
                "nginx": lambda: self.http.request(plan_path, headers={"Accept-Encoding": "gzip"}),
            }
            last_stale: dict[str, float | None] = dict.fromkeys(fetchers)
            fresh: dict[str, bool] = dict.fromkeys(fetchers, False)
            while (at := time.monotonic() - saved_at) < max(10, budget * 3):
                for name, fetch_page in fetchers.items():
                    if marker in text_of(fetch_page()):
                        fresh[name] = True
                    else:
                        last_stale[name] = time.monotonic() - saved_at
                if all(fresh.values()) and at > budget + 1.5:
                    break
                time.sleep(0.03)
            visible = {name: (last_stale[name] or 0.0) if fresh[name] else None for name in fetchers}
            results.append(visible)
            say(
                f"   edit {n}: "
                + ", ".join(f"{k} {'never' if v is None else f'{v:.2f} s'}" for k, v in visible.items())
                + " after the save (last old page served)"
            )
            time.sleep(random.uniform(0.2, 1.2))  # the next edit lands elsewhere in B's second
        self.results["edit"] = {"budget": budget, "runs": results}

    def redis_outage(self) -> None:
        self.phase(f"Redis stopped for {REDIS_DOWN:.0f} s")
        started = time.monotonic()
        self.redis.stop()
        time.sleep(REDIS_DOWN)
        self.phase("Redis started again")
        self.redis.start()
        self.results["redis_down"] = time.monotonic() - started
        time.sleep(10)

    def kill_app_server(self) -> None:
        self.phase("SIGKILL app server A")
        server = self.servers["a"]
        at = time.monotonic()
        server.kill()
        self.windows.append((at - 0.1, at + 1.0, "kill"))
        self.results["kill_at"] = at
        say(
            "   app server A killed (master and workers); systemd starts it again after "
            f"RestartSec={server.restart_sec:g} s"
        )
        time.sleep(server.restart_sec)
        self.phase("app server A started again")
        server.start()
        ready = server.wait_ready()
        wait_for(lambda: self.direct("a", "/healthz").status == 200, 120, "app server A", server.proc)
        say(f"   A said READY=1 {ready:.1f} s after starting")
        time.sleep(self.fail_timeout + 1)
        self.lose_machine()
        self.kill_task_worker()

    def lose_machine(self) -> None:
        """App server B's machine lost: gunicorn killed and its socket gone (connections refused), then back."""
        self.phase("app server B's machine lost (SIGKILL, socket closed)")
        server = self.servers["b"]
        at = time.monotonic()
        server.kill()
        server.listen.close()
        self.windows.append((at - 0.1, at + 1.0, "kill"))
        time.sleep(10)
        self.phase("app server B's machine back")
        server.listen = Socket(self.sockets[server.unit.get("Requires", "Unit")], self.ports["b"])
        server.start()
        server.wait_ready()
        wait_for(lambda: self.direct("b", "/healthz").status == 200, 120, "app server B", server.proc)
        time.sleep(self.fail_timeout + 1)

    def kill_task_worker(self) -> None:
        self.phase("SIGKILL a task worker mid-task")
        import psycopg

        worker = self.workers[0]
        found = re.findall(r"worker_id=(\w+)", worker.log.read_text())
        state = "no worker id in its log"
        if found:
            worker_id = found[-1]
            with psycopg.connect(self.pg.url, autocommit=True) as connection:
                for _ in range(3000):
                    running = connection.execute(
                        RUNNING_FOR_WORKER,
                        [json.dumps([worker_id])],
                    ).fetchone()[0]
                    if running:
                        break
                    time.sleep(0.005)
                worker.kill()
                time.sleep(0.2)
                left = connection.execute(
                    RUNNING_FOR_WORKER,
                    [json.dumps([worker_id])],
                ).fetchone()[0]
            state = "killed mid-task" if left else "killed between tasks"
        else:
            worker.kill()
        self.results["task_kills_mid_task"] = 1 if state == "killed mid-task" else 0
        say(f"   task worker 1 {state}; started again after RestartSec")
        time.sleep(worker.restart_sec)
        worker.start()

    def restart_postgres(self) -> None:
        self.phase("PostgreSQL restarted")
        at = time.monotonic()
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(self.pg.bin / "pg_ctl"),
                "-D",
                f"{self.pg.dir}/data",
                "-l",
                f"{self.pg.dir}/log",
            ]
            + ["-m", "fast", "-w", "restart"],
            check=True,
            capture_output=True,
        )
        back = time.monotonic()
        self.windows.append((at, back + 0.5, "postgres"))
        say(f"   PostgreSQL was away {back - at:.1f} s")
        self.phase("PostgreSQL back")
        time.sleep(10)
        done = self.oneshot("coding-pathways-requeue-emails.service")
        self.check(
            "coding-pathways-requeue-emails.service (under traffic)", done.returncode == 0, done.stdout.strip()[-80:]
        )

    def oneshot(self, name: str) -> subprocess.CompletedProcess:
        results = []
        for args, env, cwd in unit_command(self.units[name], Substitution(self.releases[self.release], self.env_a)):
            results.append(subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True))
            if results[-1].returncode:
                break
        return results[-1]

    def roll(self) -> None:
        self.phase("roll release r2, one app server at a time")
        # The new release's static files first (the same STATIC_ROOT here), then each server in turn.
        self.manage("collectstatic", "--no-input", "--verbosity", "0", release="r2")
        for key in ("a", "b"):
            server = self.servers[key]
            took = server.stop()
            server.app_dir = self.releases["r2"]
            server.start()
            ready = server.wait_ready()
            wait_for(lambda key=key: self.direct(key, "/healthz").status == 200, 120, f"app server {key}", server.proc)
            say(f"   {key.upper()} stopped in {took:.1f} s, said READY=1 {ready:.1f} s after starting, now runs r2")
            time.sleep(2)
        for worker in self.workers:
            worker.stop()
            worker.app_dir = self.releases["r2"]
            worker.start()
        self.release = "r2"
        self.phase("after the roll")
        stale, fresh, unmarked, failed = [], 0, [], []
        for path in PUBLIC_PAGES:
            for encoding in ("gzip", "identity") * 3:  # round robin: every server, both encodings
                response = self.http.request(path, headers={"Accept-Encoding": encoding, "Accept": "text/html"})
                if response.status != 200:
                    failed.append(f"{path} {response.status}")
                    continue
                body = text_of(response)
                if "fleettest release r1" in body:
                    stale.append(f"{path} ({encoding})")
                elif "fleettest release r2" in body:
                    fresh += 1
                else:
                    unmarked.append(path)
        self.results["roll"] = {"stale": stale, "fresh": fresh, "unmarked": sorted(set(unmarked)), "failed": failed}
        # Without the new release's marker on every page, "no old page" would prove nothing.
        self.check(
            "every public page through nginx carries the new release's marker",
            fresh and not unmarked and not failed,
            f"{fresh} fetches",
        )
        say(f"   {len(stale)} pages of r1, {fresh} of r2, {len(set(unmarked))} unmarked, {len(failed)} not 200")

    def flood(self, traffic: Traffic) -> None:
        self.phase("junk-parameter flood")
        traffic.pause()
        canonical = f"/plan/?{PLAN_QUERY}"
        for _ in range(6):
            self.http.request(canonical, headers={"Accept-Encoding": "gzip"})
        before = self.redis.stats()
        stop = threading.Event()
        counts = Counter()

        def measure(label_of):
            while not stop.is_set():
                label = label_of()
                started = time.monotonic()
                try:
                    status = str(self.http.request(canonical, headers={"Accept-Encoding": "gzip"}).status)
                except (OSError, http.client.HTTPException) as error:
                    status = f"error {type(error).__name__}"
                self.log.add(started, "GET plan (measured)", status, self.log.phase)
                ok = status == "200"
                if ok and label:
                    counts[label] += 1

        window = {"label": "before"}
        meters = [threading.Thread(target=measure, args=(lambda: window["label"],), daemon=True) for _ in range(2)]
        for meter in meters:
            meter.start()
        time.sleep(10)
        window["label"] = None
        # The flood comes from other processes, so that the measuring clients here are not starved of the GIL.
        flood_started = time.monotonic()
        flooders = [
            subprocess.Popen(
                [sys.executable, __file__, "--flood", str(self.nginx.https_port), str(self.cert), str(FLOOD), str(i)],
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for i in range(FLOOD_PROCESSES)
        ]
        PROCS.extend(flooders)
        window["label"] = "during"
        time.sleep(FLOOD)
        window["label"] = None
        sent, statuses = 0, Counter()
        for flooder in flooders:
            out, _ = flooder.communicate(timeout=60)
            result = json.loads(out.strip().splitlines()[-1])
            sent += result["sent"]
            statuses.update(result["statuses"])
        flood_ended = time.monotonic()
        with self.log.lock:
            for status, count in statuses.items():
                self.log.requests.extend(
                    [(flood_started, flood_ended, self.log.phase, "GET plan with junk", status)] * count
                )
        during_stats = self.redis.stats()
        window["label"] = "after"
        time.sleep(10)
        stop.set()
        for meter in meters:
            meter.join(30)
        after = self.redis.stats()
        # The count is of keys under the page cache's prefix: none at all would mean it looks in the wrong place.
        self.check("the page cache's keys are found in Redis (pages:*)", before["pages"] > 0, f"{before['pages']} keys")
        self.results["flood"] = {
            "before": before,
            "after_flood": during_stats,
            "after": after,
            "sent": sent,
            "statuses": dict(statuses),
            "rps": {k: counts[k] / (FLOOD if k == "during" else 10) for k in ("before", "during", "after")},
        }
        say(
            f"   {sent} junk requests {dict(statuses)}; page-cache keys {before['pages']} -> {after['pages']}, "
            f"DBSIZE {before['keys']} -> {after['keys']}, used_memory {before['memory']} -> {after['memory']}"
        )
        traffic.resume()

    # -- the end --

    def finish_mail(self) -> dict:
        """Let the task workers send what is due, then the emails a killed worker left (lease skipped)."""
        say("== sending what is left")
        import psycopg

        # The running workers send what is due now; an email whose task died with a killed worker waits for its
        # lease (5 minutes): the drain passes below stand in for that wait.
        deadline = time.monotonic() + 60
        with psycopg.connect(self.pg.url, autocommit=True) as connection:
            while time.monotonic() < deadline and connection.execute(DUE_TASKS).fetchone()[0]:
                time.sleep(0.5)
        for worker in self.workers:
            worker.stop()
        requeued_total, passes = 0, 0
        for passes in range(1, 10):  # noqa: B007 - the count is reported
            requeued, pending = map(
                int,
                self.manage("shell", "-c", DRAIN_PASS, release=self.release).stdout.strip().splitlines()[-1].split(),
            )
            requeued_total += requeued
            if not pending:
                break
            self.manage("db_worker", "--batch", "--no-startup-delay", "--no-reload", release=self.release)
        return {"requeued": requeued_total, "passes": passes - 1}

    def reconcile(self, traffic: Traffic, drained: dict) -> None:
        script = (
            "import json\n"
            "from advisor.enquiries.models import EmailDelivery, Enquiry\n"
            "rows = list(Enquiry.objects.values('email', 'submission_id', 'reference', 'is_spam'))\n"
            "unsent = EmailDelivery.objects.filter(sent_at__isnull=True).count()\n"
            "print(json.dumps({'rows': rows, 'unsent': unsent}, default=str))\n"
        )
        data = json.loads(self.manage("shell", "-c", script, release=self.release).stdout.strip().splitlines()[-1])
        rows = data["rows"]
        by_submission = defaultdict(list)
        for row in rows:
            by_submission[str(row["submission_id"])].append(row)
        outcomes = traffic.outcomes
        confirmed = [o for o in outcomes if any(o["refs"])]
        lost = [
            o
            for o in confirmed
            if not by_submission.get(o["submission_id"])
            or any(ref and ref != by_submission[o["submission_id"]][0]["reference"] for ref in o["refs"])
        ]
        by_email = Counter(r["email"] for r in rows)
        duplicated = sum(len(v) - 1 for v in by_submission.values() if len(v) > 1) + sum(
            c - 1 for c in by_email.values() if c > 1
        )
        unconfirmed = [o for o in outcomes if o["submission_id"] and not any(o["refs"])]
        references = {r["reference"] for r in rows if not r["is_spam"]}
        mailed_twice = sum(c - 1 for c in self.sink.accepted.values() if c > 1)
        self.results["enquiries"] = {
            "people": len(outcomes),
            "confirmed": len(confirmed),
            "rows": len(rows),
            "lost": len(lost),
            "duplicated": duplicated,
            "unconfirmed": len(unconfirmed),
            "unconfirmed_saved": sum(1 for o in unconfirmed if by_submission.get(o["submission_id"])),
            "spam": sum(1 for r in rows if r["is_spam"]),
            "doubles": sum(o["double"] for o in outcomes),
            "undelivered": len(references - set(self.sink.accepted)) + data["unsent"],
            "mailed_twice": mailed_twice,
            "drained": drained,
        }

    def run_oneshots(self) -> None:
        say("== the timers' services, once each")
        for name, unit in self.units.items():
            if unit.get("Type") == "oneshot" and name != "coding-pathways-requeue-emails.service":
                done = self.oneshot(name)
                self.check(name, done.returncode == 0, (done.stdout.strip() or done.stderr.strip())[-100:])

    def app_errors(self) -> list[str]:
        """ERROR lines in the app servers' and workers' logs: the evidence for a 5xx."""
        found = Counter()
        for log in sorted((WORK / "logs").glob("*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if '"level": "ERROR"' not in line and '"level": "CRITICAL"' not in line and "[ERROR]" not in line:
                    continue
                try:
                    record = json.loads(line)
                    message = record.get("message", "")
                    exc = (record.get("exc_info") or "").strip().splitlines()
                    text = f"{message} | {exc[-1] if exc else ''}"
                except ValueError:
                    text = line[-200:]
                found[f"{log.stem}: {text[:220]}"] += 1
        return [f"{count} x {text}" for text, count in found.most_common(12)]


def report(fleet: Fleet, elapsed: float) -> int:
    log = fleet.log.requests
    windows = fleet.windows

    def excused(started, ended):
        return next((kind for a, b, kind in windows if started <= b and ended >= a), None)

    failures = [r for r in log if not r[4][0].isdigit() or r[4].startswith("5")]
    outside = [r for r in failures if excused(r[0], r[1]) is None]
    inside = Counter(excused(r[0], r[1]) for r in failures if excused(r[0], r[1]))
    by_phase = defaultdict(Counter)
    for started, ended, phase, _what, outcome in log:
        by_phase[phase]["requests"] += 1
        if not outcome[0].isdigit() or outcome.startswith("5"):
            by_phase[phase]["excused" if excused(started, ended) else "5xx"] += 1
    r = fleet.results
    enquiries = r.get("enquiries", {})
    edit = r.get("edit", {"budget": 2.0, "runs": []})
    roll = r.get("roll", {"stale": ["not run"], "fresh": 0, "unmarked": [], "failed": []})
    flood = r.get("flood")

    def worst(name):
        times = [run[name] if run[name] is not None else float("inf") for run in edit["runs"]]
        return max(times, default=float("inf"))

    kills = r.get("task_kills_mid_task", 0)

    def fmt(value):
        return "never" if value == float("inf") else f"{value:.2f} s"

    rows = [
        ["requests through nginx", len(log), "-"],
        ["5xx or connection errors outside the kill and restart instants", len(outside), "0"],
        ["  of which while Redis was down", by_phase[f"Redis stopped for {REDIS_DOWN:.0f} s"]["5xx"], "0"],
        [
            "  (at the instant of the app server kill / during the PostgreSQL restart)",
            f"{inside.get('kill', 0)} / {inside.get('postgres', 0)}",
            "-",
        ],
        ["lost enquiries (confirmed to the person, not in PostgreSQL)", enquiries.get("lost", "?"), "0"],
        ["duplicated enquiries", enquiries.get("duplicated", "?"), "0"],
        [
            "notifications the mail server took twice",
            enquiries.get("mailed_twice", "?"),
            f"<= {kills} (task workers killed mid-task)",
        ],
        ["undelivered notifications", enquiries.get("undelivered", "?"), "0"],
        ["pages of the older release after the roll", len(roll["stale"]), "0"],
        [
            f"edit saved on A: visible on A (direct), worst of {len(edit['runs'])}",
            fmt(worst("A")),
            f"<= {edit['budget']:g} s",
        ],
        [
            f"edit saved on A: visible on B (direct), worst of {len(edit['runs'])}",
            fmt(worst("B")),
            f"<= {edit['budget']:g} s",
        ],
        ["edit visible through nginx (every server), worst", fmt(worst("nginx")), f"<= {edit['budget']:g} s"],
    ]
    if flood:
        rows += [
            ["page-cache entries added by the junk flood", flood["after"]["pages"] - flood["before"]["pages"], "0"],
            [
                "Redis keys (DBSIZE) before / after the flood",
                f"{flood['before']['keys']} / {flood['after']['keys']}",
                "-",
            ],
            [
                "Redis used_memory before / after the flood",
                f"{flood['before']['memory'] / 1e6:.1f} MB / {flood['after']['memory'] / 1e6:.1f} MB",
                "-",
            ],
            [
                "canonical plan page req/s before / during / after the flood",
                " / ".join(f"{flood['rps'][k]:.0f}" for k in ("before", "during", "after")),
                "-",
            ],
        ]
    else:
        rows += [["page-cache entries added by the junk flood", "not run", "0"]]

    def verdict(row):
        value, target = row[1], row[2]
        if target == "-":
            return "-"
        if target.startswith("<= ") and target.endswith(" s"):
            return "PASS" if value != "never" and float(value.split()[0]) <= float(target[3:-2]) else "FAIL"
        if target.startswith("<= "):
            return "PASS" if isinstance(value, int) and value <= int(target.split()[1]) else "FAIL"
        return "PASS" if str(value) == target else "FAIL"

    rows = [[*row, verdict(row)] for row in rows]
    failed = [row[0] for row in rows if row[3] == "FAIL"] + [c[0] for c in fleet.checks if c[2] == "FAIL"]
    header = ["budget", "measured", "target", "result"]
    phases = [[phase, c["requests"], c["5xx"], c["excused"]] for phase, c in by_phase.items()]
    phase_header = ["phase", "requests", "5xx/errors", "at a kill/restart instant"]
    errors = fleet.app_errors()
    facts = [
        f"{elapsed / 60:.1f} minutes; {LEARNERS} learners and {ENQUIRERS} people enquiring at a time, "
        "through nginx over TLS",
        f"requests by outcome: {dict(sorted(Counter(x[4] for x in log).items()))}",
        f"5xx outside the instants, first ones: {[(x[2], x[3], x[4]) for x in outside[:5]]}"
        if outside
        else "no 5xx outside the instants",
        f"enquiries: {enquiries.get('people', 0)} people ({enquiries.get('doubles', 0)} double clicks), "
        f"{enquiries.get('confirmed', 0)} confirmed, {enquiries.get('rows', 0)} rows; "
        f"{enquiries.get('unconfirmed', 0)} gave up unconfirmed ({enquiries.get('unconfirmed_saved', 0)} of them "
        f"saved all the same); {enquiries.get('spam', 0)} quarantined as spam",
        f"mail: {sum(fleet.sink.accepted.values()) if hasattr(fleet, 'sink') else 0} accepted by the sink; after the "
        f"run, tasks requeued as lost {enquiries.get('drained', {}).get('requeued', 0)}, db_worker --batch passes "
        f"{enquiries.get('drained', {}).get('passes', 0)}",
        "edits, seconds from the save until the last old page on A, B and through nginx: "
        + "; ".join(
            " / ".join(fmt(v if v is not None else float("inf")) for v in run.values()) for run in edit["runs"]
        ),
        f"after the roll: {roll['fresh']} fetches of r2 pages, stale {roll['stale'][:6]}, "
        f"unmarked {roll['unmarked']}, not 200 {roll['failed'][:6]}",
    ]
    if flood:
        facts.append(
            f"junk flood: {flood['sent']} requests {flood['statuses']}; page-cache keys {flood['before']['pages']} -> "
            f"{flood['after_flood']['pages']} (end of flood) -> {flood['after']['pages']} (10 s later)"
        )
    print()
    print(text_table(header, rows))
    print()
    print(text_table(phase_header, phases))
    print()
    print(text_table(["deploy/ check", "detail", "result"], fleet.checks))
    print()
    print("\n".join(facts))
    if errors:
        print("\nERROR lines in the app servers' and workers' logs (var/fleettest/logs/):")
        print("\n".join(errors))
    (ROOT / "fleettest" / "RESULTS.md").write_text(
        f"# Fleet test results\n\nMeasured {now()} on {machine()}; written by `make fleettest`.\n\n"
        "deploy/ as shipped, on loopback: nginx 1.22 (Debian) with deploy/nginx/coding-pathways.conf over TLS, "
        "redis-server 7.0 with deploy/redis.conf, PostgreSQL 15, two app servers and two task workers started with "
        "the ExecStart of deploy/systemd/'s units and an environment file written from deploy/env.example "
        f"(test values: {', '.join(getattr(fleet, 'overridden', []))}).\n\n"
        f"{markdown_table(header, rows)}\n\n## Requests by phase\n\n{markdown_table(phase_header, phases)}\n\n"
        f"## deploy/ checks\n\n{markdown_table(['check', 'detail', 'result'], fleet.checks)}\n\n## Facts\n\n"
        + "\n".join(f"- {fact}" for fact in facts)
        + ("\n\n## ERROR lines in the app logs\n\n" + "\n".join(f"- `{e}`" for e in errors) if errors else "")
        + "\n"
    )
    if failed:
        print(f"\nMISSED: {'; '.join(failed)}")
    return 1 if failed else 0


def main() -> int:
    signal.signal(signal.SIGTERM, _sigterm)
    for program in (NGINX, REDIS_SERVER):
        if not os.access(program, os.X_OK):
            sys.exit(f"{program} is missing: make fleettest installs it (make nginx redis-server)")
    fleet = Fleet()
    fleet.release = "r1"
    fleet.pg_started = False
    started = time.monotonic()
    traffic = None
    try:
        fleet.setup()
        fleet.check_deploy_files()
        fleet.check_nginx()
        fleet.check_proxy_headers()
        fleet.check_loopback_only()
        traffic = Traffic(fleet.http, fleet.log)
        fleet.phase("warm-up")
        traffic.start()
        time.sleep(10)
        fleet.edit_reference()
        fleet.phase("steady")
        time.sleep(5)
        fleet.redis_outage()
        fleet.kill_app_server()
        fleet.restart_postgres()
        fleet.roll()
        fleet.flood(traffic)
        fleet.phase("cool-down")
        time.sleep(5)
        traffic.stop()
        drained = fleet.finish_mail()
        fleet.reconcile(traffic, drained)
        fleet.run_oneshots()
    except KeyboardInterrupt:
        say("\ninterrupted: stopping everything")
        raise
    except Exception as error:
        say(f"\nthe run stopped early: {type(error).__name__}: {error}")
        fleet.check("the run completed", False, f"{type(error).__name__}: {str(error)[:300]}")
    finally:
        if traffic is not None:
            traffic.stopping.set()
            traffic.running.set()
        if hasattr(fleet, "nginx"):
            fleet.nginx.stop()
        cleanup()
        if fleet.pg_started:
            fleet.pg.stop()
        if not KEEP:
            shutil.rmtree(WORK / "releases", ignore_errors=True)
    return report(fleet, time.monotonic() - started)


def flood_process(port: int, cafile: str, duration: float, offset: int) -> None:
    """One process of the junk flood: FLOOD_THREADS clients, each query string new; prints what it got."""
    client = Http()
    client.https_port, client.context = port, ssl.create_default_context(cafile=cafile)
    stride = FLOOD_PROCESSES * FLOOD_THREADS
    sent, statuses, lock = [0], Counter(), threading.Lock()
    deadline = time.monotonic() + duration

    def junk(n: int) -> None:
        while time.monotonic() < deadline:
            n += stride
            try:
                status = str(client.request(f"/plan/?{PLAN_QUERY}&utm={n}", headers={"Accept-Encoding": "gzip"}).status)
            except (OSError, http.client.HTTPException) as error:
                status = f"error {type(error).__name__}"
            with lock:
                statuses[status] += 1
                sent[0] += 1

    threads = [threading.Thread(target=junk, args=(offset * FLOOD_THREADS + i,)) for i in range(FLOOD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"sent": sent[0], "statuses": statuses}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flood"]:
        flood_process(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # everything this run started is stopped by now (main's finally)
