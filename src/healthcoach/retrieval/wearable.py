"""Wearable evidence: a metric's days in the asked window (a date written without a year is read inside
the data's own span), distance when it is stored (steps otherwise, said so), and the fitted trend."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from healthcoach.records.models import Record
from healthcoach.retrieval.evidence import Evidence
from healthcoach.retrieval.planner import Plan
from healthcoach.retrieval.timewindow import Window
from healthcoach.wearables import stats

TREND_DAYS = 28  # a trend without a window is read over the latest four weeks of data
FLAT = 0.02  # a fitted change over the window under 2 % of the mean is "about the same"


def wearable_evidence(found: list[Record], plan: Plan, today: date) -> Evidence:
    """Evidence for a wearable plan from the user's wearable records."""
    metric = plan.metric or "steps"
    mine = [r for r in found if r.details.get("metric") == metric]
    instead_of = None
    if not mine and metric == "distance":
        steps = [r for r in found if r.details.get("metric") == "steps"]
        if steps:
            mine, metric, plan, instead_of = steps, "steps", replace(plan, metric="steps"), "distance"
    ev = Evidence(plan, searched=f"daily {metric.replace('_', ' ')} records from wearables", total=len(mine),
                  instead_of=instead_of)
    if not mine:
        return ev
    window = _in_data_span(plan.window, mine, ev)
    newest = max(r.date for r in mine if r.date)
    if window is None or not any(r.date and window.start <= r.date < window.end for r in mine):
        # Nothing in the asked window: the latest 7 days with data (28 for a trend), and say "as of".
        start, end = newest - timedelta(days=(TREND_DAYS if plan.trend and window is None else 7) - 1), newest
    else:
        start, end = window.start, window.last_day
    if plan.weekend_compare:
        if window is None:
            start = newest - timedelta(days=27)
        ev.stats = stats.weekday_vs_weekend(mine, metric, start, end)
    else:
        ev.stats = stats.summarize(mine, metric, start, end)
        if plan.trend:
            ev.trend = trend(ev.stats.days)
    ids = {d[2] for s in (ev.stats if isinstance(ev.stats, tuple) else (ev.stats,)) for d in s.days}
    ev.records = sorted((r for r in mine if r.id in ids), key=lambda r: r.date or today, reverse=True)
    return ev


def _in_data_span(window: Window | None, mine: list[Record], ev: Evidence) -> Window | None:
    """A yearless date ('on March 20') with no data in its guessed year moves to the newest year of the
    data that has it; the answer says how it was read."""
    if window is None or not window.yearless or any(r.date and window.start <= r.date < window.end for r in mine):
        return window
    for year in sorted({r.date.year for r in mine if r.date}, reverse=True):
        moved = window.in_year(year)
        if any(r.date and moved.start <= r.date < moved.end for r in mine):
            ev.plan, ev.year_read = replace(ev.plan, window=moved), year
            return moved
    return window


def trend(days: list[tuple[date, float, str]]) -> tuple[str, float] | None:
    """(direction, fitted change per week) over daily values, or None with fewer than 3 days."""
    if len(days) < 3:
        return None
    xs = [d.toordinal() / 7 for d, _v, _id in days]
    ys = [v for _d, v, _id in days]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    weeks = (days[-1][0] - days[0][0]).days / 7
    if my and abs(slope * weeks) < FLAT * abs(my):
        return "about the same", slope
    return ("up" if slope > 0 else "down"), slope
