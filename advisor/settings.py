"""Settings for Coding Pathways: one file, every knob an environment variable.

Defaults suit a developer's machine (SQLite under var/); production sets DEBUG off
and real secrets. The README lists every variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the file NAME_FILE points at (for Docker/systemd secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DEBUG = envbool("DEBUG", "0")
# The fallback key is only good for development: `check --deploy` rejects it.
SECRET_KEY = envsecret("SECRET_KEY", "django-insecure-development-key-do-not-use-in-production")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "advisor.site_admin.AdminConfig",  # Django's admin, its home page showing advisers their queue
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",  # admin login throttling (enquiries)
    "simple_history",  # who changed what on an enquiry
    "django_tasks_db",  # the task queue's table and its db_worker command (emails to advisers and learners)
    "pathways",
    "advisor",
]

# Speed mechanisms, each of which can be switched off at start-up (SPEED_OFF=page-cache,form-cache,...), so
# make bench can measure what each one buys: bench/RESULTS.md gives the with/without figures.
SPEED_OFF = set(envlist("SPEED_OFF"))

MIDDLEWARE = [
    "advisor.web.logs.RequestLogMiddleware",
    # Counts questionnaire steps in memory (anonymous, no database write on the request path): see
    # advisor/funnel/. Repeat GETs of public pages never get here: the page cache in front of Django
    # (advisor/wsgi.py, advisor/pagecache/) answers them, logs and counts them, with the headers this stack
    # gave them the first time.
    "advisor.funnel.counting.FunnelMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "advisor.web.middleware.PermissionsPolicyMiddleware",
    # CORS for the public API, and its 304s without Content-Length (advisor/web/middleware.py).
    "advisor.web.middleware.PublicApiMiddleware",
    # A database that cannot be reached answers 503 "briefly unavailable", not 500 (advisor/web/middleware.py).
    "advisor.web.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed on the fly (static files come pre-compressed from whitenoise, above).
    # Django's GZip adds random padding against BREACH on pages that carry a CSRF token.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff sessions end after a working day without an admin request (advisor/inbox/signin.py).
    "advisor.inbox.signin.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the logged-in user on enquiry history rows.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first, so a locked-out username+IP is refused before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "advisor.urls"
WSGI_APPLICATION = "advisor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "advisor.web.context_processors.operator",
                "pathways.context_processors.reference_problems",
                "pathways.context_processors.coding_systems",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise. SQLite runs in WAL mode
# with IMMEDIATE transactions so several gunicorn workers can write without "database is
# locked" errors; busy_timeout makes a writer wait rather than fail.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
# Connections persist (CONN_MAX_AGE seconds): opening one costs more than a cached page (for SQLite,
# about 3 ms of schema reading and function registration per request, measured by make bench).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", "600"))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: per-process memory by default, each bounded; REDIS_URL shares them between workers and machines.
# "pages" holds public pages and blank forms (advisor/pagecache/), keyed on the release and the reference-data
# version. Redis is a cache here, never a store of record: run it with a maxmemory and an eviction policy
# (deploy/redis.conf: 256 MB, allkeys-lru). If it is down or slow, pages are rendered, the enquiry rate limit
# counts in the database, and the log says so once a minute; the short socket timeouts bound what a slow Redis
# costs a request.
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.25"))  # seconds, to connect and to answer


def redis_caches(url: str, timeout: float = REDIS_TIMEOUT) -> dict:
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": options},
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "pages",
            "TIMEOUT": 3600,
            "OPTIONS": options,
        },
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},  # 300 entries, Django's bound
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "TIMEOUT": 3600,
            # A page and its header list take one entry each; 400 entries of pages up to ~60 KB stay under the
            # 30 MB a worker may grow by (DESIGN.md).
            "OPTIONS": {"MAX_ENTRIES": 400},
        },
    }
# The deploy's name (a git commit, a version): the page cache keeps each release's pages apart. Empty: a digest
# of the code, templates and static files, the same on every server running the same tree.
RELEASE = os.environ.get("RELEASE", "")
# Cached pages read the reference-data version row at most once per this many seconds per process (0: on
# every request). The process that changes the data sees the change at once; other workers within this time.
PAGE_CACHE_VERSION_SECONDS = float(os.environ.get("PAGE_CACHE_VERSION_SECONDS", "1"))
# Plans and destination rankings each worker keeps for the reference data it holds (least recently used out
# first). A plan is a few KB: the defaults bound both memos at a few MB per worker.
PLAN_MEMO_SIZE = envint("PLAN_MEMO_SIZE", "2000")
RANKING_MEMO_SIZE = envint("RANKING_MEMO_SIZE", "500")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-au"
TIME_ZONE = os.environ.get("TIME_ZONE", "Australia/Sydney")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or envbool("PLAIN_STATIC", "0")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# A fact last checked longer ago than this is listed in admin as due for a re-check.
RECHECK_AFTER_DAYS = envint("RECHECK_AFTER_DAYS", "365")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Questionnaire answers live in a signed cookie of the learner's own (advisor/learners/journey.py), never in a
# server-side session. It lasts a week so a learner can come back to an unfinished questionnaire; the start
# page says so. Sessions (Django's database sessions) are for staff signed in to admin.
ANSWERS_COOKIE_NAME = "answers"
ANSWERS_COOKIE_AGE = 7 * 24 * 3600
SESSION_COOKIE_AGE = 7 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Security headers. The Content-Security-Policy allows nothing inline, on every page,
# admin included.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Features no page uses, refused to every page and anything injected into one (advisor/web/middleware.py).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips the client's own).
if envbool("BEHIND_TLS_PROXY", "0"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many trusted proxies sit in front, each appending the address it received the request from to
# X-Forwarded-For. 0: none, and X-Forwarded-For counts for nothing (a client can send it). The enquiry rate
# limit and django-axes key on the address this gives (advisor/web/client_address.py).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")
HTTPS = envbool("HTTPS", "0" if DEBUG else "1")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1" if HTTPS else "0")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1" if HTTPS else "0")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "0")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = ANSWERS_COOKIE_SECURE = HTTPS
# A load balancer may probe the health check over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# W021 asks for HSTS preload. Preloading is a one-way promise to browser vendors that the whole
# domain and its subdomains are HTTPS forever: the operator opts in (SECURE_HSTS_PRELOAD=1), the
# code does not decide it for them.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if HTTPS:
    # __Host- cookies are only sent over HTTPS, for this host, for every path.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    ANSWERS_COOKIE_NAME = "__Host-answers"
    CSRF_COOKIE_NAME = "__Host-csrftoken"


# Email goes through Django's MAILERS (EMAIL_BACKEND, EMAIL_HOST and friends are deprecated as settings).
# The inputs are unchanged: EMAIL_URL, or the older EMAIL_* environment variables.
_smtp_backend = "django.core.mail.backends.smtp.EmailBackend"


def _mailer(url: str) -> dict:
    """A MAILERS entry from EMAIL_URL like smtp+tls://user:password@host:587, console://, locmem:// or dummy://."""
    parts = urlsplit(url)
    scheme = parts.scheme
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in backends:
        return {"BACKEND": backends[scheme]}
    query = parse_qs(parts.query)
    return {
        "BACKEND": _smtp_backend,
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+tls" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtps",
            "timeout": int(query.get("timeout", ["10"])[0]),
        },
    }


def _mailer_from_env() -> dict:
    """A MAILERS entry from EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, ...: console in DEBUG, else SMTP."""
    backend = os.environ.get(
        "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG else _smtp_backend
    )
    if backend != _smtp_backend:
        return {"BACKEND": backend}  # the SMTP options would be unknown options to any other backend
    return {
        "BACKEND": _smtp_backend,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": envint("EMAIL_PORT", "25"),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": envsecret("EMAIL_HOST_PASSWORD"),
            "use_tls": envbool("EMAIL_USE_TLS", "0"),
            "timeout": envint("EMAIL_TIMEOUT", "10"),
        },
    }


MAILERS = {"default": _mailer(EMAIL_URL) if (EMAIL_URL := envsecret("EMAIL_URL")) else _mailer_from_env()}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Coding Pathways <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADVISER_EMAILS = envlist("ADVISER_EMAILS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Who runs this service, shown on every page. Neutral defaults until an operator sets them.
OPERATOR = {
    "name": os.environ.get("OPERATOR_NAME", "Your training provider"),
    "phone": os.environ.get("OPERATOR_PHONE", ""),
    "email": os.environ.get("OPERATOR_EMAIL", ""),
    "privacy_email": os.environ.get("OPERATOR_PRIVACY_EMAIL", os.environ.get("OPERATOR_EMAIL", "")),
}

# Logs go to stderr, one JSON object per line (python-json-logger; LOG_FORMAT=plain for people), and never
# carry request bodies, query strings or personal data: see advisor/web/logs.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "advisor.web.logs.PersonalDataFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "json_ensure_ascii": False,
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("LOG_FORMAT", "json"),
            "filters": ["personal_data"],
        },
    },
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver already prints one line per request in development.
        "advisor.request": {"level": "WARNING" if DEBUG else "INFO"},
    },
}

# Admin login throttling (django-axes; advisor/inbox/signin.py). A username from one address is paused after
# AXES_FAILURE_LIMIT failures; an address, whatever usernames it tries, after AXES_ADDRESS_FAILURE_LIMIT (higher:
# colleagues in one office share an address). The address is the client's own (TRUSTED_PROXY_COUNT).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_ADDRESS_FAILURE_LIMIT = envint("AXES_ADDRESS_FAILURE_LIMIT", "20")
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "advisor.inbox.signin.SignInHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "advisor/admin_lockout.html"
AXES_LOCKOUT_CALLABLE = "advisor.inbox.signin.lockout_response"  # the template, with Retry-After
AXES_CLIENT_IP_CALLABLE = "advisor.web.client_address.client_ip"
AXES_CLIENT_STR_CALLABLE = "advisor.inbox.signin.client_str"  # log lines name the path, never the address or username
# Staff (admin) sessions end after this long without an admin request: a working day.
ADMIN_SESSION_IDLE_SECONDS = envint("ADMIN_SESSION_IDLE_HOURS", "8") * 3600
AXES_VERBOSE = False  # no start-up banner in every command's output; lockouts are still logged

# Enquiries: privacy, abuse controls, notification retries.
CURRENT_NOTICE_VERSION = "2026-11"  # bump whenever the collection notice wording changes
ENQUIRY_RETENTION_DAYS = envint("ENQUIRY_RETENTION_DAYS", "365")  # finished enquiries, then anonymised
ENQUIRY_SPAM_RETENTION_DAYS = envint("ENQUIRY_SPAM_RETENTION_DAYS", "30")  # quarantined spam, then deleted
ENQUIRY_RESPONSE_BUSINESS_DAYS = envint("ENQUIRY_RESPONSE_BUSINESS_DAYS", "2")  # promised reply time
ENQUIRY_MIN_SECONDS = envint("ENQUIRY_MIN_SECONDS", "3")  # faster than this is a bot: quarantined
ENQUIRY_FORM_MAX_AGE = envint("ENQUIRY_FORM_MAX_AGE", str(24 * 3600))  # older forms ask to send again
# Per client IP: (number of enquiry POSTs, valid or not, window in seconds). Generous: mobile carriers share IPs,
# and a person may need a few tries to get the form right.
ENQUIRY_RATE_LIMITS = [(envint("ENQUIRY_RATE_LIMIT", "10"), 600), (envint("ENQUIRY_RATE_LIMIT_DAY", "30"), 86400)]
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "AU")  # numbers without +country code
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", "12")  # then the email is given up (the inbox shows it)
# Emails due this long with no task worker taking any: the inbox says nobody is sending (emails.stalled).
EMAIL_WORKER_ALERT_MINUTES = envint("EMAIL_WORKER_ALERT_MINUTES", "5")
# Background work (the emails, advisor/enquiries/emails.py) is a task in the database, in the same transaction as
# the enquiry or reply that asks for it; `manage.py db_worker` runs it. Every app server shares the one queue.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The anonymous questionnaire funnel: each worker flushes its in-memory counts this often, or after this many.
FUNNEL_FLUSH_SECONDS = float(os.environ.get("FUNNEL_FLUSH_SECONDS", "5"))
FUNNEL_FLUSH_HITS = envint("FUNNEL_FLUSH_HITS", "500")
# Enquiry history is for audit: reverting from it would bypass the read-only submitted fields.
SIMPLE_HISTORY_REVERT_DISABLED = True
