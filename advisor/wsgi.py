import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
application = get_wsgi_application()

# Each worker says at start-up what is wrong with the reference data (it still starts and serves).
from pathways.checks import log_problems  # noqa: E402 - needs the apps loaded above

log_problems()
