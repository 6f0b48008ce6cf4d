"""Consent flags per profile: records in chat (off until the person turns it on) and remote LLM use."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select

from healthcoach.privacy.audit import write_audit
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import ConsentEventRow, UserRow

FLAGS = {"records": "use_records_in_chat", "remote_llm": "remote_llm"}


class ConsentEvent(BaseModel):
    """One change of a consent flag."""

    at: datetime
    flag: str = Field(description="use_records_in_chat or remote_llm.")
    value: bool


class ConsentState(BaseModel):
    """The current flags and every change, oldest first."""

    user_id: str
    use_records_in_chat: bool = Field(description="The coach may read your records to answer.")
    remote_llm: bool = Field(description="Your records may be sent to a remote LLM endpoint.")
    history: list[ConsentEvent] = Field(default_factory=list)


def get_consent(store: RecordStore, user_id: str) -> ConsentState:
    """Current consent flags and their history (NotFound for an unknown user)."""
    user = store.get_user(user_id)
    with store.session() as s:
        rows = s.scalars(select(ConsentEventRow).where(ConsentEventRow.user_id == user_id)
                         .order_by(ConsentEventRow.id))
        history = [ConsentEvent(at=r.at, flag=r.flag, value=r.value) for r in rows]
    return ConsentState(user_id=user_id, use_records_in_chat=user.use_records_in_chat, remote_llm=user.remote_llm,
                        history=history)


def set_consent(store: RecordStore, user_id: str, *, records: bool | None = None,
                remote_llm: bool | None = None) -> ConsentState:
    """Change flags (None leaves one as it is); each change gets a consent event and an audit entry.

    The flag, its event and its audit entry are written in one transaction. Creates the profile when new."""
    with store.session() as s:
        user: UserRow = store.ensure_user(user_id, s)
        changed: dict[str, bool] = {}
        for name, value in (("records", records), ("remote_llm", remote_llm)):
            column = FLAGS[name]
            if value is not None and getattr(user, column) != value:
                setattr(user, column, value)
                s.add(ConsentEventRow(user_id=user_id, at=datetime.now(UTC), flag=column, value=value))
                changed[column] = value
        if changed:
            write_audit(s, user_id, "consent", changed)
    return get_consent(store, user_id)
