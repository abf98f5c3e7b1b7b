"""The role matrix, enforced by permissions: one row per (role, URL, method), plus a snapshot of what
each group may do so that permission drift fails the build.

| role             | enquiries                      | notes      | reference data |
| Content editors  | nothing (403 everywhere)       | nothing    | full           |
| Course advisers  | view, change, export CSV, dashboard, reply by email | add, view | view only |
| Privacy officers | view, correct, delete, export  | add, view, delete | view only |
"""

import pytest
from django.contrib.auth.models import Group

from pathways.models import Country
from tests.enquiry_support import enquiry_settings, make_enquiry, make_staff  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

EDITOR, ADVISER, PRIVACY, SUPERUSER, ANONYMOUS = "editor", "adviser", "privacy", "superuser", "anonymous"
GROUPS = {EDITOR: "Content editors", ADVISER: "Course advisers", PRIVACY: "Privacy officers"}

# (URL template, method): {role: expected status}
MATRIX = {
    ("/admin/", "GET"): {EDITOR: 200, ADVISER: 200, PRIVACY: 200, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/advisor/", "GET"): {EDITOR: 404, ADVISER: 200, PRIVACY: 200, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/advisor/enquiry/", "GET"): {EDITOR: 403, ADVISER: 200, PRIVACY: 200, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/advisor/enquiry/add/", "GET"): {EDITOR: 403, ADVISER: 403, PRIVACY: 403, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/advisor/enquiry/{enquiry}/change/", "GET"): {
        EDITOR: 403,
        ADVISER: 200,
        PRIVACY: 200,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/advisor/enquiry/{enquiry}/change/", "POST"): {
        EDITOR: 403,
        ADVISER: 302,
        PRIVACY: 302,
        SUPERUSER: 302,
        ANONYMOUS: 302,
    },
    ("/admin/advisor/enquiry/{enquiry}/history/", "GET"): {
        EDITOR: 403,
        ADVISER: 200,
        PRIVACY: 200,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/advisor/enquiry/{enquiry}/delete/", "GET"): {
        EDITOR: 403,
        ADVISER: 403,
        PRIVACY: 200,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/advisor/enquiry/{enquiry}/delete/", "POST"): {
        EDITOR: 403,
        ADVISER: 403,
        PRIVACY: 302,
        SUPERUSER: 302,
        ANONYMOUS: 302,
    },
    # The advisers' dashboard (its queue is also on their admin home: see the test below the matrix).
    ("/admin/advisor/enquiry/dashboard/", "GET"): {
        EDITOR: 403,
        ADVISER: 200,
        PRIVACY: 403,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/pathways/country/", "GET"): {EDITOR: 200, ADVISER: 200, PRIVACY: 200, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/pathways/country/{country}/change/", "GET"): {
        EDITOR: 200,
        ADVISER: 200,
        PRIVACY: 200,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/pathways/country/{country}/change/", "POST"): {
        EDITOR: 200,  # the empty form comes back with errors: allowed, just incomplete
        ADVISER: 403,
        PRIVACY: 403,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/pathways/country/add/", "GET"): {EDITOR: 200, ADVISER: 403, PRIVACY: 403, SUPERUSER: 200, ANONYMOUS: 302},
    ("/admin/pathways/country/{country}/history/", "GET"): {
        EDITOR: 200,
        ADVISER: 200,
        PRIVACY: 200,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    # The content editors' tools: the re-check list and "Checked today", the fixtures zip.
    ("/admin/pathways/source/recheck/", "GET"): {
        EDITOR: 200,
        ADVISER: 403,
        PRIVACY: 403,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/pathways/source/recheck/", "POST"): {
        EDITOR: 200,
        ADVISER: 403,
        PRIVACY: 403,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
    ("/admin/pathways/source/fixtures.zip", "GET"): {
        EDITOR: 200,
        ADVISER: 403,
        PRIVACY: 403,
        SUPERUSER: 200,
        ANONYMOUS: 302,
    },
}

ROWS = [(role, url, method, status) for (url, method), row in MATRIX.items() for role, status in row.items()]


def log_in(client, role):
    if role == ANONYMOUS:
        return None
    user = make_staff(role, GROUPS.get(role), superuser=role == SUPERUSER)
    client.force_login(user)
    return user


def enquiry_post(enquiry):
    return {
        "status": "contacted",
        "assigned_to": "",
        "notes-TOTAL_FORMS": "0",
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
        "name": enquiry.name,
        "email": enquiry.email,
        "phone": enquiry.phone,
        "preferred_contact": enquiry.preferred_contact,
        "post": "yes",  # the delete confirmation
    }


@pytest.mark.parametrize(("role", "url", "method", "expected"), ROWS, ids=[f"{r[0]}-{r[2]}-{r[1]}" for r in ROWS])
def test_role_matrix(client, role, url, method, expected):
    enquiry = make_enquiry()
    country = Country.objects.order_by("pk").first()
    log_in(client, role)
    path = url.format(enquiry=enquiry.pk, country=country.pk)
    response = client.get(path) if method == "GET" else client.post(path, enquiry_post(enquiry))
    assert response.status_code == expected


def test_content_editors_do_not_even_see_enquiries_in_the_admin_index(client):
    log_in(client, EDITOR)
    page = client.get("/admin/").content.decode()
    assert "Enquiries" not in page
    assert "Countries" in page or "Country" in page


def test_advisers_see_enquiries_and_reference_data_in_the_admin_index(client):
    log_in(client, ADVISER)
    page = client.get("/admin/").content.decode()
    assert "Enquiries" in page


@pytest.mark.parametrize(
    ("role", "sees_queue"), [(ADVISER, True), (SUPERUSER, True), (EDITOR, False), (PRIVACY, False)]
)
def test_only_advisers_and_superusers_get_the_queue_and_the_dashboard_link_on_the_admin_home(client, role, sees_queue):
    make_enquiry()
    log_in(client, role)
    page = client.get("/admin/").content.decode()
    assert ("Enquiries waiting" in page) is sees_queue
    assert ("/admin/advisor/enquiry/dashboard/" in page) is sees_queue


def test_only_privacy_officers_get_the_personal_data_export_action(client):
    make_enquiry()
    log_in(client, ADVISER)
    assert "export_person" not in client.get("/admin/advisor/enquiry/").content.decode()
    client.logout()
    log_in(client, PRIVACY)
    assert "export_person" in client.get("/admin/advisor/enquiry/").content.decode()


def enquiry_permissions(group_name):
    group = Group.objects.get(name=group_name)
    return set(group.permissions.filter(content_type__app_label="advisor").values_list("codename", flat=True))


def test_group_permissions_on_enquiries_match_the_snapshot():
    assert enquiry_permissions("Content editors") == set()
    assert enquiry_permissions("Course advisers") == {
        "view_enquiry",
        "change_enquiry",
        "export_enquiry",
        "view_enquirynote",
        "add_enquirynote",
        "view_historicalenquiry",
        "view_dashboard",
        "view_replytemplate",
        "add_replytemplate",
        "change_replytemplate",
        "delete_replytemplate",
    }
    assert enquiry_permissions("Privacy officers") == {
        "view_enquiry",
        "change_enquiry",
        "delete_enquiry",
        "correct_enquiry",
        "export_enquiry",
        "export_personal_data",
        "view_enquirynote",
        "add_enquirynote",
        "delete_enquirynote",
        "view_historicalenquiry",
    }


@pytest.mark.parametrize("group", ["Course advisers", "Privacy officers"])
def test_advisers_and_privacy_officers_only_view_reference_data(group):
    codenames = Group.objects.get(name=group).permissions.filter(content_type__app_label="pathways")
    codenames = set(codenames.values_list("codename", flat=True))
    assert codenames and all(codename.startswith("view_") for codename in codenames)
