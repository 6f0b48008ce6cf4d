"""SQL schema of the record store (SQLAlchemy 2). One file, so every table a user owns is visible at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back with its time zone (SQLite keeps none: without this
    every timestamp the API returned had no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    patient_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    patient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    birth_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    region: Mapped[str] = mapped_column(String(8), default="US")
    use_records_in_chat: Mapped[bool] = mapped_column(default=False)
    remote_llm: Mapped[bool] = mapped_column(default=False)


class TokenRow(Base):
    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UISessionRow(Base):
    """A web-UI sign-in: valid while its API token exists and it has not expired (so revoking the token or
    deleting the user ends it). The session id itself is never stored, only its sha256."""

    __tablename__ = "ui_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(ForeignKey("api_tokens.token_hash", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordRow(Base):
    __tablename__ = "records"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(24))
    resource_type: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source_kind: Mapped[str] = mapped_column(String(32))
    source_file: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the Record as JSON
    __table_args__ = (Index("ix_records_user_cat_start", "user_id", "category", "start"),)


class RecordCodeRow(Base):
    __tablename__ = "record_codes"
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    code_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_codes_user_code", "user_id", "code_key"),)


class RecordLinkRow(Base):
    """Cross-source de-duplication (records.dedupe): `record_id` duplicates `other_id` (hidden behind it) or
    conflicts with it (both shown). Derived from the records and rebuilt after every change to them.
    Added as a new table, so an existing database gains it on start (create_all) with no migration."""

    __tablename__ = "record_links"
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # duplicate | conflict
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # the record_id's Source as JSON (shown with the canonical record)
    __table_args__ = (Index("ix_links_other", "other_id"),)


class IdentityRow(Base):
    """Every patient identity accepted into a profile (one person, as each source names them). New table."""

    __tablename__ = "profile_identities"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    issuer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    birth_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmbeddingRow(Base):
    """Embedding cache: keyed by user and text hash so deleting a user deletes their cached vectors."""

    __tablename__ = "embedding_cache"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class IngestRow(Base):
    __tablename__ = "ingests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    report: Mapped[str] = mapped_column(Text)  # counts only, no record content


class IndexOutboxRow(Base):
    """A user whose vector index must be re-synced to the record store: written in the same transaction as
    the records, removed once the index matches. A row left behind by a crash is repaired at the next start
    or ingest (ingest/reconcile.py)."""

    __tablename__ = "index_outbox"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentEventRow(Base):
    """Every consent change with its time (shown in export; kept until the user is deleted)."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    flag: Mapped[str] = mapped_column(String(40))
    value: Mapped[bool] = mapped_column()


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # the Reply JSON for assistant turns
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Who did what; for questions, which records were read (ids only, never content)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(40))  # ask, ingest, consent, export, delete, disconnect
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON: question, intent, record ids, counts
