"""Shared helpers for the enquiry tests (not a test module itself)."""

import socket
import socketserver
import threading
import time
import uuid

import pytest

from advisor.enquiries.forms import make_token

PLAN_QUERY = "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
ENQUIRE_URL = f"/enquire/?{PLAN_QUERY}"

# Distinctive values, so a test can look for them in logs, emails and pages.
PERSONAL = {
    "name": "Zebedee Quartermaine",
    "email": "zebedee.q@example.org",
    "phone": "0412 345 678",
    "best_time": "Tuesdays after 4pm zz",
    "message": "I trained at Wollongong and want Leeds zz",
}
PHONE_E164 = "+61412345678"


@pytest.fixture
def enquiry_settings(settings):
    settings.ADVISER_EMAILS = ["advisers@provider.example"]
    settings.SITE_URL = "https://pathways.example"


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_refusing_smtp(settings) -> None:
    """Point the default mailer at a real SMTP connection that is refused (a mail server that is down)."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }


class _ScriptedSmtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend, on a real socket: "250 OK" to every command, except the replies the
    server was given, by verb ("RCPT", "MAIL", "DATA") or "message" for the end of a message's data: a reply line,
    or a function of the command line that returns one. "{argument}" in a reply is what followed the verb's colon
    (the address, for RCPT TO), as a mail server names it."""

    def say(self, reply: str) -> None:
        self.wfile.write(reply.encode() + b"\r\n")

    def handle(self):
        replies = self.server.replies
        self.say("220 test")
        for line in self.rfile:
            command = line.decode(errors="replace").strip()
            verb = command.split(" ")[0].upper()
            reply = replies.get(verb, "354 go on" if verb == "DATA" else "250 OK")
            reply = (reply(command) if callable(reply) else reply).format(argument=command.partition(":")[2])
            if verb == "QUIT":
                self.say("221 bye")
                return
            self.say(reply)
            if verb == "DATA" and reply.startswith("354"):
                for data in self.rfile:
                    if data in (b".\r\n", b".\n"):
                        break
                self.say(replies.get("message", "250 queued"))


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, and the default mailer pointed at it: `smtp_server(RCPT="550 ...")` starts
    one answering as told (see _ScriptedSmtp). Stopped after the test."""
    servers = []

    def start(**replies):
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ScriptedSmtp)
        server.daemon_threads = True
        server.replies = replies
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": server.server_address[1], "timeout": 5},
            }
        }
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp_refusing_recipients(smtp_server):
    """A real SMTP server on loopback that refuses every recipient for good, naming the address in its answer, as a
    mail server does for an unknown mailbox: the error Django raises then carries the address."""
    smtp_server(RCPT="550 5.1.1 {argument}: no such mailbox")


def use_memory_mail(settings) -> None:
    """The mail server is back: every message lands in django.core.mail.outbox, as the test run starts."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def run_tasks() -> None:
    """Run the task worker as `manage.py db_worker --batch` does: every task due now, then stop.

    In this process and inside this test's transaction, so the test sees what the tasks did (emails land in
    django.core.mail.outbox). As Django's test client does for requests, the worker's recycling of database
    connections is switched off meanwhile: it would close the connection the test's transaction lives on.
    The worker sets its own SIGINT/SIGTERM handlers: pytest's are put back.
    """
    import signal
    from unittest import mock

    from django.core.management import call_command

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None):
            call_command("db_worker", batch=True, startup_delay=False, reload=False)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def minutes_pass() -> None:
    """Retries wait minutes (advisor.enquiries.emails.backoff): move every waiting task's time to now."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def form_data(age_seconds: float = 30, submission_id=None, **overrides) -> dict:
    """A valid enquiry POST, as if the form had been open for `age_seconds`."""
    submission_id = submission_id or uuid.uuid4()
    data = {
        **PERSONAL,
        "preferred_contact": "phone",
        "contact_consent": "on",
        "submission_id": str(submission_id),
        "form_token": make_token(submission_id, time.time() - age_seconds),
        "extra_reference": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def subprocess_env(database_url: str) -> dict:
    import os

    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HTTPS": "0",
        "DEBUG": "0",
        "EMAIL_URL": "locmem://",
        "ENQUIRY_RATE_LIMIT": "1000",
        "ENQUIRY_RATE_LIMIT_DAY": "1000",
        "LOG_LEVEL": "WARNING",
        "PLAIN_STATIC": "1",
    }


def run_manage(env: dict, *args: str, timeout: float = 120):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


@pytest.fixture(scope="session")
def sqlite_file_env(tmp_path_factory):
    """A migrated SQLite file with the production options (WAL, IMMEDIATE transactions, busy timeout),
    for tests that need several processes or connections on one real database file."""
    path = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    env = subprocess_env(f"sqlite:///{path}")
    run_manage(env, "migrate", "--no-input", "-v", "0")
    return env


def plan_snapshot(origin="AU", destination="GB", credentials=("hlt50321",), setting="inpatient"):
    """The plan JSON an enquiry stores: what the API gives for that profile."""
    import json

    from pathways.presenter import plan_json
    from pathways.reference import load_reference
    from pathways.rules import LearnerProfile, build_plan

    reference = load_reference()
    plan = build_plan(LearnerProfile(origin, frozenset(credentials), setting, 2, destination), reference)
    return json.loads(json.dumps(plan_json(plan, reference)))


def make_enquiry(**fields):
    """An enquiry as the form would save it (no request involved)."""
    from django.utils import timezone

    from advisor.enquiries import services

    values = {
        "name": "Ada Example",
        "email": "ada@example.org",
        "phone": "+61412000111",
        "preferred_contact": "email",
        "notice_version": "test",
        "contact_consent_at": timezone.now(),
        "plan_snapshot": plan_snapshot(),
        "origin_code": "AU",
        "destination_code": "GB",
    }
    values.update(fields)
    spam_reason = values.pop("spam_reason", "")
    enquiry, _ = services.submit(submission_id=uuid.uuid4(), spam_reason=spam_reason, **values)
    return enquiry


def make_staff(username: str, group: str | None = None, superuser: bool = False):
    from django.contrib.auth.models import Group, User

    if superuser:
        return User.objects.create_superuser(username, f"{username}@staff.example", "a-long-Password-1")
    user = User.objects.create_user(username, f"{username}@staff.example", "a-long-Password-1", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user
