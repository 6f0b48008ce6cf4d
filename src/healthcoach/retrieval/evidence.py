"""Evidence: the records (and computed numbers) an answer may state, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from healthcoach.records.models import Record
from healthcoach.retrieval.planner import Plan
from healthcoach.wearables.stats import WindowStats


@dataclass
class Section:
    """One titled group of records (a summary section), with the full count so truncation is honest."""

    title: str
    records: list[Record]
    total: int
    empty_text: str = ""


@dataclass
class Evidence:
    """What the retriever found for a plan."""

    plan: Plan
    records: list[Record] = field(default_factory=list)  # primary results, newest first
    total: int = 0  # how many matched in all (records may be a shown subset)
    sections: list[Section] = field(default_factory=list)
    searched: str = ""  # what was searched, in words, for honest not-found answers
    category_count: int = 0
    source_count: int = 0
    newest: date | None = None  # newest clinical date among everything searched
    stats: WindowStats | tuple[WindowStats, WindowStats] | None = None  # wearable window(s)
    inactive: int = 0  # e.g. stopped medications not listed as active
    snippets: list[tuple[str, Record | None]] = field(default_factory=list)  # search hits: (text, record)
    year_read: int | None = None  # a date asked without a year, read in this year of the data
    instead_of: str | None = None  # the metric asked for, when another one answers it (distance → steps)
    trend: tuple[str, float] | None = None  # wearables: (direction, fitted change per week)
