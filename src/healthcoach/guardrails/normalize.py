"""Text normalisation shared by the input guard's patterns and classifier.

Patterns are written against normalised text, so they stay short: lowercase, NFKC unicode,
straight quotes, collapsed whitespace, and common typos/slang expanded ("od" -> "overdose",
"kms" -> "kill myself"). Expansion errs toward the safety-relevant reading on purpose. The
vocabulary is data: guardrails/spelling.yaml in this package.
"""

from __future__ import annotations

import re
import unicodedata

from healthcoach.guardrails.spelling import Spelling, packaged_spelling

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(.)\1{2,}")  # "sooooo" -> "soo": keeps words recognisable


def normalize(text: str) -> str:
    """Lowercase, unicode-normalise, collapse whitespace and expand common typos and slang."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    t = _REPEAT.sub(r"\1\1", t)
    t = _SPACE.sub(" ", t).strip()
    spelling = packaged_spelling()
    t = spelling.slang_pattern.sub(lambda m: spelling.slang[m.group(1)], t)
    for rx, rep in spelling.compiled_phrases:
        t = rx.sub(rep, t)
    return _fuzzy(t, spelling)


def _edit1(a: str, b: str) -> bool:
    """Whether a and b are at most one insertion, deletion, substitution or adjacent swap apart."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


_TOKEN = re.compile(r"[a-z]{5,}")


def _fuzzy(text: str, spelling: Spelling) -> str:
    """A token one edit away from a safety word (and not a common word) becomes that word, so "chset
    pain" and "bleedign" still reach the high-precision patterns."""

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in spelling.kept:
            return w
        for v in spelling.vocab:
            if abs(len(v) - len(w)) <= 1 and v[0] == w[0] and _edit1(w, v):
                return v
        return w

    return _TOKEN.sub(fix, text)


def fold_accents(text: str) -> str:
    """Text with accents removed ("fièvre" -> "fievre"), so Spanish and French patterns are written
    without them; plain ASCII text is returned as is."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
