"""Charts drawn on the server as SVG, each with its numbers in a table behind "Show the numbers".

No chart library and nothing inline that the Content-Security-Policy would block: geometry goes in SVG
attributes, colours in static/css/dashboard.css by class. The drawing is hidden from assistive technology
(the table carries the same numbers and links), and its links are left out of the tab order so keyboard
users meet each link once, in the table. The table sits in a closed <details>: the page stays short, and
opening it needs no JavaScript.

Two shapes: `bar_chart`, horizontal bars for things (countries, steps of the questionnaire), and
`column_chart`, vertical columns for time, the oldest on the left (weeks).
"""

import math
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Horizontal bars: the label column, right-aligned against the bars, then the bars, then room for the value.
WIDTH = 720
LABEL_WIDTH = 250
VALUE_ROOM = 90
BAR_HEIGHT = 18
ROW_GAP = 10
# Columns: a plot area with the value axis on its left and the time axis under it.
COLUMN_WIDTH = 460
PLOT_TOP = 18  # room for the values above the tallest column
PLOT_HEIGHT = 150
AXIS_LEFT = 44  # room for the value axis's labels
AXIS_BELOW = 24  # room for the time axis's labels
MIN_LABEL_GAP = 56  # time labels (e.g. "19 Oct") at least this far apart
MIN_VALUE_WIDTH = 20  # a column narrower than this has no value written on it (the table has them all)
EMPTY = "No figures for this period."


@dataclass
class Row:
    label: str  # in the table, and beside a bar
    values: list  # one number (or None for "no figure") per series
    href: str = ""
    texts: list = field(default_factory=list)  # how each value reads in the table; the plain value by default
    short: str = ""  # under a column, where room is short ("19 Oct"); the label by default


def _plain(value, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _top(rows: list[Row]) -> float:
    return max((v for row in rows for v in row.values if v), default=0)


# --- Horizontal bars --------------------------------------------------------------------------------------------


def bar_chart(
    title: str,
    rows: list[Row],
    series=("Enquiries",),
    label_heading: str = "",
    width: int = WIDTH,
    label_width: int = LABEL_WIDTH,
) -> dict:
    """Horizontal bars, one group per row, the label on the left; its numbers behind "Show the numbers"."""
    top = _top(rows)
    bar_area = width - label_width - VALUE_ROOM
    group = BAR_HEIGHT * len(series) + ROW_GAP
    drawn = []
    for i, row in enumerate(rows):
        y0 = ROW_GAP + i * group
        bars = []
        for j, value in enumerate(row.values):
            bar_width = round(bar_area * (value or 0) / top, 1) if top else 0
            y = y0 + j * BAR_HEIGHT
            bars.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar chart-series-{}"></rect>'
                    '<text x="{}" y="{}" class="chart-value">{}</text>',
                    label_width,
                    y,
                    bar_width,
                    BAR_HEIGHT - 3,
                    j + 1,
                    label_width + bar_width + 6,
                    y + BAR_HEIGHT - 6,
                    _plain(value),
                )
            )
        label = format_html(
            '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>{}',
            label_width - 8,
            y0 + (BAR_HEIGHT * len(series)) / 2 + 2,
            row.label,
            mark_safe("".join(bars)),
        )
        drawn.append(_linked(row.href, label))
    svg = _svg(width, ROW_GAP + len(rows) * group, mark_safe("".join(drawn)))
    return _chart(title, rows, series, label_heading, svg)


# --- Columns over time ------------------------------------------------------------------------------------------


def column_chart(
    title: str,
    rows: list[Row],
    series=("Enquiries",),
    label_heading: str = "",
    unit: str = "",
    width: int = COLUMN_WIDTH,
) -> dict:
    """Vertical columns, one group per row in the order given (the oldest first, on the left), the value axis
    marked at zero and at the tallest column; its numbers behind "Show the numbers". `unit` follows the
    numbers written on the drawing (" h")."""
    top = _top(rows)
    plot_width = width - AXIS_LEFT - 8
    baseline = PLOT_TOP + PLOT_HEIGHT
    slot = plot_width / max(len(rows), 1)
    group = slot * 0.8
    bar_width = group / len(series)
    every = math.ceil(len(rows) / max(1, plot_width // MIN_LABEL_GAP))  # label every n-th column
    drawn = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"></line>'
            '<text x="{}" y="{}" text-anchor="end" class="chart-tick">0</text>',
            AXIS_LEFT,
            baseline,
            width - 8,
            baseline,
            AXIS_LEFT - 6,
            baseline + 4,
        )
    ]
    if top:
        # A line at the tallest column's height, marked with its value: the scale, read at a glance.
        drawn.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-gridline"></line>'
                '<text x="{}" y="{}" text-anchor="end" class="chart-tick">{}</text>',
                AXIS_LEFT,
                PLOT_TOP,
                width - 8,
                PLOT_TOP,
                AXIS_LEFT - 6,
                PLOT_TOP + 4,
                _plain(top, unit),
            )
        )
    for i, row in enumerate(rows):
        x0 = AXIS_LEFT + i * slot + (slot - group) / 2
        parts = []
        for j, value in enumerate(row.values):
            height = round(PLOT_HEIGHT * (value or 0) / top, 1) if top else 0
            x = round(x0 + j * bar_width, 1)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar chart-series-{}"></rect>',
                    x,
                    baseline - height,
                    round(bar_width - 1, 1),
                    height,
                    j + 1,
                )
            )
            if bar_width >= MIN_VALUE_WIDTH and value is not None:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle" class="chart-value">{}</text>',
                        round(x + bar_width / 2, 1),
                        baseline - height - 4,
                        _plain(value),
                    )
                )
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" class="chart-tick">{}</text>',
                    round(AXIS_LEFT + (i + 0.5) * slot, 1),
                    baseline + 16,
                    row.short or row.label,
                )
            )
        drawn.append(_linked(row.href, mark_safe("".join(parts))))
    svg = _svg(width, baseline + AXIS_BELOW, mark_safe("".join(drawn)))
    return _chart(title, rows, series, label_heading, svg)


# --- Shared -----------------------------------------------------------------------------------------------------

# Drawn with format_html rather than a template: two years of weekly columns are hundreds of elements, and string
# formatting draws them several times faster than template tags would.


def _linked(href: str, content: SafeString) -> SafeString:
    if not href:
        return content
    # Out of the tab order: keyboard and screen-reader users get the same link once, in the table.
    return format_html('<a href="{}" tabindex="-1" class="chart-link">{}</a>', href, content)


def _svg(width, height, content) -> SafeString:
    return format_html(
        '<svg class="chart-svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true" focusable="false">'
        "{content}</svg>",
        w=width,
        h=height,
        content=content,
    )


def _chart(title: str, rows: list[Row], series, label_heading: str, svg: SafeString) -> dict:
    chart = {"title": title, "series": list(series), "label_heading": label_heading, "rows": rows}
    chart["html"] = render(chart, svg)
    return chart


def _table_row(row: Row) -> SafeString:
    head = format_html('<a href="{}">{}</a>', row.href, row.label) if row.href else row.label
    texts = row.texts or [_plain(v) for v in row.values]
    cells = format_html_join("", '<td class="number">{}</td>', ((text,) for text in texts))
    return format_html('<tr><th scope="row">{}</th>{}</tr>', head, cells)


def render(chart: dict, svg: SafeString) -> SafeString:
    """The drawing (hidden from assistive technology), its legend when it has several series, and the same
    numbers as a table in a closed <details>."""
    if not chart["rows"]:
        return format_html('<figure class="chart"><p class="chart-empty">{}</p></figure>', EMPTY)
    legend = ""
    if len(chart["series"]) > 1:
        keys = format_html_join(
            "",
            '<li><span class="chart-key chart-series-{}"></span>{}</li>',
            ((i, name) for i, name in enumerate(chart["series"], start=1)),
        )
        legend = format_html('<ul class="chart-legend">{}</ul>', keys)
    headings = format_html_join("", '<th scope="col">{}</th>', ((name,) for name in chart["series"]))
    return format_html(
        '<figure class="chart">{svg}{legend}'
        '<details class="chart-numbers"><summary>Show the numbers<span class="visually-hidden">: {title}</span>'
        '</summary><table class="chart-table"><caption>{title}</caption>'
        '<thead><tr><th scope="col">{label_heading}</th>{headings}</tr></thead><tbody>{body}</tbody></table>'
        "</details></figure>",
        svg=svg,
        legend=legend,
        title=chart["title"],
        label_heading=chart["label_heading"],
        headings=headings,
        body=mark_safe("".join(_table_row(row) for row in chart["rows"])),
    )
