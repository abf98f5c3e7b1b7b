"""Settings for the test run: advisor/settings.py as production has it (DEBUG off), spoken over plain HTTP.

Django's test client and pytest-django's live_server speak plain HTTP (Chromium keeps no Secure or __Host-
cookie from http://127.0.0.1), and nobody runs collectstatic before the tests. So here, once, rather than in
every test module: no HTTPS redirect, HSTS or secure cookies, and unhashed static files, exactly as
HTTPS=0 PLAIN_STATIC=1 would give. The environment is left alone on purpose: tests/test_settings.py evaluates
advisor/settings.py afresh under a production environment to test the production values themselves.
"""

from advisor.settings import *  # noqa: F403
from advisor.settings import STORAGES

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = ANSWERS_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
ANSWERS_COOKIE_NAME = "answers"
CSRF_COOKIE_NAME = "csrftoken"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Static files come from the finders (live_server serves them); no collected directory to look for.
STATIC_ROOT = None
# Staff users are created in many tests: a fast hasher keeps them quick (never in production).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No background flushing thread: tests flush the funnel counts themselves (advisor.funnel.counting.flush()).
FUNNEL_FLUSH_SECONDS = 0
