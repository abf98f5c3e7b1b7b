"""System checks on how enquiries' emails are set up (tag "advisor"): warnings, so nothing refuses to start.

Ids:
  advisor.W001  ADVISER_EMAILS is empty with DEBUG off: nobody is told of a new enquiry (each advisers' email is
                given up at once, advisor/enquiries/emails.py; the enquiries wait in the inbox all the same)
"""

from django.conf import settings
from django.core.checks import Warning as Problem
from django.core.checks import register


@register("advisor")
def check_adviser_emails(app_configs=None, **kwargs):
    if app_configs is not None and not any(config.label == "advisor" for config in app_configs):
        return []
    if settings.DEBUG or settings.ADVISER_EMAILS:
        return []  # (in development nobody needs telling; the console shows what would be sent)
    return [
        Problem(
            "ADVISER_EMAILS is empty: advisers are not emailed about new enquiries.",
            hint="Set ADVISER_EMAILS to the addresses to tell, separated by commas. Until then each notification "
            "is given up at once, and new enquiries are only seen by opening the inbox.",
            id="advisor.W001",
        )
    ]
