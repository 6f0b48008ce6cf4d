"""Time windows in questions ("in 2023", "last year", "since March", "past 6 months"), relative to today."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUM = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9, "ten": 10, "twelve": 12}


@dataclass(frozen=True)
class Window:
    """[start, end) in calendar days, with the words a person used for it."""

    start: date
    end: date  # exclusive
    label: str
    yearless: bool = False  # "on March 20": the year was guessed, so the data's own span may move it

    @property
    def since(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def in_year(self, year: int) -> Window:
        """The same days in another year (for a date written without one)."""
        def move(d: date) -> date:
            try:
                return d.replace(year=d.year + (year - self.start.year))
            except ValueError:  # February 29
                return d.replace(year=d.year + (year - self.start.year), day=28)
        label = self.label.replace(str(self.start.year), str(year))
        return Window(move(self.start), move(self.end), label, yearless=False)

    def describe(self) -> str:
        """'last week (2026-11-16 to 2026-11-22)'."""
        if self.start == self.last_day:
            return f"{self.label} ({self.start.isoformat()})"
        return f"{self.label} ({self.start.isoformat()} to {self.last_day.isoformat()})"


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


_DATE = r"(\d{4}-\d{2}-\d{2}|" + _MONTH + r"\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?)"


def _dates(t: str, today: date) -> list[date]:
    """Explicit dates in order: '2025-03-21', 'March 21, 2025', 'march 21' (the most recent one)."""
    return [d for d, _ in _dates_marked(t, today)]


def _dates_marked(t: str, today: date) -> list[tuple[date, bool]]:
    """Explicit dates in order, each with whether its year was guessed (no year written)."""
    out: list[tuple[int, date | None, tuple[int, int] | None]] = []
    for m in re.finditer(_DATE, t):
        if m.group(1)[0].isdigit():
            try:
                out.append((m.start(), date.fromisoformat(m.group(1)), None))
            except ValueError:
                continue
            continue
        mon = MONTHS[m.group(2)[:4] if m.group(2).startswith("sept") else m.group(2)[:3]]
        day = int(m.group(3))
        if m.group(4):
            try:
                out.append((m.start(), date(int(m.group(4)), mon, day), None))
            except ValueError:
                continue
        else:
            out.append((m.start(), None, (mon, day)))
    years = [d.year for _p, d, _md in out if d]
    result: list[tuple[date, bool]] = []
    for _pos, d, md in out:
        guessed = False
        if d is None and md is not None:
            guessed = not years
            year = years[-1] if years else (today.year if md <= (today.month, today.day) else today.year - 1)
            try:
                d = date(year, *md)
            except ValueError:
                continue
        if d is not None:
            result.append((d, guessed))
    return result


def parse_window(text: str, today: date) -> Window | None:
    """The time window a question names, or None. Deterministic for a given today."""
    t = text.lower()
    tomorrow = today + timedelta(days=1)
    marked = _dates_marked(t, today)
    explicit = [d for d, _ in marked]
    guessed = any(g for _, g in marked)
    if len(explicit) >= 2 and re.search(r"\b(from|between|to|through|until|and)\b", t):
        a, b = sorted(explicit[:2])
        return Window(a, b + timedelta(days=1), f"from {a.isoformat()} to {b.isoformat()}", guessed)
    if len(explicit) == 1:
        d = explicit[0]
        if re.search(r"\bsince\b", t):
            return Window(d, tomorrow, f"since {d.isoformat()}", guessed)
        return Window(d, d + timedelta(days=1), f"on {d.isoformat()}", guessed)
    if m := re.search(r"\bsince\s+(19\d\d|20\d\d)\b", t):
        y = int(m.group(1))
        return Window(date(y, 1, 1), tomorrow, f"since {y}")
    if m := re.search(r"\b(?:in|during|for|of)\s+(19\d\d|20\d\d)\b", t) or re.search(r"\b(19\d\d|20\d\d)\b", t):
        y = int(m.group(1))
        return Window(date(y, 1, 1), date(y + 1, 1, 1), f"in {y}")
    if re.search(r"\byesterday\b", t):
        day = today - timedelta(days=1)
        return Window(day, today, "yesterday")
    if re.search(r"\b(today|tonight|last night)\b", t):
        if "last night" in t:
            return Window(today, tomorrow, "last night")
        return Window(today, tomorrow, "today")
    if m := re.search(r"\b(?:past|last|previous)\s+(\d+|" + "|".join(_NUM) + r")\s+(day|week|month|year)s?\b", t):
        n = int(m.group(1)) if m.group(1).isdigit() else _NUM[m.group(1)]
        days = n * _UNITS[m.group(2)]
        return Window(tomorrow - timedelta(days=days), tomorrow, f"the past {n} {m.group(2)}{'s' if n > 1 else ''}")
    if re.search(r"\b(last|past|previous) week\b", t):
        monday = today - timedelta(days=today.weekday())
        return Window(monday - timedelta(days=7), monday, "last week")
    if re.search(r"\bthis week\b", t):
        monday = today - timedelta(days=today.weekday())
        return Window(monday, tomorrow, "this week")
    if re.search(r"\b(last|past|previous) month\b", t):
        first = _month_start(today)
        return Window(_add_months(first, -1), first, "last month")
    if re.search(r"\bthis month\b", t):
        return Window(_month_start(today), tomorrow, "this month")
    if re.search(r"\b(last|past|previous) year\b", t):
        return Window(date(today.year - 1, 1, 1), date(today.year, 1, 1), f"last year ({today.year - 1})")
    if re.search(r"\bthis year\b", t):
        return Window(date(today.year, 1, 1), tomorrow, "this year")
    if m := re.search(r"\bsince\s+" + _MONTH + r"\b", t):
        mon = MONTHS[m.group(1)[:4] if m.group(1).startswith("sept") else m.group(1)[:3]]
        year = today.year if mon <= today.month else today.year - 1
        return Window(date(year, mon, 1), tomorrow, f"since {date(year, mon, 1):%B %Y}")
    if m := re.search(r"\b(?:in|during|for)\s+" + _MONTH + r"\b", t):
        mon = MONTHS[m.group(1)[:4] if m.group(1).startswith("sept") else m.group(1)[:3]]
        year = today.year if mon <= today.month else today.year - 1
        start = date(year, mon, 1)
        return Window(start, _add_months(start, 1), f"in {start:%B %Y}")
    return None
