"""make audit: the Nu Html Checker, axe-core and Lighthouse over every page of the app.

Installs what it needs (npm ci for vnu-jar and Lighthouse, Debian's chromium and a Java
runtime), starts `make serve` on a free port with its own database under var/audit, walks
the questionnaire like a person to reach every step, then:
- Nu Html Checker on each page's HTML, ignoring only the messages about htmx's hx-*
  attributes, which the checker does not know;
- axe-core (WCAG 2.0/2.1/2.2 A and AA tags) in Chromium with JavaScript on and off, and any
  Content-Security-Policy violation the console reports;
- Lighthouse 12.8.2 on start, a question, plan, compare and the enquiry form (a run that fails with a
  runtime error, as Chromium's trace recording sometimes does on a busy machine, is run once more and
  its row says so; a second failure fails the row);
- the plan page budgets (audit/plan_budgets.py) over every plan a learner can reach: visible words,
  sentences said twice, and the answer inside the first screen; the worst page for each;
- the admin home and the dashboard signed in as a course adviser, with a quarter's enquiries in the database:
  the Nu Html Checker and axe as above, and each page's height at 1280x900 (the dashboard: at most 1,800 px,
  two screens).
Prints tables, writes audit/RESULTS.md, exits 1 when a target is missed.
Knobs: AUDIT_LIGHTHOUSE=0 skips Lighthouse; AUDIT_KEEP=1 keeps the page copies under var/audit;
AUDIT_ONLY=plans runs only the plan page budgets (well under a minute) and prints them.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit import plan_budgets  # noqa: E402
from bench.common import (  # noqa: E402
    PLAN_QUERY,
    ROOT,
    apt_install,
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

WORK = ROOT / "var" / "audit"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LIGHTHOUSE_PAGES = ["start", "question: origin", "plan", "compare", "enquiry form"]
LIGHTHOUSE_MIN = 95
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# What the audited server gets: its own database, no real mail, no time-trap wait for our one enquiry.
SERVER_ENV = {"VAR_DIR": str(WORK), "EMAIL_URL": "locmem://", "ENQUIRY_MIN_SECONDS": "0", "LOG_LEVEL": "WARNING"}
ENQUIRER = {"name": "Alex Example", "email": "alex@example.com", "phone": "0412 345 678"}
VIEWPORT = {"width": 1280, "height": 900}
# A course adviser, made as the tests make one (tests/enquiry_support.py make_staff): a staff user in the group.
ADVISER = {"username": "audit-adviser", "password": "an-Audit-Password-1"}
# The adviser's pages and the most each may measure at 1280x900 (None: printed, no limit).
ADVISER_PAGES = [
    ("admin home (course adviser)", "/admin/", None),
    ("dashboard (course adviser)", "/admin/advisor/enquiry/dashboard/", 1800),
]


def install_tools() -> None:
    apt_install("java", "default-jre-headless")
    apt_install("chromium", "chromium")
    apt_install("npm", "npm")
    if not VNU.exists() or not (ROOT / "node_modules" / "lighthouse").exists():
        print("== npm ci (vnu-jar, lighthouse)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


# Reaching every page --------------------------------------------------------------------------


class Visitor:
    """A browser-like client: keeps cookies, records every page it sees."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.pages: list[dict] = []  # {"label", "url", "status", "html", "action"}

    def request(self, path: str, method: str = "GET", data=None):
        response = fetch(urljoin(self.base, path), method, data=data, cookies=self.cookies)
        self.cookies |= response.cookies()
        return response

    def record(self, label: str, path: str, response, action: str = "visit", data=None) -> None:
        self.pages.append(
            {"label": label, "path": path, "status": response.status, "html": response.text, "action": action}
            | ({"data": data} if data is not None else {})
        )

    def visit(self, label: str, path: str, expect: int = 200):
        response = self.request(path)
        if response.status == expect:
            self.record(label, path, response)
        else:
            print(f"   {label}: not available (HTTP {response.status} at {path})", flush=True)
        return response


def fill(form: dict, attempt: int) -> list[tuple[str, str]]:
    """Answer a form as a person would. Attempt 0 picks real answers (not "none" when there is a
    choice); attempt 1 also ticks the first checkbox of each group and types a number."""
    data, seen = [], set()
    radios: dict[str, list[str]] = {}
    for field in form["fields"]:
        if field["tag"] == "input" and field.get("type", "").lower() == "radio":
            radios.setdefault(field["name"], []).append(field.get("value", ""))
    for field in form["fields"]:
        name, kind = field["name"], field.get("type", "text").lower()
        if name in seen:
            continue
        if field["tag"] == "input" and kind == "hidden":
            data.append((name, field.get("value", "")))
        elif kind == "radio":
            real = [v for v in radios[name] if v.lower() not in ("none", "not-sure", "unsure")]
            data.append((name, (real or radios[name])[0]))
            seen.add(name)
        elif kind == "checkbox" and (attempt or "consent" in name):
            data.append((name, field.get("value", "on")))
            seen.add(name)
        elif field["tag"] == "select":
            options = [o for o in field["options"] if o]
            if options:
                data.append((name, options[0]))
            seen.add(name)
        elif kind in ("text", "email", "tel", "number") and field["tag"] == "input":
            for key, value in ENQUIRER.items():
                if key in name.lower():
                    data.append((name, value))
                    break
            else:
                if attempt and kind == "number" or "year" in name:
                    data.append((name, "2"))
            seen.add(name)
    return data


def walk(base: str) -> Visitor:
    """Start page, each question step (and one with an error), check answers, plan, compare,
    enquiry form, confirmation, privacy, error pages."""
    v = Visitor(base)
    v.visit("start", "/")
    origin = v.request("/questions/origin/")
    if origin.status == 200 and (form := post_form(origin.text)):
        errored = v.request(
            "/questions/origin/", "POST", [(k, v_) for k, v_ in fill(form, 0) if k == "csrfmiddlewaretoken"]
        )
        if errored.status == 200:
            v.record("question: origin, with an error", "/questions/origin/", errored, action="submit-empty")
    path, steps = "/questions/origin/", 0
    while path.startswith("/questions/") and steps < 8:
        steps += 1
        page = v.request(path)
        if page.status != 200:
            print(f"   {path}: HTTP {page.status}", flush=True)
            break
        label = "check answers" if path.rstrip("/").endswith("check") else f"question: {path.split('/')[2]}"
        v.record(label, path, page)
        form = post_form(page.text)
        if form is None:
            break
        for attempt in (0, 1):
            answer = v.request(path, "POST", fill(form, attempt))
            if answer.status in (301, 302, 303):
                target = urlsplit(urljoin(base + path, answer.header("Location")))
                path = target.path + (f"?{target.query}" if target.query else "")
                break
        else:
            print(f"   {path}: could not answer it (HTTP {answer.status})", flush=True)
            break
    v.visit("plan", f"/plan/?{PLAN_QUERY}")
    v.visit("plan with a bad link (400)", "/plan/?origin=XX&destination=", expect=400)
    v.visit("compare", "/compare/")
    v.visit("compare ?origin=AU", "/compare/?origin=AU")
    enquiry_path = f"/enquire/?{PLAN_QUERY}"
    enquiry = v.visit("enquiry form", enquiry_path)
    if enquiry.status == 200 and (form := post_form(enquiry.text)):
        action = urljoin(enquiry_path, form["action"]) if form["action"] else enquiry_path
        empty = v.request(action, "POST", [(k, x) for k, x in fill(form, 0) if k not in ENQUIRER and k != "consent"])
        if empty.status == 200:
            v.record("enquiry form, with errors", enquiry_path, empty, action="submit-empty")
        sent = v.request(action, "POST", fill(form, 0))
        if sent.status in (302, 303):
            v.visit("enquiry confirmation", urlsplit(sent.header("Location")).path)
        else:
            print(f"   enquiry confirmation: not reached (POST gave HTTP {sent.status})", flush=True)
    v.visit("privacy", "/privacy/")
    v.visit("page not found (404)", "/no-such-page/", expect=404)
    return v


def adviser_visit(base: str) -> Visitor:
    """Signs in as a course adviser, as a person does (the login form, its CSRF token), and visits the admin home
    and the dashboard. The adviser and the enquiries are written straight into the audited server's database."""
    _django()
    make_adviser()
    seed_enquiries()
    v = Visitor(base)
    login = v.request("/admin/login/")
    form = post_form(login.text) if login.status == 200 else None
    if form is None:
        print(f"   admin sign-in: no login form (HTTP {login.status})", flush=True)
        return v
    hidden = [f for f in form["fields"] if f.get("type", "").lower() == "hidden" and f["name"] != "next"]
    data = [(f["name"], f.get("value", "")) for f in hidden]
    data += [("username", ADVISER["username"]), ("password", ADVISER["password"]), ("next", "/admin/")]
    signed_in = v.request("/admin/login/", "POST", data)
    if signed_in.status != 302:
        print(f"   admin sign-in: refused (HTTP {signed_in.status})", flush=True)
        return v
    for label, path, _ in ADVISER_PAGES:
        v.visit(label, path)
    return v


def make_adviser() -> None:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(
        ADVISER["username"],
        "adviser@audit.example",
        ADVISER["password"],
        is_staff=True,
        first_name="Avery",
        last_name="Adviser",
    )
    user.groups.add(Group.objects.get(name="Course advisers"))


def seed_enquiries(count: int = 168) -> None:
    """About two enquiries a day over the last 12 weeks (the dashboard's default period): every origin (and no
    plan) and every destination, in every status, some contacted, a third assigned to the adviser. Quarantined
    spam and the emails are left out: no chart shows them."""
    import uuid
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from advisor.enquiries.models import Enquiry, Status

    adviser = User.objects.get(username=ADVISER["username"])
    now = timezone.now()
    origins = ["AU", "CA", "GB", "NZ", "US", "none", ""]
    destinations = ["AU", "CA", "GB", "NZ", "US"]
    statuses = [Status.CONTACTED, Status.CLOSED, Status.NEW, Status.ENROLLED, Status.FOLLOW_UP]
    rows = []
    for n in range(count):
        received = now - timedelta(hours=12 * n + 3)
        origin = origins[n % len(origins)]
        status = Status.NEW if n < 6 else statuses[n % len(statuses)]
        rows.append(
            Enquiry(
                reference=f"E-AUDIT{n:04d}",
                submission_id=uuid.uuid4(),
                created_at=received,
                name="Audit Learner",
                email="learner@example.org",
                preferred_contact="email",
                notice_version="audit",
                contact_consent_at=received,
                origin_code=origin,
                destination_code=destinations[(n // len(origins)) % len(destinations)] if origin else "",
                status=status,
                contacted_at=None if status == Status.NEW else received + timedelta(hours=1 + n % 47),
                assigned_to=adviser if n % 3 == 0 else None,
            )
        )
    Enquiry.objects.bulk_create(rows)


# Nu Html Checker ------------------------------------------------------------------------------


def nu_check(pages: list[dict]) -> None:
    """One JVM for every page: write copies, check them together, count per file."""
    folder = WORK / "html"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, page in enumerate(pages):
        path = folder / f"page-{i:02d}.html"
        path.write_text(page["html"])
        files.append(path)
        page["nu_errors"], page["nu_warnings"], page["nu_messages"] = 0, 0, []
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", *map(str, files)], capture_output=True, text=True
    )
    by_file = {path.name: page for path, page in zip(files, pages, strict=True)}
    for message in json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]:
        text = message.get("message", "")
        if "“hx-" in text or '"hx-' in text:
            continue  # htmx attributes are not in the HTML spec; everything else counts
        page = by_file.get(Path(urlsplit(message.get("url", "")).path).name)
        if page is None:
            continue
        if message["type"] == "error" or message.get("subType") == "fatal":
            page["nu_errors"] += 1
            page["nu_messages"].append(f"line {message.get('lastLine', '?')}: {text}")
        elif message.get("subType") == "warning":
            page["nu_warnings"] += 1
            page["nu_messages"].append(f"warning, line {message.get('lastLine', '?')}: {text}")


# axe-core in Chromium ------------------------------------------------------------------------


def axe_check(base: str, visitor: Visitor) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        for js in (True, False):
            key = "axe_js" if js else "axe_nojs"
            # axe itself needs JavaScript, so "without JavaScript" means the page's own scripts are
            # never fetched (no page has inline script: the CSP forbids it).
            context = browser.new_context(viewport=VIEWPORT)
            if not js:
                context.route("**/*", _no_scripts)
            # The cookies the walk built (its answers), so question steps, check and confirmation render as they did.
            context.add_cookies([{"name": k, "value": x, "url": base} for k, x in visitor.cookies.items()])
            page = context.new_page()
            console: list[str] = []
            page.on("console", lambda msg, sink=console: sink.append(msg.text) if msg.type == "error" else None)
            for entry in visitor.pages:
                console.clear()
                try:
                    page.goto(base + entry["path"], wait_until="load")
                    if entry["action"] == "submit-empty":
                        # The error state: send the form as it stands, as someone pressing Continue would.
                        page.locator("main form[method=post] [type=submit]").last.click()
                        page.wait_for_load_state("load")
                        time.sleep(0.3 if js else 0)
                    entry[key + "_height"] = page.evaluate("document.documentElement.scrollHeight")
                    results = axe.run(page, options=options)
                    violations = results.response["violations"]
                    entry[key] = sum(len(v["nodes"]) for v in violations)
                    entry[key + "_rules"] = sorted({v["id"] for v in violations})
                except Exception as error:  # a page that cannot load is a finding, not a crash
                    entry[key] = None
                    entry[key + "_rules"] = [f"error: {str(error).splitlines()[0][:120]}"]
                entry[key + "_csp"] = sum("Content Security Policy" in line for line in console)
            context.close()
        browser.close()


def _no_scripts(route):
    if route.request.resource_type == "script":
        route.abort()
    else:
        route.continue_()


# Lighthouse -----------------------------------------------------------------------------------------


def lighthouse(base: str, visitor: Visitor) -> list[list]:
    """Lighthouse on each page. A run that fails with a runtime error (a non-zero exit, a report carrying a
    runtimeError, no report at all, or no answer within the timeout: on a busy machine Chromium sometimes
    fails to record the trace) is run once more, and its row says so; a second failure fails the row."""
    rows = []
    by_label = {p["label"]: p for p in visitor.pages}
    for label in LIGHTHOUSE_PAGES:
        entry = by_label.get(label)
        if entry is None:
            rows.append([label, "not available", "", "", "", "n/a"])
            continue
        report, error = lighthouse_run(base + entry["path"])
        note = ""
        if error is not None:
            print(f"   lighthouse {label}: {error}; running it once more", flush=True)
            note = f"; retried once: {error}"
            report, second = lighthouse_run(base + entry["path"])
            if second is not None:
                rows.append([label, f"lighthouse failed twice: {second}", "", "", "", f"FAIL{note}"])
                continue
        scores = [round((report["categories"][c]["score"] or 0) * 100) for c in LIGHTHOUSE_CATEGORIES]
        misses = [f"{name}<{LIGHTHOUSE_MIN}" for name, s in zip(LIGHTHOUSE_CATEGORIES, scores, strict=True)]
        misses = [m for m, s in zip(misses, scores, strict=True) if s < LIGHTHOUSE_MIN]
        entry["lighthouse_misses"] = [
            f"{category}: {ref['id']} ({report['audits'][ref['id']]['score']})"
            for category in LIGHTHOUSE_CATEGORIES
            for ref in report["categories"][category]["auditRefs"]
            if ref.get("weight")
            and (report["audits"][ref["id"]].get("score") is not None)
            and report["audits"][ref["id"]]["score"] < 1
        ]
        rows.append([label, *scores, ("PASS" if not misses else "FAIL: " + ", ".join(misses)) + note])
        print(f"   lighthouse {label}: {scores}{note}", flush=True)
    return rows


def lighthouse_run(url: str, timeout: float = 180) -> tuple[dict | None, str | None]:
    """One Lighthouse run: (its report, None), or (None, what went wrong in a line)."""
    flags = "--headless=new " + " ".join(CHROME_ARGS)
    command = [
        "npx",
        "--no-install",
        "lighthouse",
        url,
        f"--chrome-flags={flags}",
        "--only-categories=performance,accessibility,best-practices,seo",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
    ]
    # A session of its own, so a run that hangs is stopped with the Chromium it started.
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, f"no answer within {timeout:.0f} s"
    last_line = (stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1][:100]
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        report = None
    if isinstance(report, dict) and report.get("runtimeError"):
        runtime = report["runtimeError"]
        first_sentence = str(runtime.get("message", "")).split(". ")[0][:100]
        return None, f"{runtime.get('code', '?')}: {first_sentence}".replace("|", "/")
    if proc.returncode != 0 or not isinstance(report, dict):
        return None, last_line.replace("|", "/")
    if any(c not in report.get("categories", {}) for c in LIGHTHOUSE_CATEGORIES):
        return None, "the report lacks a category"
    return report, None


LIGHTHOUSE_CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


# Main --------------------------------------------------------------------------------------------


def _django() -> None:
    """Django in this process, on the audited server's own database (var/audit)."""
    import django

    os.environ.update({"DJANGO_SETTINGS_MODULE": "advisor.settings", "VAR_DIR": str(WORK), "DEBUG": "1"})
    django.setup()


def plan_budget_rows(base: str) -> list[list]:
    """The plan budgets, read from the audited server's own database."""
    _django()
    return plan_budgets.run(base, CHROMIUM, CHROME_ARGS)


def height_rows(pages: list[dict]) -> list[list]:
    """Each adviser page's height at 1280x900, with JavaScript and without, against its limit."""
    limits = {label: limit for label, _, limit in ADVISER_PAGES}
    rows = []
    for p in pages:
        heights = [p.get("axe_js_height"), p.get("axe_nojs_height")]
        limit = limits.get(p["label"])
        if None in heights:
            result = "FAIL: not measured"
        elif limit is None:
            result = "-"
        else:
            result = "PASS" if max(heights) <= limit else f"FAIL: over {limit:,} px"
        rows.append(
            [p["label"], *("?" if h is None else h for h in heights), f"<= {limit:,}" if limit else "-", result]
        )
    for label, path, _ in ADVISER_PAGES:
        if not any(p["label"] == label for p in pages):
            rows.append([label, "?", "?", "", f"FAIL: not reached ({path})"])
    return rows


HEIGHT_HEADER = ["adviser page", "height at 1280x900, JS (px)", "without JS (px)", "target", "result"]


def main() -> int:
    only_plans = os.environ.get("AUDIT_ONLY") == "plans"
    if only_plans:
        apt_install("chromium", "chromium")
    else:
        install_tools()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"== starting make serve on {base}", flush=True)
    server = start(["make", "--no-print-directory", "serve", f"PORT={port}"], SERVER_ENV, WORK / "serve.log")
    try:
        wait_http(base, "/healthz", server)
        print("== plan page budgets in Chromium at 1280x900", flush=True)
        budget_rows = plan_budget_rows(base)
        if only_plans:
            print(text_table(plan_budgets.HEADER, budget_rows))
            return 1 if any(row[-1] != "PASS" for row in budget_rows) else 0
        print("== walking the pages", flush=True)
        visitor = walk(base)
        print("== signing in as a course adviser", flush=True)
        adviser = adviser_visit(base)
        pages = visitor.pages + adviser.pages
        print(f"== Nu Html Checker on {len(pages)} pages", flush=True)
        nu_check(pages)
        print("== axe-core in Chromium at 1280x900, JavaScript on and off", flush=True)
        axe_check(base, visitor)
        axe_check(base, adviser)
        lh_rows = []
        if os.environ.get("AUDIT_LIGHTHOUSE", "1") != "0":
            print("== Lighthouse 12.8.2", flush=True)
            lh_rows = lighthouse(base, visitor)
    finally:
        stop(server)
        if os.environ.get("AUDIT_KEEP") != "1":
            shutil.rmtree(WORK / "html", ignore_errors=True)

    header = ["page", "HTTP", "Nu errors", "Nu warnings", "axe (JS)", "axe (no JS)", "CSP console errors", "result"]
    rows, failures = [], 0
    for p in pages:
        csp = (p.get("axe_js_csp") or 0) + (p.get("axe_nojs_csp") or 0)
        ok = p["nu_errors"] == 0 and p.get("axe_js") == 0 and p.get("axe_nojs") == 0 and csp == 0
        failures += not ok
        rows.append(
            [
                p["label"],
                p["status"],
                p["nu_errors"],
                p["nu_warnings"],
                fmt_axe(p, "axe_js"),
                fmt_axe(p, "axe_nojs"),
                csp,
                "PASS" if ok else "FAIL",
            ]
        )
    failures += sum(1 for r in lh_rows if not str(r[-1]).startswith("PASS"))
    failures += sum(1 for r in budget_rows if r[-1] != "PASS")
    heights = height_rows(adviser.pages)
    failures += sum(1 for r in heights if str(r[-1]).startswith("FAIL"))
    lh_header = ["Lighthouse page", *LIGHTHOUSE_CATEGORIES, "result (target 100, at least 95)"]
    print()
    print(text_table(header, rows))
    if lh_rows:
        print()
        print(text_table(lh_header, lh_rows))
    print()
    print(text_table(plan_budgets.HEADER, budget_rows))
    print()
    print(text_table(HEIGHT_HEADER, heights))
    write_results(header, rows, lh_header, lh_rows, pages, budget_rows, heights)
    print(f"\nwrote audit/RESULTS.md; {failures} row(s) miss a target")
    return 1 if failures else 0


def fmt_axe(page: dict, key: str) -> str:
    count = page.get(key)
    if count is None:
        return "error: " + "; ".join(page[key + "_rules"])
    return str(count) + (f" ({', '.join(page[key + '_rules'])})" if count else "")


def write_results(header, rows, lh_header, lh_rows, pages, budget_rows, heights) -> None:
    details = []
    for p in pages:
        lines = p["nu_messages"][:15] + [f"Lighthouse: {a}" for a in p.get("lighthouse_misses", [])[:15]]
        if lines:
            details.append(f"**{p['label']}** (`{p['path']}`)\n" + "\n".join(f"- {line}" for line in lines))
    text = f"""# Audit results

Measured {now()} on {machine()}; written by `make audit` (audit/run.py).

Pages are those a person reaches: the questionnaire is walked by one visitor, so each step renders as it does
mid-journey; "with an error" rows send the form unanswered. Nu Html Checker 26.9.27 (messages about htmx's `hx-*`
attributes filtered, nothing else); axe-core (axe-playwright-python) with tags {", ".join(AXE_TAGS)}, in Debian's
Chromium at 1280x900 with JavaScript on and off, counting violating nodes; Content-Security-Policy errors from the
browser console. Lighthouse 12.8.2, default (mobile) settings, Debian's Chromium headless; a Lighthouse run that fails
with a runtime error is run once more, and its row says "retried once" with the first error.

Targets: 0 Nu errors, 0 axe violations, 0 CSP errors; Lighthouse 100 in every category, at least 95.

{markdown_table(header, rows)}

{markdown_table(lh_header, lh_rows) if lh_rows else "Lighthouse was skipped (AUDIT_LIGHTHOUSE=0)."}

## Plan page budgets

Every plan a learner can reach (each ordered pair of countries inpatient, and outpatient where its plan differs;
every new-to-coding route; every same-country plan), read in Chromium at 1280x900: visible words in `<main>`
(closed `<details>` and visually hidden text left out), sentences of four words or more said twice, and where
the answer's difficulty, expected time and first step end (the first screen is 900 px). The worst page for each.

{markdown_table(plan_budgets.HEADER, budget_rows)}

## Adviser pages

Signed in as a course adviser (a staff user in the "Course advisers" group, through the login form), with 168
enquiries over the last 12 weeks in the database (every origin, destination and status): the admin home (the
queue above the list of models) and the dashboard, in the table above and here. Height: the page's scroll height
in Chromium at 1280x900, with JavaScript (the admin's navigation sidebar open) and without. The dashboard's
target is two screens.

{markdown_table(HEIGHT_HEADER, heights)}

## Details

{chr(10).join(details) if details else "Nothing to report."}
"""
    (ROOT / "audit" / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
