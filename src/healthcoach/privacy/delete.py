"""Delete a user from every store, or disconnect one source, and make sure the bytes are really gone.

SQLite and Chroma keep deleted rows in free pages (and SQLite in its WAL) until they are rewritten, so after
deleting we checkpoint and VACUUM both databases and remove the dropped collection's segment folders
(store/compact.py). Both hold the user's ingest lock, so they never interleave with an ingest.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from healthcoach.container import Stores
from healthcoach.errors import NotFound
from healthcoach.ingest.chunking import build_chunks
from healthcoach.ingest.reconcile import drop_user_orphans
from healthcoach.privacy.audit import write_audit, write_tombstone
from healthcoach.store.compact import collection_segments, compact_chroma, vacuum_engine
from healthcoach.store.links import link_rows, still_backed
from healthcoach.store.schema import (
    AuditRow,
    ConsentEventRow,
    ConversationRow,
    EmbeddingRow,
    IdentityRow,
    IndexOutboxRow,
    IngestRow,
    MessageRow,
    RecordCodeRow,
    RecordLinkRow,
    RecordRow,
    TokenRow,
    UISessionRow,
    UserRow,
)
from healthcoach.store.vectors import collection_name

log = logging.getLogger(__name__)
LOCK_WAIT_S = 120  # a delete waits this long for the user's running ingest to finish
# Child tables before parents; every table that holds a user_id (the schema module lists them all).
USER_TABLES = (("record_codes", RecordCodeRow), ("record_links", RecordLinkRow), ("records", RecordRow),
               ("profile_identities", IdentityRow), ("embedding_cache", EmbeddingRow),
               ("messages", MessageRow), ("conversations", ConversationRow), ("ingests", IngestRow),
               ("consent_events", ConsentEventRow), ("ui_sessions", UISessionRow), ("api_tokens", TokenRow),
               ("audit_log", AuditRow), ("index_outbox", IndexOutboxRow))


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
    still_backed: int = Field(0, description="Removed records whose fact another source still states (it stays, "
                                             "now shown from that source).")
    records_left: int
    chunks: int = Field(description="Chunks in the re-synced vector index.")
    cache_removed: int = Field(description="Embedding-cache entries no longer used, removed.")


def delete_user(stores: Stores, user_id: str) -> DeleteReport:
    """Remove a user from every store; leave one audit tombstone with counts only.

    The records go first (the source of truth), then the index: a crash in between leaves only a
    collection of a user with no profile, which the next start drops. A user id with no profile but
    with chunks left in the index (an interrupted first import, in older versions) has those removed.
    NotFound when there is neither."""
    store = stores.records
    with stores.ingestor.locks.hold(user_id, wait_s=LOCK_WAIT_S):
        try:
            store.get_user(user_id)
        except NotFound:
            orphans = drop_user_orphans(stores.vectors, user_id)  # NotFound when there is nothing at all
            scrubbed = scrub(stores, [])
            log.info("deleted index chunks of a user without a profile: %d", orphans)
            return DeleteReport(user_id=user_id, removed={"vectors": orphans}, scrubbed=scrubbed)
        removed: dict[str, int] = {"vectors": _vector_count(stores, user_id)}
        segments = _segments(stores, user_id)
        with store.session() as s:
            for name, table in USER_TABLES:
                removed[name] = _count(s, table, user_id)
                s.execute(delete(table).where(table.user_id == user_id))
            removed["profile"] = _count_profile(s, user_id)
            s.execute(delete(UserRow).where(UserRow.id == user_id))
            write_tombstone(s, user_id, removed)
        stores.vectors.delete_user(user_id)
        scrubbed = scrub(stores, segments)
    log.info("deleted a user: %d records, %d vectors", removed["records"], removed["vectors"])
    return DeleteReport(user_id=user_id, removed=removed, scrubbed=scrubbed)


def disconnect_source(stores: Stores, user_id: str, kind: str, file: str | None = None) -> DisconnectReport:
    """Delete the records of one source (kind, optionally one file) and rebuild the vectors from what remains.

    Records first, with an outbox row; then the index; the row is cleared last, so a crash in between is
    repaired from the records at the next start."""
    store = stores.records
    store.get_user(user_id)
    with stores.ingestor.locks.hold(user_id, wait_s=LOCK_WAIT_S):
        with store.session() as s:
            match = select(RecordRow.id).where(RecordRow.user_id == user_id, RecordRow.source_kind == kind)
            if file is not None:
                match = match.where(RecordRow.source_file == file)
            ids = list(s.scalars(match))
            if not ids:
                raise NotFound(f"no records from source {kind!r}" + (f" file {file!r}" if file else ""))
            backed = still_backed(link_rows(s, user_id), set(ids))
            for i in range(0, len(ids), 500):
                s.execute(delete(RecordLinkRow).where(RecordLinkRow.record_id.in_(ids[i:i + 500])))
                s.execute(delete(RecordLinkRow).where(RecordLinkRow.other_id.in_(ids[i:i + 500])))
                s.execute(delete(RecordCodeRow).where(RecordCodeRow.record_id.in_(ids[i:i + 500])))
                s.execute(delete(RecordRow).where(RecordRow.id.in_(ids[i:i + 500])))
            # What another source also stated stays: its own record is shown again once the links are rebuilt.
            store.relink(s, user_id, stores.settings.ingest.dedupe_window_minutes)
            store.mark_index_pending(s, user_id)
        remaining = store.query(user_id)
        chunks = build_chunks(user_id, remaining)
        # Rebuild the collection rather than delete ids: Chroma keeps deleted documents in its write-ahead
        # queue until the index flushes, and only dropping the collection purges them. Vectors come from
        # the embedding cache, so nothing is re-encoded.
        segments = _segments(stores, user_id)
        stores.vectors.delete_user(user_id)
        stores.vectors.sync(user_id, chunks)
        with store.session() as s:
            stale = _prune_cache(s, user_id, {c.text_hash for c in chunks})
            report = DisconnectReport(user_id=user_id, source_kind=kind, source_file=file,
                                      records_removed=len(ids), still_backed=backed, records_left=len(remaining),
                                      chunks=len(chunks), cache_removed=stale)
            write_audit(s, user_id, "disconnect", report.model_dump(exclude={"user_id"}))
        store.clear_index_pending(user_id)
        scrub(stores, segments)
    return report


def _prune_cache(s: Session, user_id: str, wanted: set[str]) -> int:
    cached = list(s.scalars(select(EmbeddingRow.text_hash).where(EmbeddingRow.user_id == user_id)))
    stale = [h for h in cached if h not in wanted]
    for i in range(0, len(stale), 500):
        s.execute(delete(EmbeddingRow).where(EmbeddingRow.user_id == user_id,
                                             EmbeddingRow.text_hash.in_(stale[i:i + 500])))
    return len(stale)


def scrub(stores: Stores, segments: list[str]) -> list[str]:
    """Compact the record store and the local Chroma store so deleted rows leave no bytes behind."""
    done = []
    if vacuum_engine(stores.records.engine):
        done.append("record store")
    if compact_chroma(stores.vectors.path, segments):
        done.append("vector store")
    return done


def _segments(stores: Stores, user_id: str) -> list[str]:
    """Ids of the user's collection segments: Chroma leaves their folders behind after a delete."""
    cid = stores.vectors.collection_id(collection_name(user_id))
    return collection_segments(stores.vectors.path, cid) if cid else []


def _vector_count(stores: Stores, user_id: str) -> int:
    try:
        return stores.vectors.count(user_id)
    except Exception:
        return 0


def _count_profile(s: Session, user_id: str) -> int:
    return int(s.scalar(select(func.count()).select_from(UserRow).where(UserRow.id == user_id)) or 0)


def _count(s: Session, table: Any, user_id: str) -> int:
    return int(s.scalar(select(func.count()).select_from(table).where(table.user_id == user_id)) or 0)
