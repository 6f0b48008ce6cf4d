"""The ingest's stages, each a plain function a caller (the Ingestor today, a job queue later) can run:

    parse → check → embed → write SQL → write index → reconcile

Everything slow (reading files, FHIR validation, chunking, encoding) happens before the one write
transaction, which then only inserts precomputed rows and takes well under a second, so other users'
questions and ingests never wait on it for long. The record store is written first, together with an
index-outbox row; the vector index (derived data) second; the outbox row is cleared last. A crash between
any two steps leaves either nothing, or records whose outbox row makes the next start (or ingest) re-sync
the index from the record store (ingest/reconcile.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from healthcoach.ingest.chunking import build_chunks
from healthcoach.ingest.report import IngestReport
from healthcoach.ingest.whose import identity
from healthcoach.records.base import AdapterResult
from healthcoach.records.models import Record
from healthcoach.store.embeddings import Embedder
from healthcoach.store.links import shown_records
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import IngestRow
from healthcoach.store.vectors import IndexPlan, SyncStats, VectorIndex, vectors_for

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Stage names reported through Progress, in order ("committing" is inside the write transaction).
STAGES = ("reading", "checking", "embedding", "writing", "committing", "indexing", "pruning", "reconciling",
          "done")


@dataclass
class Prepared:
    """An ingest ready to write: its records, and the index change with every vector already computed."""

    user_id: str
    result: AdapterResult
    names: list[str]
    flagged: int = 0  # records with instruction-like text
    plan: IndexPlan | None = None  # None: the index already matches (an unchanged re-import)
    vectors: list[list[float]] = field(default_factory=list)  # one per plan.changed chunk
    fresh: dict[str, np.ndarray] = field(default_factory=dict)  # new embedding-cache entries
    chunks: int = 0
    embedded: int = 0


def in_store(store: RecordStore, user_id: str, records: Sequence[Record]) -> tuple[list[Record], bool]:
    """(the user's records as they will be after storing these, duplicates of other sources included;
    whether any is new or changed)."""
    known = store.snapshot(user_id)
    incoming: dict[str, Record] = {}
    for r in records:
        incoming.setdefault(r.id, r)  # the first of duplicates wins, as in RecordStore.upsert
    changed = {i: r for i, r in incoming.items() if known.get(i) != r.content_hash}
    if not changed:
        return [], False
    merged = {r.id: r for r in store.query(user_id, include_duplicates=True) if r.id not in changed}
    merged.update(changed)
    return list(merged.values()), True


def embed(store: RecordStore, vectors: VectorIndex, embedder: Embedder, prepared: Prepared,
          say: Progress, window: timedelta) -> None:
    """Chunk the user's future record set (one record per fact, as reads will show it once the duplicate
    links within `window` are rebuilt) and compute the index change and its vectors (no writes)."""
    user_id = prepared.user_id
    records, changed = in_store(store, user_id, prepared.result.records)
    if not changed and not store.index_pending(user_id) and vectors.count(user_id):
        # Nothing new and the index was complete after the last ingest: an unchanged re-import is a no-op.
        prepared.chunks = vectors.count(user_id)
        return
    records = store.query(user_id) if not changed else shown_records(records, window)
    chunks = build_chunks(user_id, records)
    plan = vectors.plan(user_id, chunks)
    say("embedding", 0, len(plan.changed))
    prepared.vectors, prepared.fresh = vectors_for(embedder, store, user_id, [c.text for c in plan.changed])
    prepared.plan, prepared.chunks = plan, len(chunks)
    prepared.embedded = sum(1 for c in plan.changed if c.text_hash in prepared.fresh)


def write_sql(store: RecordStore, prepared: Prepared, report: IngestReport, say: Progress,
              window_minutes: int) -> Counter[str]:
    """One short transaction: profile identity, records, duplicate links, new cache entries, the outbox row,
    the report."""
    user_id, result = prepared.user_id, prepared.result
    say("writing", 0, len(result.records))
    with store.session() as s:
        user = store.ensure_user(user_id, s)
        person = identity(result)
        if person is not None:
            user.patient_key = user.patient_key or person.key
            user.patient_name = user.patient_name or person.name
            if person.birth_date and not user.birth_date:
                user.birth_date = person.birth_date.isoformat()
        for p in {q.key: q for q in reversed(result.patients)}.values():  # once per key, first one wins
            store.link_identity(s, user_id, p)
        counts = store.upsert(s, result.records)
        if prepared.plan is not None:  # something changed: the same links shown_records() assumed
            links = store.relink(s, user_id, window_minutes)
        else:
            links = store.link_counts(user_id, s)
        report.merged, report.conflicts = links["duplicate"], links["conflict"]
        store.cache_vectors(user_id, prepared.fresh, s)
        if prepared.plan is not None:
            store.mark_index_pending(s, user_id)
        report.new, report.updated, report.unchanged = counts["new"], counts["updated"], counts["unchanged"]
        if counts["duplicate in export"]:
            report.warnings.append(f"{counts['duplicate in export']} duplicate resources counted once")
        s.add(IngestRow(user_id=user_id, at=datetime.now(UTC), report=report.model_dump_json()))
        say("committing", 0, 0)
    return counts


def write_index(vectors: VectorIndex, prepared: Prepared, say: Progress) -> SyncStats:
    """Apply the precomputed index change: upsert changed chunks, then delete stale ones."""
    plan = prepared.plan
    stats = SyncStats(chunks=prepared.chunks, embedded=prepared.embedded)
    if plan is None:
        stats.unchanged = prepared.chunks
        return stats
    stats.unchanged = prepared.chunks - len(plan.changed)
    say("indexing", 0, len(plan.changed))
    vectors.apply(prepared.user_id, IndexPlan(plan.changed, []), prepared.vectors, stats)
    say("pruning", 0, len(plan.stale))
    vectors.apply(prepared.user_id, IndexPlan([], plan.stale), [])
    stats.deleted = len(plan.stale)
    return stats
