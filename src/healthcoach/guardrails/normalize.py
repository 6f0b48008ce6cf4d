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
    # frequent misspellings of safety-relevant words (typed in a hurry, on a phone, in distress)
    "shud": "should",
    "hav": "have",
    "hv": "have",
    "iz": "is",
    "shuld": "should",
    "shoudl": "should",
    "sould": "should",
    "wat": "what",
    "wut": "what",
    "wht": "what",
    "whats": "what's",
    "breth": "breath",
    "breathe": "breathe",
    "brethin": "breathing",
    "breathin": "breathing",
    "breating": "breathing",
    "brething": "breathing",
    "bleding": "bleeding",
    "bleedin": "bleeding",
    "chesst": "chest",
    "chets": "chest",
    "pian": "pain",
    "hurtin": "hurting",
    "stoke": "stroke",
    "strok": "stroke",
    "cholestrol": "cholesterol",
    "cholesteral": "cholesterol",
    "colesterol": "cholesterol",
    "overdosd": "overdosed",
    "ovrdose": "overdose",
    "suicidle": "suicidal",
    "sucidal": "suicidal",
    "suicial": "suicidal",
    "pillls": "pills",
    "medicaton": "medication",
    "medicatons": "medications",
    "medicatoin": "medication",
    "perscription": "prescription",
    "prescripton": "prescription",
    "insullin": "insulin",
    "insilin": "insulin",
    "diabeties": "diabetes",
    "unconcious": "unconscious",
    "unconsious": "unconscious",
    "unresponsve": "unresponsive",
    "siezure": "seizure",
    "seizing": "seizing",
    "fertilzer": "fertilizer",
    "fertiliser": "fertilizer",
    "bom": "bomb",
    "bomm": "bomb",
    "explosve": "explosive",
    "dizy": "dizzy",
    "feintd": "fainted",
    "fainted": "fainted",
    "passd": "passed",
    "tonite": "tonight",
    "2nite": "tonight",
    "b4": "before",
    "abt": "about",
    "w": "with",
    "ppl": "people",
    "sum1": "someone",
    "some1": "someone",
    "any1": "anyone",
    "everyting": "everything",
    "evrything": "everything",
    "bottel": "bottle",
    "botle": "bottle",
    "lik": "like",
    "cuz": "because",
    "cos": "because",
    "coz": "because",
    "becuase": "because",
    "becasue": "because",
    "stomache": "stomach",
    "docter": "doctor",
    "doc": "doctor",
    "dr": "doctor",
}

# Multi-word slang ("how 2 make") is expanded before the word table.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhow 2\b"), "how to"),
    (re.compile(r"\b(want|need|going|have|got|able) 2\b"), r"\1 to"),
    (re.compile(r"\bcan'?t breath\b"), "can't breathe"),
    (re.compile(r"\bblood ?sugar\b|\bbg\b|\bsugars?\b(?= (?:is|was|at|of|reading|reads|level|dropped|crashed|down|just|keeps?|\d))"), "blood sugar"),
)

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
    t = _SLANG_RE.sub(lambda m: _SLANG[m.group(1)], t)
    for rx, rep in _PHRASES:
        t = rx.sub(rep, t)
    return _fuzzy(t)


# Safety-critical words that the patterns rely on. A token that is one edit (insertion, deletion,
# substitution or swap) away from one of these, and is not itself a common word, is corrected, so
# "chset pain" and "bleedign" still reach the high-precision patterns.
_VOCAB = (
    "chest", "breathe", "breathing", "bleeding", "stroke", "overdose", "overdosed", "suicide", "suicidal",
    "seizure", "unconscious", "unresponsive", "should", "medication", "medications", "insulin", "pills",
    "tablets", "cholesterol", "pressure", "swallowed", "slurred", "slurring", "drooping", "collapsed",
    "poisoned", "dizzy", "faint", "fainted", "glucose", "bottle", "breath", "myself", "prescription",
)
_REAL_WORDS = frozenset(
    ["chess", "chase", "cheat", "chests", "bleeding", "pressed", "pressing", "preserve", "stoke", "stroke", "strike", "stroked", "strokes", "pulls", "pills", "piles", "spills", "fills", "kills", "bills", "mills", "hills", "tills", "wills", "drills", "grills", "skills", "tables", "tablet", "breaths", "breadth", "wreath", "breathe", "breather", "shoulder", "shoulders", "would", "could", "hould", "bottles", "battle", "bottled", "throttle", "medication", "meditation", "meditations", "dedication", "glucose", "swallow", "swallows", "swallowed", "shallowed", "slurpee", "slurred", "slurping", "myself", "thyself", "himself", "herself", "poisonous", "poisons", "faint", "paint", "saint", "feint", "fainter", "dizzy", "ditzy", "fizzy", "busy", "insulin", "insular", "seizures", "seized", "collapse", "collapses", "unconscious", "subconscious", "suicide", "suicides", "breath", "bleed", "prescriptions", "description", "descriptions", "subscription", "inscription", "drooling", "drooping", "dropping"]
)


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


_VOCAB_SET = frozenset(_VOCAB)
_TOKEN = re.compile(r"[a-z]{5,}")


def _fuzzy(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in _VOCAB_SET or w in _REAL_WORDS or w in _SLANG:
            return w
        for v in _VOCAB:
            if abs(len(v) - len(w)) <= 1 and v[0] == w[0] and _edit1(w, v):
                return v
        return w

    return _TOKEN.sub(fix, text)


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
