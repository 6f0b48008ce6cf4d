"""Answers computed from the daily table: window means, extremes, weekday vs weekend.

Missing days are excluded (never counted as zero): "6 h 50 min on average over 5 of 7 nights recorded".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from healthcoach.records.models import Category, Record


@dataclass(frozen=True)
class WindowStats:
    """A metric over [start, end] (inclusive): days_with_data of days_in_window, and per-day values with ids."""

    metric: str
    start: date
    end: date
    days_in_window: int
    days_with_data: int
    mean: float | None
    min: float | None
    max: float | None
    total: float | None
    min_day: date | None
    max_day: date | None
    days: list[tuple[date, float, str]] = field(default_factory=list)

    @property
    def record_ids(self) -> list[str]:
        return [rid for _, _, rid in self.days]


def daily_table(records: Iterable[Record]) -> dict[str, dict[date, Record]]:
    """metric → day → record for wearable daily records. When two sources cover one metric on one
    day, the record with more samples wins (then the first seen), so a day is never counted twice."""
    table: dict[str, dict[date, Record]] = {}
    for rec in records:
        metric = rec.details.get("metric")
        if rec.category != Category.wearable or not metric or rec.date is None or rec.value is None:
            continue
        per_day = table.setdefault(metric, {})
        old = per_day.get(rec.date)
        if old is None or int(rec.details.get("samples", "0")) > int(old.details.get("samples", "0")):
            per_day[rec.date] = rec
    return table


def summarize(records: Iterable[Record], metric: str, start: date, end: date) -> WindowStats:
    """Stats of `metric` over the days start..end inclusive; days without a record are left out."""
    if end < start:
        raise ValueError(f"window end {end} is before start {start}")
    per_day = daily_table(records).get(metric, {})
    days = [(d, rec.value.value, rec.id) for d, rec in sorted(per_day.items())
            if start <= d <= end and rec.value is not None]
    return _stats(metric, start, end, (end - start).days + 1, days)


def _stats(metric: str, start: date, end: date, n_days: int, days: list[tuple[date, float, str]]) -> WindowStats:
    if not days:
        return WindowStats(metric, start, end, n_days, 0, None, None, None, None, None, None, [])
    values = [v for _, v, _ in days]
    lo = min(days, key=lambda t: t[1])
    hi = max(days, key=lambda t: t[1])
    total = sum(values)
    return WindowStats(metric, start, end, n_days, len(days), total / len(days), lo[1], hi[1], total,
                       lo[0], hi[0], days)


def weekday_vs_weekend(records: Iterable[Record], metric: str, start: date, end: date) -> tuple[WindowStats, WindowStats]:
    """(weekdays, weekends) over start..end: "Do I sleep better on weekends?".

    For sleep the day is the wake-up day, so a Saturday record is Friday night's sleep; callers
    wanting "nights before a day off" should say so in the answer.
    """
    whole = summarize(records, metric, start, end)
    calendar = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    n_weekend = sum(1 for d in calendar if d.weekday() >= 5)
    wk = [t for t in whole.days if t[0].weekday() < 5]
    we = [t for t in whole.days if t[0].weekday() >= 5]
    return (_stats(metric, start, end, len(calendar) - n_weekend, wk), _stats(metric, start, end, n_weekend, we))
