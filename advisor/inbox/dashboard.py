"""The figures behind the advisers' dashboard and the questionnaire funnel, computed in the database.

Every function here runs a fixed number of queries whatever the number of enquiries or counters:
counting, grouping and the percentiles all happen in SQL (nearest-rank percentiles: PostgreSQL's
PERCENTILE_DISC, or window functions on SQLite), and Python only fills in the empty weeks and names.
Quarantined spam is left out of every figure, as the inbox leaves it out.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Field,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import RowNumber, TruncWeek
from django.utils import timezone

from advisor.enquiries.models import Enquiry, Status, overdue_condition
from advisor.funnel.models import FunnelCount, FunnelStep

OPEN = (Status.NEW, Status.FOLLOW_UP, Status.CONTACTED)
# (label, from, to): how long an open enquiry has been waiting since it arrived.
AGE_BANDS = (
    ("under 1 day", timedelta(0), timedelta(days=1)),
    ("1 to 2 days", timedelta(days=1), timedelta(days=3)),
    ("3 to 6 days", timedelta(days=3), timedelta(days=7)),
    ("1 to 4 weeks", timedelta(days=7), timedelta(days=28)),
    ("over 4 weeks", timedelta(days=28), None),
)
DEFAULT_WEEKS = 12
MAX_DAYS = 731
PERCENTILES = (50, 90)
# The funnel's main line; "what you hold" is asked only of people already trained, so it sits beside it.
FUNNEL_CHAIN = (
    FunnelStep.START,
    FunnelStep.ORIGIN,
    FunnelStep.EXPERIENCE,
    FunnelStep.DESTINATION,
    FunnelStep.CHECK,
    FunnelStep.PLAN,
    FunnelStep.ENQUIRY_FORM,
    FunnelStep.ENQUIRY_SENT,
)
TOP_MOVES = 10
LONGEST_WAITING = 10  # enquiries listed on the admin home


# --- The period -------------------------------------------------------------------------------------------------


# The dates a period may start and end on: far wider than any enquiry's date, and far inside what Python's dates,
# the time zone and the databases can hold (9999-12-31 has no next midnight; midnight on 0001-01-01 in Sydney is
# before the first instant UTC can hold), so no period can overflow on its way to a query.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
OUT_OF_RANGE = "Enter a date from 1 January 2000 to 31 December 2099."


class PeriodForm(forms.Form):
    # A date input's value is always ISO (yyyy-mm-dd), whatever the locale shows: in the locale's format
    # ("14/09/2026" in en-AU) the browser would show an empty field.
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"))

    def clean_start(self):
        return self._in_range(self.cleaned_data.get("start"))

    def clean_end(self):
        return self._in_range(self.cleaned_data.get("end"))

    @staticmethod
    def _in_range(day):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return day

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", "The end of the period must be on or after its start.")
            elif (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose a period of at most {MAX_DAYS} days.")
        return data


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive."""

    first: date
    last: date

    @classmethod
    def default(cls, today=None):
        today = today or timezone.localdate()
        monday = today - timedelta(days=today.weekday())
        return cls(monday - timedelta(weeks=DEFAULT_WEEKS - 1), today)

    @classmethod
    def from_query(cls, query, today=None) -> tuple["Period", PeriodForm]:
        """The period a GET asks for; the default (the last 12 weeks) for whatever is missing or wrong."""
        default = cls.default(today)
        if not (query.get("start") or query.get("end")):
            return default, PeriodForm(initial={"start": default.first, "end": default.last})
        form = PeriodForm(query)
        if not form.is_valid():
            return default, form
        first = form.cleaned_data.get("start") or default.first
        last = form.cleaned_data.get("end") or max(default.last, first)
        # Only one end given: the other is the default's, which can still make the period run backwards or too long.
        if first > last:
            form.add_error("start", "Enter a start on or before the end of the period.")
            return default, form
        if (last - first).days >= MAX_DAYS:
            form.add_error(None, f"Choose a period of at most {MAX_DAYS} days.")
            return default, form
        return cls(first, last), form

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def ends_at(self) -> datetime:
        """Midnight after the last day (exclusive)."""
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @functools.lru_cache(maxsize=64)  # noqa: B019 (periods are small, frozen values; a few are in use at once)
    def weeks(self) -> tuple[date, ...]:
        """The Mondays of every week the period touches."""
        monday = self.first - timedelta(days=self.first.weekday())
        return tuple(monday + timedelta(weeks=i) for i in range((self.last - monday).days // 7 + 1))

    def query(self) -> str:
        return f"start={self.first.isoformat()}&end={self.last.isoformat()}"


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(monday, time.min))
    return start, timezone.make_aware(datetime.combine(monday + timedelta(weeks=1), time.min))


# --- Enquiries --------------------------------------------------------------------------------------------------


def _age_q(band, now) -> Q:
    _, low, high = band
    q = Q(created_at__lte=now - low)
    return q & Q(created_at__gt=now - high) if high is not None else q


def queue(user, now=None) -> dict:
    """What is waiting now: open enquiries by status and age band, overdue, unassigned, assigned to `user`.

    One query: grouped by status, each figure a filtered count.
    """
    now = now or timezone.now()
    counts = {f"band{i}": Count("pk", filter=_age_q(band, now)) for i, band in enumerate(AGE_BANDS)}
    rows = (
        Enquiry.objects.filter(is_spam=False, status__in=OPEN)
        .values("status")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=overdue_condition(now)),
            unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
            mine=Count("pk", filter=Q(assigned_to=user)),
            **counts,
        )
        .order_by()
    )
    by_status = {row["status"]: row for row in rows}
    statuses = [
        {
            "status": status,
            "label": Status(status).label,
            "total": by_status.get(status, {}).get("total", 0),
            "bands": [by_status.get(status, {}).get(f"band{i}", 0) for i in range(len(AGE_BANDS))],
        }
        for status in OPEN
    ]
    return {
        "now": now,
        "statuses": statuses,
        "bands": [
            {"label": band[0], "total": sum(s["bands"][i] for s in statuses), "low": band[1], "high": band[2]}
            for i, band in enumerate(AGE_BANDS)
        ],
        "total": sum(s["total"] for s in statuses),
        **{key: sum(row[key] for row in by_status.values()) for key in ("overdue", "unassigned", "mine")},
    }


def longest_waiting(limit: int = LONGEST_WAITING) -> list[Enquiry]:
    """The open enquiries that arrived longest ago, oldest first whatever their status, with who has each. One
    query, reading only the columns the admin home shows (never the plan snapshot or the learner's details)."""
    return list(
        Enquiry.objects.filter(is_spam=False, status__in=OPEN)
        .select_related("assigned_to")
        .only(
            "reference",
            "created_at",
            "origin_code",
            "destination_code",
            "status",
            "is_spam",
            "assigned_to__username",
            "assigned_to__first_name",
            "assigned_to__last_name",
        )
        .order_by("created_at", "pk")[:limit]
    )


def _received(period: Period):
    return Enquiry.objects.filter(is_spam=False, created_at__gte=period.starts_at, created_at__lt=period.ends_at)


def received(period: Period) -> tuple[list[dict], list[dict], list[dict]]:
    """(each week, by destination, by origin) of the enquiries received in the period. One query, one pass:
    grouped by week and move (at most a few thousand groups), summed up here.

    Weeks start on Monday, local time, and every week of the period is there, empty or not; the moves come
    most first.
    """
    rows = (
        _received(period)
        .annotate(week=_week_of(period))
        .values("week", "origin_code", "destination_code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    weeks, destinations, origins = {}, {}, {}
    for row in rows:
        monday = _monday(row["week"], period)
        weeks[monday] = weeks.get(monday, 0) + row["n"]
        destinations[row["destination_code"]] = destinations.get(row["destination_code"], 0) + row["n"]
        origins[row["origin_code"]] = origins.get(row["origin_code"], 0) + row["n"]

    def ranked(counts):
        return [{"code": code, "count": n} for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    weekly = [{"week": monday, "count": weeks.get(monday, 0)} for monday in period.weeks()]
    return weekly, ranked(destinations), ranked(origins)


class PercentileDisc(Aggregate):
    """PostgreSQL's nearest-rank percentile: the first value whose share of the ordered group reaches `fraction`."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), output_field=DurationField(), **extra)


def response_times(period: Period) -> list[dict]:
    """Median and 90th-percentile time from received to first contact, by week received. One query.

    Nearest-rank percentiles: in each week, the wait at rank ceil(p * n / 100) in ascending order. PostgreSQL
    has them as an aggregate (PERCENTILE_DISC); elsewhere (SQLite) the database ranks the waits with window
    functions and returns only the rows at those ranks, two per week at most. Both give the same answer.
    """
    contacted = (
        _received(period)
        .filter(contacted_at__isnull=False)
        .annotate(week=_week_of(period), wait=ExpressionWrapper(F("contacted_at") - F("created_at"), None))
        .order_by()
    )
    found: dict = {}
    if connection.vendor == "postgresql":
        rows = contacted.values("week").annotate(
            n=Count("pk"), **{f"p{p}": PercentileDisc(F("wait"), p / 100) for p in PERCENTILES}
        )
        for row in rows:
            found[_monday(row["week"], period)] = {"contacted": row["n"], **{p: row[f"p{p}"] for p in PERCENTILES}}
    else:
        ranked = contacted.annotate(
            rank=Window(RowNumber(), partition_by=[F("week")], order_by=[F("wait").asc(), F("pk").asc()]),
            n=Window(Count("pk"), partition_by=[F("week")]),
        )
        targets = Q()
        for p in PERCENTILES:
            targets |= Q(rank=ExpressionWrapper((F("n") * Value(p) + Value(99)) / Value(100), IntegerField()))
        for row in ranked.filter(targets).values("week", "rank", "n", "wait"):
            for p in PERCENTILES:
                if row["rank"] == (row["n"] * p + 99) // 100:
                    found.setdefault(_monday(row["week"], period), {"contacted": row["n"]})[p] = row["wait"]
    return [
        {
            "week": monday,
            "contacted": found.get(monday, {}).get("contacted", 0),
            **{f"p{p}": found.get(monday, {}).get(p) for p in PERCENTILES},
        }
        for monday in period.weeks()
    ]


class WidthBucket(Func):
    function = "WIDTH_BUCKET"
    output_field = IntegerField()


def _week_of(period: Period):
    """The week an enquiry arrived in, as the database can group by it.

    On PostgreSQL: how many of the period's week-start instants it follows (WIDTH_BUCKET, a binary search
    over about a dozen timestamps), which costs far less per row than converting every timestamp to local
    time; elsewhere the local week's Monday (TruncWeek). `_monday` reads either.
    """
    if connection.vendor == "postgresql":
        starts = [week_bounds(monday)[0] for monday in period.weeks()]
        return WidthBucket(F("created_at"), Value(starts, output_field=Field()))
    return TruncWeek("created_at")


def _monday(week, period: Period) -> date:
    return period.weeks()[week - 1] if isinstance(week, int) else _as_date(week)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- The funnel -------------------------------------------------------------------------------------------------


def funnel(period: Period) -> list[dict]:
    """Hits per step over the period, in funnel order, with the share of the step before. One query."""
    rows = (
        FunnelCount.objects.filter(day__gte=period.first, day__lte=period.last)
        .values("step")
        .annotate(n=Sum("hits"))
        .order_by()
    )
    totals = {row["step"]: row["n"] or 0 for row in rows}
    steps, previous = [], None
    for step in FunnelStep:
        count = totals.get(step.value, 0)
        in_chain = step in FUNNEL_CHAIN
        share = None
        if in_chain and previous is not None and previous > 0:
            share = round(100 * count / previous, 1)
        steps.append(
            {
                "step": step.value,
                "label": step.label,
                "count": count,
                "in_chain": in_chain,
                "of_previous": share,
                "drop_off": round(100 - share, 1) if share is not None and share <= 100 else None,
            }
        )
        if in_chain:
            previous = count
    return steps


def top_moves(period: Period, limit: int = TOP_MOVES) -> list[dict]:
    """The most-viewed plans (origin to destination) over the period. One query."""
    rows = (
        FunnelCount.objects.filter(step=FunnelStep.PLAN, day__gte=period.first, day__lte=period.last)
        .values("origin", "destination")
        .annotate(n=Sum("hits"))
        .order_by("-n", "origin", "destination")[:limit]
    )
    return [{"origin": row["origin"], "destination": row["destination"], "count": row["n"]} for row in rows]
