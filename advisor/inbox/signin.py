"""Admin sign-in: django-axes as this site configures it, and how long a staff session lasts.

- SignInHandler (AXES_HANDLER): axes compares one failure count with one limit. Its lockout parameters here
  are a username from an address, and an address on its own; this handler lets the address have its own,
  higher limit (AXES_ADDRESS_FAILURE_LIMIT), so one password tried against many usernames from one address
  is slowed too, while an office whose advisers share an address is not locked out by one person's typos.
- lockout_response (AXES_LOCKOUT_CALLABLE): the lockout page, 429 with Retry-After (django-axes 8.3 sends none).
- client_str (AXES_CLIENT_STR_CALLABLE): what axes writes in its log lines: the path only, never the address
  or the username.
- StaffSessionMiddleware: a staff session ends after ADMIN_SESSION_IDLE_SECONDS without an admin request (a
  working day), whatever the session engine; a learner's questionnaire answers keep SESSION_COOKIE_AGE.
"""

import time

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth import logout
from django.db.models import Sum
from django.shortcuts import render
from django.urls import reverse

STAFF_SEEN_KEY = "_staff_seen"  # when this session last made an admin request (epoch seconds)
TOUCH_EVERY = 60  # seconds: a busy adviser's session is written at most once a minute


class SignInHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        per_username, per_address = counts[0], counts[-1]
        limit = get_failure_limit(request, credentials)
        # The address's count on the per-username scale: it reaches `limit` exactly when the address
        # reaches its own limit.
        return max(per_username, per_address * limit // settings.AXES_ADDRESS_FAILURE_LIMIT)

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A sign-in clears that username's failures from that address only: signing in with one's own account
        # must not wipe the count of guesses made at other usernames from the same address.
        count, _ = self.filter_user_attempts(request, credentials)[0].delete()
        return count


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response = render(
        request, settings.AXES_LOCKOUT_TEMPLATE, {"cool_off": _minutes(seconds) if seconds else ""}, status=429
    )
    if seconds:
        # Each attempt during a lockout starts the cool-off again, so this is when trying again can work.
        response["Retry-After"] = str(seconds)
    return response


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    path = path_info[0] if isinstance(path_info, tuple | list) else path_info
    return f"{{path: {path}}}"


class StaffSessionMiddleware:
    """After AuthenticationMiddleware. Only admin requests read or refresh the stamp."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if not request.path.startswith(self.admin_prefix):
            return self.get_response(request)
        seen = request.session.get(STAFF_SEEN_KEY)
        now = int(time.time())
        if seen is not None and now - seen > settings.ADMIN_SESSION_IDLE_SECONDS:
            logout(request)  # the admin then asks for the password again, and comes back here after it
        response = self.get_response(request)
        user = request.user  # after the view: a sign-in on this request counts
        if user.is_authenticated and user.is_staff and (seen is None or now - seen >= TOUCH_EVERY):
            request.session[STAFF_SEEN_KEY] = now
            request.session.set_expiry(settings.ADMIN_SESSION_IDLE_SECONDS)
        return response
