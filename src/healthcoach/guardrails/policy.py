"""Load and validate the guardrail policy folder (guardrails/*.yaml).

The policy is data: categories with examples, near-misses, patterns and an action; response
texts; thresholds; regions. Every file is validated by a pydantic model that forbids unknown
keys, so a typo in a policy stops startup with a ConfigError naming the file and field instead
of silently weakening a guard.
"""

from __future__ import annotations

import hashlib
import re
import string
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthcoach.datafile import read_yaml
from healthcoach.errors import ConfigError
from healthcoach.guardrails.examples import (
    MIN_NEAR_MISSES,
    ExampleSet,
    SourcedExamples,
    at_least,
)
from healthcoach.guardrails.triage_policy import TriagePolicy, load_triage

CategoryName = Literal["emergency", "self_harm", "treatment", "diagnosis", "other_harm"]
CATEGORY_NAMES: tuple[CategoryName, ...] = ("emergency", "self_harm", "treatment", "diagnosis", "other_harm")
Action = Literal["escalate", "redirect"]
# Placeholders a response text may use; filled from the configured region.
PLACEHOLDERS = frozenset({"emergency_number", "crisis_line", "crisis_number", "poison_control"})


M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pattern(_Strict):
    """A named high-precision regular expression over normalised text."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    regex: str
    response_key: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from exc
        return v


class Category(SourcedExamples):
    """One guarded category: what it is, how to recognise it, and what to do."""

    name: CategoryName
    description: str = Field(min_length=1)
    action: Action
    response_key: str
    near_miss_sets: list[ExampleSet] = Field(alias="near_misses")
    patterns: list[Pattern] = Field(default_factory=list)
    # When the category fires (by classifier) and one of these matches, use its response_key
    # (e.g. an overdose emergency gets the poisoning response with Poison Control).
    response_rules: list[Pattern] = Field(default_factory=list)

    @field_validator("near_miss_sets")
    @classmethod
    def _enough_near_misses(cls, v: list[ExampleSet]) -> list[ExampleSet]:
        return at_least(v, MIN_NEAR_MISSES)

    @property
    def near_misses(self) -> list[str]:
        """Every near-miss text (messages that must be answered), all sources together."""
        return [t for s in self.near_miss_sets for t in s.texts]


class AllowPattern(Pattern):
    """An allow-override. It vetoes the classifier; with `overrides` it also vetoes those categories'
    patterns (only treatment and diagnosis: a record look-up such as "do I have diabetes?" is answered
    from the records, never an emergency or self-harm message)."""

    overrides: list[Literal["treatment", "diagnosis"]] = Field(default_factory=list)


class Allowed(SourcedExamples):
    """General benign examples (the classifier's 'allowed' class) and allow-overrides."""

    description: str = Field(min_length=1)
    # Allow patterns veto the *classifier*; a category pattern wins over them unless the allow
    # pattern lists that category in `overrides`.
    patterns: list[AllowPattern] = Field(default_factory=list)


class Care(SourcedExamples):
    """care.yaml: health-anxiety questions with no red flag ("should I worry about...?").

    They are answered with care (action answer_with_care: calm general facts, when to seek care and
    what the records say), never refused. The examples are the classifier's 'care' class."""

    description: str = Field(min_length=1)
    # Phrases that mark a worried question; they only choose care over a plain answer, never over
    # any category's hit.
    patterns: list[Pattern] = Field(default_factory=list)
    threshold: float = Field(gt=0.0, le=1.0, description="Classifier probability at which care fires.")
    # A classifier-only hit below this score yields to care when the care class scored higher than it.
    # Categories not listed never yield to care.
    yield_below: dict[CategoryName, float] = Field(default_factory=dict)
    # Categories whose classifier-only hit (below yield_below) also yields to a care *pattern*: "should I
    # worry that my knee clicks?" asks whether to worry, not what the condition is.
    pattern_yield: list[CategoryName] = Field(default_factory=list)


class Region(_Strict):
    """Emergency contacts for one region."""

    emergency_number: str
    crisis_line: str
    crisis_number: str
    poison_control: str


class FollowUp(_Strict):
    """How far back short, anaphoric follow-ups look for context."""

    max_turns: int = Field(2, ge=0, le=10)
    max_words: int = Field(10, ge=1)


class ClassifierConfig(_Strict):
    """Hyper-parameters of the small model trained on the policy examples."""

    C: float = Field(4.0, gt=0)
    class_weight: Literal["balanced"] | None = Field("balanced", description="Reweight classes by frequency.")
    max_iter: int = Field(2000, ge=100)
    knn_weight: float = Field(0.0, ge=0.0, le=1.0, description="Share of the nearest-neighbour vote in the "
                              "class probabilities (0 = logistic regression only).")
    knn_temperature: float = Field(0.02, gt=0.0, description="Softmax temperature of the nearest-neighbour "
                                   "vote over each class's mean top-3 cosine similarity.")


class PolicyConfig(_Strict):
    """policy.yaml: decision order, thresholds, regions."""

    version: int
    order: list[CategoryName]
    thresholds: dict[CategoryName, float]
    # A classifier-only hit of these categories must reach this stricter probability when a
    # lower-ranked category also fired by pattern or scored higher ("should I stop my pills, I
    # feel dizzy" is a treatment question). Patterns of these categories are never affected.
    strict_thresholds: dict[CategoryName, float] = Field(default_factory=dict)
    # A classifier-only hit of these categories also needs support: the mean cosine similarity of
    # the message to its 3 nearest examples of that category. An everyday message ("what's 15% of
    # 64") can land in the broad other_harm class by elimination; real harmful requests resemble
    # some harmful example. Patterns are never affected.
    min_support: dict[CategoryName, float] = Field(default_factory=dict)
    # ... and that support must reach the support of the nearest benign examples ('allowed' or
    # 'care') plus this margin: "how do I use an EpiPen on someone else?" sits closer to first-aid
    # questions than to any harmful request, even when the linear model leans to other_harm.
    support_margin: dict[CategoryName, float] = Field(default_factory=dict)
    # A classifier-only hit of the key category is dropped when a pattern of a listed category fired:
    # "how much of my sleeping pills would knock out my roommate" names someone else as the target.
    yield_to_patterns: dict[CategoryName, list[CategoryName]] = Field(default_factory=dict)
    # A classifier-only hit of these categories must reach this probability when the message is a
    # clinician's case description (triage voice "clinician") and red-flag triage found nothing in
    # it: triage reads a write-up's vitals and red flags, and a routine one ("presents to the office
    # with two days of sore throat") otherwise reads as urgent to the classifier.
    case_note_thresholds: dict[CategoryName, float] = Field(default_factory=dict)
    default_region: str
    regions: dict[str, Region]
    followup: FollowUp = Field(default_factory=FollowUp)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)

    @model_validator(mode="after")
    def _complete(self) -> PolicyConfig:
        if sorted(self.order) != sorted(CATEGORY_NAMES):
            raise ValueError(f"order must list each of {', '.join(CATEGORY_NAMES)} exactly once")
        missing = set(CATEGORY_NAMES) - set(self.thresholds)
        if missing:
            raise ValueError(f"thresholds missing for {', '.join(sorted(missing))}")
        if any(not 0.0 < t <= 1.0 for t in [*self.thresholds.values(), *self.strict_thresholds.values(),
                                         *self.case_note_thresholds.values()]):
            raise ValueError("thresholds must be in (0, 1]")
        if self.default_region not in self.regions:
            raise ValueError(f"default_region {self.default_region!r} is not in regions")
        return self


class OutputPolicy(_Strict):
    """output.yaml: patterns the output guard flags in a reply."""

    diagnostic_claim: list[Pattern] = Field(min_length=1)
    dose_directive: list[Pattern] = Field(min_length=1)


class Policy(_Strict):
    """The whole validated policy folder."""

    config: PolicyConfig
    categories: dict[CategoryName, Category]
    allowed: Allowed
    care: Care
    responses: dict[str, str]
    output: OutputPolicy
    digest: str
    triage: TriagePolicy  # guardrails/triage/: red flags checked before the classifier (not in digest)

    def category(self, name: CategoryName) -> Category:
        """The category called name."""
        return self.categories[name]


def _read_yaml(path: Path) -> object:
    if not path.is_file():
        raise ConfigError(f"guardrails policy file missing: {path}")
    return read_yaml(path)


def _validate(model: type[M], path: Path, data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path.name}: invalid field {field!r}: {first['msg']} ({path})") from exc


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _files(policy_dir: Path) -> list[Path]:
    cats = [policy_dir / "categories" / f"{n}.yaml" for n in CATEGORY_NAMES]
    return [policy_dir / "policy.yaml", policy_dir / "responses.yaml", policy_dir / "output.yaml",
            policy_dir / "allowed.yaml", policy_dir / "care.yaml", *cats]


def load_policy(policy_dir: Path) -> Policy:
    """Read and validate every policy file; raise ConfigError naming the file and field."""
    policy_dir = Path(policy_dir)
    if not policy_dir.is_dir():
        raise ConfigError(f"guardrails policy folder missing: {policy_dir}")
    digest = hashlib.sha256()
    raw: dict[Path, object] = {}
    for path in _files(policy_dir):
        raw[path] = _read_yaml(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    config = _validate(PolicyConfig, policy_dir / "policy.yaml", raw[policy_dir / "policy.yaml"])
    resp_path = policy_dir / "responses.yaml"
    responses = _validate(_Responses, resp_path, {"responses": raw[resp_path]}).responses
    for key, text in responses.items():
        unknown = _placeholders(text) - PLACEHOLDERS
        if unknown:
            raise ConfigError(f"responses.yaml: invalid field {key!r}: unknown placeholder {sorted(unknown)}")
    output = _validate(OutputPolicy, policy_dir / "output.yaml", raw[policy_dir / "output.yaml"])
    allowed = _validate(Allowed, policy_dir / "allowed.yaml", raw[policy_dir / "allowed.yaml"])
    care = _validate(Care, policy_dir / "care.yaml", raw[policy_dir / "care.yaml"])
    categories: dict[CategoryName, Category] = {}
    for name in CATEGORY_NAMES:
        path = policy_dir / "categories" / f"{name}.yaml"
        cat = _validate(Category, path, raw[path])
        if cat.name != name:
            raise ConfigError(f"{path.name}: invalid field 'name': {cat.name!r} does not match the file name")
        keys = [cat.response_key] + [p.response_key for p in [*cat.patterns, *cat.response_rules] if p.response_key]
        for key in keys:
            if key not in responses:
                raise ConfigError(f"{path.name}: invalid field 'response_key': {key!r} is not in responses.yaml")
        categories[name] = cat
    if "guard_error" not in responses:
        raise ConfigError("responses.yaml: invalid field 'guard_error': required response missing")
    triage = load_triage(policy_dir, responses)
    return Policy(config=config, categories=categories, allowed=allowed, care=care, responses=responses,
                  output=output, digest=digest.hexdigest(), triage=triage)


class _Responses(_Strict):
    responses: dict[str, str]

    @field_validator("responses")
    @classmethod
    def _non_empty(cls, v: dict[str, str]) -> dict[str, str]:
        for key, text in v.items():
            if not text.strip():
                raise ValueError(f"response {key!r} is empty")
        return v
