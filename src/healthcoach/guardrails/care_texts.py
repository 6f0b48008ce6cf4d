"""The texts of an answer_with_care reply (guardrails/care_texts.yaml), validated at load.

A worried health question with no red flag is answered calmly: general facts for its topic, the
signs that mean it is time to seek care, and what the person's own records say. These texts are
policy, so they are data: each topic has a match regex, facts, seek-care signs and the public
consumer sources they come from. Load fails with a ConfigError naming the field when a text would
trip the output guard (a diagnostic claim or a dose directive) or uses an unknown placeholder.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthcoach.errors import ConfigError
from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.policy import PLACEHOLDERS, OutputPolicy, Region

FILE = "care_texts.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CareTopic(_Strict):
    """One worry topic: how to recognise it, general facts, and when to seek care."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    match: str | None = Field(None, description="Regex over the normalised message; none = the fallback.")
    facts: str = Field(min_length=1)
    seek_care: list[str] = Field(min_length=2)
    sources: list[str] = Field(min_length=1)

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from exc
        return v

    @field_validator("sources")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not u.startswith("https://")]
        if bad:
            raise ValueError(f"sources must be https URLs of public consumer pages: {bad}")
        return v


class CareTexts(_Strict):
    """care_texts.yaml: the framing of a care reply and its topics (the last one is the fallback)."""

    opening: str = Field(min_length=1)
    records_heading: str = Field(min_length=1)
    seek_care_heading: str = Field(min_length=1)
    closing: str = Field(min_length=1)
    topics: list[CareTopic] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_fallback_last(self) -> CareTexts:
        names = [t.name for t in self.topics]
        if len(set(names)) != len(names):
            raise ValueError("topic names must be unique")
        if self.topics[-1].match is not None or any(t.match is None for t in self.topics[:-1]):
            raise ValueError("exactly one topic, the last, has no 'match' (the general fallback)")
        return self

    def texts(self) -> list[tuple[str, str]]:
        """(field path, text) for every user-facing text, for validation."""
        out = [("opening", self.opening), ("records_heading", self.records_heading),
               ("seek_care_heading", self.seek_care_heading), ("closing", self.closing)]
        for i, t in enumerate(self.topics):
            out.append((f"topics.{i}.facts", t.facts))
            out += [(f"topics.{i}.seek_care.{j}", s) for j, s in enumerate(t.seek_care)]
        return out

    def topic_for(self, message: str) -> CareTopic:
        """The first topic whose regex matches the normalised message (else the fallback)."""
        text = normalize(message)
        return next((t for t in self.topics if t.match and re.search(t.match, text)), self.topics[-1])

    def filled(self, region: Region) -> CareTexts:
        """These texts with the region's numbers filled in."""
        values = region.model_dump()
        return CareTexts.model_validate({
            **self.model_dump(exclude={"topics"}),
            "opening": self.opening.format(**values), "closing": self.closing.format(**values),
            "topics": [{**t.model_dump(), "facts": t.facts.format(**values),
                        "seek_care": [s.format(**values) for s in t.seek_care]} for t in self.topics],
        })


def load_care_texts(policy_dir: Path, output: OutputPolicy) -> CareTexts:
    """Read and validate care_texts.yaml; raise ConfigError naming the field on any problem."""
    path = Path(policy_dir) / FILE
    if not path.is_file():
        raise ConfigError(f"guardrails policy file missing: {path}")
    try:
        care = CareTexts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{FILE}: invalid field {field!r}: {first['msg']} ({path})") from exc
    checks = [(p.name, re.compile(p.regex, re.I)) for p in [*output.diagnostic_claim, *output.dose_directive]]
    for where, text in care.texts():
        unknown = {f for _, f, _, _ in string.Formatter().parse(text) if f} - PLACEHOLDERS
        if unknown:
            raise ConfigError(f"{FILE}: invalid field {where!r}: unknown placeholder {sorted(unknown)}")
        flagged = next((name for name, rx in checks if rx.search(text)), None)
        if flagged:
            raise ConfigError(f"{FILE}: invalid field {where!r}: the output guard flags it ({flagged}); "
                              "care texts never diagnose or direct a dose")
    return care
