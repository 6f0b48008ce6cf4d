"""The typed query: what a question asks of the records, as data.

`Query(concepts, operation, window, unit, filters)`: which concepts (or which category), what to compute
(latest, first, min, max, count, mean, list, change, trend, nth_previous, compare, exists), over which
window of clinical dates, shown in which unit. The planner's reading of a question; the executor runs
it; `healthcoach ask --json` shows it, so anyone can see how a question was read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from healthcoach.knowledge.vocabulary import Operation
from healthcoach.records.models import Category
from healthcoach.records.units import UnitId
from healthcoach.retrieval.timewindow import Window

_FROZEN = ConfigDict(frozen=True, extra="forbid")




class Span(BaseModel):
    """A window of clinical dates [start, end), or the newest `last_n` records; both empty means ever."""

    model_config = _FROZEN
    start: date | None = Field(None, description="First day included.")
    end: date | None = Field(None, description="First day no longer included.")
    last_n: int | None = Field(None, ge=1, description="Only the newest N matching records ('last 3 visits').")
    label: str = Field("ever", description="The words the question used for it.")

    @classmethod
    def of(cls, window: Window | None) -> Span:
        """The span of a planner window (None: ever)."""
        if window is None:
            return cls()
        return cls(start=window.start, end=window.end, label=window.label)

    @classmethod
    def year(cls, year: int) -> Span:
        """Calendar year `year`."""
        return cls(start=date(year, 1, 1), end=date(year + 1, 1, 1), label=f"in {year}")

    @property
    def is_ever(self) -> bool:
        return self.start is None and self.end is None and self.last_n is None

    @property
    def last_day(self) -> date | None:
        return self.end - timedelta(days=1) if self.end else None

    def contains(self, day: date | None) -> bool:
        """Whether a clinical date falls in the span (an undated record is only in 'ever')."""
        if self.start is None and self.end is None:
            return True
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    def overlaps(self, first: date | None, last: date | None) -> bool:
        """Whether [first, last] (last None: still going) overlaps the span."""
        if self.start is None and self.end is None:
            return True
        if first is None:
            return False
        return (self.end is None or first < self.end) and (last is None or self.start is None or last >= self.start)

    def describe(self) -> str:
        """'in 2023 (2023-01-01 to 2023-12-31)', 'in the past 2 years (…)', 'your last 3', 'ever'."""
        if self.last_n:
            return f"your last {self.last_n}"
        if self.start is None and self.end is None:
            return "ever"
        label = f"in {self.label}" if self.label.startswith("the ") else self.label
        if "(" in label:  # 'last year (2025)' already says which dates
            return label
        if self.start and self.last_day:
            if self.start == self.last_day:
                return f"{label} ({self.start.isoformat()})"
            return f"{label} ({self.start.isoformat()} to {self.last_day.isoformat()})"
        return label


class Filters(BaseModel):
    """Narrowing beyond concept and window."""

    model_config = _FROZEN
    encounter_classes: tuple[str, ...] = Field((), description="Visit kinds: emergency, inpatient, urgent, "
                                                              "wellness (empty: any visit).")
    status: Literal["any", "active", "resolved"] = Field("any", description="Condition/allergy/medication status.")
    terms: tuple[str, ...] = Field((), description="Words a record's label must contain ('penicillin').")
    field: Literal["value", "clinician"] = Field("value", description="What is asked: the value, or who.")
    baseline: Literal["first", "date", "previous"] | None = Field(
        None, description="change: compared with the first result, the first on/after a date, or the previous.")
    baseline_date: date | None = None
    nth: int = Field(0, ge=0, description="nth_previous: how many results back from the newest.")
    higher_is_better: bool = Field(False, description="'worst'/'best' read the other way round (HDL, eGFR).")


class Query(BaseModel):
    """A question as the executor runs it."""

    model_config = _FROZEN
    concepts: tuple[str, ...] = Field((), description="Concept ids from the catalog ('a1c', 'blood_pressure').")
    category: Category | None = Field(None, description="A whole category when no concept is named.")
    operation: Operation = Operation.latest
    window: Span = Field(default_factory=Span)
    windows: tuple[Span, ...] = Field((), description="compare: the two windows compared, older first.")
    unit: UnitId | None = Field(None, description="Output unit asked for (or set as the user's preference).")
    filters: Filters = Field(default_factory=Filters)
    words: tuple[str, ...] = Field((), description="The vocabulary phrases that set the operation and unit.")
    alternatives: tuple[str, ...] = Field((), description="Other readings the answer offers to show.")

    @property
    def has_target(self) -> bool:
        """Whether the query names something to look up."""
        return bool(self.concepts or self.category or self.filters.terms)
