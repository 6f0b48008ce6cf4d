"""One grounded template per query operation. Every fact is cited; every computed number (a count, a mean,
a change, a slope, a conversion) comes from the executor's result and is listed as computed, so the output
guard accepts it and nothing else. They state what the records say, never what it means for health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from healthcoach.compose.citations import Citer, fmt_date
from healthcoach.compose.not_found import not_found
from healthcoach.compose.phrasing import (
    bullets,
    cites,
    count_noun,
    display_label,
    from_source,
    item_line,
    plural,
    small,
    value_of,
    visit_line,
    was,
    when,
)
from healthcoach.compose.templates import STALE_DAYS, Answer
from healthcoach.knowledge.catalog import Catalog
from healthcoach.knowledge.vocabulary import Operation
from healthcoach.records.models import Category, Record
from healthcoach.records.render import in_sentence
from healthcoach.records.units import SHOWN_UNIT, display_unit
from healthcoach.retrieval.executor import QueryResult
from healthcoach.retrieval.operations import LIST_SHOWN, OpResult

Text = tuple[str, str]  # (answer text, extra grounding text such as the asked window's dates)


class QueryComposer:
    """Writes the answer for an executed query."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._ops: dict[Operation, Callable[[QueryResult, OpResult, Citer], str]] = {
            Operation.latest: self._latest, Operation.first: self._first, Operation.max: self._extreme,
            Operation.min: self._extreme, Operation.count: self._count, Operation.mean: self._mean,
            Operation.list: self._list, Operation.change: self._change, Operation.trend: self._trend,
            Operation.nth_previous: self._previous, Operation.compare: self._compare, Operation.exists: self._exists,
        }

    def compose(self, result: QueryResult, today: date) -> Answer:
        """The answer (deterministic for the same result and day)."""
        cite = Citer()
        q, op = result.query, result.op
        if op is None or not op.records:
            text = not_found(result, cite, self._name(result))
        else:
            text = self._ops[q.operation](result, op, cite)
        if result.unit_note:
            text += f"\n\n({result.unit_note}.)"
        found = op is not None and bool(op.records)
        if q.alternatives and found:
            text += f"\n\nYou can also ask for {' or '.join(chr(34) + a + chr(34) for a in q.alternatives)}."
        computed = {c.text for c in (op.computed if op else [])}
        computed |= {n for conv in result.conversions.values() for n in conv.numbers}
        if not found:
            computed |= {str(result.category_count), str(result.source_count)}
        # The question's own dates and the catalog's names ('Type 2 diabetes') are grounded by the query.
        general = f"{self._window_text(result)} {self._name(result)} {result.closest_name}"
        dated = [r.date for r in cite.records if r.date]
        as_of = max(dated) if dated else None
        warnings: list[str] = []
        measured = result.target.category in (Category.lab, Category.vital, Category.social_history,
                                              Category.encounter)
        if found and measured and as_of and (today - as_of).days > STALE_DAYS and q.operation is Operation.latest:
            text += (f"\n\nThese records are as of {fmt_date(as_of)}, more than a year ago; newer results may "
                     "exist that are not in your records here.")
            warnings.append("stale_data")
        return Answer(text, cite.citations, cite.records, as_of, computed, warnings, general)

    # names -------------------------------------------------------------------------------------
    def _name(self, result: QueryResult) -> str:
        q = result.query
        if q.concepts:
            return " and ".join(self.catalog.concepts[c].name for c in q.concepts if c in self.catalog.concepts)
        return result.target.name

    def _noun(self, result: QueryResult, n: int) -> str:
        return count_noun(result.target.category, n)

    def _window(self, result: QueryResult) -> str:
        w = result.query.window
        return "" if w.is_ever else f" {w.describe()}"

    @staticmethod
    def _window_text(result: QueryResult) -> str:
        """The question's own dates (windows, baseline) and the store's newest date: grounded by the query."""
        q = result.query
        days = [d for s in (q.window, *q.windows) for d in (s.start, s.last_day) if d]
        days += [d for d in (q.filters.baseline_date, result.newest) if d]
        years = [str(s.start.year) for s in (q.window, *q.windows) if s.start]
        return " ".join([*(f"{d.isoformat()} {fmt_date(d)}" for d in days), *years,
                         *(str(s.last_n) for s in (q.window, *q.windows) if s.last_n),
                         *(s.label for s in (q.window, *q.windows))])

    # operations --------------------------------------------------------------------------------
    def _latest(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, recs = result.query, op.records
        if q.category is Category.encounter and not q.concepts:
            return self._latest_visit(result, op, cite)
        name = self._name(result)
        rec = recs[0]
        if q.unit and rec.id in result.conversions:
            conv = result.conversions[rec.id]
            return (f"In {SHOWN_UNIT[q.unit]}: **{conv.text}** ({value_of(rec)} on {when(rec)} {cite(rec)}, "
                    f"{from_source(rec)}). Converted with {conv.rule}.")
        if len(recs) > 1:
            values = "; ".join(f"**{value_of(r)}** {cite(r)}" for r in recs)
            return (f"Your most recent {in_sentence(name)} results are from {when(rec)}, when "
                    f"{small(len(recs))} were recorded: {values}, {from_source(rec)}.")
        return (f"Your most recent {in_sentence(name)}{self._window(result)} {was(name)} **{value_of(rec)}** "
                f"on {when(rec)} {cite(rec)}, {from_source(rec)}.")

    def _latest_visit(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, rec = result.query, op.records[0]
        kind = result.target.name
        if q.filters.field == "clinician":
            named = [r for r in op.used if r.details.get("clinician")]
            if not named:
                return ("Your records don't name a doctor: your visits list only where they took place. "
                        f"Your most recent visit was {visit_line(rec, cite)}.")
            r = named[0]
            return ("Your records don't name a regular doctor, but they do name who you saw. Your most recent "
                    f"visit with a named clinician was with **{r.details['clinician']}** on {visit_line(r, cite)}.")
        one = kind[:-1] if kind.endswith("s") else kind
        text = f"Your most recent {one}{self._window(result)} was on **{when(rec)}** {cite(rec)}: " \
               f"{display_label(rec.label)}"
        where = rec.details.get("provider") or rec.source.organization
        text += f", at {where}." if where else "."
        if rec.end is not None and rec.date and rec.end.date() > rec.date:
            text += f" It lasted until {fmt_date(rec.end.date())}."
        return text

    def _first(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        rec, name = op.records[0], self._name(result)
        if result.query.category is Category.encounter and not result.query.concepts:
            return f"Your first recorded {result.target.name[:-1]}{self._window(result)} was {visit_line(rec, cite)}."
        n = len(op.used)
        text = (f"Your first recorded {in_sentence(name)}{self._window(result)} {was(name)} **{value_of(rec)}** on "
                f"{when(rec)} {cite(rec)}, {from_source(rec)}.")
        if n > 1:
            text += f" It is the earliest of {plural(n, count_noun(rec.category, 1), count_noun(rec.category, 2))} " \
                    f"in your records; the newest is from {when(op.used[0])} {cite(op.used[0])}."
        return text

    def _extreme(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, name, recs = result.query, self._name(result), op.records
        word = "highest" if q.operation is Operation.max else "lowest"
        judged = next((w for w in q.words if w in ("worst", "best")), None)
        value = value_of(recs[0], result.conversions)
        if len(recs) == 1:
            text = (f"Your {word} recorded {in_sentence(name)}{self._window(result)} {was(name)} **{value}** on "
                    f"{when(recs[0])} {cite(recs[0])}, {from_source(recs[0])}.")
        else:
            dates = "; ".join(f"{when(r)} {cite(r)}" for r in recs)
            text = (f"Your {word} recorded {in_sentence(name)}{self._window(result)}, **{value}**, was reached "
                    f"{small(len(recs))} times: {dates}.")
        n, newest, oldest = len(op.used), op.used[0], op.used[-1]
        if n > 1:
            noun = count_noun(recs[0].category, n)
            text += (f" That is the {word} of {n} {noun} from {when(oldest)} {cite(oldest)} to {when(newest)} "
                     f"{cite(newest)}.")
        if recs[0].components and "mmHg" in value:
            text += " Readings are ranked by the top (systolic) number, then the bottom one."
        if judged:
            text += f" I read '{judged}' as the {word} value."
        return text

    def _count(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, recs, n = result.query, op.records, len(op.records)
        name = self._name(result)
        noun = count_noun(result.target.category, n)
        what = f"{in_sentence(name)} {noun}" if q.concepts and result.target.category not in (
            Category.condition,) else result.target.name if q.category is Category.encounter else noun
        status = "active " if q.filters.status == "active" else ""
        if result.target.category in (Category.allergy, Category.medication, Category.condition) and not q.concepts:
            shown = recs[:LIST_SHOWN]
            head = f"Your records list {n} {status}{noun}{self._window(result)}"
            head += f" (showing {len(shown)})" if len(shown) < n else ""
            return f"{head}:\n" + bullets([item_line(r, cite) for r in shown])
        if n == 1:
            one = self._visit_kinds(result, 1) if q.category is Category.encounter and not q.concepts else \
                what.removesuffix("s")
            return f"You've had one {one}{self._window(result)}, on {when(recs[0])} {cite(recs[0])}."
        return (f"You've had {n} {what}{self._window(result)}, from {when(recs[-1])} {cite(recs[-1])} to "
                f"{when(recs[0])} {cite(recs[0])}.")

    def _mean(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        name, recs = self._name(result), op.records
        means = [c for c in op.computed if c.name.startswith("mean")]
        unit = display_unit(recs[0].value.unit) if recs[0].value is not None else "mmHg"
        shown = "/".join(m.text for m in means) + (f" {unit}" if unit else "")
        n = len(recs)
        if n == 1:
            text = (f"There is only one {in_sentence(name)} {count_noun(recs[0].category, 1)}{self._window(result)} "
                    f"to average: **{shown}** on {when(recs[0])} {cite(recs[0])}.")
        else:
            text = (f"Your average {in_sentence(name)}{self._window(result)} {was(name)} **{shown}**: the mean of {n} "
                    f"{count_noun(recs[0].category, n)} from {when(recs[-1])} to {when(recs[0])} {cites(recs, cite)}")
            text += f" (sum of the values ÷ {n}" + (", top and bottom numbers separately)." if len(means) > 1 else ").")
        if op.left_out:
            text += f" {op.left_out} other {count_noun(recs[0].category, op.left_out)} in another unit or without " \
                    "a number are left out."
        return text

    def _list(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, recs = result.query, op.records
        shown = recs[:LIST_SHOWN]
        count = f"showing {len(shown)} of {len(recs)}" if len(shown) < len(recs) else f"{len(recs)}"
        if result.target.category in (Category.medication, Category.condition, Category.allergy) and not q.concepts:
            when_words = f" at some time{self._window(result)}" if not q.window.is_ever else ""
            status = "Active " if q.filters.status == "active" else ""
            head = f"{status}{result.target.name.capitalize() if not status else result.target.name}{when_words}"
            return f"{head} in your records ({count}):\n" + bullets([item_line(r, cite) for r in shown])
        if q.category is Category.encounter and not q.concepts:
            head = f"Your {result.target.name}{self._window(result)}, newest first ({count})"
            return f"{head}:\n" + bullets([visit_line(r, cite) for r in shown])
        name = self._name(result)
        noun = count_noun(result.target.category, 2)
        if q.window.last_n:
            head = f"Your last {small(len(recs))} {in_sentence(name)} {noun}, newest first"
        else:
            head = f"Your {in_sentence(name)} {noun}{self._window(result)}, newest first"
        lines = [f"{when(r)}: {value_of(r, result.conversions)} {cite(r)}" for r in shown]
        return f"{head} ({count}):\n" + bullets(lines)

    def _change(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        name, new = self._name(result), op.records[0]
        if not op.baseline:
            return (f"There is only one {in_sentence(name)} result to compare: **{value_of(new)}** on "
                    f"{when(new)} {cite(new)}.")
        base = op.baseline[0]
        kind = result.query.filters.baseline or "first"
        since = {"first": "your first result", "previous": "the previous result",
                 "date": f"your first result on or after {fmt_date(result.query.filters.baseline_date)}"}[kind]
        moved = self._moved(op, new)
        return (f"Since {since} ({value_of(base, result.conversions)} on {when(base)} {cite(base)}), your "
                f"{in_sentence(name)} has {moved} to **{value_of(new, result.conversions)}** ({when(new)} "
                f"{cite(new)}). Computed as the newest value minus the earlier one.")

    @staticmethod
    def _moved(op: OpResult, new: Record) -> str:
        deltas = [c.text for c in op.computed if c.name.startswith("delta")]
        if op.direction == "unchanged":
            return "stayed the same"
        unit = "points" if new.value is not None and new.value.unit == "%" else (
            display_unit(new.value.unit) if new.value is not None else "mmHg")
        amount = "/".join(deltas) + (f" {unit}" if unit else "")
        return f"gone {op.direction} {amount}"

    def _trend(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        name, new = self._name(result), op.records[0]
        if not op.baseline:
            return (f"A trend needs at least two {in_sentence(name)} results on different days; your records "
                    f"have {value_of(new)} on {when(new)} {cite(new)}.")
        old, n = op.baseline[0], len(op.used)
        slope = op.number("slope")
        unit = display_unit(new.value.unit) if new.value is not None else "mmHg in the top number"
        span = f"over {n} {count_noun(new.category, n)} from {when(old)} {cite(old)} to {when(new)} {cite(new)}"
        if op.direction == "flat":
            return (f"Your {in_sentence(name)} has stayed about the same {span}: {value_of(old)} then "
                    f"{value_of(new)}. (The fitted line changes by less than 2% of the average over the span.)")
        rise = "rise" if op.direction == "up" else "fall"
        per_year = f"{slope.text} {unit} per year".replace("  ", " ") if slope else ""
        return (f"Your {in_sentence(name)} has been going **{op.direction}** {span}: from {value_of(old)} to "
                f"{value_of(new)}, a fitted {rise} of about {per_year} (a least-squares line through all {n} "
                f"{count_noun(new.category, n)}).")

    def _previous(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        rec, name = op.records[0], self._name(result)
        if rec.category is Category.encounter:
            return f"Before that, your previous visit was {visit_line(rec, cite)}."
        return f"Before that, your {in_sentence(name)} {was(name)} **{value_of(rec, result.conversions)}** on " \
               f"{when(rec)} {cite(rec)}."

    def _compare(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        name, lines = self._name(result), []
        for label, recs in op.groups:
            if not recs:
                lines.append(f"{label}: no {in_sentence(name)} results")
                continue
            r = recs[0]
            lines.append(f"{label}: **{value_of(r, result.conversions)}** on {when(r)} {cite(r)}")
        text = f"Your {in_sentence(name)}:\n" + bullets(lines) if len(result.query.concepts) < 2 else \
            "Side by side:\n" + bullets(lines)
        if op.direction and op.groups[-1][1]:
            text += f"\n\nFrom the first to the second, it has {self._moved(op, op.groups[-1][1][0])}."
        if any(w in result.query.words for w in ("better or worse", "worse or better")):
            text += " Whether that is better for you depends on your own targets; your clinician can say."
        return text

    def _exists(self, result: QueryResult, op: OpResult, cite: Citer) -> str:
        q, recs = result.query, op.records
        if q.category is Category.encounter and not q.concepts:
            head = f"Your records list {len(recs)} {self._visit_kinds(result, len(recs))}{self._window(result)}"
            return f"{head}:\n" + bullets([visit_line(r, cite) for r in recs[:LIST_SHOWN]])
        shown = recs[:LIST_SHOWN]
        lines = [item_line(r, cite) for r in shown]
        if q.concepts or q.filters.terms:
            what = self._name(result) if q.concepts else " ".join(q.filters.terms)
            head = f"Your records list {plural(len(recs), 'record', 'records')} for {in_sentence(what)}"
        else:
            head = f"Your records list {len(recs)} {count_noun(result.target.category, len(recs))}"
        head += self._window(result) + (f" (showing {len(shown)})" if len(shown) < len(recs) else "")
        text = f"{head}:\n" + bullets(lines)
        if result.target.category in (Category.condition, Category.allergy) or (
                not q.concepts and any(r.category is Category.condition for r in recs)):
            text += "\n\nThis is what your records say, not a diagnosis; a clinician can tell you what it means for you."
        return text

    @staticmethod
    def _visit_kinds(result: QueryResult, n: int) -> str:
        """'emergency visits or hospital stays', or one of each when n is 1."""
        kinds = result.target.name.split(" or ")
        return " or ".join(k[:-1] if n == 1 and k.endswith("s") else k for k in kinds)

