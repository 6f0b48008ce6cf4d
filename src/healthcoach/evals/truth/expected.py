"""The expected answer to one QA item, as data the scorer checks a reply against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["up", "down", "same"]
ExpectedKind = Literal["value", "count", "items", "change", "trend", "compare", "exists", "not_found"]


class Reading(BaseModel):
    """One stated result: numbers (1 or systolic/diastolic) or a text value, and the dates it may carry.

    ``decimals``: the fewest decimals the answer must show for each number (6.1 must not be shown as 6).
    ``dates``: any of these ISO dates is accepted (ties of the same value on several days); empty = the
    answer need not give a date (a mean)."""

    model_config = ConfigDict(extra="forbid")

    numbers: list[float] = Field(default_factory=list)
    decimals: list[int] = Field(default_factory=list)
    text: str | None = None
    dates: list[str] = Field(default_factory=list)
    unit: str | None = None


class Expected(BaseModel):
    """What a correct reply must state. Which fields matter depends on ``kind``:

    - value: every reading in ``readings`` (several = same-time ties, all required)
    - count: ``count``
    - items: every name in ``items`` and every date in ``item_dates``; nothing in ``forbidden`` listed
      as current; inside ``window``, no date that is not one of ``window_dates`` (nothing extra)
    - change: ``direction``, ``delta`` (magnitude) and both ``start`` and ``end`` values
    - trend: ``direction`` and the window's first and last values (``start``, ``end``)
    - compare: every reading of both ``groups`` (the two windows; with its date when a window has several),
      and ``direction`` if given
    - exists: a yes with one of the dates in ``readings``; not_found: says so about the concept (a
      ``topic`` word), states no invented value
    """

    model_config = ConfigDict(extra="forbid")

    kind: ExpectedKind
    readings: list[Reading] = Field(default_factory=list)
    count: int | None = None
    items: list[str] = Field(default_factory=list)
    item_dates: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    window: tuple[str, str] | None = Field(None, description="A window list's first and last day (ISO): a date "
                                           "the reply states inside it must be one of ``window_dates``.")
    window_dates: list[str] = Field(default_factory=list)
    direction: Direction | None = None
    delta: float | None = None
    delta_decimals: int = 0
    start: Reading | None = None
    end: Reading | None = None
    groups: list[list[Reading]] = Field(default_factory=list)
    unit: str | None = Field(None, description="Unit the answer must be in when the question asks for one.")
    topic: list[str] = Field(default_factory=list, description="Words naming the concept; a 'not in your "
                             "records' answer must name it (one word is enough), not some other concept.")
    computed: list[float] = Field(default_factory=list, description="Numbers the coach may compute and state.")
    summary: str = Field("", description="The expected answer in words, for reports.")
