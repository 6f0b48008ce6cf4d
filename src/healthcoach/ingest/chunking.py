"""Records → chunks a person could read: one per record, a series per coded concept, a roll-up per category."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date as Date
from datetime import timedelta

from healthcoach.records.models import CATEGORY_TITLES, Category, Record
from healthcoach.records.render import describe, is_active, primary_code
from healthcoach.store.vectors import Chunk, Meta
from healthcoach.wearables.stats import daily_table, summarize

SERIES_MAX = 20
DOC_PIECE = 900


def _meta(kind: str, category: str, records: Sequence[Record]) -> Meta:
    dated = [r for r in records if r.date]
    newest = max(dated, key=lambda r: (r.date, r.start.timestamp() if r.start else 0.0)) if dated else None
    codes = sorted({k for r in records[:50] for k in r.code_keys()})
    meta: Meta = {
        "kind": kind,
        "category": category,
        "codes": " ".join(codes)[:1000],
        "record_ids": ",".join(r.id for r in records[:SERIES_MAX]),
    }
    if newest and newest.date:
        meta["date"] = newest.date.isoformat()
        meta["ts"] = int(newest.start.timestamp()) if newest.start else 0
    return meta


def _cid(user_id: str, *parts: str) -> str:
    return hashlib.sha256("|".join((user_id, *parts)).encode()).hexdigest()[:24]


def record_chunks(rec: Record) -> list[Chunk]:
    """One chunk per record; a long note is split into pieces, each headed by its date and title."""
    meta = _meta("record", str(rec.category), [rec])
    meta["source"] = rec.source_display()
    if rec.category is Category.document and rec.text:
        head = f"{rec.date.isoformat() if rec.date else ''} {rec.label} (clinical note, {rec.source_display()}): "
        pieces = _split(rec.text, DOC_PIECE)
        return [Chunk(rec.id if i == 0 else f"{rec.id}#{i}", head + p, meta) for i, p in enumerate(pieces)]
    return [Chunk(rec.id, describe(rec), meta)]


def _split(text: str, size: int) -> list[str]:
    paras, out, cur = [p.strip() for p in text.split("\n\n") if p.strip()], [], ""
    for p in paras:
        if cur and len(cur) + len(p) > size:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n{p}".strip()
        while len(cur) > size:
            out.append(cur[:size])
            cur = cur[size:]
    if cur:
        out.append(cur)
    return out or [text[:size]]


def series_chunks(user_id: str, records: Iterable[Record]) -> list[Chunk]:
    """'Hemoglobin A1c history: 5.4 % on 2025-03-22; ...' for every coded concept recorded twice or more."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.category in (Category.lab, Category.vital, Category.immunization, Category.social_history,
                          Category.wearable):
            key = primary_code(r)
            if key:
                groups[key].append(r)
    chunks = []
    for key, recs in sorted(groups.items()):
        if len(recs) < 2:
            continue
        recs.sort(key=lambda r: (r.start is None, r.start), reverse=True)
        shown = recs[:SERIES_MAX]
        items = "; ".join(
            f"{r.value_display() or r.label} on {r.date.isoformat() if r.date else 'unknown date'}" for r in shown
        )
        more = f"; and {len(recs) - len(shown)} earlier" if len(recs) > len(shown) else ""
        text = f"{recs[0].label} history ({len(recs)} records, newest first): {items}{more}."
        chunks.append(Chunk(_cid(user_id, "series", key), text, _meta("series", str(recs[0].category), shown)))
    return chunks


def rollup_chunks(user_id: str, records: Sequence[Record]) -> list[Chunk]:
    """Per-category overviews: active medications, allergies, active conditions, latest labs, recent visits."""
    by_cat: dict[Category, list[Record]] = defaultdict(list)
    for r in records:
        by_cat[r.category].append(r)
    chunks = []
    for cat, recs in sorted(by_cat.items()):
        recs.sort(key=lambda r: (r.start is None, r.start), reverse=True)
        if cat in (Category.medication, Category.condition, Category.allergy):
            chosen = [r for r in recs if is_active(r)]
            title = f"Active {CATEGORY_TITLES[cat].lower()}"
        elif cat in (Category.lab, Category.vital, Category.social_history, Category.immunization):
            latest: dict[str, Record] = {}
            for r in recs:
                latest.setdefault(primary_code(r) or r.label, r)
            chosen = list(latest.values())[:25]
            title = f"Latest {CATEGORY_TITLES[cat].lower()}"
        else:
            chosen = recs[:10]
            title = f"Recent {CATEGORY_TITLES[cat].lower()}"
        if not chosen:
            text = f"{title}: none recorded (of {len(recs)} {CATEGORY_TITLES[cat].lower()} records)."
        else:
            items = "; ".join(
                f"{r.label}{' ' + r.value_display() if r.value_display() and cat not in (Category.document,) else ''}"
                f" ({r.date.isoformat() if r.date else 'undated'})"
                for r in chosen
            )
            text = f"{title} ({len(chosen)} of {len(recs)} records): {items}."
        chunks.append(Chunk(_cid(user_id, "rollup", str(cat)), text[:4000], _meta("rollup", str(cat), chosen or recs)))
    return chunks


def wearable_chunks(user_id: str, records: Sequence[Record]) -> list[Chunk]:
    """Weekly and monthly wearable summaries per metric ('Steps, week of 2025-03-17: average 8432 over
    5 of 7 days with data'); days without data are left out, never counted as zero."""
    chunks: list[Chunk] = []
    table = daily_table(r for r in records if r.category is Category.wearable)
    for metric, days in sorted(table.items()):
        if not days:
            continue
        label = next(iter(days.values())).label
        periods: dict[tuple[str, str], tuple[Date, Date]] = {}
        for d in days:
            monday = d - timedelta(days=d.weekday())
            periods[("week", monday.isoformat())] = (monday, monday + timedelta(days=6))
            first = d.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            periods[("month", first.strftime("%Y-%m"))] = (first, last)
        for (kind, key), (start, end) in sorted(periods.items()):
            st = summarize(days.values(), metric, start, end)
            if not st.days_with_data or st.mean is None:
                continue
            span = f"week of {key}" if kind == "week" else f"month {key}"
            text = (f"{label}, {span}: average {st.mean:.1f}, lowest {st.min:.1f} on {st.min_day}, highest "
                    f"{st.max:.1f} on {st.max_day}, over {st.days_with_data} of {st.days_in_window} days with data.")
            recs = [days[d] for d, _v, _rid in st.days]
            meta = _meta(f"wearable_{kind}", str(Category.wearable), recs)
            chunks.append(Chunk(_cid(user_id, kind, metric, key), text, meta))
    return chunks


def canonical_order(records: Iterable[Record]) -> list[Record]:
    """Newest clinical date first (undated last), then by id: the record store's order, so chunks do not
    depend on the order records arrive in (an ingest chunks before it stores; a rebuild after)."""
    by_id = sorted(records, key=lambda r: r.id)
    return sorted(by_id, key=lambda r: (r.start is None, -r.start.timestamp() if r.start else 0.0))


def build_chunks(user_id: str, records: Sequence[Record]) -> list[Chunk]:
    """Every chunk of a user's index, derived from the full record set (so it is rebuildable). The same
    records give the same chunks in any order."""
    records = canonical_order(records)
    out: list[Chunk] = []
    notes_seen: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: (r.source.resource_type != "DocumentReference", r.id)):
        if r.category is Category.document and r.text:
            key = hashlib.sha256(r.text.encode()).hexdigest()
            first = notes_seen.setdefault(key, r)
            if first is not r:
                # The same note exported twice (DocumentReference and DiagnosticReport): index its text once.
                text = f"{describe(r)} Same text as the {first.label} of {first.date}."
                out.append(Chunk(r.id, text, _meta("record", str(r.category), [r])))
                continue
        out.extend(record_chunks(r))
    out.extend(series_chunks(user_id, [r for r in records if r.category is not Category.wearable]))
    out.extend(rollup_chunks(user_id, records))
    out.extend(wearable_chunks(user_id, records))
    return out
