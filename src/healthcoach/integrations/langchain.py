"""LangChain-native pieces, so LangChain users can compose with the coach:

- HealthRecordsRetriever (a BaseRetriever): one person's records as Documents with record metadata, found
  through the coach's own planner and retriever (exact look-ups for concepts and categories, hybrid
  vector + BM25 search otherwise), with the input guard and consent applied first;
- GuardedCoach (a Runnable): Coach.ask as a chat-model-like runnable. It takes a message and history and
  returns an AIMessage whose response_metadata["healthcoach"] holds the citations and the safety verdict;
  invoke, batch and stream all go through the full guarded path.

A blocked query or question is a result, not an exception: the retriever returns one Document with the
coach's redirect (metadata kind="safety_redirect"), the runnable the coach's redirect reply."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict

from healthcoach.compose.reply import Reply, Turn
from healthcoach.errors import HealthCoachError
from healthcoach.integrations.lookups import RecordLookups
from healthcoach.integrations.results import ToolResult
from healthcoach.records.models import Category

CoachInput = str | Mapping[str, Any] | Sequence[Any] | PromptValue
"""A message; {"message": ..., "history": [...]}; or a list of chat messages (the last human one is asked)."""


class InvalidCoachInput(HealthCoachError):
    """The runnable was given something it cannot read as a message and history."""

    status = 422


def result_documents(result: ToolResult) -> list[Document]:
    """Documents for a look-up result: one per record (its sentence, its reference as metadata), or one
    Document carrying the coach's redirect or consent text when no record may be used."""
    if result.blocked or "records_not_used" in result.warnings:
        kind = "safety_redirect" if result.blocked else "consent"
        return [Document(page_content=result.text, metadata={
            "kind": kind, "blocked": result.blocked, "category": result.category, "action": result.action})]
    return [Document(page_content=r.sentence, metadata={"kind": "record", **r.model_dump(mode="json")})
            for r in result.records]


class HealthRecordsRetriever(BaseRetriever):
    """One person's records as Documents (page_content: the record as a sentence; metadata: record_id, date,
    category, label, value, status, source, source_file, resource, codes)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    lookups: RecordLookups
    user_id: str
    category: Category | None = None
    k: int | None = None  # at most this many Documents (None: every match, up to the look-up limit)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        docs = result_documents(self.lookups.search_records(self.user_id, query, self.category))
        return docs[: self.k] if self.k else docs


def _turn(item: Any) -> Turn | None:
    """One history item as a Turn: a chat message, a Turn, a (role, text) pair, a {"role", "content"} dict
    or a bare string (a user turn). System messages are not conversation turns (None)."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, BaseMessage):
        role, text = item.type, str(item.text)
    elif isinstance(item, str):
        role, text = "human", item
    elif isinstance(item, Mapping):
        role, text = str(item.get("role", "")), str(item.get("content", item.get("text", "")))
    elif isinstance(item, Sequence) and len(item) == 2:
        role, text = str(item[0]), str(item[1])
    else:
        raise InvalidCoachInput(f"cannot read a conversation turn from {type(item).__name__}")
    if role in ("human", "user"):
        return Turn(role="user", text=text)
    if role in ("ai", "assistant"):
        return Turn(role="assistant", text=text)
    return None


def read_input(value: CoachInput) -> tuple[str, list[Turn]]:
    """(message, history oldest first) from what the runnable was given."""
    if isinstance(value, str):
        return value, []
    if isinstance(value, PromptValue):
        value = value.to_messages()
    if isinstance(value, Mapping):
        message = value.get("message", value.get("question", value.get("input")))
        if not isinstance(message, str):
            raise InvalidCoachInput("the input needs a 'message' (or 'question' / 'input') string")
        return message, [t for t in map(_turn, value.get("history", ())) if t is not None]
    turns = [t for t in map(_turn, value) if t is not None]
    last = max((i for i, t in enumerate(turns) if t.role == "user"), default=None)
    if last is None:
        raise InvalidCoachInput("the messages include no human/user message to answer")
    return turns[last].text, turns[:last]


def reply_metadata(reply: Reply) -> dict[str, Any]:
    """What rides along with the text: citations (record id, date, source), verdict, as-of date."""
    return {"healthcoach": reply.model_dump(mode="json", exclude={"text"})}


class GuardedCoach(Runnable[CoachInput, AIMessage]):
    """Coach.ask for one user as a Runnable: invoke, batch and stream, each through the full guarded path.

    Streaming yields AIMessageChunks that add up to the same AIMessage invoke returns; the last chunk
    carries the citations. With a language model configured, the text is held until it has passed the
    grounding check (a stream cannot take text back), then sent in one piece."""

    def __init__(self, lookups: RecordLookups, user_id: str) -> None:
        self.lookups, self.user_id = lookups, user_id

    @property
    def InputType(self) -> Any:
        return CoachInput

    @property
    def OutputType(self) -> type[AIMessage]:
        return AIMessage

    def invoke(self, input: CoachInput, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:
        """Ask the coach; the AIMessage's response_metadata["healthcoach"] has citations and verdict."""
        return self._call_with_config(self._ask, input, config, run_type="chain")

    def _ask(self, value: CoachInput) -> AIMessage:
        message, history = read_input(value)
        reply = self.lookups.coach.ask(self.user_id, message, history)
        self.lookups.audit_ask(self.user_id, message, reply)
        return AIMessage(content=reply.text, response_metadata=reply_metadata(reply))

    def stream(self, input: CoachInput, config: RunnableConfig | None = None, **kwargs: Any
               ) -> Iterator[AIMessage]:
        """The answer as AIMessageChunks (their sum equals invoke's AIMessage)."""
        yield from self._transform_stream_with_config(iter([input]), self._chunks, config, run_type="chain")

    def _chunks(self, inputs: Iterator[CoachInput]) -> Iterator[AIMessage]:
        hold = self.lookups.coach.llm is not None
        for value in inputs:
            message, history = read_input(value)
            for kind, payload in self.lookups.coach.stream(self.user_id, message, history):
                if isinstance(payload, Reply):
                    self.lookups.audit_ask(self.user_id, message, payload)
                    if hold:
                        yield AIMessageChunk(content=payload.text)
                    yield AIMessageChunk(content="", response_metadata=reply_metadata(payload))
                elif kind == "delta" and not hold:
                    yield AIMessageChunk(content=payload["text"])
