"""The input guard's spelling and slang vocabulary (package data, spelling.yaml), validated at load.

A broken file is a ConfigError naming the file and the field; Guardrails.load reads it at startup, so
a broken vocabulary stops startup instead of silently weakening the guard."""

from __future__ import annotations

import hashlib
import re
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from healthcoach.datafile import read_model

_WORD = re.compile(r"[a-z]+")


class Phrase(BaseModel):
    """A multi-word expansion: a regular expression and its replacement."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pattern: str = Field(min_length=1)
    replace: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from e
        return v


class Spelling(BaseModel):
    """Slang and typo expansions, and the safety words one-edit typos are corrected to."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    slang: dict[str, str] = Field(min_length=1)
    phrases: tuple[Phrase, ...] = ()
    vocab: tuple[str, ...] = Field(min_length=1)
    real_words: tuple[str, ...] = ()

    @field_validator("slang")
    @classmethod
    def _lowercase_keys(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k, rep in v.items() if not k.strip() or k != k.lower() or k != k.strip() or not rep.strip()]
        if bad:
            raise ValueError(f"keys must be lowercase words and replacements non-empty: {bad[:5]}")
        return v

    @field_validator("vocab", "real_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [w for w in v if not _WORD.fullmatch(w)]
        if bad:
            raise ValueError(f"entries must be lowercase letters only: {bad[:5]}")
        dupes = sorted({w for w in v if v.count(w) > 1})
        if dupes:
            raise ValueError(f"duplicate entries {dupes}")
        return v

    @cached_property
    def slang_pattern(self) -> re.Pattern[str]:
        """Any slang key as a whole word (longest first)."""
        keys = sorted(self.slang, key=len, reverse=True)
        return re.compile(r"(?<![\w'])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w'])")

    @cached_property
    def compiled_phrases(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """The phrase expansions, compiled, in file order."""
        return tuple((re.compile(p.pattern), p.replace) for p in self.phrases)

    @cached_property
    def kept(self) -> frozenset[str]:
        """Words never corrected: the vocabulary itself, common real words and slang keys."""
        return frozenset(self.vocab) | frozenset(self.real_words) | frozenset(self.slang)


def packaged_path() -> Path:
    """The spelling.yaml shipped in the healthcoach.guardrails package."""
    return Path(str(resources.files("healthcoach.guardrails").joinpath("spelling.yaml")))


def load_spelling(path: Path | None = None) -> Spelling:
    """Read and validate a spelling vocabulary (default: the packaged spelling.yaml)."""
    return read_model(path or packaged_path(), Spelling)


@cache
def packaged_spelling() -> Spelling:
    """The packaged vocabulary, read once (on first use, or at startup through Guardrails.load)."""
    return load_spelling()


def spelling_digest() -> str:
    """A hash of the packaged vocabulary file (the classifier trains on normalised text)."""
    return hashlib.sha256(packaged_path().read_bytes()).hexdigest()[:16]
