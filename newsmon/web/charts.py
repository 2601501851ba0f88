"""Chart geometry for server-rendered SVG (no script): a per-day histogram and a story timeline.

Only numbers and labels are computed here; the templates draw them and escape every label.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

WIDTH, HEIGHT = 600, 120
MAX_DAYS = 180  # a longer span is drawn per week


def histogram(days: dict[str, int]) -> dict[str, Any] | None:
    """Bars for matching coverage per day (gaps included), or per week over long spans."""
    counts: dict[date, int] = {}
    for key, n in days.items():
        try:
            counts[date.fromisoformat(key[:10])] = counts.get(date.fromisoformat(key[:10]), 0) + n
        except ValueError:
            continue  # "unknown": undated articles
    if not counts:
        return None
    first, last = min(counts), max(counts)
    step = 1 if (last - first).days < MAX_DAYS else 7
    buckets: list[tuple[date, int]] = []
    day = first
    while day <= last:
        buckets.append((day, sum(counts.get(day + timedelta(i), 0) for i in range(step))))
        day += timedelta(step)
    top = max(n for _, n in buckets) or 1
    slot = WIDTH / len(buckets)
    bars = []
    for index, (day, n) in enumerate(buckets):
        height = round((HEIGHT - 20) * n / top, 1)
        bars.append({
            "x": round(index * slot, 1), "width": round(max(slot - 1, 1), 1),
            "y": round(HEIGHT - 16 - height, 1), "height": height,
            "day": day.isoformat(), "count": n,
            "to": (day + timedelta(step - 1)).isoformat(),
        })
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "step": step,
            "first": first.isoformat(), "last": last.isoformat(), "top": top}


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timeline(members: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One lane per outlet, one dot per dated article placed by its publication time."""
    dated = [(m, _when(m.get("published"))) for m in members]
    dated = [(m, t) for m, t in dated if t is not None]
    if not dated:
        return None
    outlets = sorted({m["outlet"] for m, _ in dated})
    languages = sorted({m["language"] for m, _ in dated})
    start = min(t for _, t in dated)
    end = max(t for _, t in dated)
    span = max((end - start).total_seconds(), 3600.0)
    left, right, lane = 110, 20, 34
    height = lane * len(outlets) + 30
    dots = []
    for member, moment in dated:
        x = left + (WIDTH - left - right) * (moment - start).total_seconds() / span
        y = 20 + lane * outlets.index(member["outlet"])
        dots.append({"x": round(x, 1), "y": y, "id": member["id"], "title": member["title"],
                     "outlet": member["outlet"], "language": member["language"],
                     "when": moment.strftime("%Y-%m-%d %H:%M"), "earliest": member.get("earliest"),
                     "tone": languages.index(member["language"]) % 6})
    return {
        "width": WIDTH, "height": height, "left": left, "right": WIDTH - right,
        "lanes": [{"outlet": o, "y": 20 + lane * i} for i, o in enumerate(outlets)],
        "dots": dots, "start": start.strftime("%Y-%m-%d %H:%M"),
        "end": end.strftime("%Y-%m-%d %H:%M"),
    }
