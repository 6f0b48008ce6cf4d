"""The medicine vocabulary (package data, drugs.yaml): generic-drug stems and common names, validated at
load. The grounding check uses it to spot a medicine in LLM text that the evidence does not contain."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from healthcoach.errors import ConfigError
from healthcoach.knowledge._yaml import packaged, read_mapping, reason

_WORD = re.compile(r"[a-z]+")


class DrugVocabulary(BaseModel):
    """Generic-drug stems ("pril", "statin") and names the stems miss ("aspirin", "ozempic")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    stems: tuple[str, ...] = Field(min_length=1)
    names: tuple[str, ...] = Field(min_length=1)

    @field_validator("stems", "names")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [w for w in v if not _WORD.fullmatch(w)]
        if bad:
            raise ValueError(f"entries must be lowercase letters only: {bad[:5]}")
        dupes = sorted({w for w in v if v.count(w) > 1})
        if dupes:
            raise ValueError(f"duplicate entries {dupes}")
        return v

    def stem_pattern(self) -> re.Pattern[str]:
        """A word ending in a stem, with at least two letters before it ("lisinopril", not "April")."""
        return re.compile(r"\b[a-z]{2,}(?:" + "|".join(self.stems) + r")\b", re.I)


def load_drugs(path: Path | None = None) -> DrugVocabulary:
    """Load and validate a medicine vocabulary (default: the packaged drugs.yaml)."""
    path = path or packaged("drugs.yaml")
    data = read_mapping(path, {"stems", "names"})
    try:
        return DrugVocabulary.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{path}: {reason(e)}") from e


@cache
def packaged_drugs() -> tuple[frozenset[str], re.Pattern[str]]:
    """The packaged vocabulary as (names, stem pattern), loaded once on first use."""
    vocab = load_drugs()
    return frozenset(vocab.names), vocab.stem_pattern()
