"""Text normalisation shared by the input guard's patterns and classifier.

Patterns are written against normalised text, so they stay short: lowercase, NFKC unicode,
straight quotes, collapsed whitespace, and common typos/slang expanded ("od" -> "overdose",
"kms" -> "kill myself"). Expansion errs toward the safety-relevant reading on purpose.
"""

from __future__ import annotations

import re
import unicodedata

# Whole-word replacements. Keys are matched on word boundaries in already-lowercased text.
# Safety note: slang for self-harm and overdose is expanded so the high-precision patterns
# (written in plain words) still catch it; a false escalation is acceptable, a miss is not.
_SLANG: dict[str, str] = {
    "kms": "kill myself",
    "kys": "kill yourself",
    "unalive": "kill",
    "unaliving": "killing",
    "sewerslide": "suicide",
    "suicde": "suicide",
    "sucide": "suicide",
    "suicidal": "suicidal",
    "od": "overdose",
    "od'd": "overdosed",
    "odd'd": "overdosed",
    "oded": "overdosed",
    "od'ed": "overdosed",
    "overdoes": "overdose",
    "overdosed": "overdosed",
    "meds": "medications",
    "med": "medication",
    "medz": "medications",
    "medicine's": "medicines",
    "rx": "prescription",
    "scrip": "prescription",
    "script": "prescription",
    "bp": "blood pressure",
    "hr": "heart rate",
    "sob": "shortness of breath",
    "cant": "can't",
    "cannot": "can't",
    "can not": "can't",
    "dont": "don't",
    "doesnt": "doesn't",
    "wont": "won't",
    "im": "i'm",
    "ive": "i've",
    "shoud": "should",
    "shuold": "should",
    "shld": "should",
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "bc": "because",
    "b/c": "because",
    "w/": "with",
    "w/o": "without",
    "idk": "i don't know",
    "rn": "right now",
    "mg's": "mg",
    "milligrams": "mg",
    "milligram": "mg",
    "breath": "breath",
    "breahte": "breathe",
    "breate": "breathe",
    "brethe": "breathe",
    "chest pains": "chest pain",
    "diabetis": "diabetes",
    "diabetic's": "diabetic",
    "cancr": "cancer",
    "tylenol": "tylenol",
    "pils": "pills",
    "pillz": "pills",
    "tabs": "tablets",
    "tab": "tablet",
}

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(.)\1{2,}")  # "sooooo" -> "soo": keeps words recognisable
_SLANG_RE = re.compile(
    r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(_SLANG, key=len, reverse=True)) + r")(?![\w'])"
)


def normalize(text: str) -> str:
    """Lowercase, unicode-normalise, collapse whitespace and expand common typos and slang."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    t = _REPEAT.sub(r"\1\1", t)
    t = _SPACE.sub(" ", t).strip()
    return _SLANG_RE.sub(lambda m: _SLANG[m.group(1)], t)


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
