"""The plan's timeline: one bar per step, drawn to scale in months, for the plan page's SVG."""

from dataclasses import replace

from pathways.presenter import PlanText, duration_text
from pathways.records import MONTHS_PER_UNIT, Duration
from pathways.rules import RetrainingPlan

TIMELINE_WIDTH = 640
_LABEL_WIDTH = 36
_ROW = 30
_UNTIMED_WIDTH = 14


def draw(text: PlanText, plan: RetrainingPlan) -> dict | None:
    """Bars for an SVG drawn to scale in months, one row per step; None when no step has a figure.

    A range is a solid bar to its minimum and a pale one on to its maximum; a minimum alone ends in a
    pale open tail; a step with no figure is a dashed mark; a period taken within another starts with it.
    """
    steps = [(s, w) for s, w in zip(plan.steps, text.steps, strict=True) if s.kind != "keep-current"]
    if not any(s.duration for s, _ in steps):
        return None

    def span(duration: Duration) -> tuple[float, float]:
        low = duration.min * MONTHS_PER_UNIT[duration.unit]
        return low, duration.max * MONTHS_PER_UNIT[duration.unit] if duration.max is not None else low

    length = 0.0
    for step, _ in steps:
        if step.duration and step.within is None:
            length += span(step.duration)[1]
    scale = (TIMELINE_WIDTH - _LABEL_WIDTH - 120) / max(length, 1)
    rows, clock, starts = [], 0.0, {}
    for index, (step, words) in enumerate(steps):
        y = 8 + index * _ROW
        start = starts.get(step.within, clock) if step.within else clock
        for code in step.credentials:
            starts[code] = clock
        row = {"number": words.number, "y": y, "text_y": y + 15, "x": _LABEL_WIDTH + start * scale}
        if step.duration is None:
            row.update(kind="untimed", width=_UNTIMED_WIDTH, label="no figure")
        else:
            low, high = span(step.duration)
            open_ended = step.duration.max is None
            row.update(
                kind="open" if open_ended else "range",
                solid=max(low * scale, 3),
                pale=max((high - low) * scale, 0) if not open_ended else 24,
                # The bar's label has about 120 pixels: "about 12 months" fits, whose figure it is
                # ("as one provider delivers it") is said in the step's own time just below.
                label=duration_text(replace(step.duration, basis="")),
            )
            row["width"] = row["solid"] + row["pale"]
            row["pale_x"] = row["x"] + row["solid"]
            if step.within is None:
                clock += high
        row["label_x"] = row["x"] + row["width"] + 6
        rows.append({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()})
    height = 8 + len(rows) * _ROW + 24
    years = int(length // 12)
    ticks = [
        {"x": round(_LABEL_WIDTH + m * scale, 1), "label": f"{m // 12} yr" if m else "0"}
        for m in range(0, int(length) + 1, 12)
    ]
    if years == 0:
        ticks = [{"x": _LABEL_WIDTH, "label": "0"}, {"x": _LABEL_WIDTH + length * scale, "label": f"{length:.0f} mo"}]
    return {"width": TIMELINE_WIDTH, "height": height, "rows": rows, "axis_y": height - 18, "ticks": ticks}
