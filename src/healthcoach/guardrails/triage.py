"""Red-flag triage: the deterministic emergency screen that runs before the classifier.

Each presentation in guardrails/triage/ fires on a phrase, a symptom combination (every regex of a
discriminator matching, none negated) or a number threshold (numbers.py). A hit always escalates:
the input guard turns it into an ``escalate`` verdict with the file's response (911, Poison Control,
988), or the short rapid-response text when a clinician is describing a patient. The same rules
apply whoever speaks (self, parent, bystander, clinician) and in Spanish and French, whose lexicons
live in the same files. False positives are accepted by design; negation ("no stridor", "denies
chest pain") and general questions with nobody in them ("what are the signs of a stroke?") are the
only things that hold a match back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.numbers import Readings, news2, read_numbers
from healthcoach.guardrails.prefilter import LiteralIndex, required_literals
from healthcoach.guardrails.triage_policy import (
    Discriminator,
    Threshold,
    TriageFile,
    TriagePolicy,
    Voice,
    expand,
)

_SENTENCE = re.compile(r"[.;!?\n]")


@dataclass(frozen=True)
class TriageHit:
    """One red flag found in a message."""

    presentation: str
    rule: str  # "phrase", a discriminator name, a threshold name; "es:"/"fr:" prefixed for lexicons
    category: str  # "emergency" or "self_harm"
    response_key: str
    voice: Voice

    @property
    def reason(self) -> str:
        """The verdict reason: which file and rule fired (never the message itself)."""
        return f"triage:{self.presentation}:{self.rule}:{self.voice}"


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lowercase without accents ("fièvre" -> "fievre"), so lexicons need one spelling."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _unaccent(pattern: str) -> str:
    """Accents removed but case kept: a regex's \\W or \\S must not be lowercased."""
    decomposed = unicodedata.normalize("NFKD", pattern)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _phrase_regex(phrase: str) -> str:
    # The phrase goes through the same normalisation as the message, so the typo fixer's rewrites
    # ("insulina" -> "insulin") cannot make a Spanish or French phrase unmatchable.
    words = [re.escape(w) for w in fold(normalize(phrase)).split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


@dataclass(frozen=True)
class _Disc:
    name: str
    all: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    response_key: str | None
    any_framing: bool
    negatable: bool = True  # Spanish/French lexicons: "no" is everywhere there, so no negation check
    gates: tuple[frozenset[str] | None, ...] = ()  # per regex in all: literals one of which must be present

    def gated(self) -> _Disc:
        """This discriminator with its literal prefilter computed."""
        return replace(self, gates=tuple(required_literals(p) for p in self.all))


@dataclass(frozen=True)
class _Thr:
    spec: Threshold
    with_any: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class _File:
    spec: TriageFile
    discs: tuple[_Disc, ...]
    thresholds: tuple[_Thr, ...]


class Triage:
    """Compiled red-flag rules; ``check`` returns the most urgent hit for a message, or None."""

    def __init__(self, policy: TriagePolicy) -> None:
        sh = policy.shared
        self.policy = policy
        self._terms = sh.terms
        many = self._many
        self._neg_cue = re.compile(sh.negation.cues)
        self._neg_break = re.compile(sh.negation.breakers)
        self._neg_window = sh.negation.window
        self._general = many(sh.general_question, "general_question")
        self._personal = many(sh.personal, "personal")
        self._study = many(sh.study_framing, "study_framing")
        self._child = many(sh.child, "child")
        self._confusion = many(sh.confusion, "confusion")
        self._voices: list[tuple[Voice, tuple[re.Pattern[str], ...]]] = [
            ("clinician", many(sh.voices.clinician, "voices")), ("parent", many(sh.voices.parent, "voices")),
            ("bystander", many(sh.voices.bystander, "voices"))]
        drugs = "|".join(sorted((re.escape(fold(d)) for d in sh.high_risk_drugs), key=len, reverse=True))
        self._drugs = re.compile(rf"\b(?:{drugs})\w*")
        self._priority = {key: i for i, key in enumerate(sh.response_priority)}
        self._files: list[_File] = []
        for f in policy.files:
            discs = [self._disc(d) for d in f.discriminators]
            if f.phrases:
                discs.append(_Disc("phrase", (re.compile("|".join(_phrase_regex(p) for p in f.phrases)),), (),
                                   None, False))
            for lang, lex in sorted(f.languages.items()):
                discs += [self._disc(d, f"{lang}:") for d in lex.discriminators]
                if lex.phrases:
                    discs.append(_Disc(f"{lang}:phrase", (re.compile("|".join(_phrase_regex(p) for p in lex.phrases)),),
                                       (), None, False, negatable=False))
            thr = tuple(_Thr(t, many(t.with_any, f.id)) for t in f.thresholds)
            self._files.append(_File(f, tuple(d.gated() for d in discs), thr))
        self._index = LiteralIndex(g for f in self._files for d in f.discs for g in d.gates)

    def _many(self, patterns: Sequence[str], where: str, whole_words: bool = False) -> tuple[re.Pattern[str], ...]:
        """Compile regexes written against folded text, with {terms} expanded."""
        # A match never starts inside a word ("bee" must not fire on "been"): every regex is anchored
        # so that the character before its match is not a letter. Spanish and French lexicons also end
        # on a word boundary, so "no respira" cannot fire on English "no respiratory".
        end = "(?![a-z])" if whole_words else ""
        return tuple(re.compile(r"(?<![a-z])(?:" + expand(_unaccent(p), self._terms, where) + ")" + end)
                     for p in patterns)

    def _disc(self, d: Discriminator, prefix: str = "") -> _Disc:
        return _Disc(prefix + d.name, self._many(d.all, d.name, bool(prefix)), self._many(d.unless, d.name), d.response_key,
                     d.any_framing, negatable=not prefix)

    # ------------------------------------------------------------------------------------------
    def check(self, texts: Sequence[str]) -> TriageHit | None:
        """The most urgent red flag in any of the (normalised) texts, or None."""
        hits = [h for t in texts for h in self.hits(t)]
        if not hits:
            return None
        return min(hits, key=lambda h: (h.category != "emergency", self._priority.get(h.response_key, 99)))

    def hits(self, text: str) -> list[TriageHit]:
        """Every red flag in one normalised text."""
        t = fold(text)
        voice = self.voice(t)
        general = (any(g.search(t) for g in self._general) and not any(p.search(t) for p in self._personal)) \
            or any(s.search(t) for s in self._study)
        readings: Readings | None = None
        present = self._index.present(t)
        out: list[TriageHit] = []
        for f in self._files:
            spec = f.spec
            key = spec.clinician_response_key if voice == "clinician" else spec.response_key
            for d in f.discs:
                if general and not d.any_framing:
                    continue
                if any(g is not None and g.isdisjoint(present) for g in d.gates):
                    continue  # a string the regex needs is missing: it cannot match
                if all(self._matches(p, t, d.negatable) for p in d.all) and not any(u.search(t) for u in d.unless):
                    resp = key if voice == "clinician" else (d.response_key or key)
                    out.append(TriageHit(spec.id, d.name, spec.category, resp, voice))
                    break
            else:
                for thr in f.thresholds:
                    readings = readings if readings is not None else read_numbers(t)
                    if readings.empty:
                        break
                    if self._threshold(thr, readings, t):
                        resp = key if voice == "clinician" else (thr.spec.response_key or key)
                        out.append(TriageHit(spec.id, thr.spec.name, spec.category, resp, voice))
                        break
        return out

    def voice(self, folded: str) -> Voice:
        """Who the message is about: a clinician's patient, a parent's child, someone nearby, or the writer."""
        for name, cues in self._voices:
            if any(c.search(folded) for c in cues):
                return name
        return "self"

    # ------------------------------------------------------------------------------------------
    def _matches(self, pattern: re.Pattern[str], text: str, negatable: bool = True) -> bool:
        if not negatable:
            return pattern.search(text) is not None
        return any(not self._negated(text, m.start()) for m in pattern.finditer(text))

    def _negated(self, text: str, start: int) -> bool:
        """Whether a negation cue ("no", "denies", "without") governs the match starting at start."""
        left = _SENTENCE.split(text[max(0, start - self._neg_window):start])[-1]
        cues = list(self._neg_cue.finditer(left))
        if not cues:
            return False
        return not self._neg_break.search(left[cues[-1].end():])

    def _threshold(self, thr: _Thr, r: Readings, text: str) -> bool:
        spec = thr.spec
        for measure, rng in spec.when.items():
            if measure == "news2":
                score = news2(r, any(self._matches(c, text) for c in self._confusion))
                values = [float(score)] if score is not None else []
            else:
                values = r.values(measure)
            if not any(rng.holds(v) for v in values):
                return False
        if spec.with_any and not any(self._matches(p, text) for p in thr.with_any):
            return False
        if spec.high_risk_drug and not self._drugs.search(text):
            return False
        return not spec.child or any(c.search(text) for c in self._child) or any(a < 18 * 12 for a in r.ages_months)
