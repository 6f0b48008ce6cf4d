"""Training examples with their source: who or what wrote them.

Every example in guardrails/ belongs to a source ("policy-v1", "parents-v1", ...). The classifier
trains on all of them; leave-one-source-out evaluation trains on all sources but one and tests on
the one left out, which measures how the guard does on words its authors did not write.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIN_EXAMPLES = 60
MIN_NEAR_MISSES = 30
# Who or what wrote a set of examples ("policy-v1", "parents-v1"): the unit of leave-one-source-out.
SOURCE_NAME = r"^[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExampleSet(_Strict):
    """Training examples written by one source (a person, a voice, a writing session)."""

    source: str = Field(pattern=SOURCE_NAME)
    texts: list[str] = Field(min_length=1)

    @field_validator("texts")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not t.strip() for t in v):
            raise ValueError("examples must be non-empty strings")
        return v


def at_least(sets: list[ExampleSet], minimum: int) -> list[ExampleSet]:
    """The sets, if each source appears once and together they hold at least `minimum` texts."""
    sources = [s.source for s in sets]
    if len(set(sources)) != len(sources):
        raise ValueError(f"each source may appear once (found {sorted(sources)})")
    total = sum(len(s.texts) for s in sets)
    if total < minimum:
        raise ValueError(f"at least {minimum} examples are required across sources (found {total})")
    return sets


def sourced(sets: list[ExampleSet]) -> list[tuple[str, str]]:
    """(text, source) for every example of some sets, in file order."""
    return [(t, s.source) for s in sets for t in s.texts]


class SourcedExamples(_Strict):
    """Sourced examples (key `examples`) with a flat `.examples` view of their texts."""

    example_sets: list[ExampleSet] = Field(alias="examples")

    @field_validator("example_sets")
    @classmethod
    def _enough(cls, v: list[ExampleSet]) -> list[ExampleSet]:
        return at_least(v, MIN_EXAMPLES)

    @property
    def examples(self) -> list[str]:
        """Every example text, all sources together."""
        return [t for s in self.example_sets for t in s.texts]
