"""Conversations: history per conversation in the record store, a bounded window for follow-ups, and an
audit entry per question. The CLI chat, the API and the UI all talk through this service."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select

from healthcoach.coach import Coach
from healthcoach.compose.reply import Reply, Turn
from healthcoach.errors import InvalidInput, NotFound
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import AuditRow, ConversationRow, MessageRow

HISTORY_TURNS = 12


def require_question(message: str) -> None:
    """An empty or blank message is not a question: say so rather than answer from nothing."""
    if not message or not message.strip():
        raise InvalidInput("please type a question")


class ChatService:
    """Coach.ask with memory: loads a conversation's recent turns, stores the new ones, audits."""

    def __init__(self, coach: Coach, store: RecordStore, history_turns: int = HISTORY_TURNS) -> None:
        self.coach, self.store, self.history_turns = coach, store, history_turns

    def history(self, user_id: str, conversation_id: str) -> list[Turn]:
        """The conversation's turns, oldest first (404 for another user's conversation)."""
        with self.store.session() as s:
            conv = s.get(ConversationRow, conversation_id)
            if conv is None or conv.user_id != user_id:
                raise NotFound(f"no conversation {conversation_id!r}")
            rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id == conversation_id)
                             .order_by(MessageRow.id))
            return [Turn(role="user" if r.role == "user" else "assistant", text=r.text) for r in rows]

    def messages(self, user_id: str, conversation_id: str) -> list[dict[str, object]]:
        """Every message with its time and, for answers, the full Reply."""
        self.history(user_id, conversation_id)
        with self.store.session() as s:
            rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id == conversation_id)
                             .order_by(MessageRow.id))
            return [{"role": r.role, "text": r.text, "at": r.at.isoformat(),
                     "reply": json.loads(r.reply) if r.reply else None} for r in rows]

    def start(self, user_id: str) -> str:
        """A new conversation id."""
        cid = uuid.uuid4().hex
        with self.store.session() as s:
            self.store.ensure_user(user_id, s)
            s.add(ConversationRow(id=cid, user_id=user_id, created_at=datetime.now(UTC)))
        return cid

    def ask(self, user_id: str, message: str, conversation_id: str | None = None) -> tuple[str, Reply]:
        """Answer within a conversation (a new one when no id is given)."""
        require_question(message)
        cid, history = self._open(user_id, conversation_id)
        reply = self.coach.ask(user_id, message, history[-self.history_turns:])
        self._save(user_id, cid, message, reply)
        return cid, reply

    def stream(self, user_id: str, message: str, conversation_id: str | None = None
               ) -> Iterator[tuple[str, dict[str, object]]]:
        """Like ask, as events: ("delta", {"text"}) ... then ("reply", Reply JSON)."""
        require_question(message)
        cid, history = self._open(user_id, conversation_id)
        reply: Reply | None = None
        for kind, payload in self.coach.stream(user_id, message, history[-self.history_turns:]):
            if kind == "reply":
                assert isinstance(payload, Reply)
                reply = payload
                self._save(user_id, cid, message, reply)
                yield "reply", {"conversation_id": cid, **reply.model_dump(mode="json")}
            else:
                yield kind, payload  # type: ignore[misc]

    def _open(self, user_id: str, conversation_id: str | None) -> tuple[str, list[Turn]]:
        if conversation_id:
            return conversation_id, self.history(user_id, conversation_id)
        return self.start(user_id), []

    def _save(self, user_id: str, cid: str, message: str, reply: Reply) -> None:
        now = datetime.now(UTC)
        with self.store.session() as s:
            s.add(MessageRow(conversation_id=cid, user_id=user_id, role="user", text=message, at=now))
            s.add(MessageRow(conversation_id=cid, user_id=user_id, role="assistant", text=reply.text,
                             reply=reply.model_dump_json(), at=now))
            s.add(AuditRow(user_id=user_id, at=now, action="ask", detail=json.dumps({
                "conversation_id": cid, "question": message, "intent": reply.intent, "blocked": reply.blocked,
                "category": reply.category, "records_read": reply.record_ids})))
