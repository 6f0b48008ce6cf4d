"""The concept catalog and wellness topics: package data (YAML) validated at load.

A concept ties what people say ("sugar test", "flu jab") to the codes records carry
("LOINC:4548-4", "CVX:140") and to a plain-language explanation. The planner resolves concepts
with `Catalog.find`; the retriever looks records up by `Catalog.codes_for`; the composer explains
with `Concept.explanation`. A broken file stops startup with a ConfigError naming the file and
the concept, never a half-loaded catalog.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from healthcoach.errors import ConfigError
from healthcoach.knowledge._validate import check_code, normalize_text, phrase_regex, validate_phrases
from healthcoach.knowledge._yaml import packaged, parse_items, read_items
from healthcoach.records.models import Category

_MODEL = ConfigDict(extra="forbid", frozen=True)
_ID = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


class ConceptComponent(BaseModel):
    """A named part of a concept's value, such as systolic within blood pressure."""

    model_config = _MODEL
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    codes: tuple[str, ...] = ()
    unit: str | None = None

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_code(c) for c in v)


class Concept(BaseModel):
    """One thing a person can ask about: a lab, vital, vaccine, screening score or condition."""

    model_config = _MODEL
    id: str = Field(pattern=_ID, description="snake_case identifier used by the planner and evals.")
    name: str = Field(min_length=1, description="Display name: 'Hemoglobin A1c'.")
    category: Category = Field(description="Record category the concept's records live in.")
    synonyms: tuple[str, ...] = Field(min_length=1, description="Lowercase names and lay words people use.")
    codes: tuple[str, ...] = Field((), description="'SYSTEM:code' keys that identify its records.")
    unit: str | None = Field(None, description="Typical UCUM unit.")
    explanation: str = Field(min_length=1, description="Plain-language explanation (2-4 sentences).")
    related: tuple[str, ...] = Field((), description="Ids of concepts usually read together with this one.")
    components: tuple[ConceptComponent, ...] = ()

    @field_validator("synonyms")
    @classmethod
    def _synonyms(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_phrases(v, "synonym")

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_code(c) for c in v)

    @model_validator(mode="after")
    def _consistent(self) -> Concept:
        if self.id in self.related:
            raise ValueError("related: a concept cannot be related to itself")
        if self.category is Category.lab and "reference range" not in self.explanation.lower():
            # Every lab explanation must say ranges are lab-specific: the coach never judges a value.
            raise ValueError(
                "explanation: a lab explanation must mention that labs set their own reference range"
            )
        if not self.codes and not any(c.codes for c in self.components):
            raise ValueError("codes: a concept needs at least one code")
        return self

    @cached_property
    def code_keys(self) -> frozenset[str]:
        """Every code key that identifies this concept's records, components included.

        CVX codes below 10 are indexed both as published ("CVX:08") and without the leading zero
        ("CVX:8"), since exports write them both ways.
        """
        keys: set[str] = set(self.codes)
        for comp in self.components:
            keys.update(comp.codes)
        for key in list(keys):
            system, code = key.split(":", 1)
            if system == "CVX":
                keys.add(f"CVX:{code.lstrip('0') or '0'}")
        return frozenset(keys)

    @property
    def search_phrases(self) -> tuple[str, ...]:
        """Synonyms plus the lowercased display name (the name is always searchable)."""
        name = self.name.lower()
        return self.synonyms if name in self.synonyms else (*self.synonyms, name)


class Mention(NamedTuple):
    """A concept found in text: the concept, the catalog synonym matched, and its span."""

    concept: Concept
    synonym: str
    start: int
    end: int


class Catalog:
    """All concepts, with one precompiled matcher for free text and an index by code."""

    def __init__(self, concepts: Iterable[Concept], *, source: str = "<catalog>") -> None:
        """Index concepts; raise ConfigError on duplicate ids, shared synonyms or codes, unknown related ids."""
        self.source = source
        self.concepts: dict[str, Concept] = {}
        self._by_phrase: dict[str, tuple[Concept, str]] = {}
        self._by_code: dict[str, Concept] = {}
        for c in concepts:
            if c.id in self.concepts:
                raise ConfigError(f"{source}: concept '{c.id}': duplicate concept id")
            self.concepts[c.id] = c
            for phrase in c.search_phrases:
                key = normalize_text(phrase).strip()
                key = " ".join(key.split())
                if not key:
                    raise ConfigError(
                        f"{source}: concept '{c.id}': synonym {phrase!r} has no letters or digits"
                    )
                owner = self._by_phrase.get(key)
                if owner is not None and owner[0].id != c.id:
                    raise ConfigError(
                        f"{source}: concept '{c.id}': synonym {phrase!r} is already claimed by concept "
                        f"'{owner[0].id}' (as {owner[1]!r})"
                    )
                self._by_phrase.setdefault(key, (c, phrase))
            for code in c.code_keys:
                other = self._by_code.get(code)
                if other is not None and other.id != c.id:
                    raise ConfigError(
                        f"{source}: concept '{c.id}': code {code} already belongs to '{other.id}'"
                    )
                self._by_code[code] = c
        for c in self.concepts.values():
            for rel in c.related:
                if rel not in self.concepts:
                    raise ConfigError(f"{source}: concept '{c.id}': related concept '{rel}' does not exist")
        self._pattern = phrase_regex(self._by_phrase)
        # Typo tolerance only for phrases long enough that a near miss is still unambiguous.
        self._fuzzy_keys = sorted(k for k in self._by_phrase if len(k) >= 6)

    def __len__(self) -> int:
        return len(self.concepts)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts.values())

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self.concepts

    def get(self, concept_id: str) -> Concept | None:
        """The concept with this id, or None."""
        return self.concepts.get(concept_id)

    def by_code(self, key: str) -> Concept | None:
        """The concept a code key ('LOINC:4548-4', 'CVX:08', 'cvx:8') belongs to, or None."""
        system, sep, code = key.strip().partition(":")
        if not sep:
            return None
        canonical = {
            "loinc": "LOINC",
            "snomed": "SNOMED",
            "cvx": "CVX",
            "rxnorm": "RxNorm",
            "icd-10": "ICD-10",
        }
        system = canonical.get(system.lower(), system)
        return self._by_code.get(f"{system}:{code.strip()}")

    def codes_for(self, concept_id: str) -> frozenset[str]:
        """Code keys for a concept id (KeyError if the id is unknown: that is a programming error)."""
        return self.concepts[concept_id].code_keys

    def by_category(self, category: Category | str) -> list[Concept]:
        """Concepts of one category, in catalog order."""
        cat = Category(category)
        return [c for c in self.concepts.values() if c.category is cat]

    def mentions(self, text: str) -> list[Mention]:
        """Every concept mention in text, in order of position (longest synonym wins at a position).

        Case-insensitive, whole words only; punctuation counts as a space ("LDL?", "covid-19",
        "a1c's") and a trailing plural "s"/"es" is tolerated ("flu shots").
        """
        folded = normalize_text(text)
        found: list[Mention] = []
        for m in self._pattern.finditer(folded):
            concept, synonym = self._by_phrase[" ".join(m.group("p").split())]
            found.append(Mention(concept, synonym, m.start(), m.end()))
        return found

    def find(self, text: str) -> list[tuple[Concept, str]]:
        """Concepts mentioned in text with the synonym matched, in order of first mention, each once."""
        seen: set[str] = set()
        out: list[tuple[Concept, str]] = []
        for m in self.mentions(text):
            if m.concept.id not in seen:
                seen.add(m.concept.id)
                out.append((m.concept, m.synonym))
        return out

    def find_fuzzy(self, text: str, cutoff: float = 0.86) -> list[tuple[Concept, str]]:
        """Like `find`, falling back to typo-tolerant matching ("cholestrol", "trigylcerides").

        Exact matches win; only when there are none are runs of one to three words compared with
        synonyms of six or more characters (difflib ratio >= cutoff), so short abbreviations never
        match by accident. Deterministic: the same text always gives the same result.
        """
        exact = self.find(text)
        if exact:
            return exact
        words = normalize_text(text).split()
        out: list[tuple[Concept, str]] = []
        seen: set[str] = set()
        i = 0
        while i < len(words):
            step = 1
            for n in (3, 2, 1):
                if i + n > len(words):
                    continue
                cand = " ".join(words[i : i + n])
                if len(cand) < 5:
                    continue
                close = difflib.get_close_matches(cand, self._fuzzy_keys, n=1, cutoff=cutoff)
                if close:
                    concept, synonym = self._by_phrase[close[0]]
                    if concept.id not in seen:
                        seen.add(concept.id)
                        out.append((concept, synonym))
                    step = n
                    break
            i += step
        return out


# ───────────────────────────── Wellness topics ─────────────────────────────

# Tips are general lifestyle advice: any dose or medication directive is a policy error at load.
_FORBIDDEN_TIP = re.compile(
    r"\b(mg|mcg|milligrams?|micrograms?|doses?|dosage|dosing|take|takes|taking|took|pills?|tablets?|"
    r"capsules?|medications?|medicines?|prescriptions?|prescribed|drugs?)\b",
    re.IGNORECASE,
)


class WellnessTopic(BaseModel):
    """General lifestyle guidance for one topic, personalised by the latest values of related concepts."""

    model_config = _MODEL
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    triggers: tuple[str, ...] = Field(min_length=1, description="Lowercase phrases that select the topic.")
    related_concepts: tuple[str, ...] = ()
    tips: tuple[str, ...] = Field(min_length=4, max_length=7)
    ask_your_doctor: tuple[str, ...] = Field(min_length=2, max_length=4)
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("triggers")
    @classmethod
    def _triggers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_phrases(v, "trigger")

    @field_validator("tips")
    @classmethod
    def _tips(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for tip in v:
            bad = _FORBIDDEN_TIP.search(tip)
            if bad:
                raise ValueError(f"tip contains medication/dose wording {bad.group(0)!r}: {tip!r}")
        return v

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return phrase_regex({" ".join(normalize_text(t).split()): None for t in self.triggers})

    def match_length(self, text: str) -> int:
        """Length of the longest trigger found in text (0 when none): longer triggers are more specific."""
        return max((len(m.group("p")) for m in self._pattern.finditer(normalize_text(text))), default=0)

    def match(self, text: str) -> bool:
        """Whether any trigger phrase occurs in text (whole words, case-insensitive)."""
        return self._pattern.search(normalize_text(text)) is not None


def find_wellness(topics: Sequence[WellnessTopic], text: str) -> list[WellnessTopic]:
    """Topics whose triggers occur in text, most specific (longest trigger) first, then file order."""
    scored = [(t.match_length(text), i, t) for i, t in enumerate(topics)]
    return [t for n, _, t in sorted(scored, key=lambda s: (-s[0], s[1])) if n > 0]


# ───────────────────────────── Loading ─────────────────────────────


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a concept catalog (default: the packaged concepts.yaml)."""
    path = path or packaged("concepts.yaml")
    return Catalog(parse_items(path, read_items(path, "concepts"), Concept, "concept"), source=str(path))


def load_wellness(path: Path | None = None, catalog: Catalog | None = None) -> list[WellnessTopic]:
    """Load and validate wellness topics (default: the packaged wellness.yaml).

    With a catalog, every related concept id must exist in it.
    """
    path = path or packaged("wellness.yaml")
    topics: list[WellnessTopic] = parse_items(path, read_items(path, "topics"), WellnessTopic, "topic")
    seen_ids: set[str] = set()
    trigger_owner: dict[str, str] = {}
    for t in topics:
        if t.id in seen_ids:
            raise ConfigError(f"{path}: topic '{t.id}': duplicate topic id")
        seen_ids.add(t.id)
        for trig in t.triggers:
            key = " ".join(normalize_text(trig).split())
            if trigger_owner.setdefault(key, t.id) != t.id:
                raise ConfigError(
                    f"{path}: topic '{t.id}': trigger {trig!r} already used by '{trigger_owner[key]}'"
                )
        if catalog is not None:
            for cid in t.related_concepts:
                if cid not in catalog:
                    raise ConfigError(
                        f"{path}: topic '{t.id}': related concept '{cid}' is not in the catalog"
                    )
    return topics
