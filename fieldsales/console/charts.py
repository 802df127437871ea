"""Charts drawn on the server as inline SVG: no chart library, no script, nothing to load.

`weekly_demand` lays out one product's weekly history (docs/console.md, Demand) in a fixed
viewBox that the page scales to its width: a bar per week's ordered quantity, the smoothed
level as a line, and next week's forecast as a dashed bar after the last week.
"""
from fieldsales.targets import periods

WIDTH, HEIGHT = 320, 120
TOP, BOTTOM, LEFT, RIGHT = 10, 18, 4, 4  # room for the week labels below the bars


def weekly_demand(weeks: list[dict], *, forecast: float | None) -> dict | None:
    """The chart's shapes, in viewBox units; None when there is no history to draw."""
    if not weeks:
        return None
    slots = len(weeks) + (forecast is not None)
    step = (WIDTH - LEFT - RIGHT) / slots
    tallest = max([1.0, *(w["ordered_quantity"] for w in weeks), *(w["level"] for w in weeks),
                   forecast or 0.0])
    plot = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot - max(value, 0.0) / tallest * plot, 1)

    def bar(n: int, value: float, label: str) -> dict:
        top = y(value)
        return {"x": round(LEFT + n * step + step * 0.15, 1), "y": top,
                "width": round(step * 0.7, 1), "height": round(TOP + plot - top, 1),
                "value": value, "label": label}

    bars = [bar(n, w["ordered_quantity"], periods.ms_date(w["week_start"]).strftime("%d %b"))
            for n, w in enumerate(weeks)]
    level = " ".join(f"{round(LEFT + n * step + step / 2, 1)},{y(w['level'])}"
                     for n, w in enumerate(weeks))
    ahead = None if forecast is None else bar(len(weeks), forecast, "next week")
    # A label under every week that fits: about one per 40 units of width.
    every = max(1, round(slots * 40 / (WIDTH - LEFT - RIGHT)))
    labels = [{"x": round(b["x"] + b["width"] / 2, 1), "text": b["label"]}
              for n, b in enumerate(bars) if (len(bars) - 1 - n) % every == 0]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "level": level,
            "forecast": ahead, "labels": labels, "baseline": TOP + plot,
            "label_y": HEIGHT - 4, "tallest": round(tallest, 2)}


RATING_MIN, RATING_MAX = 1, 5  # feedback ratings, as sync/tables.py takes them


def rating_trend(weeks: list[dict]) -> dict | None:
    """The feedback page's weekly average rating (the summary's `rating_trend`) as a line on
    the 1 to 5 scale, a dot per week; None when no feedback of the period was rated."""
    if not weeks:
        return None
    step = (WIDTH - LEFT - RIGHT) / len(weeks)
    plot = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot - (value - RATING_MIN) / (RATING_MAX - RATING_MIN) * plot, 1)

    dots = [{"x": round(LEFT + n * step + step / 2, 1), "y": y(w["average_rating"]),
             "value": w["average_rating"], "rated": w["rated"],
             "label": periods.ms_date(w["week_start_ms"]).strftime("%d %b")}
            for n, w in enumerate(weeks)]
    every = max(1, round(len(weeks) * 40 / (WIDTH - LEFT - RIGHT)))
    return {"width": WIDTH, "height": HEIGHT, "dots": dots,
            "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
            "grid": [{"y": y(r), "text": str(r)} for r in range(RATING_MIN, RATING_MAX + 1)],
            "labels": [{"x": d["x"], "text": d["label"]} for n, d in enumerate(dots)
                       if (len(dots) - 1 - n) % every == 0],
            "label_y": HEIGHT - 4}


def load_bar(load: float, *, tolerance: float) -> dict:
    """One rep's territory load (visits needed / possible) as a bar on a 0 to 200% scale,
    with marks at full capacity and at the overload threshold (1 + tolerance)."""
    scale = 2.0
    return {"width": WIDTH, "height": 16, "fill": round(min(load, scale) / scale * WIDTH, 1),
            "full": WIDTH / scale, "over": round(min(1 + tolerance, scale) / scale * WIDTH, 1)}
