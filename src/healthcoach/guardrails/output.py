"""The output guard: no diagnostic claims, no dose directives, no numbers or dates that are not
in the cited evidence. Any violation makes the reply unusable (the caller falls back to a safe
template); an error inside the guard fails closed (ok=False).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from healthcoach.guardrails.policy import OutputPolicy

log = logging.getLogger(__name__)

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:z|[+-]\d{2}:?\d{2})?)?\b", re.I), "ymd"),
    (re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "mdy"),
    (re.compile(rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), "Mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON},?\s+(\d{{4}})\b", re.I), "dMy"),
]
# Citation markers like [3] or [1, 4] are references, not claims.
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_PHONE = re.compile(r"\b\d{1,2}-\d{3}-\d{3}-\d{4}\b|\b\d{3}-\d{3}-\d{4}\b|\b\d{3} \d{2,3} \d{2,3}\b")
# A number not glued to a preceding letter (skips A1c, B12, COVID-19) but allowing units after.
_NUMBER = re.compile(r"(?<![A-Za-z\d.,])(?<![A-Za-z]-)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")


class OutputCheck(BaseModel, frozen=True):
    """Whether a reply may be shown, and why not."""

    ok: bool
    violations: list[str]


def _month(name: str) -> int:
    name = name.lower().rstrip(".")
    return next(v for k, v in _MONTHS.items() if k.startswith(name[:3]))


def extract_dates(text: str) -> tuple[set[dt.date], str]:
    """Dates found in text (several common formats) and the text with them blanked out."""
    found: set[dt.date] = set()

    def take(kind: str) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            g = m.groups()
            try:
                if kind == "ymd":
                    found.add(dt.date(int(g[0]), int(g[1]), int(g[2])))
                elif kind == "mdy":
                    found.add(dt.date(int(g[2]), int(g[0]), int(g[1])))
                elif kind == "Mdy":
                    found.add(dt.date(int(g[2]), _month(g[0]), int(g[1])))
                else:
                    found.add(dt.date(int(g[2]), _month(g[1]), int(g[0])))
            except (ValueError, StopIteration):
                return m.group(0)  # not a real date: leave its numbers to the number check
            return " "
        return repl

    for rx, kind in _DATE_PATTERNS:
        text = rx.sub(take(kind), text)
    return found, text


def _numbers(text: str) -> list[str]:
    return [m.group(1).replace(",", "") + (m.group(2) or "") for m in _NUMBER.finditer(text)]


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def _grounded(shown: str, known: set[Decimal]) -> bool:
    """7.20 == 7.2; 7.2 matches 7.24 (rounded to the shown precision)."""
    value = _dec(shown)
    if value is None:
        return False
    places = len(shown.split(".")[1]) if "." in shown else 0
    quantum = Decimal(1).scaleb(-places)
    return any(k == value or k.quantize(quantum) == value for k in known)


class OutputGuard:
    """Checks a composed reply against the policy and the cited evidence."""

    def __init__(self, policy: OutputPolicy, response_texts: Iterable[str]) -> None:
        self._diag = [(p.name, re.compile(p.regex, re.I)) for p in policy.diagnostic_claim]
        self._dose = [(p.name, re.compile(p.regex, re.I)) for p in policy.dose_directive]
        # Numbers in our own redirect texts (911, 988, 1-800-222-1222) are always allowed.
        joined = " ".join(response_texts)
        self._phones = set(_PHONE.findall(joined))
        self._fixed = {d for n in _numbers(_PHONE.sub(" ", joined)) if (d := _dec(n)) is not None}

    def check(self, text: str, evidence: str, allowed_numbers: Iterable[str] = ()) -> OutputCheck:
        """Violations in text: diagnostic claims, dose directives, ungrounded numbers or dates."""
        try:
            return self._check(text, evidence, allowed_numbers)
        except Exception:  # fail closed: an unchecked reply is never shown
            log.exception("output guard failed; rejecting reply")
            return OutputCheck(ok=False, violations=["guard_error"])

    def _check(self, text: str, evidence: str, allowed_numbers: Iterable[str]) -> OutputCheck:
        violations: list[str] = []
        for name, rx in self._diag:
            if m := rx.search(text):
                violations.append(f"diagnostic_claim: {name}: {m.group(0).strip()}")
        for name, rx in self._dose:
            if m := rx.search(text):
                violations.append(f"dose_directive: {name}: {m.group(0).strip()}")
        body = _CITATION.sub(" ", text)
        for phone in _PHONE.findall(body):
            if phone in self._phones or phone in evidence:
                body = body.replace(phone, " ")
        ev_dates, ev_rest = extract_dates(evidence)
        dates, body = extract_dates(body)
        violations += [f"ungrounded_date: {d.isoformat()}" for d in sorted(dates - ev_dates)]
        known = {d for n in _numbers(ev_rest) if (d := _dec(n)) is not None} | self._fixed
        known |= {d for n in allowed_numbers if (d := _dec(str(n))) is not None}
        # Parts of evidence dates (a year, a day) may be quoted on their own.
        known |= {Decimal(v) for d in ev_dates for v in (d.year, d.month, d.day)}
        for n in _numbers(body):
            if not _grounded(n, known):
                violations.append(f"ungrounded_number: {n}")
        return OutputCheck(ok=not violations, violations=violations)
