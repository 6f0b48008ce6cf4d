"""One timeline from several sources: the same fact exported twice (a FHIR app and a patient-portal C-CDA,
two providers) becomes one canonical record that keeps every source; different values for the same test
at the same time are kept side by side as conflicts, never dropped.

A record's identity across sources is (category, normalised code, clinical time within a tolerance, value
with its unit normalised). Records of one source (kind + file) are never merged with each other: what one
export states twice, it states twice. Wearable days are left alone (their adapters already reconcile
overlapping devices). Pure functions: the record store decides what to hide and what to show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal

from healthcoach.records.models import Category, Quantity, Record, blood_pressure, format_number

KIND_RANK = {"fhir": 0, "ccda": 1, "omop": 2, "manual": 3}  # which source's record is shown when merged
PRECISION_RANK = {"time": 0, "day": 1, "month": 2, "year": 3}
VALUE_CATEGORIES = {Category.lab, Category.vital, Category.social_history, Category.pregnancy}
LEFT_ALONE = {Category.wearable}
STANDARD = {"LOINC", "SNOMED", "RxNorm", "CVX", "ICD-10", "ICD-10-PCS", "ICD-9", "CPT", "HCPCS", "NDC", "OMOP"}
# UCUM spellings and the few conversions that are exact: unit → (canonical unit, factor, offset).
UNITS: dict[str, tuple[str, float, float]] = {
    "mm[hg]": ("mmhg", 1, 0), "mmhg": ("mmhg", 1, 0), "kg": ("kg", 1, 0), "g": ("kg", 0.001, 0),
    "[lb_av]": ("kg", 0.45359237, 0), "lb": ("kg", 0.45359237, 0), "lbs": ("kg", 0.45359237, 0),
    "cm": ("cm", 1, 0), "m": ("cm", 100, 0), "[in_i]": ("cm", 2.54, 0), "in": ("cm", 2.54, 0),
    "cel": ("cel", 1, 0), "°c": ("cel", 1, 0), "degc": ("cel", 1, 0),
    "[degf]": ("cel", 5 / 9, -32 * 5 / 9), "°f": ("cel", 5 / 9, -32 * 5 / 9), "degf": ("cel", 5 / 9, -32 * 5 / 9),
    "/min": ("/min", 1, 0), "{beats}/min": ("/min", 1, 0), "beats/min": ("/min", 1, 0), "1/min": ("/min", 1, 0),
    "{breaths}/min": ("/min", 1, 0), "breaths/min": ("/min", 1, 0),
}


@dataclass(frozen=True)
class Link:
    """`record_id` is a duplicate of (hidden behind) `other_id`, or conflicts with it (both shown)."""

    record_id: str
    other_id: str
    kind: str  # "duplicate" | "conflict"
    reason: str


@dataclass
class _Cluster:
    canonical: Record
    sources: set[tuple[str, str]]
    members: list[tuple[Record, str]] = field(default_factory=list)


def source_key(rec: Record) -> tuple[str, str]:
    """One source = one adapter kind and one file; for C-CDA one document (a portal's CCD downloaded twice
    under the same file name is two documents: their resource ids start with the document id)."""
    if rec.source.kind == "ccda":
        return rec.source.kind, f"{rec.source.file or ''}|{rec.source.resource_id.split('/', 1)[0]}"
    return rec.source.kind, rec.source.file or ""


def identity_keys(rec: Record) -> set[str]:
    """Normalised codes of standard systems ('LOINC:4548-4', 'ICD-10:E119'); the label when it has none."""
    keys = {f"{c.system}:{_norm_code(c.system, c.code)}" for c in rec.codes if c.system in STANDARD}
    if blood_pressure(rec):
        keys.add("panel:blood-pressure")  # 85354-9 and 55284-4 panels are the same reading
    return keys or {"label:" + " ".join(rec.label.casefold().split())}


def _norm_code(system: str, code: str) -> str:
    code = code.strip().upper()
    return code.replace(".", "") if system.startswith("ICD") else code


def precision(rec: Record) -> str:
    """time | day | month | year: from the adapter's date_precision, else midnight UTC reads as a date only."""
    stated = rec.details.get("date_precision")
    if stated in PRECISION_RANK:
        return stated
    if rec.start is not None and rec.start.utcoffset() == timedelta(0) and rec.start.time() == rec.start.min.time():
        return "day"
    return "time"


def _day(rec: Record) -> date | None:
    return rec.date or (rec.start.astimezone(UTC).date() if rec.start else None)


def time_match(a: Record, b: Record, window: timedelta) -> str | None:
    """How two records' clinical times agree ('7 minutes apart', 'same day'), or None when they do not."""
    if a.start is None or b.start is None:
        return "both undated" if a.start is None and b.start is None else None
    coarse = max(precision(a), precision(b), key=PRECISION_RANK.__getitem__)
    da, db = _day(a), _day(b)
    if coarse != "time":
        assert da is not None and db is not None
        same = {"day": da == db, "month": (da.year, da.month) == (db.year, db.month), "year": da.year == db.year}
        return f"same {coarse}" if same[coarse] else None
    minutes = abs((a.start - b.start).total_seconds()) / 60
    if minutes > window.total_seconds() / 60:
        return None
    return "same time" if minutes < 1 else f"{round(minutes)} minute{'s' if round(minutes) != 1 else ''} apart"


def _canon(q: Quantity) -> tuple[float, str | None, bool]:
    unit = (q.unit or "").strip()
    known = UNITS.get(unit.lower())
    if known is None:
        return q.value, unit.lower() or None, False
    name, factor, offset = known
    return q.value * factor + offset, name, factor != 1 or offset != 0


def _decimals(v: float) -> int:
    exp = Decimal(format_number(v)).as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """Equal after unit normalisation, to the precision the coarser source wrote (6.1 and 6.12 agree)."""
    va, ua, conv_a = _canon(a)
    vb, ub, conv_b = _canon(b)
    if ua != ub or (a.comparator or "") != (b.comparator or ""):
        return False
    if conv_a or conv_b:
        return abs(va - vb) <= 0.005 * max(abs(va), abs(vb), 1e-9)
    tolerance = 0.5 * 10.0 ** -min(_decimals(a.value), _decimals(b.value)) + 1e-9
    return abs(va - vb) <= tolerance


def _text(t: str | None) -> str:
    return " ".join((t or "").casefold().split())


def same_value(a: Record, b: Record) -> bool | None:
    """True: the same value; False: different values (a conflict); None: not comparable (separate facts)."""
    if a.category is Category.document:
        return True if _text(a.text) == _text(b.text) else None
    if a.category not in VALUE_CATEGORIES:
        return True  # conditions, medications, visits ...: the code and the time say which fact it is
    if a.components or b.components:
        ca = {k: c.value for c in a.components for k in (x.key for x in c.codes) if c.value}
        cb = {k: c.value for c in b.components for k in (x.key for x in c.codes) if c.value}
        shared = ca.keys() & cb.keys()
        if not shared:
            return None
        return all(same_quantity(ca[k], cb[k]) for k in shared)
    if a.value is not None and b.value is not None:
        return same_quantity(a.value, b.value)
    if a.value is None and b.value is None:
        return _text(a.text) == _text(b.text) if (a.text or b.text) else True
    return None


def find_links(records: Iterable[Record], window: timedelta) -> list[Link]:
    """Duplicate and conflict links over one user's records (any order in, deterministic out).

    The record shown for a fact comes from the preferred kind (FHIR, then C-CDA, then OMOP), then from the
    source that holds the most of the person's records (the fuller export), then the more precise date."""
    pool = [r for r in records if r.category not in LEFT_ALONE]
    size: dict[tuple[str, str], int] = defaultdict(int)
    for r in pool:
        size[source_key(r)] += 1

    def rank(rec: Record) -> tuple[int, int, int, int, str]:
        richer = int(rec.reference_range is not None) + int(rec.interpretation is not None)
        return (KIND_RANK.get(rec.source.kind, 9), -size[source_key(rec)], PRECISION_RANK[precision(rec)],
                -richer, rec.id)

    ordered = sorted(pool, key=rank)
    index: dict[tuple[str, str, int], list[_Cluster]] = defaultdict(list)
    clusters: list[_Cluster] = []
    links: list[Link] = []
    for rec in ordered:
        keys = identity_keys(rec)
        year = _day(rec).year if rec.start else 0  # type: ignore[union-attr]
        seen: set[int] = set()
        candidates: list[tuple[_Cluster, str, str]] = []
        for key in sorted(keys):
            for y in (year - 1, year, year + 1) if year else (0,):
                for c in index.get((str(rec.category), key, y), ()):
                    if id(c) in seen or source_key(rec) in c.sources:
                        continue
                    seen.add(id(c))
                    when = time_match(c.canonical, rec, window)
                    if when is not None:
                        candidates.append((c, key, when))
        joined = None
        for c, key, when in candidates:
            same = same_value(c.canonical, rec)
            if same:
                value = rec.value_display() if rec.category in VALUE_CATEGORIES else ""
                joined = c
                c.members.append((rec, f"same {key}, {when}" + (f", same value {value}" if value else "")))
                c.sources.add(source_key(rec))
                break
        if joined is None:
            joined = _Cluster(rec, {source_key(rec)})
            clusters.append(joined)
            for c, key, when in candidates:
                if rec.category in VALUE_CATEGORIES and same_value(c.canonical, rec) is False:
                    links.append(Link(rec.id, c.canonical.id, "conflict",
                                      f"same {key}, {when}, but {c.canonical.value_display()} from "
                                      f"{c.canonical.source.display()} vs {rec.value_display()} from "
                                      f"{rec.source.display()}"))
        for key in keys:
            index[(str(rec.category), key, year)].append(joined)
    for c in clusters:
        links.extend(Link(m.id, c.canonical.id, "duplicate", why) for m, why in c.members)
    return links


def describe_links(links: Sequence[Link]) -> dict[str, int]:
    """{'duplicate': n, 'conflict': m}."""
    out = {"duplicate": 0, "conflict": 0}
    for link in links:
        out[link.kind] += 1
    return out

