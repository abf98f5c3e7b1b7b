"""The admin home: a course adviser's queue (its counts, each linking to exactly those enquiries, and the ten
waiting longest) above Django's list of models; superusers see it too; content editors and privacy officers keep
Django's home. A constant number of queries whatever the size of the inbox."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor.enquiries.models import Enquiry, Status
from tests.enquiry_support import enquiry_settings, make_enquiry, make_staff  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

HOME = "/admin/"
DASHBOARD = "/admin/advisor/enquiry/dashboard/"
FIGURE = re.compile(r'<a href="([^"]+)"><strong>(\d+)</strong> ([a-z ]+)</a>')


def enquiry(days_ago: float, status=Status.NEW, **fields):
    made = make_enquiry(
        origin_code=fields.pop("origin_code", "AU"),
        destination_code=fields.pop("destination_code", "GB"),
        spam_reason=fields.pop("spam_reason", ""),
    )
    Enquiry.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago), status=status, **fields
    )
    return Enquiry.objects.get(pk=made.pk)


@pytest.fixture
def adviser():
    user = make_staff("adviser", "Course advisers")
    user.first_name, user.last_name = "Avery", "Adviser"
    user.save()
    return user


@pytest.fixture
def inbox(adviser):
    """Letters name the enquiries in the tests below. Ten days back is overdue whatever today's weekday is."""
    other = make_staff("other", "Course advisers")
    return {
        "A": enquiry(10),  # new, overdue, unassigned
        "B": enquiry(12, assigned_to=adviser),  # new, overdue, mine
        "C": enquiry(0.01),  # new, just arrived, unassigned
        "D": enquiry(20, Status.FOLLOW_UP, assigned_to=other),
        "E": enquiry(25, Status.CONTACTED, assigned_to=adviser),  # mine
        "F": enquiry(40, Status.CLOSED),  # finished: not waiting
        "G": enquiry(45, Status.ENROLLED, assigned_to=adviser),  # finished: not waiting
        "H": enquiry(50, spam_reason="honeypot"),  # spam: left out of everything
    }


def figures(html: str) -> dict[str, tuple[int, str]]:
    """The queue's figures on a page: {"overdue": (2, link), ...}."""
    return {name: (int(count), href.replace("&amp;", "&")) for href, count, name in FIGURE.findall(html)}


def listed(client, href: str) -> set[str]:
    response = client.get(href)
    assert response.status_code == 200
    return {e.reference for e in response.context["cl"].queryset}


def test_it_shows_an_adviser_the_queue_each_count_linking_to_exactly_those_enquiries(client, adviser, inbox):
    client.force_login(adviser)
    html = client.get(HOME).content.decode()
    found = figures(html)
    assert {name: count for name, (count, _) in found.items()} == {
        "open enquiries": 5,
        "overdue": 2,
        "unassigned": 2,
        "assigned to me": 2,
    }
    expected = {"open enquiries": "ABCDE", "overdue": "AB", "unassigned": "AC", "assigned to me": "BE"}
    for name, letters in expected.items():
        assert listed(client, found[name][1]) == {inbox[letter].reference for letter in letters}, name
    assert found["overdue"][1] == "/admin/advisor/enquiry/?overdue=yes"  # the inbox's own filter


def test_it_lists_the_open_enquiries_waiting_longest_oldest_first(client, adviser, inbox):
    client.force_login(adviser)
    table = re.search(r"<caption>Waiting longest</caption>.*?</table>", client.get(HOME).content.decode(), re.S)[0]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, re.S)
    assert len(rows) == 5  # E D B A C: the closed, enrolled and spam ones are not waiting
    references = [re.search(r">(E-\w+)</a>", row)[1] for row in rows]
    assert references == [inbox[letter].reference for letter in "EDBAC"]
    first = rows[0]
    assert f'href="/admin/advisor/enquiry/{inbox["E"].pk}/change/"' in first
    assert "<td>Australia to United Kingdom</td>" in first
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+1[01]:00">', first)  # whole seconds
    assert "3\xa0weeks ago" in first and "<td>Contacted</td>" in first and "<td>Avery Adviser</td>" in first
    assert "<td>New, overdue</td>" in rows[2] and "<td>Unassigned</td>" in rows[3]


def test_it_lists_ten_at_most_and_names_every_kind_of_move(client, adviser):
    for day in range(12):
        enquiry(day + 1)
    oldest = enquiry(30, origin_code="none", destination_code="CA")
    general = enquiry(29, origin_code="", destination_code="")
    client.force_login(adviser)
    html = client.get(HOME).content.decode()
    table = re.search(r"<caption>Waiting longest</caption>.*?</table>", html, re.S)[0]
    assert table.count('<th scope="row">') == 10
    assert table.index(oldest.reference) < table.index(general.reference)
    assert "<td>Not trained yet to Canada</td>" in table
    assert "<td>No plan (general enquiry)</td>" in table
    assert figures(html)["open enquiries"][0] == 14  # the count is all of them, the list only the ten


def test_it_links_to_the_dashboard_and_keeps_the_list_of_models(client, adviser):
    client.force_login(adviser)
    html = client.get(HOME).content.decode()
    assert f'<a href="{DASHBOARD}">Enquiries dashboard</a>' in html
    assert "No enquiries are waiting." in html
    assert 'id="content-main" class="app-list"' in html and "Reply templates" in html


def test_superusers_see_the_queue_too(client, inbox):
    client.force_login(make_staff("root", superuser=True))
    html = client.get(HOME).content.decode()
    assert figures(html)["open enquiries"][0] == 5
    assert "Waiting longest" in html and DASHBOARD in html


@pytest.mark.parametrize("group", ["Content editors", "Privacy officers"])
def test_content_editors_and_privacy_officers_keep_djangos_home(client, inbox, group):
    client.force_login(make_staff("someone", group))
    response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enquiries waiting" not in html and "Waiting longest" not in html
    assert DASHBOARD not in html and "static/css/dashboard.css" not in html
    assert 'id="content-main" class="app-list"' in html
    assert client.get(DASHBOARD).status_code == 403


def queries_for(client, url) -> int:
    client.get(url)  # warm the per-process caches (reference data)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_home_page_runs_the_same_queries_whatever_the_size_of_the_inbox(client, adviser):
    client.force_login(adviser)
    enquiry(3, assigned_to=adviser)
    small = queries_for(client, HOME)
    others = [make_staff(f"adviser{i}", "Course advisers") for i in range(4)]
    for i in range(30):
        enquiry(i + 1, [Status.NEW, Status.FOLLOW_UP, Status.CONTACTED][i % 3], assigned_to=others[i % 4])
    assert queries_for(client, HOME) == small
    # Session, user, permissions (two), the admin's recent actions, the reference data's version (for the country
    # names), the queue's figures and the list: eight.
    assert small <= 8, small
