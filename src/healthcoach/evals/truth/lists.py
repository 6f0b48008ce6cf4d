"""Expected lists: current medications / conditions / allergies, and what happened in a window
(medications active in a year, vaccines, conditions diagnosed, procedures, visits).

Definitions:
  * current medication: a MedicationRequest (or MedicationStatement) with status active.
  * current condition: clinicalStatus active/recurrence/relapse and no abatement date.
  * current allergy: clinicalStatus active (or absent).
  * medication active in a window: a request authored in the window, or an active request authored
    before the window ends (Synthea requests carry no end date, so nothing else is known to be active).
  * names are deduplicated as written (the scorer compares them case- and tag-insensitively); a visit
    list expects every visit's date and kind.
Items that are on record but not current are ``forbidden`` in a "current" list.
"""

from __future__ import annotations

from collections.abc import Sequence

from healthcoach.evals.truth.expected import Expected
from healthcoach.evals.truth.facts import CURRENT_CONDITION, Answer, Skip
from healthcoach.evals.truth.fhir_raw import Row
from healthcoach.evals.truth.windows import Window


def is_current(r: Row) -> bool:
    """Whether a medication, condition or allergy row is current."""
    if r.kind == "medication":
        return r.status == "active"
    if r.kind == "condition":
        return (r.clinical_status in CURRENT_CONDITION) and r.end_day is None
    if r.kind == "allergy":
        return r.clinical_status in (None, "active")
    raise ValueError(f"'current' does not apply to {r.kind}")


def _names(rows: Sequence[Row]) -> list[str]:
    seen: dict[str, str] = {}
    for r in rows:
        if r.name:
            seen.setdefault(r.name.casefold(), r.name)
    return sorted(seen.values(), key=str.casefold)


def _items(names: list[str], forbidden: list[str], label: str, allow_empty: bool, **extra: object) -> Answer:
    if not names:
        if not allow_empty:
            raise Skip(f"no {label}")
        return Answer(Expected(kind="not_found", summary=f"no {label}"))
    exp = Expected(kind="items", items=names, forbidden=forbidden, count=len(names), computed=[float(len(names))],
                   summary=f"{len(names)} {label}: {'; '.join(names)}")
    return Answer(exp.model_copy(update=extra))


def _bounds(window: Window, rows: Sequence[Row]) -> tuple[str, str]:
    days = [r.day for r in rows if r.day]
    start = window.start or min(days)
    end = window.end or max(days)
    return start.isoformat(), end.isoformat()


def current_list(rows: Sequence[Row], label: str, allow_empty: bool) -> Answer:
    """Current medications / conditions / allergies; the non-current ones are forbidden."""
    current = _names([r for r in rows if is_current(r)])
    keys = {n.casefold() for n in current}
    forbidden = [n for n in _names([r for r in rows if not is_current(r)]) if n.casefold() not in keys]
    return _items(current, forbidden, label, allow_empty)


def window_list(rows: Sequence[Row], window: Window, label: str, allow_empty: bool) -> Answer:
    """What happened in the window: names (visits: every visit date, as visits share their names)."""
    if rows and rows[0].kind == "medication":
        chosen = [r for r in rows if window.contains(r.day)
                  or (r.status == "active" and r.day is not None and (window.end is None or r.day <= window.end))]
        return _items(_names(chosen), [], label, allow_empty)
    inside = window.rows(rows)
    dates = sorted({r.day.isoformat() for r in inside if r.day})
    bounds = _bounds(window, rows) if inside else None
    if rows and rows[0].kind == "encounter":
        if not inside:
            if not allow_empty:
                raise Skip(f"no {label}")
            return Answer(Expected(kind="not_found", summary=f"no {label}"))
        names = _names(inside)
        return Answer(Expected(kind="items", items=names, item_dates=dates, window=bounds, window_dates=dates,
                               count=len(inside), computed=[float(len(inside))],
                               summary=f"{len(inside)} {label} on {', '.join(dates)} ({'; '.join(names)})"))
    return _items(_names(inside), [], label, allow_empty, window=bounds, window_dates=dates)


def current_count(rows: Sequence[Row], label: str) -> Answer:
    """How many distinct current items (e.g. 'how many allergies do I have?')."""
    n = len(_names([r for r in rows if is_current(r)]))
    return Answer(Expected(kind="count", count=n, computed=[float(n)], summary=f"{n} current {label}"))
