"""Wearable imports (Fitbit Takeout and Web API, Apple Health, Google Fit, Withings, iHealth) → daily records.

`load_wearables(path, user_id, tz)` reads a file or a folder (which may hold several formats) and
returns one AdapterResult; `detect(path)` names the format; `METRICS` lists the daily metrics with
their label, canonical unit and LOINC code. Conventions are in wearables.daily.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import METRICS, MetricInfo

__all__ = ["FORMATS", "METRICS", "MetricInfo", "detect", "load_wearables"]

FORMATS = ("fitbit_takeout", "fitbit_api", "apple_health", "google_fit", "withings", "ihealth")
_PEEK = 65536


def _loader(fmt: str) -> Callable[[Path, str, str | None], AdapterResult]:
    # imported lazily so `detect` stays cheap
    if fmt == "fitbit_takeout":
        from healthcoach.wearables.fitbit_takeout import load_fitbit_takeout
        return load_fitbit_takeout
    if fmt == "fitbit_api":
        from healthcoach.wearables.fitbit_api import load_fitbit_api
        return load_fitbit_api
    if fmt == "apple_health":
        from healthcoach.wearables.apple_health import load_apple_health
        return load_apple_health
    if fmt == "google_fit":
        from healthcoach.wearables.google_fit import load_google_fit
        return load_google_fit
    if fmt == "withings":
        from healthcoach.wearables.withings import load_withings
        return load_withings
    from healthcoach.wearables.ihealth import load_ihealth
    return load_ihealth


def _detect_file(path: Path) -> str | None:
    from healthcoach.wearables.fitbit_takeout import _is_takeout_file

    if _is_takeout_file(path):
        return "fitbit_takeout"
    suffix = path.suffix.lower()
    if suffix not in (".json", ".xml"):
        return None
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(_PEEK)
    if suffix == ".xml":
        return "apple_health" if "<HealthData" in head else None
    if any(k in head for k in ('"BPDataList"', '"BGDataList"', '"SRDataList"', '"BODataList"')):
        return "ihealth"
    if '"dataTypeName"' in head or '"startTimeNanos"' in head:
        return "google_fit"
    if '"body"' in head and ('"measuregrps"' in head or '"series"' in head):
        return "withings"
    from healthcoach.wearables.fitbit_api import MARKERS

    if any(m in head for m in MARKERS):
        return "fitbit_api"
    return None


def detect(path: Path) -> str | None:
    """The wearable format of a file or folder ('fitbit_takeout', 'apple_health', ...), else None.

    A folder is 'fitbit_takeout' when it holds a Takeout export, else the format of its files when
    they agree, 'mixed' when they do not, and None when nothing in it is a wearable export.
    """
    path = Path(path)
    if path.is_file():
        return _detect_file(path)
    if not path.is_dir():
        return None
    from healthcoach.wearables.fitbit_takeout import find_export_dir

    if find_export_dir(path) is not None:
        return "fitbit_takeout"
    found = {f for p in sorted(path.rglob("*")) if p.is_file() and (f := _detect_file(p))}
    if not found:
        return None
    return found.pop() if len(found) == 1 else "mixed"


def load_wearables(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Import every wearable export under `path` (a file or a folder) as daily records.

    `tz` is the wearer's IANA time zone; without it each adapter uses offsets in the data, else UTC
    (see each adapter's docstring). Files that are not a known wearable format are counted in
    result.skipped. A truncated or malformed file raises IngestError naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path.name}: no such file or folder")
    if path.is_file():
        fmt = _detect_file(path)
        if fmt is None:
            raise IngestError(f"{path.name}: not a recognised wearable export")
        if fmt == "fitbit_takeout":
            return _loader(fmt)(path.parent, user_id, tz)
        return _loader(fmt)(path, user_id, tz)
    from healthcoach.wearables.fitbit_takeout import find_export_dir

    result = AdapterResult()
    takeout_dirs: set[Path] = set()
    for cand in [path, *sorted(p for p in path.rglob("*") if p.is_dir())]:
        if any(cand.is_relative_to(t.parent) for t in takeout_dirs):
            continue
        export = find_export_dir(cand)
        if export is not None and export not in takeout_dirs:
            takeout_dirs.add(export)
            result.extend(_loader("fitbit_takeout")(export, user_id, tz))
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if any(file.is_relative_to(t.parent) for t in takeout_dirs):
            continue  # part of a Takeout export, read above (its own unknown files are counted there)
        fmt = _detect_file(file)
        if fmt is None:
            result.skip("file not a recognised wearable export (ignored)")
            continue
        result.extend(_loader(fmt)(file, user_id, tz))
    return _dedupe(result)


def _dedupe(result: AdapterResult) -> AdapterResult:
    """One record per (source kind, metric, day): a day repeated in another file of the same source
    (an overlapping API range, a re-saved body) is counted once; the first file in name order wins."""
    seen: set[str] = set()
    kept = []
    for rec in result.records:
        if rec.id in seen:
            result.skip(f"{rec.details.get('metric', 'record')}: same day in another file (counted once)")
            continue
        seen.add(rec.id)
        kept.append(rec)
    result.records = kept
    return result
