"""The audit log: who asked what, which records were read (ids only), consent changes, exports, deletes.

Entries never hold record content. A delete removes the user's whole trail (questions are content) and
leaves one tombstone whose owner is only a salted hash of the user id; see `tombstone_owner`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from healthcoach.store.records import RecordStore
from healthcoach.store.schema import AuditRow

TOMBSTONE_PREFIX = "deleted:"


class AuditEntry(BaseModel):
    """One audit event as the user sees it."""

    at: datetime = Field(description="When it happened (UTC).")
    action: str = Field(description="ask, ingest, consent, export, delete, disconnect.")
    detail: dict[str, Any] = Field(default_factory=dict, description="Question, intent, record ids or counts.")


def write_audit(s: Session, user_id: str, action: str, detail: dict[str, Any]) -> None:
    """Add an audit entry inside the caller's transaction (so the action and its record commit together)."""
    s.add(AuditRow(user_id=user_id, at=datetime.now(UTC), action=action, detail=json.dumps(detail, sort_keys=True)))


def tombstone_owner(user_id: str, salt: str) -> str:
    """The owner column of a delete tombstone: a salted hash, so the log no longer names the person.

    A person who knows their user id can still find (and prove) their deletion; the salt is per entry, so
    two tombstones cannot be linked to each other. Guessable ids (first names) can be brute-forced, so
    this is pseudonymous, not anonymous; the entry holds counts only, never content."""
    return TOMBSTONE_PREFIX + hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:40]


def write_tombstone(s: Session, user_id: str, counts: dict[str, int]) -> None:
    """The one entry a delete leaves: when, and how much was removed (counts only)."""
    salt = secrets.token_hex(16)
    write_audit(s, tombstone_owner(user_id, salt), "delete", {"salt": salt, "removed": counts})


def list_audit(store: RecordStore, user_id: str, limit: int | None = None) -> list[AuditEntry]:
    """A user's audit log, oldest first, including tombstones of earlier deletions of this user id."""
    with store.session() as s:
        rows = list(s.scalars(select(AuditRow).where(AuditRow.user_id == user_id).order_by(AuditRow.id)))
        stones = s.scalars(select(AuditRow).where(AuditRow.action == "delete",
                                                  AuditRow.user_id.startswith(TOMBSTONE_PREFIX)))
        for row in stones:
            detail = _detail(row.detail)
            if tombstone_owner(user_id, str(detail.get("salt", ""))) == row.user_id:
                rows.append(row)
    rows.sort(key=lambda r: (r.at, r.id))
    entries = [AuditEntry(at=r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), action=r.action,
                          detail={k: v for k, v in _detail(r.detail).items() if k != "salt"}) for r in rows]
    return entries[-limit:] if limit else entries


def _detail(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"text": raw}
    return value if isinstance(value, dict) else {"value": value}
