"""Plumbing shared by make bench, make audit and make loadtest.

Standard library only, so the scripts run before anything else is installed: start and
stop servers, fetch pages without following redirects, read forms out of HTML, describe
the machine, and format tables.
"""

import contextlib
import http.client
import http.cookies
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PLAN_QUERY = "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"


# Processes -------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on loopback, below the ephemeral range when possible."""
    for _ in range(50):
        port = 20000 + int.from_bytes(os.urandom(2)) % 12000
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """Start a command in its own process group, so stop() takes its children with it."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_http(base: str, path: str = "/healthz", proc: subprocess.Popen | None = None, timeout: float = 180) -> None:
    """Wait until base+path answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before answering {path}")
        with contextlib.suppress(OSError):
            if fetch(base + path).status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{base}{path} did not answer 200 within {timeout:.0f} s")


def gunicorn_opts() -> list[str]:
    """The gunicorn options of `make serve`, read from the Makefile so both stay the same."""
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "print-gunicorn-opts: ; @echo $(GUNICORN_OPTS)"]
        + ["print-gunicorn-opts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def apt_install(command: str, package: str) -> None:
    """Install a Debian package when its command is missing (we run as root on these machines)."""
    if shutil.which(command):
        return
    print(f"== installing {package} (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-qq"]
    if subprocess.run([*apt, "install", "-y", package], env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*apt, "update"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*apt, "install", "-y", package], env=env, check=True, stdout=subprocess.DEVNULL)
    if not shutil.which(command):
        sys.exit(f"{command} is still missing after installing {package}")


# HTTP ----------------------------------------------------------------------------------------


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, header_bytes: int):
        self.status = status
        self.headers = headers
        self.body = body
        self.header_bytes = header_bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        jar = http.cookies.SimpleCookie()
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                jar.load(value)
        return {name: morsel.value for name, morsel in jar.items()}

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def fetch(
    url: str,
    method: str = "GET",
    data: dict | list | None = None,
    headers: dict | None = None,
    cookies: dict | None = None,
    timeout: float = 30,
) -> Response:
    """One request, no redirects followed, no decompression (so sizes are bytes on the wire)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    head = {"Host": parts.netloc, "User-Agent": "coding-pathways-bench", **(headers or {})}
    if cookies:
        head["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if data is not None:
        body = urlencode(data, doseq=True).encode()
        head["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=head)
        resp = conn.getresponse()
        content = resp.read()
        raw_headers = resp.getheaders()
        header_bytes = len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n") + sum(
            len(k) + len(v) + 4 for k, v in raw_headers
        )
        return Response(resp.status, raw_headers, content, header_bytes + 2)
    finally:
        conn.close()


# HTML -------------------------------------------------------------------------------------------


class PageParser(HTMLParser):
    """Collects what a page links to (assets) and the fields of its POST forms."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self.has_icon = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if tag == "link" and a.get("href") and ("stylesheet" in rel or "icon" in rel or "preload" in rel):
            self.assets.append(a["href"])
            self.has_icon |= "icon" in rel
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("name"):
            self._form["fields"].append({"tag": "input", **a})
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"].append({"tag": "select", "name": a["name"], "options": []})
        elif self._form is not None and tag == "option" and self._select:
            self._form["fields"][-1]["options"].append(a.get("value", ""))
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._form["fields"].append({"tag": "textarea", "name": a["name"]})
        elif self._form is not None and tag == "button" and a.get("name"):
            self._form["fields"].append({"tag": "button", **a})

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def post_form(html: str) -> dict | None:
    """The main POST form of a page (the one with the most fields)."""
    forms = [f for f in parse_page(html).forms if f["method"] == "post"]
    return max(forms, key=lambda f: len(f["fields"]), default=None)


def answer_form(form: dict, overrides: dict | None = None) -> list[tuple[str, str]]:
    """Fill a form like a hurried person: hidden values kept, the first choice of each radio group
    and select, every checkbox whose name is in overrides; text fields only from overrides."""
    overrides = overrides or {}
    data: list[tuple[str, str]] = []
    seen: set[str] = set()
    for field in form["fields"]:
        name, kind = field["name"], field.get("type", "text").lower()
        if name in overrides:
            if name not in seen:
                values = overrides[name] if isinstance(overrides[name], list) else [overrides[name]]
                data.extend((name, str(v)) for v in values)
            seen.add(name)
        elif field["tag"] == "input" and kind == "hidden":
            data.append((name, field.get("value", "")))
        elif field["tag"] == "input" and kind == "radio" and name not in seen:
            data.append((name, field.get("value", "")))
            seen.add(name)
        elif field["tag"] == "select" and name not in seen:
            options = [o for o in field["options"] if o]
            if options:
                data.append((name, options[0]))
            seen.add(name)
    return data


def asset_urls(base_url: str, html: str) -> list[str]:
    """Absolute URLs of the stylesheets, scripts, images and icon a browser fetches on first visit."""
    parser = parse_page(html)
    urls = [urljoin(base_url, href) for href in parser.assets]
    if not parser.has_icon:
        urls.append(urljoin(base_url, "/favicon.ico"))
    return list(dict.fromkeys(urls))


def css_urls(css_url: str, css: str) -> list[str]:
    """url(...) references inside a stylesheet (fonts, images), skipping data: URIs."""
    import re

    found = []
    for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css):
        if not ref.startswith(("data:", "#")):
            found.append(urljoin(css_url, ref))
    return found


# Reporting ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    distro = ""
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = ", " + line.split("=", 1)[1].strip('"')
    return f"{os.cpu_count()} CPUs ({cpu}){mem}{distro}, Python {platform.python_version()}"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
