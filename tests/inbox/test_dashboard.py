"""The advisers' dashboard: every figure against a hand-counted inbox, who may see it, its links, its CSV and
its query count as the data grows."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor.enquiries.models import Enquiry, Status
from advisor.funnel.models import FunnelCount, FunnelStep
from advisor.inbox import dashboard
from advisor.inbox.dashboard import Period
from tests.enquiry_support import enquiry_settings, make_enquiry, make_staff  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enquiry_settings")]

DASHBOARD = "/admin/advisor/enquiry/dashboard/"
DASHBOARD_CSV = "/admin/advisor/enquiry/dashboard/csv/"
FUNNEL = "/admin/advisor/enquiry/funnel/"
FUNNEL_CSV = "/admin/advisor/enquiry/funnel/csv/"
SYDNEY = ZoneInfo("Australia/Sydney")
# A Monday morning: Thursday 10:00 is two business days back, Friday is only one.
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SYDNEY)
PERIOD = Period(date(2026, 10, 19), date(2026, 11, 30))


def at(day, hour, minute=0):
    return datetime(2026, *day, hour, minute, tzinfo=SYDNEY)


def enquiry(created, origin="AU", destination="GB", status=Status.NEW, contacted_after=None, **fields):
    made = make_enquiry(origin_code=origin, destination_code=destination, spam_reason=fields.pop("spam_reason", ""))
    Enquiry.objects.filter(pk=made.pk).update(
        created_at=created,
        status=status,
        contacted_at=created + contacted_after if contacted_after else None,
        **fields,
    )
    return made


@pytest.fixture
def adviser():
    return make_staff("adviser", "Course advisers")


@pytest.fixture
def inbox(adviser):
    """The hand-counted inbox. Letters name enquiries in the comments of the tests below."""
    other = make_staff("other", "Course advisers")
    hours = timedelta(hours=1)
    enquiry(at((11, 26), 9), "AU", "GB")  # A: new, Thursday 09:00, overdue, unassigned
    enquiry(at((11, 26), 11), "AU", "NZ", assigned_to=adviser)  # B: new, Thursday 11:00, not overdue, mine
    enquiry(at((11, 27), 9), "US", "GB")  # C: new, Friday: three calendar days but one business day
    enquiry(at((11, 30), 8), "none", "CA")  # D: new, two hours old
    enquiry(at((11, 10), 9), "AU", "GB", Status.FOLLOW_UP, 5 * hours, assigned_to=other)  # E
    enquiry(at((10, 20), 9), "GB", "AU", Status.CONTACTED, 2 * hours, assigned_to=adviser)  # F: 41 days old
    enquiry(at((11, 24), 9), "NZ", "GB", Status.CLOSED, 10 * hours)  # G
    enquiry(at((11, 20), 9), "AU", "GB", spam_reason="honeypot")  # H: spam, left out of everything
    enquiry(at((11, 29), 9), "", "")  # I: new, Sunday, a general enquiry without a plan
    enquiry(at((11, 23), 9), "AU", "GB", Status.CLOSED, 1 * hours)  # J
    enquiry(at((11, 24), 12), "AU", "GB", Status.ENROLLED, 3 * hours)  # K
    enquiry(at((11, 25), 9), "US", "NZ", Status.CLOSED, 30 * hours)  # L
    return adviser


# --- The figures, hand-counted ----------------------------------------------------------------------------------


def test_queue_counts_open_enquiries_by_status_and_age_band(inbox):
    queue = dashboard.queue(inbox, now=NOW)
    assert queue["total"] == 7  # A B C D I (new), E (follow-up), F (contacted)
    by_status = {s["status"]: (s["total"], s["bands"]) for s in queue["statuses"]}
    # Bands: under 1 day, 1 to 2 days, 3 to 6 days, 1 to 4 weeks, over 4 weeks.
    assert by_status == {
        Status.NEW: (5, [1, 1, 3, 0, 0]),  # D; I; A B C
        Status.FOLLOW_UP: (1, [0, 0, 0, 1, 0]),  # E
        Status.CONTACTED: (1, [0, 0, 0, 0, 1]),  # F
    }
    assert [b["total"] for b in queue["bands"]] == [1, 1, 3, 1, 1]


def test_overdue_counts_business_days_like_the_inbox_filter(inbox):
    queue = dashboard.queue(inbox, now=NOW)
    # Only A: B arrived after Thursday 10:00, C on Friday (a weekend in between), spam H never counts.
    assert queue["overdue"] == 1
    # On Tuesday at 10:00 the cutoff is Friday 10:00: A, B and C are overdue; Sunday's I and Monday's D not yet.
    assert dashboard.queue(inbox, now=at((12, 1), 10))["overdue"] == 3
    # On Wednesday all five new ones are.
    assert dashboard.queue(inbox, now=at((12, 2), 10))["overdue"] == 5


def test_unassigned_and_assigned_to_me(inbox):
    queue = dashboard.queue(inbox, now=NOW)
    assert queue["unassigned"] == 4  # A C D I
    assert queue["mine"] == 2  # B F


def test_weekly_counts_fill_every_week_of_the_period(inbox):
    weeks, _, _ = dashboard.received(PERIOD)
    assert [(w["week"].isoformat(), w["count"]) for w in weeks] == [
        ("2026-10-19", 1),  # F
        ("2026-10-26", 0),
        ("2026-11-02", 0),
        ("2026-11-09", 1),  # E
        ("2026-11-16", 0),  # only spam H
        ("2026-11-23", 8),  # J G K L A B C I (Sunday is the week's last day)
        ("2026-11-30", 1),  # D
    ]


def test_default_period_is_the_last_twelve_weeks():
    period = Period.default(today=date(2026, 12, 2))
    assert period == Period(date(2026, 9, 14), date(2026, 12, 2))
    assert len(period.weeks()) == 12


def test_by_destination_and_by_origin(inbox):
    _, destinations, origins = dashboard.received(PERIOD)
    assert [(d["code"], d["count"]) for d in destinations] == [("GB", 6), ("NZ", 2), ("", 1), ("AU", 1), ("CA", 1)]
    assert [(o["code"], o["count"]) for o in origins] == [
        ("AU", 5),
        ("US", 2),
        ("", 1),
        ("GB", 1),
        ("NZ", 1),
        ("none", 1),
    ]


def test_median_and_90th_percentile_time_to_first_contact_by_week(inbox):
    times = {t["week"].isoformat(): t for t in dashboard.response_times(PERIOD)}
    hours = timedelta(hours=1)
    # Week of 23 Nov: J 1 h, K 3 h, G 10 h, L 30 h. Nearest rank: the 2nd of 4 and the 4th of 4.
    assert (times["2026-11-23"]["contacted"], times["2026-11-23"]["p50"], times["2026-11-23"]["p90"]) == (
        4,
        3 * hours,
        30 * hours,
    )
    assert (times["2026-11-09"]["p50"], times["2026-11-09"]["p90"]) == (5 * hours, 5 * hours)  # E alone
    assert (times["2026-10-19"]["p50"], times["2026-10-19"]["p90"]) == (2 * hours, 2 * hours)  # F alone
    assert times["2026-11-30"] == {"week": date(2026, 11, 30), "contacted": 0, "p50": None, "p90": None}


# --- The page ---------------------------------------------------------------------------------------------------


def test_dashboard_shows_the_figures_with_charts_their_numbers_and_links(client, adviser):
    now = timezone.now()
    make_enquiry()  # new, just now
    old = make_enquiry(destination_code="NZ")
    Enquiry.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))  # overdue whatever the weekday
    client.force_login(adviser)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    # Waiting now: the figures and one table by status and age; then four charts, each with its numbers in a
    # closed disclosure rather than a second copy beside it.
    assert html.count('<table class="chart-table queue-matrix">') == 1
    assert html.count('<svg class="chart-svg"') == 4
    assert html.count('<details class="chart-numbers"><summary>Show the numbers') == 4
    assert html.count('<table class="chart-table">') == 4
    assert "<details open" not in html
    assert re.search(r"<strong>2</strong> open enquiries", html)
    assert re.search(r"<strong>1</strong> overdue", html)
    assert 'href="/admin/advisor/enquiry/?overdue=yes"' in html
    assert 'href="/admin/advisor/enquiry/?status__exact=new"' in html
    # Each destination bar (and its table row) links to the inbox filtered to it and the period.
    assert re.search(r'<a href="/admin/advisor/enquiry/\?destination_code__exact=NZ&amp;created_at__gte=', html)
    assert 'style="' not in html.split('id="content-main"')[1]


def test_the_weekly_chart_draws_a_column_per_week_oldest_on_the_left(client, adviser):
    today = timezone.localdate()
    for days, n in ((7 * 11, 1), (7 * 4, 3), (0, 2)):
        noon = timezone.make_aware(
            datetime.combine(today - timedelta(days=days), datetime.min.time()) + timedelta(hours=12)
        )
        for _ in range(n):
            made = make_enquiry()
            Enquiry.objects.filter(pk=made.pk).update(created_at=noon)
    client.force_login(adviser)
    html = client.get(DASHBOARD).content.decode()
    weekly = html[html.index("<h3>Each week</h3>") : html.index("</figure>", html.index("<h3>Each week</h3>"))]
    bars = [
        tuple(float(v) for v in bar)
        for bar in re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', weekly)
    ]
    assert len(bars) == 12  # the last 12 weeks, empty ones included
    xs, widths, heights = [b[0] for b in bars], {b[2] for b in bars}, [b[3] for b in bars]
    assert xs == sorted(xs) and len(widths) == 1  # side by side, left to right, all as wide
    assert heights[0] == heights[-1] * 1 / 2 and heights[7] == max(heights) and heights[1:7] == [0] * 6
    assert [b[1] + b[3] for b in bars] == [bars[0][1] + bars[0][3]] * 12  # standing on one baseline
    week_rows = re.findall(r"<tr><th scope=\"row\"><a [^>]+>Week of ([^<]+)</a></th><td class=\"number\">(\d+)", weekly)
    assert [int(n) for _, n in week_rows] == [1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2]


def test_a_bar_leads_to_the_changelist_filtered_to_it(client, adviser):
    make_enquiry(destination_code="NZ")
    make_enquiry(destination_code="GB")
    client.force_login(adviser)
    html = client.get(DASHBOARD).content.decode()
    link = re.search(r'<a href="(/admin/advisor/enquiry/\?destination_code__exact=NZ[^"]*)"', html)[1]
    changelist = client.get(link.replace("&amp;", "&"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 1


def test_a_bad_period_gets_a_message_and_the_default(client, adviser):
    client.force_login(adviser)
    for query in ("start=2026-13-45", "start=2026-11-30&end=2026-01-01", "start=2020-01-01&end=2026-01-01"):
        response = client.get(DASHBOARD + "?" + query)
        assert response.status_code == 200
        assert "Showing the last 12 weeks instead." in response.content.decode()


# Dates the database and the time zone cannot hold a period around: 9999-12-31 has no next midnight, and midnight
# on 0001-01-01 in Sydney is before the first instant UTC can hold; and the days just outside the range allowed.
# (field with the error, query)
EDGE_PERIODS = [
    ("start", "start=9999-12-31"),
    ("end", "end=9999-12-31"),
    ("start", "start=0001-01-01&end=0001-01-01"),
    ("end", "start=2026-11-01&end=9999-12-31"),
    ("start", "start=0001-01-01"),
    ("start", "start=1999-12-31&end=2000-01-02"),
]


@pytest.mark.parametrize(("field", "query"), EDGE_PERIODS)
@pytest.mark.parametrize("url", [DASHBOARD, FUNNEL])
def test_a_period_beyond_the_calendar_gets_an_error_next_to_its_field(client, adviser, url, field, query):
    make_enquiry()
    client.force_login(adviser)
    response = client.get(f"{url}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>([^<]+)</li></ul>\s*<input[^>]+>', html)
    assert error and error[1] == "Enter a date from 1 January 2000 to 31 December 2099."
    assert f'name="{field}"' in error[0] and 'aria-invalid="true"' in error[0]
    assert f'aria-describedby="id_{field}_error"' in error[0]
    assert "Showing the last 12 weeks instead." in html


@pytest.mark.parametrize(("field", "query"), EDGE_PERIODS)
@pytest.mark.parametrize(("csv_url", "page_url"), [(DASHBOARD_CSV, DASHBOARD), (FUNNEL_CSV, FUNNEL)])
def test_a_csv_for_a_period_beyond_the_calendar_goes_to_the_page_that_says_why(
    client, adviser, csv_url, page_url, field, query
):
    client.force_login(adviser)
    response = client.get(f"{csv_url}?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"{page_url}?{query}"
    assert f'id="id_{field}_error"' in client.get(response["Location"]).content.decode()


def test_the_first_and_last_days_allowed_make_a_period(client, adviser):
    client.force_login(adviser)
    for query in ("start=2000-01-01&end=2000-01-01", "start=2099-12-31", "start=2099-01-01&end=2099-12-31"):
        html = client.get(f"{DASHBOARD}?{query}").content.decode()
        assert "errorlist" not in html and "errornote" not in html
        rows = read_csv(client.get(f"{DASHBOARD_CSV}?{query}"))
        assert rows[0][0] == "Period"


def test_one_end_alone_before_the_default_start_says_what_to_do(client, adviser):
    client.force_login(adviser)
    html = client.get(f"{DASHBOARD}?end=2020-01-01").content.decode()
    assert re.search(r'id="id_start_error"><li>Enter a start on or before the end of the period.</li>', html)


ROLES = {
    "Content editors": 403,
    "Privacy officers": 403,
    "Course advisers": 200,
}


@pytest.mark.parametrize("url", [DASHBOARD, FUNNEL, DASHBOARD_CSV, FUNNEL_CSV])
@pytest.mark.parametrize(("group", "status"), ROLES.items())
def test_only_advisers_and_superusers_see_the_dashboard_and_funnel(client, url, group, status):
    client.force_login(make_staff("someone", group))
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", [DASHBOARD, FUNNEL, DASHBOARD_CSV, FUNNEL_CSV])
def test_superusers_see_everything_and_strangers_are_sent_to_sign_in(client, url):
    assert client.get(url).status_code == 302
    client.force_login(make_staff("root", superuser=True))
    assert client.get(url).status_code == 200


def test_the_exports_need_the_export_permission_too(client):
    user = make_staff("viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(DASHBOARD_CSV).status_code == 403
    assert client.get(FUNNEL_CSV).status_code == 403


def test_changelist_links_to_the_dashboard_for_advisers_only(client, adviser):
    client.force_login(adviser)
    assert DASHBOARD in client.get("/admin/advisor/enquiry/").content.decode()
    client.force_login(make_staff("privacy", "Privacy officers"))
    assert DASHBOARD not in client.get("/admin/advisor/enquiry/").content.decode()


# --- CSV --------------------------------------------------------------------------------------------------------


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_dashboard_csv_has_every_figure_for_the_period(client, adviser):
    old = make_enquiry(destination_code="NZ")
    Enquiry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    make_enquiry()
    client.force_login(adviser)
    today = timezone.localdate()
    start = today - timedelta(days=20)
    rows = read_csv(client.get(f"{DASHBOARD_CSV}?start={start}&end={today}"))
    assert rows[0][:3] == ["Period", start.isoformat(), today.isoformat()]
    assert rows[1] == ["Figure", "Item", "Value"]
    figures = {(r[0], r[1]): r[2] for r in rows[2:]}
    assert figures[("Waiting now", "All open enquiries")] == "2"
    assert figures[("Waiting now", "Overdue (new after 2 business days)")] == "1"
    assert figures[("By destination", "New Zealand")] == "1"
    assert figures[("By destination", "United Kingdom")] == "1"
    weekly = [r for r in rows if r[0] == "Received per week"]
    assert sum(int(r[2]) for r in weekly) == 2


def test_csv_cells_that_look_like_formulas_are_escaped(client, adviser):
    make_enquiry(destination_code="=HYPERLINK")
    FunnelCount.objects.create(day=timezone.localdate(), step=FunnelStep.PLAN, origin="@SUM", destination="GB", hits=3)
    client.force_login(adviser)
    dashboard_rows = read_csv(client.get(DASHBOARD_CSV))
    assert ["By destination", "'=HYPERLINK", "1"] in dashboard_rows
    funnel_rows = read_csv(client.get(FUNNEL_CSV))
    assert ["Plan viewed", "'@SUM to United Kingdom", "3", ""] in funnel_rows


# --- Queries ----------------------------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    client.get(url)  # warm the per-process caches (reference data, permissions are per request anyway)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_dashboard_and_funnel_use_the_same_queries_whatever_the_data(client, adviser):
    client.force_login(adviser)
    make_enquiry()
    small = {url: queries_for(client, url) for url in (DASHBOARD, FUNNEL, DASHBOARD_CSV, FUNNEL_CSV)}
    now = timezone.now()
    codes = ["AU", "CA", "GB", "NZ", "US"]
    for i in range(60):
        made = make_enquiry(origin_code=codes[i % 5], destination_code=codes[(i + 2) % 5])
        Enquiry.objects.filter(pk=made.pk).update(
            created_at=now - timedelta(days=i), contacted_at=now - timedelta(days=i) + timedelta(hours=i % 7 + 1)
        )
    FunnelCount.objects.bulk_create(
        FunnelCount(day=timezone.localdate() - timedelta(days=d), step=step, hits=d + 1)
        for d in range(80)
        for step in FunnelStep
    )
    large = {url: queries_for(client, url) for url in small}
    assert large == small
    # Session, user, permissions, and the figures: three queries for the dashboard, two for the funnel.
    assert max(large.values()) <= 12, large


# --- The funnel page --------------------------------------------------------------------------------------------


def test_funnel_shows_each_step_the_share_of_the_step_before_and_the_drop_off(client, adviser):
    today = timezone.localdate()
    hits = {
        "start": 100,
        "origin": 80,
        "credentials": 50,
        "experience": 70,
        "destination": 70,
        "check": 60,
        "enquiry_form": 30,
        "enquiry_sent": 10,
    }
    for step, n in hits.items():
        # Split over two days, and one day outside the period that must not count.
        FunnelCount.objects.create(day=today, step=step, hits=n - n // 2)
        FunnelCount.objects.create(day=today - timedelta(days=1), step=step, hits=n // 2)
        FunnelCount.objects.create(day=today - timedelta(days=400), step=step, hits=1000)
    for origin, destination, n in [("AU", "GB", 50), ("none", "NZ", 30), ("US", "CA", 10)]:
        FunnelCount.objects.create(day=today, step="plan", origin=origin, destination=destination, hits=n)
    steps = {s["step"]: (s["count"], s["of_previous"], s["drop_off"]) for s in dashboard.funnel(Period.default())}
    assert steps == {
        "start": (100, None, None),
        "origin": (80, 80.0, 20.0),
        "credentials": (50, None, None),  # asked only of trained coders: beside the main line
        "experience": (70, 87.5, 12.5),
        "destination": (70, 100.0, 0.0),
        "check": (60, 85.7, 14.3),
        "plan": (90, 150.0, None),  # plans are also opened from shared links
        "enquiry_form": (30, 33.3, 66.7),
        "enquiry_sent": (10, 33.3, 66.7),
    }
    moves = dashboard.top_moves(Period.default())
    assert [(m["origin"], m["destination"], m["count"]) for m in moves] == [
        ("AU", "GB", 50),
        ("none", "NZ", 30),
        ("US", "CA", 10),
    ]
    client.force_login(adviser)
    html = client.get(FUNNEL).content.decode()
    assert "70 (87.5% of the step before)" in html
    assert re.search(r'<a href="/admin/advisor/enquiry/\?origin_code__exact=none&amp;destination_code__exact=NZ', html)
    assert "Not trained yet to New Zealand" in html
