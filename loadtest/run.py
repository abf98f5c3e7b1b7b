"""make loadtest: a bounded load-and-fault test of enquiries, on loopback only.

1. Starts a throwaway PostgreSQL cluster, a local SMTP sink that refuses 20% of messages for now (451, so
   they are retried) and takes 20 ms to answer each one, as a real server takes a moment to queue it,
   `make serve` with 4 workers on that database (rate limits raised for this run only) and 2 task workers
   (`manage.py db_worker`), which send the advisers' notifications as the enquiries come in.
2. 2,000 enquiries from 50 concurrent clients that behave like browsers: fetch the form (with its
   hidden submission id and time-trap token), wait past the time-trap, fill it in, submit, follow
   the redirect to the confirmation. 20% of them submit twice at once (a double click). A client
   whose request fails (connection reset, 5xx) presses submit again, as a person would.
3. Half-way through, one gunicorn worker is killed with SIGKILL, and one task worker is killed with
   SIGKILL while it runs a task (then started again, as systemd would).
4. The server stops; the task workers finish what is due and stop. Then, until every email is sent,
   the harness moves retry times to "now" and lets the lease of a task lost with its worker run out
   (standing in for the minutes a real deployment would wait), runs `requeue_stalled_emails`' work
   and `db_worker --batch`.
5. Reconciles what the clients were told with the database and what the SMTP sink accepted:
   lost, duplicated, 5xx outside the kill window and undelivered notifications must be 0.

Email delivery promises at least once, not exactly once: SMTP cannot close the window between the mail
server taking a message (the final dot of DATA) and the worker writing sent_at and saying goodbye (QUIT), and
a worker killed inside it sends that message again on the retry. So the notifications the sink took twice
must be at most the task-worker kills that fell inside a send window (the sink took a message on that
worker's connection, which then closed without QUIT), and each must be explained by one: its first taking
on the connection the kill cut, its second after the kill.

Knobs: LOADTEST_ENQUIRIES (2000), LOADTEST_CLIENTS (50), LOADTEST_DOUBLE (0.2),
LOADTEST_REFUSE (0.2), LOADTEST_WORKERS (4), LOADTEST_TASK_WORKERS (2), LOADTEST_SMTP_DELAY (0.02 s),
LOADTEST_MIN_SECONDS (3, the time-trap).
"""

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PLAN_QUERY,
    ROOT,
    VENV_BIN,
    fetch,
    free_port,
    machine,
    markdown_table,
    now,
    post_form,
    start,
    stop,
    text_table,
    wait_http,
)

ENQUIRIES = int(os.environ.get("LOADTEST_ENQUIRIES", "2000"))
CLIENTS = int(os.environ.get("LOADTEST_CLIENTS", "50"))
DOUBLE = float(os.environ.get("LOADTEST_DOUBLE", "0.2"))
REFUSE = float(os.environ.get("LOADTEST_REFUSE", "0.2"))
WORKERS = os.environ.get("LOADTEST_WORKERS", "4")
TASK_WORKERS = int(os.environ.get("LOADTEST_TASK_WORKERS", "2"))
SMTP_DELAY = float(os.environ.get("LOADTEST_SMTP_DELAY", "0.02"))
MIN_SECONDS = int(os.environ.get("LOADTEST_MIN_SECONDS", "3"))
RETRIES = 4  # how many times a client presses submit again after a failed request
WORK = ROOT / "var" / "loadtest"


# A throwaway PostgreSQL ------------------------------------------------------------------------


class Postgres:
    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not bins:
            sys.exit("PostgreSQL is not installed (apt-get install -y postgresql)")
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="loadtest-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._as_postgres(str(self.bin / "initdb"), "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", f"{self.dir}/data", "-m", "fast", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


# An SMTP sink that refuses some messages ------------------------------------------------------------


class SmtpSink:
    """Just enough SMTP for Django's backend: accepts a message or refuses it after DATA with 451, a temporary
    refusal (a busy or greylisting server), which the task retries. A 5xx would be given up at once, by design."""

    def __init__(self, refuse: float, delay: float):
        self.refuse = refuse
        self.delay = delay
        self.port = free_port()
        self.accepted: Counter = Counter()  # enquiry reference -> messages accepted
        self.refused = 0
        # Every SMTP conversation: when it opened and closed, whether the client said goodbye (QUIT), and the
        # messages taken in it as (reference, time taken); time.monotonic(), the clock the kills are timed on.
        self.sessions: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        if not self.ready.wait(10):
            sys.exit("the SMTP sink did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _session(self, reader, writer) -> None:
        def say(line: str):
            writer.write(line.encode() + b"\r\n")

        session = {"opened": time.monotonic(), "closed": None, "quit": False, "taken": []}
        self.sessions.append(session)
        say("220 loadtest sink")
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    say("250 loadtest")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    say("250 OK")
                elif command == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    lines = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        lines.append(chunk)
                    if not chunk:
                        break  # the client went away mid-message: a server keeps nothing of it
                    message = b"".join(lines).decode(errors="replace")
                    await asyncio.sleep(self.delay)  # queueing the message; it counts once answered 250
                    if random.random() < self.refuse:
                        self.refused += 1
                        say("451 4.3.0 try again later (refused by the load test)")
                    else:
                        found = re.search(r"^X-Enquiry-Reference:\s*(\S+)", message, re.M | re.I)
                        reference = found.group(1) if found else "?"
                        self.accepted[reference] += 1
                        session["taken"].append((reference, time.monotonic()))
                        say("250 queued")  # (taken even if the client is no longer there to hear it)
                elif command == "QUIT":
                    session["quit"] = True
                    say("221 bye")
                    await writer.drain()
                    break
                else:
                    say("502 not implemented")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            session["closed"] = time.monotonic()
            writer.close()


# Browser-like clients ------------------------------------------------------------------------------


class Log:
    """Every request's start, end and outcome, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[tuple[float, float, str, str]] = []  # (start, end, what, outcome)
        self.done = 0

    def add(self, started: float, what: str, outcome: str) -> None:
        with self.lock:
            self.requests.append((started, time.monotonic(), what, outcome))


def request(log: Log, what: str, url: str, method="GET", data=None, cookies=None):
    started = time.monotonic()
    try:
        response = fetch(url, method, data=data, cookies=cookies, timeout=60)
    except OSError as error:  # reset, refused, timeout: what a killed worker looks like
        log.add(started, what, f"error {type(error).__name__}")
        return None
    log.add(started, what, str(response.status))
    return response


def fill(form: dict, n: int) -> list[tuple[str, str]]:
    """Hidden inputs as served (submission id, time-trap token, CSRF token); contact details typed in;
    the consent box ticked; the honeypot left empty as a person would."""
    typed = {"name": f"Load Test {n}", "email": f"loadtest-{n}@example.org", "phone": "0412 345 678"}
    data, seen = [], set()
    for field in form["fields"]:
        name, kind = field["name"], field.get("type", "text").lower()
        if name in seen:
            continue
        if kind == "hidden":
            data.append((name, field.get("value", "")))
        elif name in typed:
            data.append((name, typed[name]))
        elif kind == "radio":
            data.append((name, "email" if name == "preferred_contact" else field.get("value", "")))
            seen.add(name)
        elif kind == "checkbox" and "consent" in name:
            data.append((name, field.get("value", "on")))
    return data


def submit(log: Log, base: str, action: str, data, cookies) -> str | None:
    """POST the form until it gives a 303 (as a person retries), then follow it; the reference or None."""
    for attempt in range(RETRIES + 1):
        response = request(log, "POST enquiry", base + action, "POST", data, cookies)
        if response is not None and response.status == 303:
            location = response.header("Location")
            request(log, "GET confirmation", urljoin(base, location), cookies=cookies)
            found = re.search(r"/enquire/sent/([^/]+)/", location)
            return found.group(1) if found else location
        time.sleep(0.3 * (attempt + 1))
    return None


def client(log: Log, base: str, n: int, double: bool) -> dict:
    """One person: open the form, take a few seconds, send it (twice at once for a double click)."""
    outcome = {"n": n, "email": f"loadtest-{n}@example.org", "double": double, "refs": [], "submission_id": None}
    path = f"/enquire/?{PLAN_QUERY}"
    page = None
    for attempt in range(RETRIES + 1):
        page = request(log, "GET form", base + path)
        if page is not None and page.status == 200:
            break
        time.sleep(0.3 * (attempt + 1))
    if page is None or page.status != 200 or (form := post_form(page.text)) is None:
        outcome["problem"] = "could not load the form"
        return outcome
    cookies = page.cookies()
    data = fill(form, n)
    outcome["submission_id"] = dict(data).get("submission_id")
    action = urlsplit(urljoin(base + path, form["action"] or path))
    action = action.path + (f"?{action.query}" if action.query else "")
    time.sleep(MIN_SECONDS + random.uniform(0.2, 1.0))
    if double:
        with ThreadPoolExecutor(2) as pair:
            outcome["refs"] = list(pair.map(lambda _: submit(log, base, action, data, cookies), range(2)))
    else:
        outcome["refs"] = [submit(log, base, action, data, cookies)]
    with log.lock:
        log.done += 1
    return outcome


def gunicorn_workers(pidfile: Path) -> list[int]:
    master = int(pidfile.read_text().strip())
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                children.append(int(stat.parent.name))
    return sorted(children)


def cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    return 0


def busy_worker(workers: list[int], tries: int = 200) -> tuple[int, bool]:
    """A worker caught using CPU (so, most likely, mid-request), or any worker after a few seconds."""
    for _ in range(tries):
        before = {pid: cpu_ticks(pid) for pid in workers}
        time.sleep(0.01)
        busy = [pid for pid in workers if cpu_ticks(pid) > before[pid]]
        if busy:
            return random.choice(busy), True
    return random.choice(workers), False


# Main ------------------------------------------------------------------------------------------------


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    pg, sink = Postgres(), SmtpSink(REFUSE, SMTP_DELAY)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pidfile = WORK / "gunicorn.pid"
    env = {
        "VAR_DIR": str(WORK),
        "DATABASE_URL": pg.url,
        "WORKERS": WORKERS,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "ADVISER_EMAILS": "advisers@example.org",
        "ENQUIRY_MIN_SECONDS": str(MIN_SECONDS),
        # Every client comes from 127.0.0.1: the per-address limits are raised for this run only.
        "ENQUIRY_RATE_LIMIT": "1000000",
        "ENQUIRY_RATE_LIMIT_DAY": "1000000",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_CMD_ARGS": f"--pid {pidfile}",
    }
    print(f"== PostgreSQL on port {pg.port}, SMTP sink on {sink.port} (refuses {REFUSE:.0%})", flush=True)
    pg.start()
    sink.start()
    server = None
    tasks = TaskWorkers(env, pg.url)
    log = Log()
    try:
        print(f"== make serve with {WORKERS} workers on {base}, and {TASK_WORKERS} task workers", flush=True)
        server = start(["make", "--no-print-directory", "serve", f"PORT={port}"], env, WORK / "serve.log")
        wait_http(base, "/healthz", server)  # (make serve has migrated the database by now)
        for _ in range(TASK_WORKERS):
            tasks.add()
        check = fetch(f"{base}/enquire/?{PLAN_QUERY}")
        if check.status != 200 or post_form(check.text) is None:
            print(f"the enquiry form is not available (HTTP {check.status}); nothing to test")
            return 1
        doubles = set(random.sample(range(ENQUIRIES), int(ENQUIRIES * DOUBLE)))
        print(f"== {ENQUIRIES} enquiries from {CLIENTS} clients, {len(doubles)} of them sent twice at once", flush=True)
        killed = {}

        def killer():
            while log.done < ENQUIRIES // 2:
                time.sleep(0.05)
            victim, busy = busy_worker(gunicorn_workers(pidfile))
            killed["busy"] = busy
            killed["at"] = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            killed["pid"] = victim
            state = "mid-request" if busy else "idle"
            print(f"   killed worker {victim} ({state}) with SIGKILL after {log.done} enquiries", flush=True)
            killed["task"] = tasks.kill_one_mid_task()
            print(f"   killed task worker {killed['task']['pid']} with SIGKILL; {killed['task']['state']}", flush=True)

        threading.Thread(target=killer, daemon=True).start()
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            outcomes = list(pool.map(lambda n: client(log, base, n, n in doubles), range(ENQUIRIES)))
        elapsed = time.monotonic() - started
        print(f"   done in {elapsed:.0f} s", flush=True)
    finally:
        if server is not None:
            stop(server)
        tasks.finish()
    try:
        print("== sending what is left: retries and the lost task, minutes of waiting skipped", flush=True)
        passes, requeued = drain(env)
        killed["task_kills"] = tasks.kills
        result = reconcile(env, outcomes, log, killed, sink, (passes, requeued), elapsed)
    finally:
        pg.stop()
    return result


class TaskWorkers:
    """`manage.py db_worker` processes beside the app server, as in production (systemd would restart one)."""

    def __init__(self, env: dict, database_url: str):
        self.env = {**env, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY_FILE": str(ROOT / "var" / "secret_key")}
        self.database_url = database_url
        self.procs: dict[str, subprocess.Popen] = {}
        self.kills: list[dict] = []  # every task worker killed with SIGKILL: its pid and when (time.monotonic())

    def add(self) -> None:
        worker_id = f"loadtest-{len(self.procs) + 1}"
        args = [str(VENV_BIN / "python"), "manage.py", "db_worker", "--no-reload", "--interval", "0.2"]
        self.procs[worker_id] = start([*args, "--worker-id", worker_id], self.env, WORK / f"{worker_id}.log")

    def _running(self, cursor, worker_id: str) -> int:
        cursor.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING' AND worker_ids @> %s",
            [json.dumps([worker_id])],
        )
        return cursor.fetchone()[0]

    def kill_one_mid_task(self, tries: int = 2000) -> dict:
        """SIGKILL a task worker the moment the database shows it running a task; start another in its place."""
        import psycopg

        worker_id, proc = random.choice(list(self.procs.items()))
        with psycopg.connect(self.database_url, autocommit=True) as connection, connection.cursor() as cursor:
            for _ in range(tries):
                if self._running(cursor, worker_id):
                    break
                time.sleep(0.005)
            self.kills.append({"pid": proc.pid, "at": time.monotonic(), "why": "mid-task"})
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            time.sleep(0.2)
            left = self._running(cursor, worker_id)
        del self.procs[worker_id]
        self.add()
        state = "its task was left running (killed mid-task)" if left else "it had just finished its task"
        return {"pid": proc.pid, "mid_task": bool(left), "state": state}

    def stop(self, proc: subprocess.Popen, timeout: float = 15) -> None:
        """SIGTERM (the worker finishes its task and stops), then SIGKILL, recorded, if it has not within timeout."""
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kills.append({"pid": proc.pid, "at": time.monotonic(), "why": "did not stop on SIGTERM"})
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def finish(self, timeout: float = 120) -> None:
        """Let the workers send what is due now (retries wait minutes: those are left), then stop them."""
        import psycopg

        if not self.procs:
            return
        deadline = time.monotonic() + timeout
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.database_url, autocommit=True) as connection:
            while time.monotonic() < deadline:
                due = connection.execute(
                    "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY' AND "
                    "(run_after <= now() OR run_after = '9999-01-01T00:00:00Z')"
                ).fetchone()[0]
                if not due:
                    break
                time.sleep(0.5)
        for proc in self.procs.values():
            self.stop(proc)


def manage(env: dict, *args: str) -> str:
    full = {**os.environ, **env, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY_FILE": str(ROOT / "var" / "secret_key")}
    return subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, check=True
    ).stdout


DRAIN_PASS = """
from datetime import timedelta
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from advisor.enquiries import emails as notifications
from advisor.enquiries.models import EmailDelivery
# Standing in for the minutes a deployment waits (no worker runs now): every retry is due, and the lease of a
# task lost with its worker has run out, as for requeue_stalled_emails from cron five minutes later.
DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
EmailDelivery.objects.filter(sent_at=None).update(claimed_until=None)
requeued = notifications.requeue_stalled(now=timezone.now() + notifications.LEASE + timedelta(seconds=1))
print(requeued, EmailDelivery.objects.filter(sent_at=None, gave_up_at=None).count())
"""


def drain(env: dict, max_passes: int = 20) -> tuple[int, int]:
    """db_worker --batch until every email is sent; returns (passes, tasks requeued as lost)."""
    requeued_total = 0
    for n in range(1, max_passes + 1):
        requeued, pending = map(int, manage(env, "shell", "-c", DRAIN_PASS).strip().splitlines()[-1].split())
        requeued_total += requeued
        if pending == 0:
            return n - 1, requeued_total
        manage(env, "db_worker", "--batch", "--no-startup-delay", "--no-reload")
        print(f"   pass {n}: {pending} to send ({requeued} of them requeued as lost)", flush=True)
    return max_passes, requeued_total


def taken_twice(sink: SmtpSink, kills: list[dict]) -> dict:
    """The messages the sink took more than once, set against the task workers killed.

    A kill fell inside a send window when it cut an SMTP conversation in which the sink had taken a message
    (open at the kill, closed without QUIT just after it): the worker may have died before writing sent_at.
    A message taken again is explained when its earlier taking was in a conversation a kill cut and the
    later one came after that kill. A killed worker holds one conversation, so each kill explains at most one.
    """
    cut = {}  # id(session) -> the kill that cut it
    for kill in kills:
        for session in sink.sessions:
            closed = session["closed"] if session["closed"] is not None else float("inf")
            if not session["quit"] and session["opened"] <= kill["at"] <= closed <= kill["at"] + 10:
                cut.setdefault(id(session), kill)
    in_window = {id(kill) for session in sink.sessions if session["taken"] and (kill := cut.get(id(session)))}
    takings: dict[str, list[tuple[float, dict]]] = {}
    for session in sink.sessions:
        for reference, at in session["taken"]:
            takings.setdefault(reference, []).append((at, session))
    extra = explained = 0
    examples = []
    for reference, taken in takings.items():
        taken.sort(key=lambda t: t[0])
        for (_, session), (later_at, _) in zip(taken, taken[1:], strict=False):
            extra += 1
            kill = cut.get(id(session))
            if kill is not None and later_at > kill["at"]:
                explained += 1
                examples.append(
                    f"{reference}: taken, then task worker {kill['pid']} killed, {later_at - kill['at']:.1f} s "
                    "before it was taken again"
                )
    return {
        "twice": extra,
        "unexplained": extra - explained,
        "kills": len(kills),
        "in_window": len(in_window),
        "examples": examples,
    }


def reconcile(env, outcomes, log: Log, killed: dict, sink: SmtpSink, drained: tuple, elapsed: float) -> int:
    os.environ.update({**env, "DEBUG": "0", "HTTPS": "0", "SECRET_KEY_FILE": str(ROOT / "var" / "secret_key")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    import django

    django.setup()
    from advisor.enquiries.models import EmailDelivery, Enquiry

    rows = list(Enquiry.objects.filter(email__startswith="loadtest-").values("email", "submission_id", "reference"))
    by_email = Counter(r["email"] for r in rows)
    by_submission = {str(r["submission_id"]): r for r in rows}
    lost = [o for o in outcomes if o["submission_id"] not in by_submission]
    told_but_missing = [o for o in outcomes if any(o["refs"]) and o["submission_id"] not in by_submission]
    duplicated = sum(count - 1 for count in by_email.values() if count > 1)
    mismatched = [
        o
        for o in outcomes
        if o["submission_id"] in by_submission
        and any(ref and ref != by_submission[o["submission_id"]]["reference"] for ref in o["refs"])
    ]
    kill_at = killed.get("at")

    def in_kill_window(started, ended):
        # In flight on the killed worker, or queued behind it while the master replaced it.
        return kill_at is not None and started <= kill_at + 1.0 and ended >= kill_at - 0.1

    failures = [r for r in log.requests if not r[3][0].isdigit() or r[3].startswith("5")]
    outside = [r for r in failures if not in_kill_window(r[0], r[1])]
    inside = len(failures) - len(outside)
    spam = Enquiry.objects.filter(email__startswith="loadtest-", is_spam=True).count()
    pending = EmailDelivery.objects.filter(enquiry__email__startswith="loadtest-", sent_at__isnull=True).count()
    no_email = Enquiry.objects.filter(email__startswith="loadtest-", is_spam=False, emails__isnull=True).count()
    references = {r["reference"] for r in rows}
    never_mailed = len(references - set(sink.accepted))
    undelivered = pending + no_email + never_mailed
    twice = taken_twice(sink, killed.get("task_kills", []))
    killed_text = f"{twice['kills']} task worker{'s' if twice['kills'] != 1 else ''} killed"
    twice_bound = f"at most {twice['in_window']}: {killed_text}, {twice['in_window']} inside a send window"
    statuses = Counter(r[3] for r in log.requests)
    posts = sorted(r[1] - r[0] for r in log.requests if r[2] == "POST enquiry")

    header = ["check", "count", "target", "result"]
    zero = [
        ["lost (no enquiry in the database)", len(lost)],
        ["  of which the client was shown a confirmation", len(told_but_missing)],
        ["duplicated (more than one enquiry for one person)", duplicated],
        ["double submits answered with another reference", len(mismatched)],
        ["5xx or connection errors outside the kill window", len(outside)],
        ["undelivered notifications", undelivered],
    ]
    rows_out = [[check, count, 0, count == 0] for check, count in zero]
    rows_out += [
        # At least once: a message is taken twice only when a worker dies inside the send window.
        ["notifications the mail server took twice", twice["twice"], twice_bound, twice["twice"] <= twice["in_window"]],
        ["  of which not explained by a task worker kill", twice["unexplained"], 0, twice["unexplained"] == 0],
        ["quarantined as spam", spam, 0, spam == 0],
    ]
    rows_out = [[*r[:3], "PASS" if r[3] else "FAIL"] for r in rows_out]
    failed = sum(r[-1] == "FAIL" for r in rows_out)
    facts = [
        f"{len(outcomes)} people, {sum(o['double'] for o in outcomes)} double submits, {CLIENTS} at a time, "
        f"{elapsed:.0f} s; {len(rows)} enquiries in the database",
        f"requests by outcome: {dict(sorted(statuses.items()))}",
        f"enquiry POST latency: p50 {percentile(posts, 50):.0f} ms, p99 {percentile(posts, 99):.0f} ms",
        f"worker {killed.get('pid', '?')} killed with SIGKILL half-way"
        f" ({'caught mid-request' if killed.get('busy') else 'idle'}); "
        f"{inside} failed requests inside the kill window (retried by the client)",
        f"task worker {killed.get('task', {}).get('pid', '?')} killed with SIGKILL half-way: "
        f"{killed.get('task', {}).get('state', '?')}; tasks requeued as lost: {drained[1]}",
        f"notifications the mail server took twice: {twice['twice']} ({twice_bound}; a send window runs from "
        "the end of the message to the worker's goodbye, after it has written sent_at)"
        + "".join(f"; {example}" for example in twice["examples"]),
        f"SMTP sink ({SMTP_DELAY * 1000:.0f} ms a message): {sum(sink.accepted.values())} accepted, "
        f"{sink.refused} refused; db_worker --batch passes after the run (retries): {drained[0]}",
    ]
    print()
    print(text_table(header, rows_out))
    print("\n".join(facts))
    (ROOT / "loadtest" / "RESULTS.md").write_text(
        f"# Load-and-fault test results\n\nMeasured {now()} on {machine()}; written by `make loadtest`.\n\n"
        f"`make serve` with {WORKERS} gunicorn workers and {TASK_WORKERS} task workers (`db_worker`) on a throwaway "
        f"PostgreSQL; SMTP sink refusing {REFUSE:.0%}; time-trap {MIN_SECONDS:g} s.\n\n"
        "Email delivery is at least once: every notification reaches the mail server, and one is taken twice "
        "only when a task worker dies between the server taking it and the worker writing `sent_at` (a "
        "window SMTP cannot close), at most one per such kill. So the row of messages taken twice passes when "
        "it is at most the task-worker kills that fell inside a send window and a kill explains each one.\n\n"
        f"{markdown_table(header, rows_out)}\n\n" + "\n".join(f"- {fact}" for fact in facts) + "\n"
    )
    return 1 if failed else 0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * pct / 100))] * 1000


if __name__ == "__main__":
    sys.exit(main())
