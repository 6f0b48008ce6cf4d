"""Delete a user from every store, or disconnect one source, and make sure the bytes are really gone.

SQLite and Chroma keep deleted rows in free pages (and SQLite in its WAL) until they are rewritten, so after
deleting we checkpoint and VACUUM both databases and remove the dropped collection's segment folders.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from healthcoach.container import Stores
from healthcoach.errors import NotFound
from healthcoach.ingest.chunking import build_chunks
from healthcoach.privacy.audit import write_audit, write_tombstone
from healthcoach.store.schema import (
    AuditRow,
    ConsentEventRow,
    ConversationRow,
    EmbeddingRow,
    IngestRow,
    MessageRow,
    RecordCodeRow,
    RecordRow,
    TokenRow,
    UISessionRow,
    UserRow,
)
from healthcoach.store.vectors import collection_name

log = logging.getLogger(__name__)
CHECKPOINT_TRIES = 10
# Child tables before parents; every table that holds a user_id (the schema module lists them all).
USER_TABLES = (("record_codes", RecordCodeRow), ("records", RecordRow), ("embedding_cache", EmbeddingRow),
               ("messages", MessageRow), ("conversations", ConversationRow), ("ingests", IngestRow),
               ("consent_events", ConsentEventRow), ("ui_sessions", UISessionRow), ("api_tokens", TokenRow),
               ("audit_log", AuditRow))


class DeleteReport(BaseModel):
    """What a delete removed, in counts."""

    user_id: str
    removed: dict[str, int] = Field(description="Rows (and vectors) removed, by store.")
    scrubbed: list[str] = Field(default_factory=list, description="Files compacted so deleted bytes are gone.")


class DisconnectReport(BaseModel):
    """What disconnecting a source removed, and the index after it."""

    user_id: str
    source_kind: str
    source_file: str | None = None
    records_removed: int
    records_left: int
    chunks: int = Field(description="Chunks in the re-synced vector index.")
    cache_removed: int = Field(description="Embedding-cache entries no longer used, removed.")


def delete_user(stores: Stores, user_id: str) -> DeleteReport:
    """Remove a user from every store; leave one audit tombstone with counts only (NotFound if unknown)."""
    store = stores.records
    store.get_user(user_id)
    removed: dict[str, int] = {"vectors": _vector_count(stores, user_id)}
    segments = _segments(stores, user_id)
    stores.vectors.delete_user(user_id)
    with store.session() as s:
        for name, table in USER_TABLES:
            removed[name] = _count(s, table, user_id)
            s.execute(delete(table).where(table.user_id == user_id))
        removed["profile"] = _count_profile(s, user_id)
        s.execute(delete(UserRow).where(UserRow.id == user_id))
        write_tombstone(s, user_id, removed)
    scrubbed = scrub(stores, segments)
    log.info("deleted a user: %d records, %d vectors", removed["records"], removed["vectors"])
    return DeleteReport(user_id=user_id, removed=removed, scrubbed=scrubbed)


def disconnect_source(stores: Stores, user_id: str, kind: str, file: str | None = None) -> DisconnectReport:
    """Delete the records of one source (kind, optionally one file) and re-sync the vectors to what remains."""
    store = stores.records
    store.get_user(user_id)
    with store.session() as s:
        match = select(RecordRow.id).where(RecordRow.user_id == user_id, RecordRow.source_kind == kind)
        if file is not None:
            match = match.where(RecordRow.source_file == file)
        ids = list(s.scalars(match))
        if not ids:
            raise NotFound(f"no records from source {kind!r}" + (f" file {file!r}" if file else ""))
        for i in range(0, len(ids), 500):
            s.execute(delete(RecordCodeRow).where(RecordCodeRow.record_id.in_(ids[i:i + 500])))
            s.execute(delete(RecordRow).where(RecordRow.id.in_(ids[i:i + 500])))
        remaining = store.query(user_id, s=s)
        chunks = build_chunks(user_id, remaining)
        # Rebuild the collection rather than delete ids: Chroma keeps deleted documents in its write-ahead
        # queue until the index flushes, and only dropping the collection purges them. Vectors come from
        # the embedding cache, so nothing is re-encoded.
        segments = _segments(stores, user_id)
        try:
            stores.vectors.delete_user(user_id)
            stores.vectors.sync(user_id, chunks, s)
        except Exception:
            log.exception("vector re-sync failed during a disconnect; nothing was removed")
            s.rollback()
            stores.vectors.sync(user_id, build_chunks(user_id, store.query(user_id)))
            raise
        wanted = {c.text_hash for c in chunks}
        cached = list(s.scalars(select(EmbeddingRow.text_hash).where(EmbeddingRow.user_id == user_id)))
        stale = [h for h in cached if h not in wanted]
        for i in range(0, len(stale), 500):
            s.execute(delete(EmbeddingRow).where(EmbeddingRow.user_id == user_id,
                                                 EmbeddingRow.text_hash.in_(stale[i:i + 500])))
        report = DisconnectReport(user_id=user_id, source_kind=kind, source_file=file, records_removed=len(ids),
                                  records_left=len(remaining), chunks=len(chunks), cache_removed=len(stale))
        write_audit(s, user_id, "disconnect", report.model_dump(exclude={"user_id"}))
    scrub(stores, segments)
    return report


def scrub(stores: Stores, segments: list[str]) -> list[str]:
    """Compact the record store and the local Chroma store so deleted rows leave no bytes behind."""
    done = []
    if _vacuum_engine(stores.records.engine):
        done.append("record store")
    chroma = _chroma_dir(stores)
    if chroma is not None:
        for seg in segments:
            folder = chroma / seg
            if folder.is_dir():
                shutil.rmtree(folder)
        if (chroma / "chroma.sqlite3").exists():
            _vacuum_file(chroma / "chroma.sqlite3")
            done.append("vector store")
    return done


def _vacuum_engine(engine: Engine) -> bool:
    """Checkpoint the WAL into the file, rewrite the file without free pages, truncate the WAL (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return False  # PostgreSQL: autovacuum reclaims dead rows; run VACUUM FULL for an immediate rewrite.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("VACUUM")
        for attempt in range(CHECKPOINT_TRIES):
            # busy=1 while another connection reads: the WAL (with old frames) is then not truncated yet.
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy or not busy[0]:
                return True
            time.sleep(0.1 * (attempt + 1))
    log.warning("record store WAL still in use by a reader; it is truncated at the next checkpoint")
    return False


def _vacuum_file(path: Path) -> None:
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _chroma_dir(stores: Stores) -> Path | None:
    if stores.settings.chroma_url:
        return None  # a Chroma server compacts its own storage
    return stores.settings.home / "chroma"


def _segments(stores: Stores, user_id: str) -> list[str]:
    """Ids of the user's collection segments: Chroma leaves their folders behind after a delete."""
    chroma = _chroma_dir(stores)
    if chroma is None or not (chroma / "chroma.sqlite3").exists():
        return []
    try:
        cid = str(stores.vectors.client.get_collection(collection_name(user_id)).id)
    except Exception:  # no collection: nothing indexed for this user
        return []
    con = sqlite3.connect(chroma / "chroma.sqlite3", timeout=30)
    try:
        return [str(r[0]) for r in con.execute("SELECT id FROM segments WHERE collection = ?", (cid,))]
    finally:
        con.close()


def _vector_count(stores: Stores, user_id: str) -> int:
    try:
        return stores.vectors.count(user_id)
    except Exception:
        return 0


def _count_profile(s: Session, user_id: str) -> int:
    return int(s.scalar(select(func.count()).select_from(UserRow).where(UserRow.id == user_id)) or 0)


def _count(s: Session, table: Any, user_id: str) -> int:
    return int(s.scalar(select(func.count()).select_from(table).where(table.user_id == user_id)) or 0)
