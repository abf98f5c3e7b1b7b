"""Bar charts drawn on the server as SVG, with the same numbers as a table.

No chart library and nothing inline that the Content-Security-Policy would block: geometry goes in SVG
attributes, colours in static/css/dashboard.css by class. The drawing is hidden from assistive technology
(the table beside it carries the same numbers and links), and its links are left out of the tab order
so keyboard users meet each link once, in the table.
"""

from dataclasses import dataclass, field

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
    return {
        "title": title,
        "series": list(series),
        "label_heading": label_heading,
        "rows": drawn,
        "width": WIDTH,
        "height": ROW_GAP + len(rows) * group,
        "legend": len(series) > 1,
    }
