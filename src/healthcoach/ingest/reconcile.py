"""Keep the vector index equal to the record store: the outbox repair, orphan removal, check and rebuild.

The record store is the source of truth; the index is derived. An ingest writes the records with an
outbox row, then the index, then clears the row. `pending()` runs at every start and after every ingest:
it re-syncs each user whose row is still there (a crash, or an index error) and drops the collections of
users who have no profile (a crash before a first import's records committed, in older versions; or a
delete interrupted after its records went). `check()` and `rebuild()` (`healthcoach index check|rebuild`)
compare every chunk with what the records say and repair what differs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import BaseModel, Field

from healthcoach.errors import Conflict, NotFound
from healthcoach.ingest.chunking import build_chunks
from healthcoach.ingest.locks import UserLocks
from healthcoach.store.compact import collection_segments, compact_chroma
from healthcoach.store.records import RecordStore
from healthcoach.store.vectors import VectorIndex, collection_name

log = logging.getLogger(__name__)


class UserDrift(BaseModel):
    """How one user's collection differs from their records, in chunks."""

    chunks: int = Field(description="Chunks the records make.")
    missing: int = Field(0, description="Chunks not in the index.")
    changed: int = Field(0, description="Chunks whose indexed text is out of date.")
    stale: int = Field(0, description="Indexed chunks no record makes any more.")
    pending: bool = Field(False, description="An index update was interrupted (outbox row present).")

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.stale or self.pending)


class IndexReport(BaseModel):
    """What `index check` found (and `index rebuild` repaired)."""

    users: dict[str, UserDrift] = Field(default_factory=dict)
    orphan_collections: int = Field(0, description="Collections of users with no profile.")
    orphan_chunks: int = Field(0, description="Chunks in those collections.")
    repaired: bool = False
    skipped_busy: list[str] = Field(default_factory=list, description="Users skipped: an ingest was running.")

    @property
    def ok(self) -> bool:
        return not self.orphan_collections and all(d.ok for d in self.users.values())


class IndexRepair:
    """Reconciles the vector index with the record store (each user under their lock)."""

    def __init__(self, store: RecordStore, vectors: VectorIndex, locks: UserLocks) -> None:
        self.store, self.vectors, self.locks = store, vectors, locks

    def pending(self, skip: Iterable[str] = ()) -> IndexReport:
        """Finish interrupted index updates and drop collections of unknown users (at start, after ingests)."""
        report = IndexReport(repaired=True)
        for user_id in self.store.index_pending():
            if user_id in set(skip):
                continue
            try:
                with self.locks.hold(user_id):
                    report.users[user_id] = self._resync(user_id)
            except Conflict:
                report.skipped_busy.append(user_id)  # its running ingest finishes the job
        report.orphan_collections, report.orphan_chunks = self._drop_orphans(repair=True)
        if report.users or report.orphan_collections:
            log.warning("index repair: re-synced %d user(s), dropped %d orphan collection(s) (%d chunks)",
                        len(report.users), report.orphan_collections, report.orphan_chunks)
        return report

    def check(self, user_id: str | None = None) -> IndexReport:
        """Compare the index with the records (one user, or all and orphans); changes nothing."""
        report = IndexReport()
        for uid in self._users(user_id):
            report.users[uid] = self._drift(uid)
        if user_id is None:
            report.orphan_collections, report.orphan_chunks = self._drop_orphans(repair=False)
        return report

    def rebuild(self, user_id: str | None = None) -> IndexReport:
        """Rebuild collections from the records (vectors from the cache) and drop orphans; returns the
        drift found before the rebuild."""
        report = self.check(user_id)
        report.repaired = True
        for uid in report.users:
            try:
                with self.locks.hold(uid, wait_s=60):
                    self._rebuild(uid)
            except Conflict:
                report.skipped_busy.append(uid)
        if user_id is None:
            self._drop_orphans(repair=True)
        return report

    # ------------------------------------------------------------------------------------------
    def _users(self, user_id: str | None) -> list[str]:
        if user_id is None:
            return sorted(self.store.user_ids())
        self.store.get_user(user_id)  # NotFound for an unknown user
        return [user_id]

    def _drift(self, user_id: str) -> UserDrift:
        chunks = build_chunks(user_id, self.store.query(user_id))
        plan = self.vectors.plan(user_id, chunks)
        indexed = set(self.vectors.texts(user_id)[0]) if plan.changed else set()
        missing = sum(1 for c in plan.changed if c.id not in indexed)
        return UserDrift(chunks=len(chunks), missing=missing, changed=len(plan.changed) - missing,
                         stale=len(plan.stale), pending=bool(self.store.index_pending(user_id)))

    def _resync(self, user_id: str) -> UserDrift:
        drift = self._drift(user_id)
        self.vectors.sync(user_id, build_chunks(user_id, self.store.query(user_id)))
        self.store.clear_index_pending(user_id)
        return drift

    def _rebuild(self, user_id: str) -> None:
        """Drop and re-create the collection: also purges what Chroma keeps of deleted chunks."""
        name = collection_name(user_id)
        cid = self.vectors.collection_id(name)
        segments = collection_segments(self.vectors.path, cid) if cid else []
        self.vectors.drop(name)
        compact_chroma(self.vectors.path, segments)
        self.vectors.sync(user_id, build_chunks(user_id, self.store.query(user_id)))
        self.store.clear_index_pending(user_id)

    def _drop_orphans(self, repair: bool) -> tuple[int, int]:
        """(collections, chunks) of users with no profile; dropped (and compacted away) when repair is set.

        Empty collections are left alone: a question from someone without a profile opens one, and it holds
        nothing."""
        known = {collection_name(u) for u in self.store.user_ids()}
        sizes = {name: self.vectors.size(name) for name in self.vectors.collections() if name not in known}
        orphans = {name: n for name, n in sizes.items() if n}
        if repair and orphans:
            segments = []
            for name in orphans:
                cid = self.vectors.collection_id(name)
                segments += collection_segments(self.vectors.path, cid) if cid else []
                self.vectors.drop(name)
            compact_chroma(self.vectors.path, segments)
        return len(orphans), sum(orphans.values())


def drop_user_orphans(vectors: VectorIndex, user_id: str) -> int:
    """Drop the collection of a user who has no profile (chunks removed); NotFound when there is none."""
    name = collection_name(user_id)
    cid = vectors.collection_id(name)
    if cid is None:
        raise NotFound(f"no user named {user_id!r}")
    count = vectors.size(name)
    segments = collection_segments(vectors.path, cid)
    vectors.drop(name)
    compact_chroma(vectors.path, segments)
    return count
