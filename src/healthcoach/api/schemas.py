"""Request and response models of the HTTP API (with examples: they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date as Date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from healthcoach.compose.citations import Citation
from healthcoach.compose.reply import Reply

A1C_CITATION: dict[str, Any] = {"n": 1, "record_id": "3f9a6c1e2b7d4a5f8e0c1d2b", "date": "2026-09-14", "label": "Hemoglobin A1c",
                "value": "6.1", "unit": "%", "source": "Example Clinic (FHIR export)", "category": "lab"}
A1C_REPLY: dict[str, Any] = {"text": "Your most recent Hemoglobin A1c was 6.1 % on Sep 14, 2026 [1].", "citations": [A1C_CITATION],
             "intent": "latest_value", "blocked": False, "category": "allowed", "action": "answer",
             "as_of": "2026-09-14", "warnings": [], "record_ids": ["3f9a6c1e2b7d4a5f8e0c1d2b"], "elapsed_ms": 42.0}


class ErrorBody(BaseModel):
    """Every error, whatever the status."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ok": False, "error": "missing bearer token", "status": 401}]})
    ok: Literal[False] = False
    error: str = Field(description="What went wrong, safe to show (never record contents).")
    status: int = Field(description="The HTTP status, repeated.")


class Health(BaseModel):
    """Liveness only: no data, no user."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ok": True}]})
    ok: bool = True


class ChatRequest(BaseModel):
    """A question for the coach, optionally continuing a conversation."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"message": "What's my A1c?"},
        {"message": "And the one before?", "conversation_id": "9b2f0a7c4e6d4c1a8f3e2d1c0b9a8f7e", "stream": True}]})
    message: str = Field(min_length=1, description="The question, in your own words.")
    conversation_id: str | None = Field(None, max_length=40, description="Continue this conversation "
                                        "(from an earlier reply); omit to start a new one.")
    stream: bool = Field(False, description="Answer as server-sent events (also: Accept: text/event-stream).")


class ChatResponse(Reply):
    """The coach's Reply plus the conversation it belongs to."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"conversation_id": "9b2f0a7c4e6d4c1a8f3e2d1c0b9a8f7e", **A1C_REPLY}]})
    conversation_id: str = Field(description="Send it back to continue the conversation.")


class RecordOut(BaseModel):
    """One stored record (the CLI's `records --json` shape)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f9a6c1e2b7d4a5f8e0c1d2b", "category": "lab", "label": "Hemoglobin A1c", "codes": ["LOINC:4548-4"],
        "value": 6.1, "unit": "%", "date": "2026-09-14", "status": "final",
        "source": "Example Clinic (FHIR export)", "sources": ["Example Clinic (FHIR export)"], "conflicts": []}]})
    id: str
    category: str
    label: str
    codes: list[str] = Field(description="'SYSTEM:code' keys: LOINC:4548-4, CVX:140 ...")
    value: float | str | None = Field(None, description="A number, or the value as text ('128/82 mmHg').")
    unit: str | None = None
    date: Date | None = Field(None, description="Clinical date as written in the source.")
    status: str | None = None
    source: str = Field(description="Where it came from: organisation and export kind ('2 sources: ...' when "
                                    "several exports state the same fact).")
    sources: list[str] = Field(default_factory=list, description="Every source that states this fact.")
    conflicts: list[str] = Field(default_factory=list, description="Ids of records from another source with a "
                                                                   "different value for the same test and time.")


class RecordList(BaseModel):
    """Records, newest clinical date first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 0, "records": []}]})
    count: int = Field(description="Number of records returned (all that match unless limit was given).")
    records: list[RecordOut]


class Message(BaseModel):
    """One stored message; answers carry their full Reply."""

    role: str = Field(description="'user' or 'assistant'.")
    text: str
    at: str = Field(description="When it was stored (ISO 8601, UTC).")
    reply: Reply | None = None


class Conversation(BaseModel):
    """A conversation with every message, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "conversation_id": "9b2f0a7c4e6d4c1a8f3e2d1c0b9a8f7e",
        "messages": [{"role": "user", "text": "What's my A1c?", "at": "2026-11-23T10:00:00+00:00", "reply": None},
                     {"role": "assistant", "text": A1C_REPLY["text"], "at": "2026-11-23T10:00:00+00:00",
                      "reply": A1C_REPLY}]}]})
    conversation_id: str
    messages: list[Message]


# OpenAI-compatible chat completions ---------------------------------------------------------------------
class OAIMessage(BaseModel):
    """An OpenAI chat message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")


class CompletionRequest(BaseModel):
    """OpenAI chat-completions request. The last user message is the question; earlier turns are history.
    Sampling parameters are accepted and ignored (answers are grounded, not sampled)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": "healthcoach", "messages": [{"role": "user", "content": "What's my A1c?"}]}]})
    model: str = Field("healthcoach", max_length=200, description="Ignored; replies name 'healthcoach'.")
    messages: list[OAIMessage] = Field(min_length=1, max_length=200)
    stream: bool = Field(False, description="Answer as OpenAI chunk events ending with data: [DONE].")


class CoachExtra(BaseModel):
    """What an OpenAI client does not know about: the citations and the safety verdict."""

    citations: list[Citation] = Field(default_factory=list)
    intent: str
    blocked: bool
    category: str
    action: Literal["answer", "answer_with_care", "redirect", "escalate"]
    as_of: Date | None = None
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, reply: Reply) -> CoachExtra:
        return cls.model_validate(reply.model_dump(include=set(cls.model_fields)))


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    """OpenAI chat.completion, plus `healthcoach` with citations and verdict."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "chatcmpl-1a2b3c", "object": "chat.completion", "created": 1795430400, "model": "healthcoach",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": A1C_REPLY["text"]},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 12, "total_tokens": 16},
        "healthcoach": {k: A1C_REPLY[k] for k in ("citations", "intent", "blocked", "category", "action",
                                                   "as_of", "warnings")}}]})
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    healthcoach: CoachExtra
