"""Production settings: check --deploy, security headers, cookies and logs without personal data."""

import importlib.util
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "pathways.example.org",
    "ADVISER_EMAILS": "advisers@example.org",  # without it, advisor.W001 (advisor/enquiries/checks.py)
}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python with the project's settings in a fresh process: settings read the environment once."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests and check --deploy rightly rejects it.
    unset = ("DEBUG", "HTTPS", "SECRET_KEY", "SECRET_KEY_FILE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "advisor.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(monkeypatch, **env: str):
    """Evaluate advisor/settings.py afresh under an environment, as a separate module: the
    running Django settings are left alone."""
    for name in ("DEBUG", "HTTPS", "BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_probe", ROOT / "advisor" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_deploy_passes_with_production_environment():
    result = run_django(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_rejects_the_development_secret_key():
    result = run_django(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        DEBUG="0",
        ALLOWED_HOSTS="pathways.example.org",
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_production_defaults_to_https_with_host_prefixed_secure_cookies(monkeypatch):
    s = settings_under(monkeypatch, **PRODUCTION)
    assert s.DEBUG is False
    assert s.SECURE_SSL_REDIRECT is True
    assert s.SECURE_HSTS_SECONDS >= 31536000
    assert s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE
    assert s.SESSION_COOKIE_NAME == "__Host-sessionid"
    assert s.ANSWERS_COOKIE_NAME == "__Host-answers" and s.ANSWERS_COOKIE_SECURE
    assert s.CSRF_COOKIE_NAME == "__Host-csrftoken"
    assert not hasattr(s, "SECURE_PROXY_SSL_HEADER")
    assert s.STORAGES["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_plain_http_loopback_turns_off_redirect_hsts_and_host_cookies(monkeypatch):
    s = settings_under(monkeypatch, **PRODUCTION, HTTPS="0")
    assert s.SECURE_SSL_REDIRECT is False
    assert s.SECURE_HSTS_SECONDS == 0
    assert not getattr(s, "SESSION_COOKIE_NAME", "sessionid").startswith("__Host-")
    assert s.ANSWERS_COOKIE_NAME == "answers" and s.ANSWERS_COOKIE_SECURE is False
    assert s.CSRF_COOKIE_SECURE is False


def test_behind_a_tls_proxy_trusts_x_forwarded_proto(monkeypatch):
    s = settings_under(monkeypatch, **PRODUCTION, BEHIND_TLS_PROXY="1")
    assert s.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert s.SECURE_SSL_REDIRECT is True


def test_development_keeps_plain_static_files_and_no_https(monkeypatch):
    s = settings_under(monkeypatch, DEBUG="1")
    assert s.HTTPS is False and s.SECURE_SSL_REDIRECT is False
    assert s.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_production_cookies_are_host_prefixed_secure_and_httponly_for_the_session():
    code = """
import django; django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/admin/login/", secure=True, headers={"host": "pathways.example.org"})
for name, morsel in response.cookies.items():
    print(name, morsel["secure"], morsel["path"], morsel["domain"] or "-", morsel["samesite"])
"""
    result = run_django(code, **PRODUCTION, PLAIN_STATIC="1")
    assert result.returncode == 0, result.stderr
    assert "__Host-csrftoken True / - Lax" in result.stdout.splitlines()


# Email: EMAIL_URL or the EMAIL_* variables become Django's MAILERS ---------------------------------

EMAIL_VARIABLES = ("EMAIL_URL", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS")


def mail_settings_under(monkeypatch, **env: str):
    for name in EMAIL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return settings_under(monkeypatch, **env)


def test_development_prints_email_to_the_console(monkeypatch):
    s = mail_settings_under(monkeypatch, DEBUG="1")
    assert s.MAILERS == {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert not hasattr(s, "EMAIL_BACKEND") and not hasattr(s, "EMAIL_HOST")


def test_production_sends_by_smtp_from_the_email_variables(monkeypatch):
    s = mail_settings_under(
        monkeypatch, **PRODUCTION, EMAIL_HOST="mail.example.org", EMAIL_PORT="2525", EMAIL_HOST_USER="pathways"
    )
    assert s.MAILERS["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    options = s.MAILERS["default"]["OPTIONS"]
    assert (options["host"], options["port"], options["username"]) == ("mail.example.org", 2525, "pathways")
    assert options["use_tls"] is False and options["timeout"] == 10


def test_email_url_gives_the_smtp_mailer_its_host_credentials_and_tls(monkeypatch):
    s = mail_settings_under(
        monkeypatch, **PRODUCTION, EMAIL_URL="smtp+tls://user%40x:p%40ss@mail.example.org?timeout=5"
    )
    assert s.MAILERS["default"]["OPTIONS"] == {
        "host": "mail.example.org",
        "port": 587,
        "username": "user@x",
        "password": "p@ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 5,
    }
    assert mail_settings_under(monkeypatch, EMAIL_URL="locmem://").MAILERS == {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }


def test_production_mail_settings_raise_no_deprecation_warning_and_build_the_smtp_backend():
    code = """
import warnings; warnings.simplefilter("error")
import django; django.setup()
from django.core import mail
backend = mail.mailers["default"]
print(type(backend).__module__, backend.host, backend.port, backend.use_tls)
"""
    env = {**PRODUCTION, "PLAIN_STATIC": "1", "EMAIL_URL": "smtp+tls://mail.example.org"}
    result = run_django(code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp", "mail.example.org", "587", "True"]


# Headers, in this process (tests/settings.py: DEBUG off, plain HTTP; secure=True asks as HTTPS would) ----


PLAN = "origin=AU&credential=hlt50321&setting=inpatient&years=2&destination=GB"
PAGES = ["/", "/questions/origin/", "/compare/", "/privacy/", "/healthz", "/admin/login/", "/no-such-page/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_a_strict_content_security_policy(client, path):
    response = client.get(path, secure=True)
    policy = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    for name in ("default-src", "script-src", "style-src", "form-action"):
        assert directives[name] == ["'self'"], name
    for name in ("object-src", "base-uri", "frame-ancestors"):
        assert directives[name] == ["'none'"], name
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get(path, secure=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["Permissions-Policy"].startswith("accelerometer=(), camera=()")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", [f"/plan/?{PLAN}", f"/api/plan/?{PLAN}", "/api/openapi.json", "/static/css/site.css", "/favicon.ico"]
)
def test_every_other_kind_of_response_refuses_unused_browser_features(client, path):
    for _ in range(2):  # the second answer comes from the page cache where there is one
        response = client.get(path)
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert "geolocation=()" in response.headers["Permissions-Policy"]


# A request too large to read ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/questions/origin/", "/enquire/", "/admin/login/"])
def test_a_3_mb_body_gets_a_400_that_says_it_was_too_large(client, path):
    response = client.post(path, b"message=" + b"x" * 3_000_000, content_type="application/x-www-form-urlencoded")
    page = response.content.decode()
    assert response.status_code == 400
    assert "<h1>Too much to send</h1>" in page
    assert "larger than 2.5 MB" in page
    assert "problem with this link" not in page


@pytest.mark.django_db
def test_a_form_with_1100_fields_gets_a_400_that_says_there_were_too_many(client):
    fields = {f"field{n}": "x" for n in range(1100)}
    response = client.post("/questions/origin/", fields)
    page = response.content.decode()
    assert response.status_code == 400
    assert "<h1>Too many fields</h1>" in page
    assert "more than 1000 fields" in page


@pytest.mark.django_db
def test_a_link_with_1100_parameters_gets_the_same_400(client):
    response = client.get("/plan/?" + "&".join(f"credential=c{n}" for n in range(1100)))
    assert response.status_code == 400
    assert "<h1>Too many fields</h1>" in response.content.decode()


@pytest.mark.django_db
def test_a_bad_plan_link_still_says_it_is_a_problem_with_the_link(client):
    response = client.get("/plan/?origin=XX&destination=GB")
    assert response.status_code == 400
    assert "There is a problem with this link" in response.content.decode()


@pytest.mark.django_db
def test_the_health_check_answers_plain_http_without_a_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/").status_code == 301


# Logs ---------------------------------------------------------------------------------------------


def log_line(record: logging.LogRecord) -> str:
    """The record as the configured stderr handler writes it: through its filter, then its formatter."""
    handler = logging.getHandlerByName("stderr")
    assert handler.filter(record)
    return handler.format(record)


@pytest.mark.django_db
def test_request_log_records_method_path_status_and_duration_but_no_query_string(client, caplog):
    with caplog.at_level(logging.INFO, logger="advisor.request"):
        client.get("/enquire/?origin=AU&destination=GB&email=someone@example.com")
    record = next(r for r in caplog.records if r.name == "advisor.request")
    assert (record.method, record.path) == ("GET", "/enquire/")
    assert isinstance(record.status, int) and record.duration_ms >= 0
    line = log_line(record)
    assert "someone@example.com" not in line
    assert "origin=AU" not in line
    assert json.loads(line)["path"] == "/enquire/"


@pytest.mark.django_db
def test_request_log_never_contains_what_a_form_posted(client, caplog):
    with caplog.at_level(logging.DEBUG):
        client.post("/enquire/", {"name": "Ada Example", "email": "ada@example.com", "phone": "0412 345 678"})
    text = "\n".join(log_line(r) for r in caplog.records)
    for value in ("Ada Example", "ada@example.com", "0412 345 678"):
        assert value not in text


def test_json_log_lines_mask_emails_and_phone_numbers_and_drop_objects():
    record = logging.LogRecord("advisor", logging.WARNING, __file__, 1, "could not reach %s", ("jo@example.com",), None)
    record.enquiry_id = 42
    record.note = "call +61 412 345 678"
    record.email = "jo@example.com"
    record.request = object()
    entry = json.loads(log_line(record))
    assert entry["message"] == "could not reach [email]"
    assert entry["enquiry_id"] == 42
    assert entry["note"] == "call [number]"
    assert "email" not in entry and "request" not in entry
    assert entry["time"].endswith("+00:00")
    assert (entry["level"], entry["logger"]) == ("WARNING", "advisor")


def test_a_logged_exception_keeps_its_traceback_but_not_the_personal_data_in_it():
    try:
        raise ValueError("no account for jo@example.com")
    except ValueError:
        record = logging.LogRecord("advisor", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(log_line(record))
    assert "ValueError: no account for [email]" in entry["exc_info"]
    assert "jo@example.com" not in json.dumps(entry)


def test_the_shell_imports_every_model_from_the_module_that_defines_it():
    # Models live in the packages (advisor/enquiries/models.py ...), gathered by advisor/models.py for Django.
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "2", "-c", "pass"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "advisor.settings"},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "could not be automatically imported" not in out.stdout
    assert "from advisor.enquiries.models import" in out.stdout and "HistoricalEnquiry" in out.stdout
