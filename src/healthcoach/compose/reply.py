"""What the coach answers (Reply) and the conversation it answers in (Turn): the shapes the CLI, the
API, the UI and the evals all read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from healthcoach.compose.citations import Citation


class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: Literal["user", "assistant"]
    text: str


class Reply(BaseModel):
    """What the coach says, with everything needed to check it."""

    text: str = Field(description="The answer, with [n] citation markers.")
    citations: list[Citation] = Field(default_factory=list)
    intent: str = Field(description="What the planner understood: latest_value, list, ... or 'blocked'.")
    blocked: bool = Field(False, description="True when a safety policy redirected the message.")
    category: str = Field("allowed", description="Safety category acted on: allowed, emergency, self_harm, "
                          "treatment, diagnosis, other_harm.")
    action: Literal["answer", "redirect", "escalate"] = "answer"
    as_of: date | None = Field(None, description="Newest clinical date among the cited records.")
    warnings: list[str] = Field(default_factory=list)
    record_ids: list[str] = Field(default_factory=list, description="Records read to answer (for the audit log).")
    elapsed_ms: float = 0.0


def turns(history: Sequence[Turn | str]) -> list[Turn]:
    """A history as Turns: a bare string is a user turn."""
    return [t if isinstance(t, Turn) else Turn(role="user", text=t) for t in history]
