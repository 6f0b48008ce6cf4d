"""Instruction-like record text: prompt injections and change-your-treatment directives inside records.

Record text is data. The patterns (package data, record_text.yaml) find text that talks to the coach
("ignore previous instructions", "the assistant must ...") or tells the reader to change a treatment
("double your insulin", "leave out the metformin"). Such text is counted at ingest and only ever shown as
a marked quote of the record; see quote_record() and compose/. Validated at load: a broken file (or an
example that its patterns get wrong) stops startup with a ConfigError.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthcoach.errors import ConfigError
from healthcoach.guardrails.spelling import _UniqueKeyLoader

_SPACE = re.compile(r"\s+")
# The one way the coach quotes record text it does not vouch for. The output guard's meaning check
# skips exactly these spans when their content is the record's own text (guardrails/output_meaning.py).
QUOTE_LEAD = "the record's note says:"
MAX_QUOTE = 300


class NamedPattern(BaseModel):
    """A case-insensitive regular expression with a name (reported, never the matched text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from e
        return v


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    flag: tuple[str, ...] = Field(min_length=1)
    keep: tuple[str, ...] = Field(min_length=1)


class RecordTextPolicy(BaseModel):
    """Patterns for instruction-like record text, with examples that prove them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    injection: tuple[NamedPattern, ...] = Field(min_length=1)
    directive: tuple[NamedPattern, ...] = Field(min_length=1)
    examples: Examples

    @cached_property
    def compiled(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """Every pattern, compiled (injection first)."""
        return tuple((f"{kind}:{p.name}", re.compile(p.regex, re.I | re.M))
                     for kind, pats in (("injection", self.injection), ("directive", self.directive))
                     for p in pats)

    def matches(self, text: str) -> list[str]:
        """Names of the patterns that match text ('injection:ignore_instructions', ...)."""
        flat = _SPACE.sub(" ", text)
        return [name for name, rx in self.compiled if rx.search(flat)]

    @model_validator(mode="after")
    def _examples_hold(self) -> RecordTextPolicy:
        missed = [t for t in self.examples.flag if not self.matches(t)]
        wrong = [t for t in self.examples.keep if self.matches(t)]
        if missed or wrong:
            raise ValueError(f"examples not matched as stated: flag missed {missed[:3]}, "
                             f"keep matched {wrong[:3]}")
        return self


def packaged_path() -> Path:
    """The record_text.yaml shipped in the healthcoach.guardrails package."""
    return Path(str(resources.files("healthcoach.guardrails").joinpath("record_text.yaml")))


def load_record_text(path: Path | None = None) -> RecordTextPolicy:
    """Read and validate the patterns (default: the packaged record_text.yaml)."""
    path = path or packaged_path()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML: {e}") from e
    try:
        return RecordTextPolicy.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path.name}: invalid field {field!r}: {first['msg']} ({path})") from e


@cache
def packaged_record_text() -> RecordTextPolicy:
    """The packaged patterns, read once (on first use, or at startup through Guardrails.load)."""
    return load_record_text()


def instruction_like(text: str | None) -> bool:
    """Whether record text reads like an instruction to the coach or to change a treatment."""
    return bool(text) and bool(packaged_record_text().matches(text or ""))


def quote_record(text: str, limit: int = MAX_QUOTE) -> str:
    """Record text as a marked quote: 'the record's note says: "..."' (one line, no inner double quotes,
    cut at limit), so it is never read as the coach's own words."""
    flat = _SPACE.sub(" ", text).strip().replace('"', "'")
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f'{QUOTE_LEAD} "{flat}"'
