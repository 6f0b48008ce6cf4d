"""Wearable imports (Fitbit Takeout and Web API, Apple Health, Google Fit, Withings, iHealth) → daily records.

One module per vendor, each with its loader; `METRICS` lists the daily metrics with their label,
canonical unit and LOINC code. Conventions are in wearables.daily. Which file is which format is
decided by the source registry (healthcoach.ingest.sources) with the sniff functions below and in
the vendor modules; each sniff sees the file's path and its first 64 KiB as text ("" unless the
file is .json or .xml).
"""

from __future__ import annotations

from pathlib import Path

from healthcoach.wearables.daily import METRICS, MetricInfo

__all__ = ["METRICS", "MetricInfo", "is_apple_health", "is_google_fit", "is_ihealth", "is_withings"]


def is_apple_health(path: Path, head: str) -> bool:
    """An Apple Health export.xml."""
    return path.suffix.lower() == ".xml" and "<HealthData" in head


def is_ihealth(path: Path, head: str) -> bool:
    """An iHealth cloud API response (blood pressure, glucose, sleep, SpO2 lists)."""
    return path.suffix.lower() == ".json" and any(
        k in head for k in ('"BPDataList"', '"BGDataList"', '"SRDataList"', '"BODataList"'))


def is_google_fit(path: Path, head: str) -> bool:
    """A Google Fit REST API response (datasets or aggregates)."""
    return path.suffix.lower() == ".json" and ('"dataTypeName"' in head or '"startTimeNanos"' in head)


def is_withings(path: Path, head: str) -> bool:
    """A Withings API response (measure groups or series)."""
    return path.suffix.lower() == ".json" and '"body"' in head and ('"measuregrps"' in head or '"series"' in head)
