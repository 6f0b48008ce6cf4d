"""The record store: the source of truth. SQLite (WAL) by default, any SQLAlchemy URL when configured."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, delete, event, func, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from healthcoach.errors import NotFound, StoreDamaged
from healthcoach.records.base import PatientInfo
from healthcoach.records.models import STORE_FIELDS, Category, Record
from healthcoach.store import links
from healthcoach.store.schema import (
    Base,
    ConsentEventRow,
    EmbeddingRow,
    IdentityRow,
    IndexOutboxRow,
    RecordCodeRow,
    RecordLinkRow,
    RecordRow,
    UserRow,
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros at once, not left in free pages until a VACUUM.
        cur.execute("PRAGMA secure_delete=ON")
        # A writer waits for another writer's (short) transaction instead of failing "database is locked".
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cur.close()


BUSY_TIMEOUT_S = 30


class RecordStore:
    """Typed access to users and records. Every query takes the user id; no query spans users."""

    def __init__(self, url: str) -> None:
        self.path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        if self.path:
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error or a debug log line shows the SQL but never its values (names, birth
        # dates, record text).
        connect_args = {"timeout": BUSY_TIMEOUT_S} if url.startswith("sqlite") else {}
        self.engine = create_engine(url, future=True, hide_parameters=True, connect_args=connect_args)
        with self._damage_guard():
            Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._damage_guard(), self._sessions.begin() as s:
            yield s

    @contextmanager
    def _damage_guard(self) -> Iterator[None]:
        """A damaged SQLite file becomes one StoreDamaged error naming the file (not a driver traceback)."""
        try:
            yield
        except SQLAlchemyDatabaseError as exc:
            # Exactly sqlite3.DatabaseError ("file is not a database", "database disk image is malformed");
            # its subclass OperationalError ("database is locked", a full disk) is a different problem.
            if self.path is None or type(exc.orig) is not sqlite3.DatabaseError:
                raise
            raise StoreDamaged(str(Path(self.path).expanduser()), str(exc.orig)) from None

    # users -----------------------------------------------------------------------------------
    def ensure_user(self, user_id: str, s: Session | None = None) -> UserRow:
        """Get or create a user row."""
        with self._maybe(s) as ss:
            row = ss.get(UserRow, user_id)
            if row is None:
                row = UserRow(id=user_id, created_at=datetime.now(UTC))
                ss.add(row)
                ss.flush()
            return row

    def get_user(self, user_id: str) -> UserRow:
        """A user, or NotFound."""
        with self.session() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"no user named {user_id!r}")
            return row

    def set_consent(self, user_id: str, *, records: bool | None = None, remote_llm: bool | None = None) -> UserRow:
        """Change consent flags; each change is recorded with its time."""
        with self.session() as s:
            user = self.ensure_user(user_id, s)
            for flag, value in (("use_records_in_chat", records), ("remote_llm", remote_llm)):
                if value is not None and getattr(user, flag) != value:
                    setattr(user, flag, value)
                    s.add(ConsentEventRow(user_id=user_id, at=datetime.now(UTC), flag=flag, value=value))
            return user

    def users(self) -> list[UserRow]:
        """All users, by name."""
        with self.session() as s:
            return list(s.scalars(select(UserRow).order_by(UserRow.id)))

    def user_ids(self) -> set[str]:
        """Every user id with a profile."""
        with self.session() as s:
            return set(s.scalars(select(UserRow.id)))

    # index outbox ----------------------------------------------------------------------------
    def mark_index_pending(self, s: Session, user_id: str) -> None:
        """Note (in the caller's transaction) that the user's vector index must be re-synced."""
        if s.get(IndexOutboxRow, user_id) is None:
            s.add(IndexOutboxRow(user_id=user_id, since=datetime.now(UTC)))

    def index_pending(self, user_id: str | None = None) -> list[str]:
        """Users whose vector index may differ from their records (all, or whether this one does)."""
        stmt = select(IndexOutboxRow.user_id).order_by(IndexOutboxRow.since)
        if user_id is not None:
            stmt = stmt.where(IndexOutboxRow.user_id == user_id)
        with self.session() as s:
            return list(s.scalars(stmt))

    def clear_index_pending(self, user_id: str) -> None:
        """The user's vector index matches the record store again."""
        with self.session() as s:
            s.execute(delete(IndexOutboxRow).where(IndexOutboxRow.user_id == user_id))

    def record_counts(self, user_id: str) -> Counter[str]:
        """Records per category, one per fact (a duplicate from a second source is not counted again)."""
        with self.session() as s:
            rows = s.execute(
                select(RecordRow.category, func.count())
                .where(RecordRow.user_id == user_id, RecordRow.id.not_in(links.hidden_ids(user_id)))
                .group_by(RecordRow.category)
            )
            return Counter({cat: n for cat, n in rows})

    # identities ------------------------------------------------------------------------------
    def identities(self, user_id: str) -> list[PatientInfo]:
        """The patient identities accepted into a profile (the first from the profile row itself)."""
        with self.session() as s:
            user = s.get(UserRow, user_id)
            rows = list(s.scalars(select(IdentityRow).where(IdentityRow.user_id == user_id).order_by(IdentityRow.at)))
        out = [PatientInfo(key=r.key, name=r.name, birth_date=_date(r.birth_date), issuer=r.issuer) for r in rows]
        if user is not None and user.patient_key and user.patient_key not in {p.key for p in out}:
            out.insert(0, PatientInfo(key=user.patient_key, name=user.patient_name, birth_date=_date(user.birth_date)))
        return out

    def link_identity(self, s: Session, user_id: str, p: PatientInfo) -> None:
        """Remember one more name for this profile's person (in the ingest's transaction)."""
        if s.get(IdentityRow, (user_id, p.key)) is None:
            s.add(IdentityRow(user_id=user_id, key=p.key, issuer=p.issuer, name=p.name,
                              birth_date=p.birth_date.isoformat() if p.birth_date else None, at=datetime.now(UTC)))

    # records ---------------------------------------------------------------------------------
    def upsert(self, s: Session, records: Iterable[Record]) -> Counter[str]:
        """Insert new records, replace changed ones (by stable id); returns counts new/updated/unchanged."""
        counts: Counter[str] = Counter()
        batch = list(records)
        existing: dict[str, str] = {}
        ids = [r.id for r in batch]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            existing.update(s.execute(select(RecordRow.id, RecordRow.content_hash).where(RecordRow.id.in_(chunk))).tuples().all())
        seen: set[str] = set()
        rows: list[dict[str, Any]] = []
        code_rows: list[dict[str, Any]] = []
        replaced: list[str] = []
        for rec in batch:
            if rec.id in seen:
                counts["duplicate in export"] += 1
                continue
            seen.add(rec.id)
            old = existing.get(rec.id)
            if old == rec.content_hash:
                counts["unchanged"] += 1
                continue
            if old is not None:
                replaced.append(rec.id)
                counts["updated"] += 1
            else:
                counts["new"] += 1
            rows.append(_row(rec))
            code_rows.extend(
                {"record_id": rec.id, "code_key": k, "user_id": rec.user_id} for k in dict.fromkeys(rec.code_keys())
            )
        for i in range(0, len(replaced), 500):
            s.execute(delete(RecordCodeRow).where(RecordCodeRow.record_id.in_(replaced[i : i + 500])))
            s.execute(delete(RecordRow).where(RecordRow.id.in_(replaced[i : i + 500])))
        if rows:
            s.execute(insert(RecordRow), rows)
        if code_rows:
            s.execute(insert(RecordCodeRow), code_rows)
        s.flush()
        return counts

    def query(
        self,
        user_id: str,
        *,
        categories: Sequence[Category | str] | None = None,
        code_keys: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        resource_types: Sequence[str] | None = None,
        label_terms: Sequence[str] | None = None,
        limit: int | None = None,
        include_duplicates: bool = False,
        s: Session | None = None,
    ) -> list[Record]:
        """Records of one user, newest clinical date first (undated last), complete unless limit is given.
        One record per fact: another source's duplicate is folded into the shown record's `sources`.

        `label_terms`: only records whose label contains one of these words (case-insensitive)."""
        stmt = select(RecordRow.body).where(RecordRow.user_id == user_id)
        if not include_duplicates:
            stmt = stmt.where(RecordRow.id.not_in(links.hidden_ids(user_id)))
        if categories:
            stmt = stmt.where(RecordRow.category.in_([str(c) for c in categories]))
        if code_keys is not None:
            keys = list(code_keys)
            sub = select(RecordCodeRow.record_id).where(
                RecordCodeRow.user_id == user_id, RecordCodeRow.code_key.in_(keys)
            )
            stmt = stmt.where(RecordRow.id.in_(sub))
        if since is not None:
            stmt = stmt.where(RecordRow.start >= since.astimezone(UTC))
        if until is not None:
            stmt = stmt.where(RecordRow.start < until.astimezone(UTC))
        if resource_types:
            stmt = stmt.where(RecordRow.resource_type.in_(list(resource_types)))
        if label_terms:
            stmt = stmt.where(or_(*[func.lower(RecordRow.label).contains(t.lower(), autoescape=True)
                                    for t in label_terms]))
        # Ties (one visit's results) by label: the same records read in the same order for any user.
        stmt = stmt.order_by(RecordRow.start.is_(None), RecordRow.start.desc(), RecordRow.label, RecordRow.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._maybe(s) as ss:
            return links.attach(ss, user_id, [Record.model_validate_json(body) for body in ss.scalars(stmt)])

    def get_records(self, user_id: str, ids: Sequence[str]) -> dict[str, Record]:
        """Records by id (only this user's)."""
        if not ids:
            return {}
        with self.session() as s:
            rows = s.scalars(select(RecordRow.body).where(RecordRow.user_id == user_id, RecordRow.id.in_(list(ids))))
            recs = links.attach(s, user_id, [Record.model_validate_json(b) for b in rows])
        return {r.id: r for r in recs}

    def relink(self, s: Session, user_id: str, window_minutes: int) -> dict[str, int]:
        """Rebuild the user's duplicate and conflict links (after an ingest or a disconnect)."""
        return links.relink(s, user_id, timedelta(minutes=window_minutes))

    def link_counts(self, user_id: str, s: Session | None = None) -> dict[str, int]:
        """{'duplicate': n, 'conflict': m} as last computed."""
        with self._maybe(s) as ss:
            rows = ss.execute(select(RecordLinkRow.kind, func.count()).where(RecordLinkRow.user_id == user_id)
                              .group_by(RecordLinkRow.kind))
            return {"duplicate": 0, "conflict": 0, **{k: n for k, n in rows}}

    def duplicates(self, user_id: str) -> list[tuple[str, Record, Record, str]]:
        """(kind, shown record, other record, why) for every merge and conflict of a user."""
        with self.session() as s:
            rows = links.link_rows(s, user_id)
            ids = list({i for r in rows for i in (r.record_id, r.other_id)})
            bodies = {}
            for i in range(0, len(ids), 500):
                bodies.update({r.id: r for r in (Record.model_validate_json(b) for b in s.scalars(
                    select(RecordRow.body).where(RecordRow.id.in_(ids[i:i + 500]))))})
            return [(r.kind, bodies[r.other_id], bodies[r.record_id], r.reason) for r in rows]

    def resource_type_counts(self, user_id: str) -> Counter[str]:
        """Records per source resource type (to reconcile with an export's own counts)."""
        with self.session() as s:
            rows = s.execute(select(RecordRow.resource_type, func.count()).where(RecordRow.user_id == user_id)
                             .group_by(RecordRow.resource_type))
            return Counter({t: n for t, n in rows})

    def snapshot(self, user_id: str) -> dict[str, str]:
        """id → content hash of every record of a user (to prove a failed ingest changed nothing)."""
        with self.session() as s:
            return dict(s.execute(select(RecordRow.id, RecordRow.content_hash).where(RecordRow.user_id == user_id)).tuples().all())

    def sources(self, user_id: str) -> list[tuple[str, str | None, int]]:
        """(kind, file, record count) per source of a user."""
        with self.session() as s:
            rows = s.execute(
                select(RecordRow.source_kind, RecordRow.source_file, func.count())
                .where(RecordRow.user_id == user_id)
                .group_by(RecordRow.source_kind, RecordRow.source_file)
            )
            return [(k, f, n) for k, f, n in rows]

    # embedding cache -------------------------------------------------------------------------
    def cached_vectors(self, user_id: str, hashes: Sequence[str], s: Session | None = None) -> dict[str, np.ndarray]:
        """Cached embeddings by text hash."""
        out: dict[str, np.ndarray] = {}
        with self._maybe(s) as s:
            for i in range(0, len(hashes), 500):
                rows = s.execute(
                    select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                        EmbeddingRow.user_id == user_id, EmbeddingRow.text_hash.in_(list(hashes[i : i + 500]))
                    )
                )
                for h, blob in rows:
                    out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def cache_vectors(self, user_id: str, vectors: dict[str, np.ndarray], s: Session | None = None) -> None:
        """Store embeddings by text hash (in the caller's transaction when given)."""
        if not vectors:
            return
        rows = [
            {"user_id": user_id, "text_hash": h, "vector": np.asarray(v, np.float32).tobytes()}
            for h, v in vectors.items()
        ]
        with self._maybe(s) as s:
            known = set(self.cached_vectors(user_id, list(vectors), s))
            fresh = [r for r in rows if r["text_hash"] not in known]
            if fresh:
                s.execute(insert(EmbeddingRow), fresh)

    @contextmanager
    def _maybe(self, s: Session | None) -> Iterator[Session]:
        if s is not None:
            yield s
        else:
            with self.session() as ss:
                yield ss


def _row(rec: Record) -> dict[str, Any]:
    return {
        "id": rec.id,
        "user_id": rec.user_id,
        "category": str(rec.category),
        "resource_type": rec.source.resource_type,
        "label": rec.label,
        "start": rec.start.astimezone(UTC) if rec.start else None,
        "source_kind": rec.source.kind,
        "source_file": rec.source.file,
        "content_hash": rec.content_hash,
        "body": rec.model_dump_json(exclude=set(STORE_FIELDS)),
    }


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
