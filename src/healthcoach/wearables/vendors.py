"""Shared helpers for the small vendor adapters (Google Fit, Withings, iHealth): epoch → local day."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import Agg, daily_record, heart_rate_record


def local_day(epoch_s: float, tzi: tzinfo | None) -> date:
    """The calendar day of a UTC epoch in `tzi` (UTC when None)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(tzi or UTC).date()


def emit_averaged(result: AdapterResult, user_id: str, kind: str, file: str, metric: str,
                  per_day: dict[date, Agg], tzi: tzinfo | None, digits: int = 2) -> None:
    """One record per day with the day's mean (heart rate: min/avg/max)."""
    for day, agg in sorted(per_day.items()):
        if metric == "heart_rate":
            result.records.append(heart_rate_record(user_id, kind, file, day, agg, tzi))
        else:
            result.records.append(daily_record(user_id, kind, file, metric, day, round(agg.mean, digits), tzi,
                                               samples=agg.n))
