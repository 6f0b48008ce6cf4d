"""The query vocabulary (query_words.yaml): words → operations, units, visit kinds, statuses and fields.

Package data validated at load like the concept catalog: a broken file stops startup with a
ConfigError naming the file and the entry. Matching runs over `normalize_text` output, whole words,
longest phrase first, so "most recent" is never read as "most".
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthcoach.errors import ConfigError
from healthcoach.knowledge._validate import normalize_text, phrase_regex, validate_phrases
from healthcoach.knowledge._yaml import packaged, read_mapping, reason
from healthcoach.knowledge.catalog import Catalog
from healthcoach.records.units import UNIT_IDS

_MODEL = ConfigDict(extra="forbid", frozen=True)


class Operation(StrEnum):
    """What to compute over the matching records."""

    latest = "latest"
    first = "first"
    min = "min"
    max = "max"
    count = "count"  # type: ignore[assignment]  # the operation's name; it shadows str.count on purpose
    mean = "mean"
    list = "list"
    change = "change"
    trend = "trend"
    nth_previous = "nth_previous"
    compare = "compare"
    exists = "exists"


def _norm(phrase: str) -> str:
    return " ".join(normalize_text(phrase).split())


class UnitWords(BaseModel):
    """An output unit and the words that ask for it."""

    model_config = _MODEL
    id: str
    quantity: Literal["mass", "length", "temperature", "glucose"]
    phrases: tuple[str, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in UNIT_IDS:
            raise ValueError(f"unit {v!r} has no conversion (known: {', '.join(UNIT_IDS)})")
        return v

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_phrases(v, "phrase")


class EncounterClass(BaseModel):
    """A kind of visit: the words for it and how a visit record is recognised as one."""

    model_config = _MODEL
    id: str = Field(pattern=r"^[a-z]+$")
    name: str = Field(min_length=1)
    phrases: tuple[str, ...] = Field(min_length=1)
    class_codes: tuple[str, ...] = ()
    type_words: tuple[str, ...] = ()

    @field_validator("phrases", "type_words")
    @classmethod
    def _phrases(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_phrases(v, "phrase")

    def matches(self, class_code: str | None, label: str) -> bool:
        """Whether a visit with this class code and type label is of this kind."""
        if class_code and class_code.lower() in {c.lower() for c in self.class_codes}:
            return True
        low = _norm(label)
        return any(re.search(rf"\b{re.escape(_norm(w))}\b", low) for w in self.type_words)


class VocabularyFile(BaseModel):
    """query_words.yaml as written."""

    model_config = _MODEL
    version: int
    precedence: tuple[Operation, ...]
    operations: dict[Operation, tuple[str, ...]]
    higher_is_better: tuple[str, ...] = ()
    judgement_words: tuple[str, ...] = ()
    units: tuple[UnitWords, ...]
    encounter_classes: tuple[EncounterClass, ...]
    visit_words: tuple[str, ...]
    fields: dict[Literal["clinician"], tuple[str, ...]]
    statuses: dict[Literal["active", "resolved"], tuple[str, ...]]
    label_terms: dict[str, tuple[str, ...]]
    social_findings: tuple[str, ...]
    typos: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> VocabularyFile:
        if sorted(self.precedence) != sorted(Operation) or len(set(self.precedence)) != len(self.precedence):
            raise ValueError(f"precedence must list each operation once: {', '.join(Operation)}")
        missing = [op.value for op in Operation if not self.operations.get(op)]
        if missing:
            raise ValueError(f"operations without phrases: {', '.join(missing)}")
        owner: dict[str, Operation] = {}
        for op, phrases in self.operations.items():
            validate_phrases(phrases, f"{op.value} phrase")
            for p in phrases:
                if owner.setdefault(_norm(p), op) != op:
                    raise ValueError(f"phrase {p!r} belongs to both {owner[_norm(p)].value} and {op.value}")
        for group in (self.visit_words, self.social_findings, self.judgement_words, *self.fields.values(),
                      *self.statuses.values(), *self.label_terms.values()):
            validate_phrases(group, "phrase")
        for wrong, right in self.typos.items():
            if not re.fullmatch(r"[a-z]+", wrong) or not re.fullmatch(r"[a-z]+", right):
                raise ValueError(f"typo {wrong!r} → {right!r}: both must be one lowercase word")
        return self


class Vocabulary:
    """Compiled matchers over a validated vocabulary file."""

    def __init__(self, data: VocabularyFile) -> None:
        self.data = data
        self._op_phrase: dict[str, Operation] = {_norm(p): op for op, ps in data.operations.items() for p in ps}
        self._op_rx = phrase_regex(self._op_phrase)
        self._unit_phrase = {_norm(p): u.id for u in data.units for p in u.phrases}
        self._unit_rx = phrase_regex(self._unit_phrase)
        self._phrase_cache: dict[tuple[str, ...], re.Pattern[str]] = {}
        self._rank = {op: i for i, op in enumerate(data.precedence)}
        self._typo_rx = re.compile(r"\b(" + "|".join(map(re.escape, sorted(data.typos, key=len, reverse=True)))
                                   + r")\b") if data.typos else None

    # text ------------------------------------------------------------------------------------
    def fix_typos(self, text: str) -> str:
        """Normalised text with known misspellings replaced ('hieghest' → 'highest')."""
        low = " ".join(normalize_text(text).split())
        return self._typo_rx.sub(lambda m: self.data.typos[m.group(1)], low) if self._typo_rx else low

    @staticmethod
    def _found(rx: re.Pattern[str], text: str) -> list[str]:
        return [" ".join(m.group("p").split()) for m in rx.finditer(text)]

    def operations(self, text: str) -> list[tuple[Operation, str]]:
        """(operation, phrase) for every operation phrase in normalised text, by precedence."""
        hits = [(self._op_phrase[p], p) for p in self._found(self._op_rx, text)]
        return sorted(hits, key=lambda h: self._rank[h[0]])

    def unit(self, text: str) -> tuple[str, str] | None:
        """(unit id, phrase) asked for in normalised text, or None."""
        found = self._found(self._unit_rx, text)
        return (self._unit_phrase[found[0]], found[0]) if found else None

    def unit_quantity(self, unit_id: str) -> str:
        return next(u.quantity for u in self.data.units if u.id == unit_id)

    def encounter_classes(self, text: str) -> tuple[str, ...]:
        """Visit kinds named in normalised text ('hospital' → emergency and inpatient)."""
        out = [c.id for c in self.data.encounter_classes if self._any(c.phrases, text)]
        return tuple(dict.fromkeys(out))

    def encounter_class(self, class_id: str) -> EncounterClass:
        return next(c for c in self.data.encounter_classes if c.id == class_id)

    def mentions_visit(self, text: str) -> bool:
        """Whether normalised text talks about visits at all (a kind, or 'doctor', 'appointment')."""
        return bool(self.encounter_classes(text)) or self._any(self.data.visit_words, text)

    def field(self, text: str) -> str | None:
        return next((f for f, ps in self.data.fields.items() if self._any(ps, text)), None)

    def status(self, text: str) -> str | None:
        return next((s for s, ps in self.data.statuses.items() if self._any(ps, text)), None)

    def is_judgement(self, phrase: str) -> bool:
        return phrase in self.data.judgement_words

    def label_terms(self, concept_id: str) -> tuple[str, ...]:
        return self.data.label_terms.get(concept_id, ())

    def is_social_finding(self, label: str) -> bool:
        """Whether a condition label is a social finding (work, school, housing, safety)."""
        low = _norm(label)
        return "disorder" not in low.split() and self._any(self.data.social_findings, low)

    def _any(self, phrases: tuple[str, ...], text: str) -> bool:
        rx = self._phrase_cache.get(phrases)
        if rx is None:
            rx = self._phrase_cache.setdefault(phrases, phrase_regex({_norm(p): None for p in phrases}))
        return rx.search(text) is not None


def load_vocabulary(path: Path | None = None, catalog: Catalog | None = None) -> Vocabulary:
    """Load and validate the query vocabulary (default: the packaged query_words.yaml).

    With a catalog, every concept id it names (higher_is_better, label_terms) must exist."""
    path = path or packaged("query_words.yaml")
    keys = set(VocabularyFile.model_fields) - {"version"}
    try:
        data = VocabularyFile.model_validate(read_mapping(path, keys))
    except ValidationError as e:
        raise ConfigError(f"{path}: {reason(e)}") from e
    if catalog is not None:
        for cid in (*data.higher_is_better, *data.label_terms):
            if cid not in catalog:
                raise ConfigError(f"{path}: concept '{cid}' is not in the catalog")
    return Vocabulary(data)
