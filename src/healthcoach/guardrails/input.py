"""The input guard: normalise -> high-precision patterns -> semantic classifier -> ordered decision.

Four actions: answer, answer_with_care (a worried health question with no red flag: answered
calmly with when-to-seek-care signs, never refused), redirect, escalate.

Verdicts come from the user's words only (the message and the previous user turns); record
text is never an input here, so a record that says "ignore previous instructions" cannot
change a verdict.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

from healthcoach.guardrails.classifier import CARE, Classifier
from healthcoach.guardrails.language import LanguageDetection
from healthcoach.guardrails.normalize import fold_accents, normalize, word_count
from healthcoach.guardrails.policy import CategoryName, Policy
from healthcoach.guardrails.triage import Triage, fold

log = logging.getLogger(__name__)

VerdictCategory = Literal["allowed", "emergency", "self_harm", "treatment", "diagnosis", "other_harm"]
VerdictAction = Literal["answer", "answer_with_care", "redirect", "escalate"]
ACTIONS: tuple[VerdictAction, ...] = ("answer", "answer_with_care", "redirect", "escalate")

# A follow-up inherits context from earlier turns only when it leans on them: a pronoun or
# an elliptical opener ("should I double it?", "what about 1000?"). A self-contained question
# ("what is A1c?") is judged on its own, so one blocked turn does not poison the conversation.
_ANAPHORA = re.compile(
    r"\b(it|that|this|those|these|them|they|one|ones|same|instead|too|also|either|then|there|"
    r"double|triple|half|more|less|extra|another|again|dose|amount)\b|"
    r"^(and|but|so|or|what about|how about|what if|ok|okay|then|also|even)\b|"
    # A bare worried question ("should I worry?", "do I need to go in?") leans on what came before.
    r"^(?:should|do|must) (?:i|we) (?:really )?(?:need to )?(?:be )?(?:worr(?:y|ied)|concerned|go in|"
    r"call (?:someone|anyone|a doctor)|see (?:someone|a doctor))\b"
)


class Verdict(BaseModel, frozen=True):
    """The input guard's decision about one user message."""

    action: VerdictAction
    category: VerdictCategory
    response_key: str | None
    reason: str  # e.g. "pattern:chest_pain", "classifier:0.93"; never echoes the message
    score: float
    language: str = "en"  # ISO 639-1; any other language gets responses.yaml's language_<code> notice first

    @property
    def blocked(self) -> bool:
        """True when the message must not reach retrieval or any model (answer_with_care is answered)."""
        return self.action in ("redirect", "escalate")


ALLOW = Verdict(action="answer", category="allowed", response_key=None, reason="no_match", score=0.0)
# Fail closed: an error inside the guard blocks with a neutral redirect, never answers.
GUARD_ERROR = Verdict(action="redirect", category="other_harm", response_key="guard_error",
                      reason="guard_error", score=0.0)


class _Hit(BaseModel, frozen=True):
    category: CategoryName
    reason: str
    score: float
    response_key: str | None = None


class _Care(BaseModel, frozen=True):
    """How much a message reads as a health-anxiety question: a care phrase, the care class score."""

    pattern: str | None = None
    score: float = 0.0


class InputGuard:
    """Classifies a user message (with recent user turns) into a Verdict."""

    def __init__(self, policy: Policy, classifier: Classifier) -> None:
        self.policy = policy
        self.classifier = classifier
        self._patterns = {
            name: [(p, re.compile(p.regex)) for p in policy.category(name).patterns] for name in policy.config.order
        }
        self._rules = {
            name: [(p, re.compile(p.regex)) for p in policy.category(name).response_rules]
            for name in policy.config.order
        }
        self._allow = [(p, re.compile(p.regex)) for p in policy.allowed.patterns]
        self._care = [(p, re.compile(p.regex)) for p in policy.care.patterns]
        self.triage = Triage(policy.triage)
        self.language = LanguageDetection(policy.triage.shared.detect_languages)

    def is_follow_up(self, normalized: str) -> bool:
        """Whether a (normalised) message is short and leans on earlier turns."""
        return word_count(normalized) <= self.policy.config.followup.max_words and bool(_ANAPHORA.search(normalized))

    def check(self, message: str, history: Sequence[str] = ()) -> Verdict:
        """Verdict for message; history holds the previous user turns, oldest first."""
        try:
            verdict = self._check(message, history)
            lang = self.language.detect(message)
            return verdict if lang == "en" else verdict.model_copy(update={"language": lang})
        except Exception:  # fail closed: a broken guard must never let a message through
            log.exception("input guard failed; blocking")
            return GUARD_ERROR

    def _check(self, message: str, history: Sequence[str]) -> Verdict:
        text = normalize(message)
        if not text:
            return ALLOW
        texts = [text]
        turns = self.policy.config.followup.max_turns
        if history and turns and self.is_follow_up(text):
            context = " ".join(normalize(h) for h in list(history)[-turns:])
            texts.append(f"{context} {text}".strip())
        # Red-flag triage (guardrails/triage/) runs before the classifier: a hit always escalates, and
        # a medical emergency needs nothing else. A mental-health crisis joins the ordered decision so
        # an emergency pattern still outranks it.
        red = self.triage.check(texts)
        if red is not None and red.category == "emergency":
            return Verdict(action="escalate", category="emergency", response_key=red.response_key,
                           reason=red.reason, score=1.0)
        hits = [h for t in texts for h in self._pattern_hits(t)]
        folded = fold_accents(text)  # patterns are written without accents (Spanish and French)
        allowing = next((p for p, rx in self._allow if rx.search(folded)), None)
        allow = allowing.name if allowing else None
        if allowing is not None and allowing.overrides:  # a record look-up, not a diagnosis/dose question
            hits = [h for h in hits if h.category not in allowing.overrides]
        if red is not None:
            hits.insert(0, _Hit(category="self_harm", reason=red.reason, score=1.0, response_key=red.response_key))
        # Care is read from this message alone: "should I worry?" after a red flag is still that red flag.
        care = _Care(pattern=next((p.name for p, rx in self._care if rx.search(folded)), None))
        if allow is None:
            raised: dict[CategoryName, float] = self.policy.config.case_note_thresholds if self._case_note(text) else {}
            for i, (t, (scores, support)) in enumerate(zip(texts, self.classifier.analyse(texts), strict=True)):
                hits += self._classifier_hits(t, scores, support, raised)
                if i == 0:
                    care = care.model_copy(update={"score": scores.get(CARE, 0.0)})
        hits = self._yield_to_care(self._demote_weak_escalations(hits), care)
        if not hits:
            if self._care_fires(care):
                why = f"pattern:{care.pattern}" if care.pattern else f"classifier:{care.score:.2f}"
                return Verdict(action="answer_with_care", category="allowed", response_key=None,
                               reason=f"care:{why}", score=round(care.score, 4))
            return ALLOW.model_copy(update={"reason": f"allow_pattern:{allow}"}) if allow else ALLOW
        # Ordered decision: emergency > self_harm > treatment > diagnosis > other_harm.
        rank = {name: i for i, name in enumerate(self.policy.config.order)}
        best = min(hits, key=lambda h: (rank[h.category], -h.score))
        action: Literal["redirect", "escalate"] = self.policy.category(best.category).action
        return Verdict(action=action, category=best.category, reason=best.reason, score=round(best.score, 4),
                       response_key=best.response_key or self._response_key(best.category, texts))

    def _demote_weak_escalations(self, hits: list[_Hit]) -> list[_Hit]:
        """Drop classifier-only hits that yield to another category's pattern (policy yield_to_patterns),
        and any below its strict threshold when a lower-ranked category is clearly the better reading
        (it fired by pattern, or its classifier score is higher)."""
        strict = self.policy.config.strict_thresholds
        patterned_cats = {h.category for h in hits if h.reason.startswith("pattern:")}
        hits = [h for h in hits if not (h.reason.startswith("classifier:") and patterned_cats.intersection(
            self.policy.config.yield_to_patterns.get(h.category, ())))]
        if not strict:
            return hits
        rank = {name: i for i, name in enumerate(self.policy.config.order)}
        kept: list[_Hit] = []
        for h in hits:
            limit = strict.get(h.category)
            weak = limit is not None and h.reason.startswith("classifier:") and h.score < limit
            patterned = any(p.category == h.category and p.reason.startswith("pattern:") for p in hits)
            rival = any(
                rank[o.category] > rank[h.category] and (o.reason.startswith("pattern:") or o.score > h.score)
                for o in hits
                if o.category != h.category
            )
            if weak and not patterned and rival:
                continue
            kept.append(h)
        return kept

    def _care_fires(self, care: _Care) -> bool:
        return care.pattern is not None or care.score >= self.policy.care.threshold

    def _yield_to_care(self, hits: list[_Hit], care: _Care) -> list[_Hit]:
        """Drop classifier-only hits that a worried, red-flag-free question explains better.

        A hit yields only when its category is listed in care.yield_below, it scored below that bar, no
        pattern of its category fired, care fires, and the care class scored higher than the hit. A care
        phrase alone never overrides a hit: "is it normal to double my insulin?" stays a treatment
        question. The exception is care.pattern_yield (diagnosis): a worry phrase is enough there, since
        "should I worry that...?" asks whether to worry, not to name a condition. Everything else stands."""
        if not self._care_fires(care):
            return hits
        limits, by_phrase = self.policy.care.yield_below, set(self.policy.care.pattern_yield)
        patterned = {h.category for h in hits if h.reason.startswith("pattern:")}
        return [h for h in hits
                if not (h.category in limits and h.category not in patterned and h.score < limits[h.category]
                        and (care.score > h.score or (care.pattern is not None and h.category in by_phrase)))]

    def _pattern_hits(self, text: str) -> list[_Hit]:
        return [
            _Hit(category=name, reason=f"pattern:{p.name}", score=1.0, response_key=p.response_key)
            for name, pats in self._patterns.items()
            for p, rx in pats
            if rx.search(fold_accents(text))
        ]

    def _case_note(self, text: str) -> bool:
        """Whether the message reads as a clinician's case description (policy case_note_thresholds)."""
        return bool(self.policy.config.case_note_thresholds) and self.triage.voice(fold(text)) == "clinician"

    def _classifier_hits(self, text: str, scores: dict[str, float], support: dict[str, float],
                         raised: Mapping[CategoryName, float] | None = None) -> list[_Hit]:
        thresholds: dict[CategoryName, float] = {**self.policy.config.thresholds, **(raised or {})}
        needs = self.policy.config.min_support
        margins = self.policy.config.support_margin
        benign = max(support.get("allowed", 0.0), support.get(CARE, 0.0))
        return [
            _Hit(category=name, reason=f"classifier:{scores[name]:.2f}", score=scores[name])
            for name in self.policy.config.order
            if scores.get(name, 0.0) >= thresholds[name] and support.get(name, 1.0) >= needs.get(name, 0.0)
            and (name not in margins or support.get(name, 1.0) >= benign + margins[name])
        ]

    def _response_key(self, name: CategoryName, texts: list[str]) -> str:
        for p, rx in self._rules[name]:
            if p.response_key and any(rx.search(t) for t in texts):
                return p.response_key
        return self.policy.category(name).response_key
