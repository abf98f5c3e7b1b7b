"""The admin site: Django's, with the advisers' queue on its home page.

`AdminConfig` takes the place of "django.contrib.admin" in INSTALLED_APPS, so `admin.site`, where every
ModelAdmin registers, is this `AdminSite` (Django's documented way to override the default site). Its home
page adds the queue to the context for whoever may see the dashboard; templates/admin/index.html shows it above
Django's list of models.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        # Imported here: INSTALLED_APPS loads this module before any model can be imported.
        from advisor.inbox.dashboard_views import home

        return super().index(request, {**home(request), **(extra_context or {})})


class AdminConfig(DjangoAdminConfig):
    default_site = "advisor.site_admin.AdminSite"
