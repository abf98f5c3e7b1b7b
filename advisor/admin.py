"""The app's admin, for Django's autodiscovery: the advisers' inbox (advisor/inbox/admin.py)."""

from advisor.inbox import admin  # noqa: F401 (registers the enquiry and reply-template admin)
