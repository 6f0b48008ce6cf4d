"""Guardrails: the one object the coach holds — input guard, output guard, redirect and care texts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from healthcoach.errors import ConfigError
from healthcoach.guardrails.care_texts import CareTexts, load_care_texts
from healthcoach.guardrails.classifier import Classifier, Encoder
from healthcoach.guardrails.input import InputGuard, Verdict
from healthcoach.guardrails.output import OutputCheck, OutputGuard
from healthcoach.guardrails.output_meaning import MeaningCheck
from healthcoach.guardrails.policy import Policy, Region, load_policy
from healthcoach.guardrails.record_text import packaged_record_text
from healthcoach.guardrails.spelling import packaged_spelling

log = logging.getLogger(__name__)


class Guardrails:
    """Screens user messages and composed replies against the policy in guardrails/."""

    def __init__(self, policy: Policy, classifier: Classifier, region: str, care_texts: CareTexts) -> None:
        if region not in policy.config.regions:
            raise ConfigError(f"policy.yaml: invalid field 'regions': unknown region {region!r}")
        self.policy = policy
        # answer_with_care texts, with this region's numbers filled in.
        self.care_texts = care_texts.filled(policy.config.regions[region])
        self.classifier = classifier
        self.region = region
        self.input_guard = InputGuard(policy, classifier)
        self._texts = {key: self._fill(text, policy.config.regions[region]) for key, text in policy.responses.items()}
        all_regions = [self._fill(t, r) for t in policy.responses.values() for r in policy.config.regions.values()]
        self.output_guard = OutputGuard(policy.output, all_regions)
        # The meaning check reads answers with the input guard's public detection (patterns + classifier).
        self.meaning = MeaningCheck(lambda text: self.check_input(text), packaged_record_text(),
                                    tuple(all_regions))

    @classmethod
    def load(cls, policy_dir: Path, embedder: Encoder, cache_dir: Path | None = None,
             region: str = "US") -> Guardrails:
        """Validate the policy folder and build the guards (ConfigError if the policy is broken).

        The classifier is trained on the policy examples, or read from cache_dir when a
        previous load cached weights for byte-identical policy files.
        """
        policy = load_policy(Path(policy_dir))
        care_texts = load_care_texts(Path(policy_dir), policy.output)
        packaged_spelling()  # validates spelling.yaml now: a broken vocabulary stops startup
        packaged_record_text()  # and record_text.yaml (patterns proven by their examples)
        model_id = str(getattr(embedder, "model_path", type(embedder).__name__))
        classifier = Classifier.build(policy, embedder, cache_dir, model_id)
        return cls(policy, classifier, region, care_texts)

    def check_input(self, message: str, history: Sequence[str] = ()) -> Verdict:
        """Verdict for a user message; history is the previous USER turns only, oldest first."""
        return self.input_guard.check(message, history)

    def response_text(self, verdict: Verdict) -> str:
        """The redirect text for a verdict in the configured region ('' when it is answered)."""
        if not verdict.blocked:
            return ""
        key = verdict.response_key or verdict.category
        text = self._texts.get(key, self._texts["guard_error"])
        notice = self.notice_text(verdict)
        return f"{notice}\n\n{text}" if notice else text

    def notice_text(self, verdict: Verdict) -> str:
        """For a non-English message: the emergency numbers, then a line in its language saying the
        coach answers in English ('' for English). Shown first, whatever the verdict."""
        if verdict.language == "en":
            return ""
        return self._texts.get(f"language_{verdict.language}", "")

    def check_output(self, text: str, evidence: str, allowed_numbers: Iterable[str] = ()) -> OutputCheck:
        """Check a reply: no diagnostic claims or dose directives, every number/date in evidence."""
        return self.output_guard.check(text, evidence, allowed_numbers)

    def check_meaning(self, text: str, quotable: str = "", vetted: str = "") -> OutputCheck:
        """Check the meaning of a reply (LLM or template): no sentence in the coach's own words may tell the
        person to start, stop or change a treatment or dose, nor repeat instruction-like record text.
        quotable: the records' own words (marked quotes of them are skipped); vetted: fixed text quoted."""
        return self.meaning.check(text, quotable, vetted)

    @staticmethod
    def _fill(text: str, region: Region) -> str:
        return text.format(**region.model_dump())
