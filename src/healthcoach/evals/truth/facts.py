"""Expected answers per operation, computed from raw rows (see fhir_raw) with plain Python.

Rules: "latest" = greatest clinical timestamp in UTC; rows at the same timestamp are kept together (all
their values are expected). A question whose answer would be ambiguous is skipped with a reason, never
guessed: same-time results that disagree where one number is asked for, a blood-pressure extreme that
depends on whether systolic or mean pressure is meant, a trend without a clear direction, a change too
small to show at the concept's precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from healthcoach.evals.qa_suite import Concept
from healthcoach.evals.truth.expected import Direction, Expected, Reading
from healthcoach.evals.truth.fhir_raw import RawPerson, Row
from healthcoach.evals.truth.units import convert_delta, convert_reading
from healthcoach.evals.truth.windows import long_date

CURRENT_CONDITION = {"active", "recurrence", "relapse"}
TREND_MIN_RELATIVE = 0.03
COMPARE_ALL = 4  # a compared window's results are all expected; more than this and the question is skipped


class Skip(Exception):
    """The question makes no sense (or is ambiguous) for this person; the message is the reason."""


@dataclass
class Answer:
    """An expected answer and any words the question needs (e.g. the baseline date of a change)."""

    expected: Expected
    params: dict[str, str] = field(default_factory=dict)


def concept_rows(person: RawPerson, concept: Concept) -> list[Row]:
    """The person's rows for a concept: kind, codes, exclusions, encounter classes, a value present."""
    out = []
    codes, excluded = set(concept.codes), set(concept.exclude_codes)
    for r in person.of_kind(concept.kind):
        if (codes and not r.codes & codes) or r.codes & excluded:
            continue
        if concept.classes and r.encounter_class not in concept.classes:
            continue
        if concept.value == "quantity" and r.quantity is None:
            continue
        if concept.value == "components" and not all(c in r.components for c in concept.components):
            continue
        if concept.value == "text" and not r.text_value:
            continue
        if r.day is None or r.when is None:
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.when, r.id))


def reading(r: Row, c: Concept, dates: Sequence[str] | None = None) -> Reading:
    """What an answer states about one row, in the concept's own unit."""
    days = list(dates) if dates is not None else [r.day.isoformat()] if r.day else []
    if c.value == "quantity" and r.quantity:
        q = r.quantity
        return Reading(numbers=[q.value], decimals=[min(c.decimals, q.decimals)], dates=days, unit=q.unit)
    if c.value == "components":
        qs = [r.components[code] for code in c.components]
        return Reading(numbers=[q.value for q in qs], decimals=[min(c.decimals, q.decimals) for q in qs],
                       dates=days, unit=qs[0].unit)
    if c.value == "text":
        return Reading(text=r.text_value, dates=days)
    return Reading(dates=days)


def groups(rows: Sequence[Row]) -> list[list[Row]]:
    """Rows grouped by identical UTC timestamp, oldest first."""
    out: list[list[Row]] = []
    for r in rows:
        if out and out[-1][0].when == r.when:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _group_readings(g: list[Row], c: Concept, unit: str | None) -> list[Reading]:
    seen, out = set(), []
    for r in g:
        rd = reading(r, c)
        key = (tuple(rd.numbers), rd.text)
        if key not in seen:
            seen.add(key)
            out.append(convert_reading(rd, unit))
    return out


def _describe(rds: Sequence[Reading]) -> str:
    def one(r: Reading) -> str:
        value = r.text or "/".join(f"{v:.{max(d, 1) if d else 0}f}" for v, d in zip(r.numbers, r.decimals, strict=True))
        when = " or ".join(r.dates)
        return " ".join(p for p in (value, r.unit or "", f"on {when}" if when else "") if p)
    return "; ".join(one(r) for r in rds)


def at_group(rows: Sequence[Row], c: Concept, unit: str | None, index: int, what: str) -> Answer:
    """The value(s) of the index-th timestamp (0 = first, -1 = latest, -2 = the one before ...)."""
    gs = groups(rows)
    if not gs or (index >= 0 and index >= len(gs)) or (index < 0 and -index > len(gs)):
        raise Skip(f"fewer than {abs(index) + (1 if index >= 0 else 0)} results")
    rds = _group_readings(gs[index], c, unit)
    return Answer(Expected(kind="value", readings=rds, unit=unit, summary=f"{what}: {_describe(rds)}"))


def _key(rd: Reading) -> float:
    return rd.numbers[0]


def extreme(rows: Sequence[Row], c: Concept, unit: str | None, highest: bool) -> Answer:
    """min/max. Ties at the shown precision accept any of their dates; BP by systolic, and skipped when the
    systolic extreme is not also the mean-pressure extreme (the question would be ambiguous)."""
    if len(rows) < 2:
        raise Skip("fewer than 2 results")
    rds = [reading(r, c) for r in rows]
    sign = 1 if highest else -1
    best = max(rds, key=lambda rd: sign * _key(rd))
    if len(best.numbers) == 2:
        by_map = max(rds, key=lambda rd: sign * (rd.numbers[0] + 2 * rd.numbers[1]) / 3)
        if by_map.numbers != best.numbers:
            raise Skip("systolic and mean-pressure extremes differ")
    shown = max(best.decimals[0], 0)
    tied = [rd for rd in rds if round(_key(rd), shown) == round(_key(best), shown)]
    if any(rd.numbers[1:] != best.numbers[1:] for rd in tied):
        raise Skip("tied extreme with different second values")
    latest_day = rows[-1].when
    if any(r.when == latest_day and reading(r, c) in tied for r in rows):
        raise Skip("the extreme is also (one of) the latest result(s) (would not tell extreme from latest)")
    merged = convert_reading(best.model_copy(update={"dates": sorted({d for rd in tied for d in rd.dates})}), unit)
    word = "highest" if highest else "lowest"
    return Answer(Expected(kind="value", readings=[merged], unit=unit, summary=f"{word}: {_describe([merged])}"))


def _no_conflicting_ties(rows: Sequence[Row], c: Concept) -> None:
    for g in groups(rows):
        if len({(tuple(reading(r, c).numbers), reading(r, c).text) for r in g}) > 1:
            raise Skip("same-time results disagree")


def count(rows: Sequence[Row], c: Concept, label: str) -> Answer:
    """How many rows (distinct resources). Observation counts with same-time duplicates are skipped."""
    if c.kind == "observation" and any(len(g) > 1 for g in groups(rows)):
        raise Skip("same-time duplicate results (count ambiguous)")
    n = len(rows)
    return Answer(Expected(kind="count", count=n, computed=[float(n)], summary=f"{n} ({label})"))


def mean(rows: Sequence[Row], c: Concept, unit: str | None) -> Answer:
    """Mean of each number over the rows (rounded display at the concept's precision)."""
    if len(rows) < 2:
        raise Skip("fewer than 2 results")
    rds = [convert_reading(reading(r, c), unit) for r in rows]
    k = len(rds[0].numbers)
    means = [sum(rd.numbers[i] for rd in rds) / len(rds) for i in range(k)]
    decimals = [c.decimals if unit is None else rds[0].decimals[0]] * k
    if any(round(m, d) == round(r.numbers[i], d) for i, (m, d) in enumerate(zip(means, decimals, strict=True))
           for r in rds):
        raise Skip("the mean equals one of the results (would not tell a mean from a listing)")
    rd = Reading(numbers=means, decimals=decimals, unit=rds[0].unit)
    return Answer(Expected(kind="value", readings=[rd], unit=unit, computed=means,
                           summary=f"mean of {len(rds)}: {_describe([rd])}"))


def change(rows: Sequence[Row], c: Concept, unit: str | None, baseline: str, seed: int) -> Answer:
    """From a baseline (first, a dated result, the previous one) to the latest: direction and size."""
    _no_conflicting_ties(rows, c)
    gs = groups(rows)
    if len(gs) < 2:
        raise Skip("fewer than 2 results")
    params: dict[str, str] = {}
    if baseline == "first":
        start_g = gs[0]
    elif baseline == "previous":
        start_g = gs[-2]
    else:
        days = [g[0].day for g in gs]
        options = [g for g in gs[:-1] if days.count(g[0].day) == 1]
        if not options:
            raise Skip("no single dated baseline")
        start_g = options[seed % len(options)]
        assert start_g[0].day is not None
        params["date"] = long_date(start_g[0].day)
    start = convert_reading(reading(start_g[0], c), unit)
    end = convert_reading(reading(gs[-1][0], c), unit)
    raw_delta = reading(gs[-1][0], c).numbers[0] - reading(start_g[0], c).numbers[0]
    delta = convert_delta(raw_delta, unit) if unit else raw_delta
    decimals = c.decimals if unit is None else start.decimals[0]
    direction: Direction = "up" if delta > 0 else "down" if delta < 0 else "same"
    if 0 < abs(delta) < 10.0 ** -decimals:
        raise Skip("change too small to show at the concept's precision")
    exp = Expected(kind="change", start=start, end=end, delta=delta, delta_decimals=decimals, direction=direction,
                   unit=unit, computed=[abs(delta), delta],
                   summary=f"{direction} {abs(delta):.{decimals}f}: {_describe([start])} -> {_describe([end])}")
    return Answer(exp, params)


def trend(rows: Sequence[Row], c: Concept) -> Answer:
    """Direction of the least-squares line over the window; skipped unless it agrees with last-vs-first and
    moves at least 3% of the mean."""
    _no_conflicting_ties(rows, c)
    gs = groups(rows)
    if len(gs) < 3:
        raise Skip("fewer than 3 results")
    t0 = gs[0][0].when
    assert t0 is not None
    xs = [(g[0].when - t0).total_seconds() / 86400 for g in gs if g[0].when]
    ys = [reading(g[0], c).numbers[0] for g in gs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    fitted = slope * (xs[-1] - xs[0])
    if my == 0 or abs(fitted) / abs(my) < TREND_MIN_RELATIVE or (fitted > 0) != (ys[-1] - ys[0] > 0):
        raise Skip("no clear trend")
    direction: Direction = "up" if fitted > 0 else "down"
    first, last = reading(gs[0][0], c), reading(gs[-1][0], c)
    return Answer(Expected(kind="trend", direction=direction, start=first, end=last,
                           summary=f"{direction} over {len(gs)} results ({_describe([first])} -> {_describe([last])})"))


def compare(a_rows: Sequence[Row], b_rows: Sequence[Row], c: Concept, unit: str | None) -> Answer:
    """Every value of two windows, and the direction when the windows don't overlap."""
    if not a_rows or not b_rows:
        raise Skip("a window has no results")
    ga = [convert_reading(reading(r, c), unit) for r in a_rows]
    gb = [convert_reading(reading(r, c), unit) for r in b_rows]
    d = ga[0].decimals[0]
    va, vb = [round(_key(r), d) for r in ga], [round(_key(r), d) for r in gb]
    direction: Direction | None = None
    if min(vb) > max(va):
        direction = "up"
    elif max(vb) < min(va):
        direction = "down"
    elif len(set(va + vb)) == 1:
        direction = "same"
    computed = [abs(_key(gb[-1]) - _key(ga[-1]))]
    if len(ga) > COMPARE_ALL or len(gb) > COMPARE_ALL:
        raise Skip(f"a window has more than {COMPARE_ALL} results")
    return Answer(Expected(kind="compare", groups=[ga, gb], direction=direction, unit=unit, computed=computed,
                           summary=f"{_describe(ga)} vs {_describe(gb)} ({direction or 'mixed'})"))


def exists(rows: Sequence[Row], label: str) -> Answer:
    """Yes with the dates and names, or not in the records."""
    if not rows:
        return Answer(Expected(kind="not_found", summary=f"no {label} in the records"))
    days = sorted({r.day.isoformat() for r in rows if r.day})
    names = sorted({r.name for r in rows if r.name})
    return Answer(Expected(kind="exists", readings=[Reading(dates=days)], items=names, count=len(rows),
                           summary=f"yes: {len(rows)} ({', '.join(days[-3:])}{' ...' if len(days) > 3 else ''})"))
