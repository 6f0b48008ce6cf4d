"""Ingest: parse → check → embed → write SQL → write index → reconcile (the stages are in stages.py).

All or nothing for the record store: a failure before the one short write transaction commits stores
nothing. The vector index is derived: it is written after the records, and a crash or an error while
writing it is repaired from the record store (reconcile.py) at the next start or ingest. One ingest per
user at a time (locks.py): a second one for the same user is refused with Conflict (409).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthcoach.errors import NotFound
from healthcoach.ingest import stages
from healthcoach.ingest.flags import flag_instructions
from healthcoach.ingest.locks import UserLocks
from healthcoach.ingest.reconcile import IndexRepair
from healthcoach.ingest.report import IngestReport
from healthcoach.ingest.sources import load_any
from healthcoach.ingest.stages import Prepared, Progress
from healthcoach.ingest.whose import check_person
from healthcoach.records.base import AdapterResult
from healthcoach.records.limits import ReadBudget
from healthcoach.records.models import Record
from healthcoach.settings import IngestSettings
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import UserRow
from healthcoach.store.vectors import VectorIndex

__all__ = ["IngestReport", "Ingestor", "Progress"]
log = logging.getLogger(__name__)


class Ingestor:
    """Runs ingests for one record store and vector index."""

    def __init__(self, store: RecordStore, vectors: VectorIndex, settings: IngestSettings | None = None,
                 today: Callable[[], datetime] = lambda: datetime.now(UTC), *, locks: UserLocks) -> None:
        self.store, self.vectors = store, vectors
        self.settings = settings or IngestSettings()
        self.today = today
        self.locks = locks
        self.repair = IndexRepair(store, vectors, locks)

    def load(self, user_id: str, paths: Sequence[Path | str], person_id: int | None = None
             ) -> tuple[AdapterResult, list[str]]:
        """Parse every path (or OMOP database URL) into records (nothing is stored); raises IngestError naming
        the file and the reason. `person_id` chooses one person of an OMOP CDM."""
        result, names = AdapterResult(), []
        known = self.store.snapshot(user_id)
        budget = ReadBudget(self.settings.max_total_bytes, self.settings.max_zip_entries, self.settings.max_file_bytes)
        for path in paths:
            part, files = load_any(path, user_id, budget, known=known, person_id=person_id,
                                   max_depth=self.settings.max_json_depth)
            result.extend(part)
            names.extend(files)
        return result, names

    def ingest(self, user_id: str, paths: Sequence[Path | str], progress: Progress | None = None,
               person_id: int | None = None) -> IngestReport:
        """Ingest exports for one user; all or nothing for the records (Conflict if one is running).
        `person_id` chooses one person of an OMOP CDM."""
        t0 = time.perf_counter()
        say = progress or (lambda stage, done, total: None)
        with self.locks.hold(user_id):
            say("reading", 0, len(paths))
            result, names = self.load(user_id, paths, person_id)
            return self._store(user_id, result, names, t0, say)

    def add_records(self, user_id: str, records: Sequence[Record]) -> IngestReport:
        """Store records made here (manual entries) through the same stages."""
        result = AdapterResult(records=list(records))
        for r in records:
            result.resources_seen[r.source.resource_type] += 1
        with self.locks.hold(user_id, wait_s=30):  # a quick manual entry waits for a running ingest
            return self._store(user_id, result, [], time.perf_counter(), lambda *_: None)

    def store_result(self, user_id: str, result: AdapterResult, names: list[str], t0: float,
                     say: Progress) -> IngestReport:
        """Check, embed, store and index an already parsed result (takes the user's lock)."""
        with self.locks.hold(user_id):
            return self._store(user_id, result, names, t0, say)

    def _store(self, user_id: str, result: AdapterResult, names: list[str], t0: float,
               say: Progress) -> IngestReport:
        say("checking", 0, len(result.records))
        check_person(result, self._user(user_id), self.store.identities(user_id), self.settings.min_age,
                     self.today().date())
        result.records, flagged = flag_instructions(result.records)
        prepared = Prepared(user_id, result, names, flagged)
        window = timedelta(minutes=self.settings.dedupe_window_minutes)
        stages.embed(self.store, self.vectors, self.vectors.embedder, prepared, say, window)
        report = self._report(prepared, t0)
        stages.write_sql(self.store, prepared, report, say, self.settings.dedupe_window_minutes)
        try:
            stats = stages.write_index(self.vectors, prepared, say)
        except Exception:
            # The records are stored; the index is derived and the outbox row says it must be re-synced.
            log.exception("vector index write failed after the records were stored; repairing from the store")
            report.warnings.append("the search index could not be updated now; it is repaired from your "
                                   "records at the next start or import (or run `healthcoach index rebuild`)")
        else:
            report.vectors_upserted, report.vectors_deleted = stats.upserted, stats.deleted
            say("reconciling", 0, 0)
            self.store.clear_index_pending(user_id)
        self.repair.pending(skip={user_id})  # anything a crash left behind, for any other user
        report.seconds = round(time.perf_counter() - t0, 3)
        say("done", report.chunks, report.chunks)
        log.info("ingest for a user: %d records (%d new), %d chunks, %.2fs",
                 report.total_records, report.new, report.chunks, report.seconds)
        return report

    def _report(self, p: Prepared, t0: float) -> IngestReport:
        warnings = list(p.result.warnings)
        if p.flagged:
            warnings.append(f"{p.flagged} record(s) contain text that reads like instructions (to the coach "
                            "or to change a treatment); the coach only quotes such text as the record's words")
        return IngestReport(
            user_id=p.user_id, files=p.names,
            records_by_category=dict(Counter(str(r.category) for r in p.result.records)),
            resources_seen=dict(p.result.resources_seen), skipped=dict(p.result.skipped),
            chunks=p.chunks, embedded=p.embedded,
            vectors_upserted=len(p.plan.changed) if p.plan else 0,
            vectors_deleted=len(p.plan.stale) if p.plan else 0,
            instruction_like=p.flagged, warnings=warnings, seconds=round(time.perf_counter() - t0, 3))

    def _user(self, user_id: str) -> UserRow | None:
        try:
            return self.store.get_user(user_id)
        except NotFound:
            return None
