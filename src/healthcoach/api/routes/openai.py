"""POST /v1/chat/completions: OpenAI-compatible, so the official client works unchanged.

Stateless like OpenAI's API: the last user message is the question and earlier turns are the history.
Citations ride in `content` as markdown footnotes (a setting), as `annotations`, and with the safety
verdict in an extra `healthcoach` field."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from healthcoach.api.deps import Deps
from healthcoach.api.errors import InvalidRequest
from healthcoach.api.routes.common import SSE_HEADERS, errors, guarded, sse, sse_schema
from healthcoach.api.routes.openai_compat import citation_annotations, content_of, footnotes
from healthcoach.api.schemas import (
    Choice,
    CoachExtra,
    Completion,
    CompletionMessage,
    CompletionRequest,
    OAIMessage,
    Usage,
)
from healthcoach.compose.reply import Reply, Turn
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import AuditRow

MODEL = "healthcoach"


def split_messages(messages: list[OAIMessage]) -> tuple[str, list[Turn]]:
    """(question, history): the last user message, and the user/assistant turns before it."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None:
        raise InvalidRequest("messages must include a message with role 'user'")
    history = [Turn(role="user" if m.role == "user" else "assistant", text=m.text())
               for m in messages[:last] if m.role in ("user", "assistant") and m.text().strip()]
    return messages[last].text(), history


def audit(store: RecordStore, user: str, question: str, reply: Reply) -> None:
    """The same audit entry ChatService writes: which records were read (ids only)."""
    with store.session() as s:
        s.add(AuditRow(user_id=user, at=datetime.now(UTC), action="ask", detail=json.dumps({
            "conversation_id": None, "question": question, "intent": reply.intent, "blocked": reply.blocked,
            "category": reply.category, "records_read": reply.record_ids})))


def _words(text: str) -> int:
    return len(text.split())


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(deps.auth)])
    coach, store = deps.bundle.coach, deps.bundle.stores.records
    footnoted = deps.settings.api.citation_footnotes

    @r.post("/chat/completions", response_model=Completion, responses={
        **errors(413, 504),
        200: {"description": "A chat.completion, or chat.completion.chunk events ending with `data: [DONE]`.",
              "content": {"text/event-stream": {"schema": sse_schema(
                  "chat.completion.chunk JSON per event; the last carries `healthcoach`.")}}}})
    async def completions(body: CompletionRequest, user: str = Depends(deps.auth)
                          ) -> Completion | StreamingResponse:
        """OpenAI-compatible chat completions over your records (point the `openai` client's base_url at
        `/v1`). The reply's `healthcoach` field carries the citations and the safety verdict; in a stream it
        is on the last chunk."""
        question, history = split_messages(body.messages)
        deps.check_message(question, "the last user message")
        for turn in history:
            deps.check_message(turn.text, "an earlier message")
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            reply = await deps.run(lambda: coach.ask(user, question, history))
            audit(store, user, question, reply)
            content = content_of(reply, footnoted)
            n_in, n_out = sum(_words(t.text) for t in history) + _words(question), _words(reply.text)
            return Completion(id=cid, created=created, model=MODEL,
                              choices=[Choice(message=CompletionMessage(
                                  content=content, annotations=citation_annotations(content, reply)))],
                              usage=Usage(prompt_tokens=n_in, completion_tokens=n_out, total_tokens=n_in + n_out),
                              healthcoach=CoachExtra.of(reply))
        events = coach.stream(user, question, history)
        first = await deps.run(lambda: next(events, None))

        def chunk(delta: dict[str, str], finish: str | None = None, extra: Reply | None = None) -> str:
            body_: dict[str, object] = {"id": cid, "object": "chat.completion.chunk", "created": created,
                                        "model": MODEL,
                                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if extra is not None:
                body_["healthcoach"] = CoachExtra.of(extra).model_dump(mode="json")
            return sse(None, body_)

        # An OpenAI stream cannot take text back, so with an LLM the text is sent only once it has
        # passed the grounding check (as one piece); template answers stream as they are.
        hold = coach.llm is not None

        def frames() -> Iterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            for kind, payload in chain([first] if first else [], events):
                if isinstance(payload, Reply):
                    audit(store, user, question, payload)
                    if hold:
                        yield chunk({"content": payload.text})
                    if footnoted and payload.citations:
                        yield chunk({"content": footnotes(payload)})
                    yield chunk({}, "stop", payload)
                elif kind == "delta" and not hold:
                    yield chunk({"content": payload["text"]})
            yield sse(None, "[DONE]")

        return StreamingResponse(guarded(frames()), media_type="text/event-stream", headers=SSE_HEADERS)

    return r
