"""POST /v1/chat and GET /v1/conversations/{id}: the coach through ChatService (history, audit)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import SSE_HEADERS, errors, guarded, sse, sse_schema
from healthcoach.api.schemas import ChatRequest, ChatResponse, Conversation

SSE_DOC = ("Server-sent events: `event: delta` with `{\"text\": ...}` pieces; `event: replace` with the checked "
           "text when a language model's streamed text failed the grounding check (discard what was shown); then "
           "one `event: reply` with the full Reply JSON (citations, verdict, conversation_id); an `event: error` "
           "in the error shape if it fails.")


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(deps.auth)])

    @r.post("/chat", response_model=ChatResponse, responses={
        **errors(404, 413, 504),
        200: {"description": "The Reply (JSON), or events when streaming.",
              "content": {"text/event-stream": {"schema": sse_schema(SSE_DOC, ["delta", "replace", "reply", "error"])}}}})
    async def chat(body: ChatRequest, request: Request, user: str = Depends(deps.auth)
                   ) -> ChatResponse | StreamingResponse:
        """Ask the coach. The answer cites the records it used ([n] markers with record, date and source);
        safety redirects come back as normal replies with `blocked: true`. Continue a conversation by sending
        its `conversation_id` (another user's id is 404). With `stream: true` or `Accept: text/event-stream`
        the reply arrives as server-sent events."""
        deps.check_message(body.message)
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            events = deps.bundle.chat.stream(user, body.message, body.conversation_id)
            first = await deps.run(lambda: next(events, None))  # does the work: errors become normal responses
            framed: Iterator[str] = (sse(kind, payload) for kind, payload in
                                     chain([first] if first else [], events))
            return StreamingResponse(guarded(framed), media_type="text/event-stream", headers=SSE_HEADERS)
        cid, reply = await deps.run(lambda: deps.bundle.chat.ask(user, body.message, body.conversation_id))
        return ChatResponse(conversation_id=cid, **reply.model_dump())

    @r.get("/conversations/{conversation_id}", response_model=Conversation, responses=errors(404))
    def conversation(conversation_id: str = Path(max_length=40, description="From a chat reply."),
                     user: str = Depends(deps.auth)) -> Conversation:
        """A conversation's messages, oldest first, with the full Reply of every answer. Only your own:
        another user's conversation id gives 404, exactly like one that does not exist."""
        messages = deps.bundle.chat.messages(user, conversation_id)
        return Conversation.model_validate({"conversation_id": conversation_id, "messages": messages})

    return r
