from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from advisor.enquiries import views as enquiries
from advisor.learners import api
from advisor.learners import views as learners
from advisor.web import views as web

public = [
    path("", learners.start, name="start"),
    # /questions/<step>/
    path("questions/check/", learners.check, name="check"),
    path("questions/<slug:step>/", learners.question, name="question"),
    path("plan/", learners.plan, name="plan"),
    path("compare/", learners.compare, name="compare"),
    # /enquire/
    path("enquire/", enquiries.enquire, name="enquire"),
    path("enquire/sent/<str:reference>/", enquiries.enquiry_sent, name="enquiry-sent"),
    path("privacy/", enquiries.privacy, name="privacy"),
    # /api/
    path("api/plan/", api.plan_json, name="api-plan"),
    path("api/openapi.json", api.openapi, name="api-openapi"),
    path("healthz", web.healthz, name="healthz"),
    path("favicon.ico", web.favicon, name="favicon"),
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain"), name="robots"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include((public, "advisor"))),
]

handler400 = "advisor.web.errors.bad_request"
