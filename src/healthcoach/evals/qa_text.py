"""Reading a reply's text the way a careful person would: the dates, numbers, heights, direction words,
"not found" statements and names it contains. Written for the QA scorer, independent of the product's
own formatting helpers, and deliberately tolerant of ordinary ways of writing things."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS["sept"] = 9
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
DATE_PATTERNS = (
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:T[\d:.+-]+Z?)?\b"),
    re.compile(rf"\b({_MON})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.I),
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MON})\.?,? (\d{{4}})\b", re.I),
    re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"),
)
MONTH_YEAR = re.compile(rf"\b({_MON})\.? (\d{{4}})\b", re.I)
NUMBER = re.compile(r"(?<![\w.])(?<![A-Za-z]-)(\d+(?:\.\d+)?)(?!\.?\d)")
NOISE = (
    re.compile(r"\[\d+\]"),  # citation markers
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),  # clock times
    re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.I),  # ordinals
    re.compile(r"(?m)^\s*\d+[.)]\s"),  # list numbering
)
# counts of records shown or searched ("showing 10 of 18", "(and 5 more)", "6 on record", "144 vitals"):
# not health values (a wrong count the question asks for fails the count check instead)
DISPLAY_COUNTS = re.compile(
    r"\b\d+ of \d+\b|\b\d+ (?:more|others?|earlier|older|previous|on record|on file|records?|results?|sources?"
    r"|entries|items|readings|measurements|vitals|labs?|lab results|tests|documents|notes|vaccines?|vaccinations"
    r"|immunizations?|shots|doses|visits?|encounters?|medications?|meds|prescriptions?|conditions?|allergies"
    r"|procedures?|social history)\b|\((?:\d+)\)", re.I)
# crisis lines and numbers inside names ("Type 2 diabetes", "25-hydroxy") are not health values
NOT_VALUES = re.compile(r"\b(?:911|988)\b|\b(?:call|text|dial)\b[^.\n]{0,24}?\b(?:112|999)\b|\btype [12]\b"
                        r"|\b\d+-(?=[a-z])", re.I)
FEET_INCHES = re.compile(
    r"\b(\d)\s*(?:ft|feet|foot|'|′)\.?\s*(?:and\s*)?(\d{1,2}(?:\.\d+)?)\s*(?:in(?:ch(?:es)?)?\b|\"|″|'')?", re.I)
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS)} | {"once": 1, "twice": 2, "no": 0, "none": 0}
_UNITS = (r"(?:%|/|°|mg\b|kg\b|g\b|lbs?\b|cm\b|mm\b|ml\b|l\b|in\b|ft\b|days?\b|weeks?\b|months?\b|years?\b"
          r"|hours?\b|hrs?\b|minutes?\b|min\b|tablets?\b|capsules?\b|puffs?\b|drops?\b|units?\b|unt\b|mcg\b"
          r"|meq\b|mmol\b|bpm\b|beats\b|kcal\b|steps\b|x\b|times (?:a|per|daily))")
COUNT_TOKEN = re.compile(rf"(?<![\w.])(?<![A-Za-z]-)(\d+)(?![\d.])(?!\s*{_UNITS})", re.I)
WORD_COUNT = re.compile(rf"\b({'|'.join(NUMBER_WORDS)})\b(?!\s*{_UNITS})", re.I)
QUOTED = re.compile(r'"[^"\n]*"')
_UP_NOISE = re.compile(r"\b(?:follow|look|set|pull|sign|show|make|bring|back|pick|keep)[- ]up\b|\bup[- ]to[- ]date\b",
                       re.I)
DIRECTION = {
    "up": re.compile(r"\b(?:up|upward|increas\w*|ris(?:e|en|es|ing)|rose|higher|climb\w*|gain(?:ed|s)?)\b", re.I),
    "down": re.compile(r"\b(?:down|downward|decreas\w*|dropp?\w*|fell|fallen|falling|lower(?:ed)?|declin\w*"
                       r"|lost|reduc\w*)\b", re.I),
    "same": re.compile(r"\b(?:unchanged|no change|the same|same as|stable|steady|flat|stayed|did not change"
                       r"|didn't change|hasn't changed|has not changed)\b", re.I),
}
NOT_FOUND = re.compile(
    r"\b(?:no records?\b|found no\b|not in your records?|(?:isn't|aren't|is not|are not) in your records?|not found"
    r"|(?:couldn't|could not|can't|cannot|did not|didn't) find|(?:don't|do not) (?:see|have)|not recorded"
    r"|nothing (?:on record|recorded|in your records?|on file|found|listed)"
    r"|no \w+(?:[ -]\w+){0,5} (?:on record|recorded|in your records?|on file|found|listed|documented)"
    r"|none (?:recorded|on record|on file|found|listed)|there (?:is|are|were|was) no|(?:haven't|have not|never) )",
    re.I)
PAST_WORDS = re.compile(r"\b(?:stopped|completed|ended|resolved|inactive|past|previous(?:ly)?|former|no longer"
                        r"|discontinued|historical|earlier|was on|used to)\b", re.I)
TAGS = re.compile(r"\((?:disorder|finding|procedure|substance|situation|regime/therapy|environment|organism"
                  r"|morphologic abnormality|qualifier value|observable entity)\)", re.I)


@dataclass(frozen=True)
class Stated:
    """A number as written: value and how many decimals it shows."""

    value: float
    decimals: int


def _date(groups: tuple[str, ...], pattern: int) -> date | None:
    try:
        if pattern == 0:
            return date(int(groups[0]), int(groups[1]), int(groups[2]))
        if pattern == 1:
            return date(int(groups[2]), _MONTHS[groups[0].lower()], int(groups[1]))
        if pattern == 2:
            return date(int(groups[2]), _MONTHS[groups[1].lower()], int(groups[0]))
        return date(int(groups[2]), int(groups[0]), int(groups[1]))
    except (ValueError, KeyError):
        return None


def dates_in(text: str) -> set[date]:
    """Every full date the text states (ISO, 'October 8, 2026', 'Oct 8 2026', '8 October 2026', '10/08/2026')."""
    out = set()
    for i, p in enumerate(DATE_PATTERNS):
        for m in p.finditer(text):
            d = _date(m.groups(), i)
            if d:
                out.add(d)
    return out


def strip_dates(text: str) -> str:
    """The text with dates, month-years, citation markers, times, ordinals and list numbering blanked."""
    for p in (*DATE_PATTERNS, MONTH_YEAR, *NOISE):
        text = p.sub(" ", text)
    return text


def numbers_in(text: str) -> list[Stated]:
    """Numbers stated outside dates and markers (a sign is ignored: 'down 0.5' and '-0.5' both give 0.5)."""
    return [Stated(float(n), len(n.split(".")[1]) if "." in n else 0) for n in NUMBER.findall(strip_dates(text))]


def heights_in(text: str) -> list[Stated]:
    """Heights written in feet and inches ("5 ft 4 in", 5'4", "5 feet 3.9 inches") as total inches."""
    out = []
    for m in FEET_INCHES.finditer(text):
        inches = m.group(2)
        decimals = len(inches.split(".")[1]) if "." in inches else 0
        out.append(Stated(int(m.group(1)) * 12 + float(inches), decimals))
    return out


def counts_in(text: str) -> set[int]:
    """Whole numbers stated as counts (digits or words up to twenty): outside dates and quotes, and not
    followed by a unit of measure ('7 days', '14 /min', '1 tablet' are not counts)."""
    clean = QUOTED.sub(" ", strip_dates(text))
    found = {int(m.group(1)) for m in COUNT_TOKEN.finditer(clean)}
    found |= {NUMBER_WORDS[m.group(1).lower()] for m in WORD_COUNT.finditer(clean)}
    return found


def matches(s: Stated, expected: float, min_decimals: int = 0, rel: float = 0.0) -> bool:
    """Whether a stated number is the expected one shown at the stated precision (>= min_decimals)."""
    if s.decimals < min_decimals:
        return False
    return abs(s.value - abs(expected)) <= 0.5 * 10.0 ** -s.decimals + rel * abs(expected) + 1e-9


def direction_of(text: str) -> str | None:
    """The first direction word's family: up, down or same (None when there is none)."""
    clean = _UP_NOISE.sub(" ", strip_dates(text))
    hits = [(m.start(), fam) for fam, p in DIRECTION.items() if (m := p.search(clean))]
    return min(hits)[1] if hits else None


def says_not_found(text: str) -> bool:
    """Whether the text says the thing is not in the records."""
    return bool(NOT_FOUND.search(text))


def date_spans(text: str) -> list[tuple[int, date]]:
    """(position, date) of every full date in the text, in order."""
    out = []
    for i, p in enumerate(DATE_PATTERNS):
        for m in p.finditer(text):
            d = _date(m.groups(), i)
            if d:
                out.append((m.start(), d))
    return sorted(out)


def paragraph_at(text: str, pos: int) -> str:
    """The text from the start up to the end of the paragraph holding position ``pos``."""
    end = text.find("\n\n", pos)
    return text if end < 0 else text[:end]


def first_paragraph(text: str) -> str:
    """The text before the first blank line."""
    return text.strip().split("\n\n", 1)[0]


def first_sentence(text: str) -> str:
    """Up to the first sentence end or line break."""
    return re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]


def norm_name(name: str) -> str:
    """A name compared case-, tag- and punctuation-insensitively ('Prediabetes (finding)' -> 'prediabetes')."""
    name = TAGS.sub(" ", name)
    return " ".join(re.sub(r"[^0-9a-z.]+", " ", name.lower()).split())
