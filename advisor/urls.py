from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from advisor import api, enquire, views

public = [
    path("", views.start, name="start"),
    # /questions/<step>/
    path("questions/check/", views.check, name="check"),
    path("questions/<slug:step>/", views.question, name="question"),
    path("plan/", views.plan, name="plan"),
    path("compare/", views.compare, name="compare"),
    # /enquire/
    path("enquire/", enquire.enquire, name="enquire"),
    path("enquire/sent/<str:reference>/", enquire.enquiry_sent, name="enquiry-sent"),
    path("privacy/", enquire.privacy, name="privacy"),
    # /api/
    path("api/plan/", api.plan_json, name="api-plan"),
    path("api/openapi.json", api.openapi, name="api-openapi"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain"), name="robots"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include((public, "advisor"))),
]

handler400 = "advisor.errors.bad_request"
