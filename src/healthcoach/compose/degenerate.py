"""Degeneration check for LLM text: output a person should never see, whatever its facts.

A small model under a long prompt loops ("| | | |", the same phrase again and again), copies the
evidence table's markup, writes a placeholder marker ("[n]"), stops mid-sentence when it hits its token
limit, drifts into another language, or repeats its instructions. Each is a reason to show the
template answer instead. Thresholds are relative to the answer being rephrased where they can be
(a list of eight flu shots legitimately repeats "Influenza, seasonal"), so a faithful rephrasing is
never rejected for echoing its source.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+(?:[.,]\d+)*|[|#*\[\]]")
_EMPTY_CELL = re.compile(r"\|\s*\|")
_TABLE_LINE = re.compile(r"^\s*\|.*\|", re.M)
_PLACEHOLDER = re.compile(r"\[\s*(?:[a-zA-Z]|n\s*,\s*m|\.\.\.|…)?\s*\]")
_LEAK = re.compile(r"<\s*/?\s*(?:records|conversation)\b|\b(?:system prompt|my instructions|these instructions|"
                   r"the rules above|evidence table|checked answer|as an ai\b|i am an ai\b|language model|"
                   r"one row per record|rephrase)", re.I)
_END = re.compile(r"[.!?)\]\"'”’*]\s*$")
_EN = {"the", "a", "an", "your", "you", "is", "was", "were", "of", "on", "in", "and", "to", "from", "at", "with",
       "for", "it", "this", "that", "are", "have", "had", "as", "by", "no", "not", "my", "i", "most", "recent"}
_FOREIGN = {"de", "la", "el", "los", "las", "del", "que", "su", "fue", "es", "und", "der", "die", "das", "ist",
            "le", "les", "et", "est", "une", "du", "il", "di", "della", "è", "het", "een", "och", "não",
            "para", "por", "con", "mit", "von", "sur", "pour"}


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def repetition(text: str, source: str) -> str:
    """'' or why text loops: a token 4+ times in a row, or a 4-gram 3+ times and more often than the
    source (template answer + evidence) repeats it."""
    words = _words(text)
    run = 1
    for a, b in pairwise(words):
        run = run + 1 if a == b else 1
        if run >= 4:
            return f"degenerate_repetition: {a!r} repeated"
    seen = _ngrams(_words(source), 4)
    for gram, k in _ngrams(words, 4).most_common(3):
        if k >= 3 and k > seen.get(gram, 0):
            return f"degenerate_repetition: {' '.join(gram)!r} x{k}"
    lines = Counter(line.strip() for line in text.splitlines() if len(line.strip()) > 8)
    if lines and lines.most_common(1)[0][1] >= 3:
        return "degenerate_repetition: a line repeated"
    return ""


def debris(text: str) -> str:
    """'' or which markup debris text holds: empty table cells, table rows, a placeholder marker, an
    unclosed bold or code span."""
    if _EMPTY_CELL.search(text) or _TABLE_LINE.search(text) or text.count("|") >= 3:
        return "degenerate_markup: table debris"
    if _PLACEHOLDER.search(text):
        return "degenerate_markup: placeholder marker"
    if text.count("**") % 2 or text.count("```") % 2 or text.count("`") % 2:
        return "degenerate_markup: unfinished markdown"
    return ""


def language(text: str) -> str:
    """'' or 'wrong_language' when the reply is not English (letters outside Latin-1, or more
    function words of another language than of English)."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c <= "ÿ" for c in letters) / len(letters) < 0.9:
        return "wrong_language: non-Latin script"
    words = re.findall(r"[^\W\d_]+", text.lower())
    en, other = sum(w in _EN for w in words), sum(w in _FOREIGN for w in words)
    if other >= 2 and other > en:
        return f"wrong_language: {other} foreign and {en} English function words"
    return ""


def check_degenerate(text: str, source: str, system_text: str = "", cut_off: bool = False,
                     max_chars: int | None = None) -> list[str]:
    """Why text is degenerate (kind: detail), or [] when it reads as a finished English reply.

    source: what the model rephrased (template answer and evidence rows); system_text: the
    instructions, which must not be echoed; cut_off: the model stopped at its token limit."""
    text = text.strip()
    out = [v for v in (repetition(text, source), debris(text), language(text)) if v]
    if cut_off or not _END.search(text):
        out.append("truncated: the reply stops mid-sentence")
    if _LEAK.search(text) or _echoes(text, system_text, source):
        out.append("instruction_leak: the reply repeats its instructions")
    if max_chars is not None and len(text) > max_chars:
        out.append(f"too_long: {len(text)} characters (limit {max_chars})")
    return out


def _echoes(text: str, system_text: str, source: str, n: int = 7) -> bool:
    """Whether text copies n consecutive words of the instructions (that the answer itself does not say)."""
    if not system_text:
        return False
    copied = set(_ngrams(_words(system_text), n)) & set(_ngrams(_words(text), n))
    return bool(copied - set(_ngrams(_words(source), n)))
