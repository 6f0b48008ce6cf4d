"""Operations: each a small function over typed records (newest first), one registry by name.

An operation never formats prose: it picks the records an answer is about (ties together), and
computes numbers (counts, means, changes, slopes) as `Computed` values that carry the text they are
written as and how they were computed. Only these numbers count as grounded computations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from healthcoach.knowledge.vocabulary import Operation
from healthcoach.records.models import Record, format_number
from healthcoach.retrieval.query import Query

SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
LIST_SHOWN = 12  # list items an answer shows before "showing 12 of N"


@dataclass(frozen=True)
class Computed:
    """A number the executor computed: its name, the text it is written as, and how."""

    name: str
    text: str
    how: str = ""


@dataclass
class OpResult:
    """What an operation found: the records the answer is about, everything it read, what it computed."""

    operation: Operation
    records: list[Record] = field(default_factory=list)  # the answer's subject, ties together
    used: list[Record] = field(default_factory=list)  # every record the computation read
    computed: list[Computed] = field(default_factory=list)
    direction: str | None = None  # change/trend: 'up', 'down', 'unchanged', 'flat'
    baseline: list[Record] = field(default_factory=list)  # change: what it is measured from
    groups: list[tuple[str, list[Record]]] = field(default_factory=list)  # compare: one per side
    left_out: int = 0  # records not comparable (another unit, no number)

    def number(self, name: str) -> Computed | None:
        """The computed value called name, or None."""
        return next((c for c in self.computed if c.name == name), None)


def numeric(rec: Record) -> tuple[float, ...] | None:
    """A record's value as numbers: (systolic, diastolic) for blood pressure, else (value,)."""
    parts: dict[str, float] = {}
    for comp in rec.components:
        for code in comp.codes:
            if code.code in (SYSTOLIC, DIASTOLIC) and comp.value is not None:
                parts[code.code] = comp.value.value
    if SYSTOLIC in parts and DIASTOLIC in parts:
        return parts[SYSTOLIC], parts[DIASTOLIC]
    if rec.value is not None:
        return (rec.value.value,)
    return None


def _unit(rec: Record) -> str | None:
    return rec.value.unit if rec.value is not None else "mm[Hg]" if rec.components else None


def comparable(rows: Sequence[Record]) -> tuple[list[tuple[Record, tuple[float, ...]]], int]:
    """Numeric rows in the most common unit (newest first), and how many were left out."""
    with_values = [(r, v) for r in rows if (v := numeric(r)) is not None]
    if not with_values:
        return [], len(rows)
    common = Counter(_unit(r) for r, _ in with_values).most_common(1)[0][0]
    kept = [(r, v) for r, v in with_values if _unit(r) == common]
    return kept, len(rows) - len(kept)


def decimals(values: Sequence[float]) -> int:
    """How many decimals the source values are written with (at most 2)."""
    return max((len(format_number(v).split(".")[1]) if "." in format_number(v) else 0 for v in values), default=0)


def _same_time(rows: Sequence[Record], pick: Record) -> list[Record]:
    return [r for r in rows if r.start is not None and r.start == pick.start] or [pick]


def _ties(pairs: list[tuple[Record, tuple[float, ...]]], best: tuple[float, ...]) -> list[Record]:
    return [r for r, v in pairs if v == best]


# ─────────────────────────────── operations ───────────────────────────────

def _counted(rows: Sequence[Record], how: str = "records read") -> list[Computed]:
    shown = Computed("shown", str(min(len(rows), LIST_SHOWN)), f"items listed (at most {LIST_SHOWN})")
    return [Computed("count", str(len(rows)), how), shown]


def op_latest(rows: list[Record], q: Query) -> OpResult:
    return OpResult(Operation.latest, _same_time(rows, rows[0]), list(rows), _counted(rows))


def op_first(rows: list[Record], q: Query) -> OpResult:
    dated = [r for r in rows if r.start is not None] or rows
    return OpResult(Operation.first, _same_time(rows, dated[-1]), list(rows), _counted(rows))


def _extreme(rows: list[Record], q: Query, op: Operation) -> OpResult:
    pairs, left = comparable(rows)
    if not pairs:
        return OpResult(op, [], list(rows), _counted(rows), left_out=left)
    highest = op is Operation.max
    best = max(v for _, v in pairs) if highest else min(v for _, v in pairs)
    return OpResult(op, _ties(pairs, best), [r for r, _ in pairs], left_out=left,
                    computed=[*_counted([r for r, _ in pairs], "results compared"), _left(left)])


def op_max(rows: list[Record], q: Query) -> OpResult:
    return _extreme(rows, q, Operation.max)


def op_min(rows: list[Record], q: Query) -> OpResult:
    return _extreme(rows, q, Operation.min)


def _left(n: int) -> Computed:
    return Computed("left_out", str(n), "records in another unit or without a number")


def op_count(rows: list[Record], q: Query) -> OpResult:
    return OpResult(Operation.count, list(rows), list(rows), _counted(rows, "records counted"))


def op_mean(rows: list[Record], q: Query) -> OpResult:
    pairs, left = comparable(rows)
    if not pairs:
        return OpResult(Operation.mean, [], list(rows), _counted(rows), left_out=left)
    width = len(pairs[0][1])
    out = [*_counted([r for r, _ in pairs], "results averaged"), _left(left)]
    for i in range(width):
        values = [v[i] for _, v in pairs]
        places = min(2, decimals(values) + 1)
        mean = round(sum(values) / len(values), places)
        out.append(Computed(f"mean{i}", format_number(mean),
                            f"sum of {len(values)} values ÷ {len(values)}, rounded to {places} decimals"))
    return OpResult(Operation.mean, [r for r, _ in pairs], [r for r, _ in pairs], out, left_out=left)


def op_list(rows: list[Record], q: Query) -> OpResult:
    return OpResult(Operation.list, list(rows), list(rows), _counted(rows))


def op_exists(rows: list[Record], q: Query) -> OpResult:
    return OpResult(Operation.exists, list(rows), list(rows), _counted(rows))


def op_nth_previous(rows: list[Record], q: Query) -> OpResult:
    times = list(dict.fromkeys(r.start for r in rows))
    n = q.filters.nth
    if n >= len(times):
        return OpResult(Operation.nth_previous, [], list(rows), [Computed("count", str(len(times)), "results")])
    pick = [r for r in rows if r.start == times[n]]
    return OpResult(Operation.nth_previous, pick, list(rows), [Computed("count", str(len(times)), "results")])


def _delta(new: tuple[float, ...], old: tuple[float, ...], places: int) -> tuple[str, list[Computed]]:
    diffs = [round(a - b, places) for a, b in zip(new, old, strict=True)]
    direction = "up" if diffs[0] > 0 else "down" if diffs[0] < 0 else "unchanged"
    how = "newest value − earlier value"
    return direction, [Computed(f"delta{i}", format_number(abs(d)), how) for i, d in enumerate(diffs)]


def op_change(rows: list[Record], q: Query) -> OpResult:
    pairs, left = comparable(rows)
    if len(pairs) < 2:
        return OpResult(Operation.change, [r for r, _ in pairs] or list(rows[:0]), list(rows), _counted(rows),
                        left_out=left)
    latest, latest_v = pairs[0]
    base_kind = q.filters.baseline or "first"
    if base_kind == "previous":
        older = [(r, v) for r, v in pairs if r.start != latest.start]
        base = older[0] if older else pairs[-1]
    elif base_kind == "date" and q.filters.baseline_date is not None:
        since = q.filters.baseline_date
        after = [(r, v) for r, v in pairs if r.date and r.date >= since and r.start != latest.start]
        base = after[-1] if after else pairs[-1]
    else:
        base = pairs[-1]
    places = decimals([x for _, v in pairs for x in v])
    direction, computed = _delta(latest_v, base[1], places)
    between = [r for r, _ in pairs if r.start is not None and base[0].start is not None and latest.start is not None
               and base[0].start <= r.start <= latest.start]
    return OpResult(Operation.change, _same_time(rows, latest), between or [latest, base[0]], computed,
                    direction, baseline=[base[0]], left_out=left)


def _slope_per_year(points: list[tuple[date, float]]) -> float:
    xs = [d.toordinal() / 365.25 for d, _ in points]
    ys = [v for _, v in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def op_trend(rows: list[Record], q: Query) -> OpResult:
    pairs, left = comparable(rows)
    dated = [(r, v) for r, v in pairs if r.date is not None]
    if len(dated) < 2 or dated[0][0].date == dated[-1][0].date:
        return OpResult(Operation.trend, [r for r, _ in dated], list(rows), _counted(rows), left_out=left)
    points = [(r.date, v[0]) for r, v in dated if r.date is not None]
    slope = _slope_per_year(points)
    years = (points[0][0] - points[-1][0]).days / 365.25
    mean = sum(v for _, v in points) / len(points)
    places = decimals([v for _, v in points]) + 1
    # A fitted change over the whole span under 2 % of the average value is read as flat.
    flat = abs(slope * years) < 0.02 * abs(mean) if mean else slope == 0
    direction = "flat" if flat or round(slope, places) == 0 else "up" if slope > 0 else "down"
    shown = format_number(abs(round(slope, places)))
    computed = [Computed("slope", shown, f"least-squares line through {len(points)} results, per year"),
                Computed("count", str(len(points)), "results")]
    latest, oldest = dated[0][0], dated[-1][0]
    return OpResult(Operation.trend, [latest], [r for r, _ in dated], computed, direction, baseline=[oldest],
                    left_out=left)


def op_compare(rows: list[Record], q: Query) -> OpResult:
    """Rows arrive already grouped by the executor (see Executor); here: newest of each group + change."""
    return OpResult(Operation.compare, list(rows), list(rows))


def compare_groups(groups: list[tuple[str, list[Record]]], same_concept: bool) -> OpResult:
    """The newest record of each side, and the change between them when both are one concept."""
    picks = [(label, _same_time(rs, rs[0]) if rs else []) for label, rs in groups]
    used = [r for _, rs in picks for r in rs]
    result = OpResult(Operation.compare, used, used, groups=picks)
    if same_concept and len(picks) == 2 and picks[0][1] and picks[1][1]:
        old, new = numeric(picks[0][1][0]), numeric(picks[1][1][0])
        if old is not None and new is not None and len(old) == len(new) and _unit(picks[0][1][0]) == _unit(
                picks[1][1][0]):
            result.direction, result.computed = _delta(new, old, decimals([*old, *new]))
    return result


OPERATIONS: dict[Operation, Callable[[list[Record], Query], OpResult]] = {
    Operation.latest: op_latest,
    Operation.first: op_first,
    Operation.min: op_min,
    Operation.max: op_max,
    Operation.count: op_count,
    Operation.mean: op_mean,
    Operation.list: op_list,
    Operation.change: op_change,
    Operation.trend: op_trend,
    Operation.nth_previous: op_nth_previous,
    Operation.compare: op_compare,
    Operation.exists: op_exists,
}


def run(rows: list[Record], q: Query) -> OpResult:
    """Run the query's operation over rows (newest first; never empty)."""
    return OPERATIONS[q.operation](rows, q)
