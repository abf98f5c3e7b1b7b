import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - needs the settings module chosen above

from advisor.pagecache.front import PageCache  # noqa: E402 - needs the apps loaded above

# Repeat GETs of public pages are answered in front of Django's handler (advisor/pagecache/).
if "page-cache" not in settings.SPEED_OFF:
    application = PageCache(application)

# Each worker says at start-up what is wrong with the reference data (it still starts and serves).
from django.db import connections  # noqa: E402 - needs the apps loaded above

from pathways.checks import log_problems  # noqa: E402

log_problems()
connections.close_all()  # never hand a connection opened here to processes forked later (gunicorn --preload)
