"""Time windows for questions ("in 2019", "since March 3, 2020", "in the last 6 months"), chosen from
the person's own data so that every instantiated question is answerable and unambiguous.

Membership uses the calendar date as written in the source. A window whose edge falls within a few
days of a data point is never chosen (inclusive/exclusive edges and time zones would then matter),
and a row whose UTC date and written date disagree about membership makes the choice invalid.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from healthcoach.evals.truth.fhir_raw import Row

MONTH_SPANS = (3, 6, 12, 18, 24, 36, 48, 60, 84, 120)
EDGE_DAYS = 7


@dataclass(frozen=True)
class Window:
    """An inclusive span of calendar dates (None = open), with the words to put in a question."""

    start: date | None
    end: date | None
    params: dict[str, str] = field(default_factory=dict)
    label: str = "ever"

    def contains(self, d: date | None) -> bool:
        """Whether a calendar date lies in the window."""
        if d is None:
            return False
        return (self.start is None or d >= self.start) and (self.end is None or d <= self.end)

    def rows(self, rows: Sequence[Row]) -> list[Row]:
        """The rows whose written date lies in the window."""
        return [r for r in rows if self.contains(r.day)]

    def ambiguous(self, rows: Sequence[Row]) -> bool:
        """True when a row's UTC date and its written date disagree about membership."""
        return any(r.when is not None and self.contains(r.day) != self.contains(r.when.date()) for r in rows)


def long_date(d: date) -> str:
    """'March 3, 2020' (how a person writes a date in a question)."""
    return f"{calendar.month_name[d.month]} {d.day}, {d.year}"


def add_months(d: date, months: int) -> date:
    """d shifted by whole calendar months (the day clamped to the month's length)."""
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _days(rows: Sequence[Row]) -> list[date]:
    return sorted({r.day for r in rows if r.day is not None})


def _pick(options: Sequence[Window], seed: int) -> Window | None:
    return options[seed % len(options)] if options else None


def _far_from_edges(w: Window, days: Sequence[date]) -> bool:
    edges = [e for e in (w.start, w.end) if e is not None]
    return all(abs((d - e).days) > EDGE_DAYS for d in days for e in edges)


def year_window(year: int) -> Window:
    """The calendar year as a window."""
    return Window(date(year, 1, 1), date(year, 12, 31), {"year": str(year)}, str(year))


def choose(kind: str, rows: Sequence[Row], today: date, seed: int, need: int = 1) -> Window | None:
    """A window of this kind holding at least ``need`` rows (None when the person's data allows none).

    ``need`` = 0 allows an empty window (used by "have I ever / did I ... in 2023?" questions)."""
    days = _days(rows)
    if kind in ("ever", "current"):
        return Window(None, today, {}, kind) if len(rows) >= need else None
    if kind in ("this_year", "last_year"):
        year = today.year if kind == "this_year" else today.year - 1
        w = year_window(year)
        return w if len(w.rows(rows)) >= need and not w.ambiguous(rows) else None
    if kind == "year":
        years = sorted({d.year for d in days})
        options = [w for y in years if len((w := year_window(y)).rows(rows)) >= max(need, 1)
                   and not w.ambiguous(rows)]
        return _pick(options, seed)
    if kind == "month":
        months = sorted({(d.year, d.month) for d in days})
        options = []
        for y, m in months:
            w = Window(date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]),
                       {"month": f"{calendar.month_name[m]} {y}"}, f"{calendar.month_name[m]} {y}")
            if len(w.rows(rows)) >= max(need, 1) and not w.ambiguous(rows):
                options.append(w)
        return _pick(options, seed)
    if kind == "since":
        return _pick(_since_options(days, rows, today, max(need, 1)), seed)
    if kind == "between":
        return _pick(_between_options(days, rows, max(need, 1)), seed)
    if kind == "last_n_months":
        for n in MONTH_SPANS:
            w = Window(add_months(today, -n), today, {"n": str(n)}, f"last {n} months")
            if len(w.rows(rows)) >= max(need, 1) and _far_from_edges(w, days) and not w.ambiguous(rows):
                return w
        return None
    raise ValueError(f"window kind {kind!r} is not a single window")


def _midpoint(a: date, b: date) -> date | None:
    if (b - a).days <= 2 * EDGE_DAYS:
        return None
    return a + timedelta(days=(b - a).days // 2)


def _since_options(days: Sequence[date], rows: Sequence[Row], today: date, need: int) -> list[Window]:
    out = []
    for i in range(1, len(days)):
        start = _midpoint(days[i - 1], days[i])
        if start is None:
            continue
        w = Window(start, today, {"date": long_date(start)}, f"since {start.isoformat()}")
        if len(w.rows(rows)) >= need and not w.ambiguous(rows):
            out.append(w)
    return out


def _between_options(days: Sequence[date], rows: Sequence[Row], need: int) -> list[Window]:
    out = []
    for i in range(1, len(days)):
        start = _midpoint(days[i - 1], days[i])
        if start is None:
            continue
        for j in range(i + need, len(days)):
            end = _midpoint(days[j - 1], days[j])
            if end is None:
                continue
            w = Window(start, end, {"date": long_date(start), "date2": long_date(end)},
                       f"{start.isoformat()}..{end.isoformat()}")
            if len(w.rows(rows)) >= need and not w.ambiguous(rows):
                out.append(w)
            break
    return out


def choose_pair(kind: str, rows: Sequence[Row], today: date, seed: int) -> tuple[Window, Window] | None:
    """Two windows to compare: two years with data (earlier first), or last year and this year."""
    if kind == "this_vs_last_year":
        last, this = year_window(today.year - 1), year_window(today.year)
        ok = last.rows(rows) and this.rows(rows) and not last.ambiguous(rows) and not this.ambiguous(rows)
        return (last, this) if ok else None
    if kind != "two_years":
        raise ValueError(f"window kind {kind!r} is not a pair")
    years = sorted({d.year for d in _days(rows)})
    good = [y for y in years if not year_window(y).ambiguous(rows)]
    pairs = [(a, b) for i, a in enumerate(good) for b in good[i + 1:] if b - a >= 2]
    if not pairs:
        return None
    a, b = pairs[seed % len(pairs)]
    wa, wb = year_window(a), year_window(b)
    return (Window(wa.start, wa.end, {"year": str(a)}, str(a)), Window(wb.start, wb.end, {"year2": str(b)}, str(b)))
