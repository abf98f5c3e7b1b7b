"""Bar charts drawn on the server as SVG, with the same numbers as a table.

No chart library and nothing inline that the Content-Security-Policy would block: geometry goes in SVG
attributes, colours in static/css/dashboard.css by class. The drawing is hidden from assistive technology
(the table beside it carries the same numbers and links), and its links are left out of the tab order
so keyboard users meet each link once, in the table.
"""

from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
LABEL_WIDTH = 250  # room for the longest label, right-aligned against the bars
BAR_AREA = 380
BAR_HEIGHT = 18
ROW_GAP = 10


@dataclass
class Row:
    label: str
    values: list  # one number (or None for "no figure") per series
    href: str = ""
    texts: list = field(default_factory=list)  # how each value reads; str(value) by default


def bar_chart(title: str, rows: list[Row], series=("Enquiries",), label_heading: str = "") -> dict:
    """What templates/admin/advisor/bar_chart.html draws: horizontal bars, one group per row."""
    numbers = [v for row in rows for v in row.values if v]
    top = max(numbers, default=0)
    group = BAR_HEIGHT * len(series) + ROW_GAP
    drawn = []
    for i, row in enumerate(rows):
        texts = row.texts or ["–" if v is None else str(v) for v in row.values]
        y0 = ROW_GAP + i * group
        bars = []
        for j, value in enumerate(row.values):
            width = round(BAR_AREA * (value or 0) / top, 1) if top else 0
            y = y0 + j * BAR_HEIGHT
            bars.append(
                {
                    "series": j + 1,
                    "x": LABEL_WIDTH,
                    "y": y,
                    "width": width,
                    "height": BAR_HEIGHT - 3,
                    "text": texts[j],
                    "text_x": LABEL_WIDTH + width + 6,
                    "text_y": y + BAR_HEIGHT - 6,
                }
            )
        drawn.append(
            {
                "label": row.label,
                "href": row.href,
                "label_x": LABEL_WIDTH - 8,
                "label_y": y0 + (BAR_HEIGHT * len(series)) / 2 + 2,
                "bars": bars,
            }
        )
    chart = {
        "title": title,
        "series": list(series),
        "label_heading": label_heading,
        "rows": drawn,
        "width": WIDTH,
        "height": ROW_GAP + len(rows) * group,
        "legend": len(series) > 1,
    }
    chart["html"] = render(chart)
    return chart


# Drawn with format_html rather than a template: a year of weekly bars is hundreds of elements, and string
# formatting draws them several times faster than template tags would.


def _svg_row(row) -> SafeString:
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar chart-series-{}"></rect>'
        '<text x="{}" y="{}" class="chart-value">{}</text>',
        (
            (b["x"], b["y"], b["width"], b["height"], b["series"], b["text_x"], b["text_y"], b["text"])
            for b in row["bars"]
        ),
    )
    label = format_html(
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>{}',
        row["label_x"],
        row["label_y"],
        row["label"],
        bars,
    )
    if not row["href"]:
        return label
    # Out of the tab order: keyboard and screen-reader users get the same link once, in the table.
    return format_html('<a href="{}" tabindex="-1" class="chart-link">{}</a>', row["href"], label)


def _table_row(row) -> SafeString:
    head = format_html('<a href="{}">{}</a>', row["href"], row["label"]) if row["href"] else row["label"]
    cells = format_html_join("", '<td class="number">{}</td>', ((b["text"],) for b in row["bars"]))
    return format_html('<tr><th scope="row">{}</th>{}</tr>', head, cells)


def render(chart: dict) -> SafeString:
    """The chart as SVG (hidden from assistive technology) followed by the same numbers as a table."""
    empty = "No figures for this period."
    svg_rows = mark_safe("".join(_svg_row(row) for row in chart["rows"])) or format_html(
        '<text x="10" y="20" class="chart-label">{}</text>', empty
    )
    legend = ""
    if chart["legend"]:
        keys = format_html_join(
            "",
            '<li><span class="chart-key chart-series-{}"></span>{}</li>',
            ((i, name) for i, name in enumerate(chart["series"], start=1)),
        )
        legend = format_html('<ul class="chart-legend">{}</ul>', keys)
    body = mark_safe("".join(_table_row(row) for row in chart["rows"])) or format_html(
        '<tr><td colspan="{}">{}</td></tr>', len(chart["series"]) + 1, empty
    )
    headings = format_html_join("", '<th scope="col">{}</th>', ((name,) for name in chart["series"]))
    return format_html(
        '<figure class="chart"><svg class="chart-svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-hidden="true" focusable="false">{svg}</svg>{legend}'
        '<table class="chart-table"><caption>{title}</caption>'
        '<thead><tr><th scope="col">{label_heading}</th>{headings}</tr></thead><tbody>{body}</tbody></table></figure>',
        w=chart["width"],
        h=chart["height"],
        svg=svg_rows,
        legend=legend,
        title=chart["title"],
        label_heading=chart["label_heading"],
        headings=headings,
        body=body,
    )
