"""The advisers' queue on the admin home, the dashboard and the questionnaire funnel in admin, and their CSV
exports.

Course advisers and superusers see them (permission `advisor.view_dashboard`); content editors and
privacy officers get 403, and an admin home without the queue. The exports also need `advisor.export_enquiry`,
as the enquiry export does, and escape every cell against spreadsheet formulas the same way (exports.py). Every
figure comes from dashboard.py in a fixed number of queries.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_safe

from advisor.enquiries.models import Status
from advisor.inbox import dashboard
from advisor.inbox.charts import Row, bar_chart, column_chart
from advisor.inbox.dashboard import AGE_BANDS, OPEN, Period, week_bounds
from advisor.inbox.exports import csv_response
from pathways.choices import NEW_TO_CODING
from pathways.reference import load_reference

VIEW = "advisor.view_dashboard"
EXPORT = "advisor.export_enquiry"


def urls(model_admin) -> list:
    """URLs under /admin/advisor/enquiry/, behind the admin's login."""

    def view(function):
        def wrapped(request):
            return function(request, model_admin)

        wrapped.__name__ = function.__name__
        return model_admin.admin_site.admin_view(wrapped)

    return [
        path("dashboard/", view(dashboard_page), name="advisor_enquiry_dashboard"),
        path("dashboard/csv/", view(dashboard_csv), name="advisor_enquiry_dashboard_csv"),
        path("funnel/", view(funnel_page), name="advisor_enquiry_funnel"),
        path("funnel/csv/", view(funnel_csv), name="advisor_enquiry_funnel_csv"),
    ]


def _require(request, *perms):
    if not all(request.user.has_perm(p) for p in perms):
        raise PermissionDenied


def _changelist(**params) -> str:
    return reverse("admin:advisor_enquiry_changelist") + "?" + urlencode(params)


def _between(start, end) -> dict:
    return {"created_at__gte": start.isoformat(), "created_at__lt": end.isoformat()}


def _names() -> dict:
    names = {code: country.name for code, country in load_reference().countries.items()}
    return {**names, NEW_TO_CODING: "Not trained yet", "": "No plan (general enquiry)"}


def move_label(origin: str, destination: str, names: dict) -> str:
    """A move as advisers read it: "Australia to United Kingdom", "Not trained yet to Canada"."""
    if not destination:
        return names[""]
    return f"{names.get(origin, origin or '?')} to {names.get(destination, destination)}"


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "Unassigned"


def _hours(wait) -> str:
    return "–" if wait is None else f"{wait.total_seconds() / 3600:.1f} h"


# --- The admin home ---------------------------------------------------------------------------------------------


def home(request) -> dict:
    """What the admin home shows above the list of models, for whoever may see the dashboard (course advisers,
    superusers): the queue's figures, the enquiries waiting longest and the way to the dashboard. Nothing for
    anyone else: content editors and privacy officers keep Django's home, the models they work on. Two queries.
    """
    if not request.user.has_perm(VIEW):
        return {}
    names = _names()
    waiting = [
        {
            "reference": enquiry.reference,
            "href": reverse("admin:advisor_enquiry_change", args=[enquiry.pk]),
            "move": move_label(enquiry.origin_code, enquiry.destination_code, names),
            # Whole seconds: a <time> element's datetime takes at most three decimals.
            "received": timezone.localtime(enquiry.created_at).replace(microsecond=0).isoformat(),
            "age": timesince(enquiry.created_at).split(",")[0],
            "status": Status(enquiry.status).label,
            "overdue": enquiry.is_overdue,
            "assignee": _person(enquiry.assigned_to),
        }
        for enquiry in dashboard.longest_waiting()
    ]
    return {
        "queue": queue_figures(request),
        "waiting": waiting,
        "response_days": _response_days(),
        "dashboard_url": reverse("admin:advisor_enquiry_dashboard"),
    }


# --- The dashboard ----------------------------------------------------------------------------------------------


def queue_figures(request) -> dict:
    """What is waiting now, each figure with the changelist it links to (filtered by the inbox's own filters).
    One query."""
    queue = dashboard.queue(request.user)
    now = queue["now"]
    open_statuses = ",".join(OPEN)
    for status in queue["statuses"]:
        status["href"] = _changelist(status__exact=status["status"])
        status["cells"] = [
            {
                "count": count,
                "band": band[0],
                "href": _changelist(status__exact=status["status"], **_age_params(band, now)),
            }
            for band, count in zip(AGE_BANDS, status["bands"], strict=True)
        ]
    for band, row in zip(AGE_BANDS, queue["bands"], strict=True):
        row["href"] = _changelist(status__in=open_statuses, **_age_params(band, now))
    queue["links"] = {
        "total": _changelist(status__in=open_statuses),
        "overdue": _changelist(overdue="yes"),
        "unassigned": _changelist(assigned="none", status__in=open_statuses),
        "mine": _changelist(assigned="me", status__in=open_statuses),
    }
    return queue


def dashboard_figures(request, period: Period) -> dict:
    """Every figure on the dashboard, with where each one links. Three queries."""
    queue = queue_figures(request)
    weeks, dests, origins = dashboard.received(period)
    times = dashboard.response_times(period)
    names = _names()
    in_period = _between(period.starts_at, period.ends_at)
    # Two charts side by side at 1280 px: each drawn at the width it is shown.
    half = {"width": 460, "label_width": 190}
    return {
        "queue": queue,
        "weeks": weeks,
        "destinations": dests,
        "origins": origins,
        "times": times,
        "charts": {
            "weekly": column_chart(
                "Enquiries received each week",
                [
                    Row(f"Week of {w['week']:%d %b %Y}", [w["count"]], _changelist(**_week(w["week"])), short=_day(w))
                    for w in weeks
                ],
                label_heading="Week",
            ),
            "times": column_chart(
                "Time from received to first contact, by week received (hours)",
                [
                    Row(
                        f"Week of {t['week']:%d %b %Y} ({t['contacted']} contacted)",
                        [_hours_value(t["p50"]), _hours_value(t["p90"])],
                        _changelist(contacted_at__isnull="0", **_week(t["week"])),
                        [_hours(t["p50"]), _hours(t["p90"])],
                        short=_day(t),
                    )
                    for t in times
                ],
                series=("Median", "90th percentile"),
                label_heading="Week received",
                unit=" h",
            ),
            "destination": bar_chart(
                "Enquiries by destination",
                [Row(names.get(d["code"], d["code"]), [d["count"]], _by("destination", d, in_period)) for d in dests],
                label_heading="Destination",
                **half,
            ),
            "origin": bar_chart(
                "Enquiries by where the learner trained",
                [Row(names.get(o["code"], o["code"]), [o["count"]], _by("origin", o, in_period)) for o in origins],
                label_heading="Trained in",
                **half,
            ),
        },
    }


def _day(row) -> str:
    """A week under its column: "19 Oct"."""
    return f"{row['week'].day} {row['week']:%b}"


def _by(field, row, in_period) -> str:
    return _changelist(**{f"{field}_code__exact": row["code"]}, **in_period)


def _age_params(band, now) -> dict:
    _, low, high = band
    params = {"created_at__lte": (now - low).isoformat()}
    if high is not None:
        params["created_at__gt"] = (now - high).isoformat()
    return params


def _week(monday) -> dict:
    return _between(*week_bounds(monday))


def _hours_value(wait):
    return None if wait is None else round(wait.total_seconds() / 3600, 1)


def _context(request, model_admin, title, period, form, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "period": period,
        "period_form": form,
        "can_export": request.user.has_perm(EXPORT),
        **extra,
    }


@require_safe
def dashboard_page(request, model_admin):
    _require(request, VIEW)
    period, form = Period.from_query(request.GET)
    context = _context(
        request,
        model_admin,
        "Enquiries dashboard",
        period,
        form,
        response_days=_response_days(),
        **dashboard_figures(request, period),
    )
    return render(request, "admin/advisor/dashboard.html", context)


def _response_days():
    return settings.ENQUIRY_RESPONSE_BUSINESS_DAYS


@require_safe
def dashboard_csv(request, model_admin):
    _require(request, VIEW, EXPORT)
    period, form = Period.from_query(request.GET)
    if form.errors:
        return _to_page("admin:advisor_enquiry_dashboard", request)
    figures = dashboard_figures(request, period)
    names = _names()
    queue = figures["queue"]
    rows = [
        ("Waiting now", "All open enquiries", queue["total"]),
        ("Waiting now", f"Overdue (new after {_response_days()} business days)", queue["overdue"]),
        ("Waiting now", "Unassigned", queue["unassigned"]),
        ("Waiting now", "Assigned to me", queue["mine"]),
    ]
    for status in queue["statuses"]:
        rows.append(("Waiting by status", status["label"], status["total"]))
        rows += [
            ("Waiting by status and age", f"{status['label']}, {band[0]}", cell["count"])
            for band, cell in zip(AGE_BANDS, status["cells"], strict=True)
        ]
    rows += [("Waiting by age", band["label"], band["total"]) for band in queue["bands"]]
    rows += [("Received per week", f"Week of {w['week']:%Y-%m-%d}", w["count"]) for w in figures["weeks"]]
    rows += [("By destination", names.get(d["code"], d["code"]), d["count"]) for d in figures["destinations"]]
    rows += [("By origin", names.get(o["code"], o["code"]), o["count"]) for o in figures["origins"]]
    for t in figures["times"]:
        week = f"Week of {t['week']:%Y-%m-%d}"
        rows.append(("Contacted, by week received", week, t["contacted"]))
        rows.append(("Hours to first contact, median", week, _hours_value(t["p50"]) if t["p50"] else ""))
        rows.append(("Hours to first contact, 90th percentile", week, _hours_value(t["p90"]) if t["p90"] else ""))
    return _csv(f"dashboard-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv", period, ("Figure", "Item", "Value"), rows)


# --- The funnel -------------------------------------------------------------------------------------------------


def funnel_figures(period: Period) -> dict:
    """The funnel over the period and its most-viewed moves. Two queries."""
    steps = dashboard.funnel(period)
    moves = dashboard.top_moves(period)
    names = _names()
    for move in moves:
        move["label"] = move_label(move["origin"], move["destination"], names)
        move["href"] = _changelist(
            origin_code__exact=move["origin"],
            destination_code__exact=move["destination"],
            **_between(period.starts_at, period.ends_at),
        )
    return {
        "steps": steps,
        "moves": moves,
        "charts": {
            "funnel": bar_chart(
                "The questionnaire, step by step",
                [Row(s["label"], [s["count"]], texts=[_with_share(s)]) for s in steps],
                series=("Times",),
                label_heading="Step",
            ),
            "moves": bar_chart(
                "Most-viewed plans",
                [Row(m["label"], [m["count"]], m["href"]) for m in moves],
                series=("Plans viewed",),
                label_heading="Move",
            ),
        },
    }


def _with_share(step) -> str:
    if step["of_previous"] is None:
        return str(step["count"])
    return f"{step['count']} ({step['of_previous']:g}% of the step before)"


@require_safe
def funnel_page(request, model_admin):
    _require(request, VIEW)
    period, form = Period.from_query(request.GET)
    context = _context(request, model_admin, "Questionnaire funnel", period, form, **funnel_figures(period))
    return render(request, "admin/advisor/funnel.html", context)


@require_safe
def funnel_csv(request, model_admin):
    _require(request, VIEW, EXPORT)
    period, form = Period.from_query(request.GET)
    if form.errors:
        return _to_page("admin:advisor_enquiry_funnel", request)
    figures = funnel_figures(period)
    rows = [
        ("Step", s["label"], s["count"], "" if s["of_previous"] is None else s["of_previous"]) for s in figures["steps"]
    ]
    rows += [("Plan viewed", m["label"], m["count"], "") for m in figures["moves"]]
    header = ("Figure", "Item", "Count", "% of the step before")
    return _csv(f"funnel-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv", period, header, rows)


def _to_page(name, request):
    """A period the CSV cannot be for: to the page with the same query, which says what is wrong next to the
    field (rather than a download of another period, or of nothing)."""
    return redirect(reverse(name) + "?" + request.GET.urlencode())


def _csv(filename, period, header, rows) -> HttpResponse:
    exported = f"exported {timezone.localdate():%Y-%m-%d}"
    first = ("Period", period.first.isoformat(), period.last.isoformat(), exported)
    return csv_response(filename, [first, header, *rows])
