"""Ingest: load → check whose records → store (one transaction) → chunk → embed → index.

A failed ingest leaves the record store exactly as it was, and the vector index is re-synced to it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from healthcoach.errors import Forbidden, IngestError, NotFound
from healthcoach.ingest.chunking import build_chunks
from healthcoach.ingest.sources import load_any
from healthcoach.records.base import AdapterResult, PatientInfo
from healthcoach.records.fhir import birth_date_age
from healthcoach.records.models import Record
from healthcoach.settings import IngestSettings
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import IngestRow
from healthcoach.store.vectors import SyncStats, VectorIndex
from healthcoach.user_names import check_user_name

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IngestReport(BaseModel):
    """What an ingest did, in counts (no record content)."""

    user_id: str
    files: list[str] = Field(description="Files read.")
    records_by_category: dict[str, int] = Field(description="Records in this ingest, by category.")
    resources_seen: dict[str, int] = Field(description="Source resources read, by type.")
    skipped: dict[str, int] = Field(description="Items not stored, by reason.")
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = Field(0, description="Chunks encoded in this ingest (the rest came from the cache).")
    vectors_upserted: int = 0
    vectors_deleted: int = 0
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_records(self) -> int:
        return sum(self.records_by_category.values())


class Ingestor:
    """Runs ingests for one record store and vector index."""

    def __init__(self, store: RecordStore, vectors: VectorIndex, settings: IngestSettings | None = None,
                 today: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.vectors = store, vectors
        self.settings = settings or IngestSettings()
        self.today = today

    def load(self, user_id: str, paths: Sequence[Path], say: Progress | None = None
             ) -> tuple[AdapterResult, list[str]]:
        """Parse every path into records (nothing is stored); raises IngestError naming file and reason."""
        result, names = AdapterResult(), []
        known = self.store.snapshot(user_id)
        for n, path in enumerate(paths):
            if say is not None:
                say(f"reading {Path(path).name}", n, len(paths))
            part, files = load_any(Path(path), user_id, self.settings.max_file_bytes, known=known)
            result.extend(part)
            names.extend(files)
        return result, names

    def ingest(self, user_id: str, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest exports for one user; all or nothing."""
        t0 = time.perf_counter()
        say = progress or (lambda stage, done, total: None)
        check_user_name(user_id)  # before a long parse, not after it
        say("reading", 0, len(paths))
        result, names = self.load(user_id, paths, say)
        return self.store_result(user_id, result, names, t0, say)

    def add_records(self, user_id: str, records: Sequence[Record]) -> IngestReport:
        """Store records made here (manual entries) through the same transaction and indexing path."""
        result = AdapterResult(records=list(records))
        for r in records:
            result.resources_seen[r.source.resource_type] += 1
        return self.store_result(user_id, result, [], time.perf_counter(), lambda *_: None)

    def store_result(self, user_id: str, result: AdapterResult, names: list[str], t0: float,
                     say: Progress) -> IngestReport:
        """Check whose records these are, then store and index them in one transaction."""
        self._check_person(user_id, result.patients)
        say("storing", 0, len(result.records))
        with self.store.session() as s:
            user = self.store.ensure_user(user_id, s)
            if result.patients:
                p = result.patients[0]
                user.patient_key = user.patient_key or p.key
                user.patient_name = user.patient_name or p.name
                if p.birth_date and not user.birth_date:
                    user.birth_date = p.birth_date.isoformat()
            counts = self.store.upsert(s, result.records)
            indexed = self.vectors.count(user_id)
            try:
                if counts["new"] == counts["updated"] == 0 and indexed:
                    # Nothing changed, and the index was synced in the same transaction as the records
                    # last time: re-syncing an unchanged export is a no-op.
                    stats, chunks = SyncStats(chunks=indexed, unchanged=indexed), []
                else:
                    chunks = build_chunks(user_id, self.store.query(user_id, s=s))
                    say("indexing", 0, len(chunks))
                    stats = self.vectors.sync(user_id, chunks, s,
                                              progress=lambda done, total: say("embedding", done, total))
            except Exception:
                log.exception("vector sync failed for an ingest; restoring the index from the record store")
                s.rollback()
                self._resync(user_id)
                raise
            report = IngestReport(
                user_id=user_id,
                files=names,
                records_by_category=dict(Counter(str(r.category) for r in result.records)),
                resources_seen=dict(result.resources_seen),
                skipped=dict(result.skipped),
                new=counts["new"],
                updated=counts["updated"],
                unchanged=counts["unchanged"],
                chunks=stats.chunks,
                embedded=stats.embedded,
                vectors_upserted=stats.upserted,
                vectors_deleted=stats.deleted,
                warnings=result.warnings + ([f"{counts['duplicate in export']} duplicate resources counted once"]
                                            if counts["duplicate in export"] else []),
                seconds=round(time.perf_counter() - t0, 3),
            )
            s.add(IngestRow(user_id=user_id, at=datetime.now(UTC), report=report.model_dump_json()))
        say("done", stats.chunks, stats.chunks)
        log.info("ingest for a user: %d records (%d new), %d chunks, %.2fs",
                 report.total_records, report.new, report.chunks, report.seconds)
        return report

    def _check_person(self, user_id: str, patients: list[PatientInfo]) -> None:
        """Own records only, adults only, one person per profile."""
        keys = {p.key for p in patients}
        if len(keys) > 1:
            raise IngestError(
                f"these files describe {len(keys)} different people; a profile holds one person's own records"
            )
        if not patients:
            return
        p = next((q for q in patients if q.birth_date is not None), patients[0])  # the one that says the age
        if p.birth_date is not None:
            age = birth_date_age(p.birth_date, self.today().date())
            if age < self.settings.min_age:
                raise Forbidden(
                    f"these records belong to someone under {self.settings.min_age}; healthcoach only accepts "
                    "an adult's own records (nothing was stored)"
                )
        try:
            user = self.store.get_user(user_id)
        except NotFound:
            return
        if user.patient_key and user.patient_key != p.key:
            raise Forbidden(
                "these records are for a different person than the ones already in this profile "
                "(nothing was stored); create a separate user for them"
            )
        if user.birth_date and p.birth_date and user.birth_date != p.birth_date.isoformat():
            raise Forbidden("the birth date in these records differs from this profile's (nothing was stored)")

    def _resync(self, user_id: str) -> None:
        self.vectors.sync(user_id, build_chunks(user_id, self.store.query(user_id)))
