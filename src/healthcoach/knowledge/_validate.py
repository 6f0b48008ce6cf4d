"""Helpers for the catalog: code-key checks (with check digits) and phrase matching over folded text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Short system names as records.models.SYSTEMS writes them.
CODE_SYSTEMS: dict[str, re.Pattern[str]] = {
    "LOINC": re.compile(r"\d{1,7}-\d"),
    "SNOMED": re.compile(r"[1-9]\d{5,17}"),
    "CVX": re.compile(r"\d{1,3}"),
    "RxNorm": re.compile(r"[1-9]\d{0,8}"),
    "ICD-10": re.compile(r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?"),
}

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def loinc_check_digit(base: str) -> str:
    """LOINC's mod-10 check digit for the part before the hyphen."""
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
# Verhoeff permutation table: row i is the first row's permutation applied i times.
_VERHOEFF_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_VERHOEFF_P: list[tuple[int, ...]] = [tuple(range(10))]
for _ in range(7):
    _VERHOEFF_P.append(tuple(_VERHOEFF_P[-1][j] for j in _VERHOEFF_P1))


def verhoeff_ok(number: str) -> bool:
    """Whether a SNOMED CT identifier's last digit is a valid Verhoeff check digit."""
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def check_code(key: str) -> str:
    """Validate a 'SYSTEM:code' key and return it; ValueError says what is wrong.

    LOINC and SNOMED check digits are verified, which catches most typos in hand-written codes.
    """
    system, sep, code = key.partition(":")
    if not sep or system not in CODE_SYSTEMS:
        raise ValueError(f"code {key!r} must be 'SYSTEM:code' with SYSTEM in {', '.join(CODE_SYSTEMS)}")
    if not CODE_SYSTEMS[system].fullmatch(code):
        raise ValueError(f"code {key!r} is not a well-formed {system} code")
    if system == "LOINC":
        base, check = code.split("-")
        if loinc_check_digit(base) != check:
            raise ValueError(
                f"code {key!r} has a wrong LOINC check digit (expected {loinc_check_digit(base)})"
            )
    if system == "SNOMED" and not verhoeff_ok(code):
        raise ValueError(f"code {key!r} has a wrong SNOMED CT check digit")
    return key


def normalize_text(text: str) -> str:
    """Lowercase text with every character that is not a-z or 0-9 turned into a space.

    The result has the same length as the input, so match positions refer to the original text.
    """
    low = text.lower()
    if len(low) == len(text):
        return _NOT_ALNUM.sub(" ", low)
    # Rare: lowercasing changed the length (e.g. 'İ'); fold one character at a time.
    return "".join(ch.lower() if ch.lower() in _ALNUM else " " for ch in text)


def validate_phrases(phrases: Iterable[str], what: str) -> tuple[str, ...]:
    """Check phrases are lowercase, trimmed and contain a letter or digit; return them as a tuple."""
    out = tuple(phrases)
    for p in out:
        if not p.strip():
            raise ValueError(f"empty {what}")
        if p != p.strip() or p != p.lower():
            raise ValueError(f"{what} {p!r} must be lowercase without surrounding spaces")
        if not normalize_text(p).strip():
            raise ValueError(f"{what} {p!r} has no letters or digits")
    return out


def phrase_regex(phrases: Mapping[str, Any]) -> re.Pattern[str]:
    """One pattern over normalized phrases: whole words, longest first, optional plural 's'/'es'.

    Matching runs on `normalize_text` output; group 'p' is the phrase as found (spaces may repeat).
    """
    alts = sorted(phrases, key=lambda p: (-len(p), p))
    body = "|".join(r" +".join(re.escape(w) for w in p.split()) for p in alts)
    return re.compile(rf"(?<![a-z0-9])(?P<p>{body})(?:e?s)?(?![a-z0-9])")
