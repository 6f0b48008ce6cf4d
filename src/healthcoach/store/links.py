"""Duplicates in the record store: rebuild the links after a change, hide duplicates from reads, and give
each shown record its sources and conflicts. Every source's own record stays stored (so removing one source
removes only what no other source backs); reads show one record per fact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, insert, or_, select
from sqlalchemy.orm import Session

from healthcoach.records.dedupe import KIND_RANK, describe_links, find_links
from healthcoach.records.models import Category, Record, Source
from healthcoach.store.schema import RecordLinkRow, RecordRow

BATCH = 500


def hidden_ids(user_id: str) -> Select[Any]:
    """Ids of a user's records shown through another source's record (a sub-select for queries)."""
    return select(RecordLinkRow.record_id).where(RecordLinkRow.user_id == user_id, RecordLinkRow.kind == "duplicate")


def relink(s: Session, user_id: str, window: timedelta) -> dict[str, int]:
    """Recompute a user's duplicate and conflict links from all their records (in the caller's transaction)."""
    bodies = s.scalars(select(RecordRow.body).where(RecordRow.user_id == user_id,
                                                    RecordRow.category != str(Category.wearable)))
    records = [Record.model_validate_json(b) for b in bodies]
    links = find_links(records, window)
    by_id = {r.id: r for r in records}
    s.execute(delete(RecordLinkRow).where(RecordLinkRow.user_id == user_id))
    rows = [{"record_id": link.record_id, "other_id": link.other_id, "user_id": user_id, "kind": link.kind,
             "reason": link.reason, "source": by_id[link.record_id].source.model_dump_json()} for link in links]
    for i in range(0, len(rows), BATCH):
        s.execute(insert(RecordLinkRow), rows[i:i + BATCH])
    return describe_links(links)


def _rows(s: Session, user_id: str, ids: Sequence[str]) -> list[RecordLinkRow]:
    base = select(RecordLinkRow).where(RecordLinkRow.user_id == user_id)
    if len(ids) > BATCH:  # a big read (the whole record set): one query for all of the user's links
        return list(s.scalars(base))
    return list(s.scalars(base.where(or_(RecordLinkRow.other_id.in_(list(ids)), RecordLinkRow.record_id.in_(list(ids))))))


def attach(s: Session, user_id: str, records: list[Record]) -> list[Record]:
    """Records with `sources` (when another source states the same fact) and `conflicts` filled in."""
    if not records:
        return records
    rows = _rows(s, user_id, [r.id for r in records])
    if not rows:
        return records
    return _fold(records, [(row.kind, row.record_id, row.other_id, Source.model_validate_json(row.source))
                           for row in rows])


def shown_records(records: Sequence[Record], window: timedelta) -> list[Record]:
    """What reads will show once `relink` has run over exactly these records (all of a user's, duplicates
    included): each duplicate folded into its shown record. Pure: the ingest computes the index from it
    before its write transaction."""
    clean = [r.model_copy(update={"sources": (), "conflicts": ()}) if (r.sources or r.conflicts) else r
             for r in records]
    found = find_links([r for r in clean if r.category != Category.wearable], window)
    by_id = {r.id: r for r in clean}
    hidden = {link.record_id for link in found if link.kind == "duplicate"}
    folded = _fold(clean, [(link.kind, link.record_id, link.other_id, by_id[link.record_id].source)
                           for link in found])
    return [r for r in folded if r.id not in hidden]


def _fold(records: list[Record], links: Sequence[tuple[str, str, str, Source]]) -> list[Record]:
    """Fill `sources` and `conflicts` from (kind, record id, shown id, record's source) links."""
    dup: dict[str, list[Source]] = defaultdict(list)
    conflicts: dict[str, list[str]] = defaultdict(list)
    for kind, record_id, other_id, source in links:
        if kind == "duplicate":
            dup[other_id].append(source)
        else:
            conflicts[record_id].append(other_id)
            conflicts[other_id].append(record_id)
    out = []
    for rec in records:
        if rec.id in dup or rec.id in conflicts:
            others = sorted(dup.get(rec.id, []), key=lambda src: (KIND_RANK.get(src.kind, 9), src.file or ""))
            rec = rec.model_copy(update={"sources": (rec.source, *others) if others else (),
                                         "conflicts": tuple(sorted(set(conflicts.get(rec.id, []))))})
        out.append(rec)
    return out


def link_rows(s: Session, user_id: str) -> list[RecordLinkRow]:
    """Every link of a user (for `records --duplicates` and disconnect accounting)."""
    return list(s.scalars(select(RecordLinkRow).where(RecordLinkRow.user_id == user_id)
                          .order_by(RecordLinkRow.kind, RecordLinkRow.other_id, RecordLinkRow.record_id)))


def still_backed(rows: Sequence[RecordLinkRow], removed: set[str]) -> int:
    """How many of the removed records state a fact that a record of another source still states."""
    group: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.kind == "duplicate":
            group[row.other_id] |= {row.other_id, row.record_id}
    member_of = {m: c for c, members in group.items() for m in members}
    return sum(1 for rid in removed if rid in member_of and group[member_of[rid]] - removed)
