"""Grounded answers without an LLM: one template per intent, every fact cited, honest about gaps.

These templates are the default product. They state what the records say (value, unit, date,
source, direction of change) and never what it means for the person's health.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date

from healthcoach.compose.citations import Citation, Citer, fmt_date, fmt_when
from healthcoach.compose.phrasing import from_source, was
from healthcoach.compose.safe_text import instruction_like, shown_text
from healthcoach.compose.wearable import wearable_text
from healthcoach.knowledge.catalog import Catalog, WellnessTopic
from healthcoach.records.models import CATEGORY_TITLES, Category, Record, format_number
from healthcoach.records.render import in_sentence
from healthcoach.records.units import display_quantity, display_range, display_value
from healthcoach.retrieval.evidence import Evidence
from healthcoach.retrieval.planner import Intent

STALE_DAYS = 365
# "Your most recent visit was ...": one event of a category, in words.
EVENT_NOUNS = {Category.encounter: "visit", Category.procedure: "procedure", Category.immunization: "vaccine"}
HISTORY_SHOWN = 12
EXAMPLES = [
    "What's my A1c?",
    "When's the last time I got a flu shot?",
    "Summarize my medical records",
    "What is A1c?",
    "How can I improve my cholesterol?",
    "What medications am I on?",
    "How did I sleep last week?",
]


@dataclass
class Answer:
    """A composed answer: text with [n] markers, its citations, and the numbers it computed itself."""

    text: str
    citations: list[Citation]
    records: list[Record]
    as_of: date | None = None
    computed: set[str] = field(default_factory=set)  # counts and averages the template calculated
    warnings: list[str] = field(default_factory=list)
    general_text: str = ""  # catalog/wellness text (not from records) the answer quotes


def _value(rec: Record, limit: int = 300) -> str:
    """What a record says: its value in readable units, else its text (a marked quote when it reads like an
    instruction)."""
    if rec.value is not None or rec.components:
        shown = display_value(rec)
        if shown:
            return shown[:limit]
    return shown_text(rec.text, limit) if rec.text else "recorded"


def _quoted(text: str) -> str:
    return " ".join(text.split()).replace('"', "'")


def _direction(new: Record, old: Record) -> str:
    if new.value is None or old.value is None or new.components:
        return ""
    a, b = round(old.value.value, 2), round(new.value.value, 2)
    if b > a:
        return f"up from {display_quantity(old.value)}"
    if b < a:
        return f"down from {display_quantity(old.value)}"
    return f"unchanged from {display_quantity(old.value)}"


def _words(n: int) -> str:
    """Small counts in words ('two'), so they are never mistaken for a measured value."""
    return ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][n] if n < 10 else str(n)


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


class Composer:
    """Writes the grounded answer for a plan's evidence."""

    def __init__(self, catalog: Catalog, wellness: list[WellnessTopic], list_limit: int = 10) -> None:
        self.catalog, self.wellness, self.list_limit = catalog, {t.id: t for t in wellness}, list_limit

    def compose(self, ev: Evidence, today: date) -> Answer:
        """The answer for the evidence (deterministic for the same evidence and day)."""
        cite = Citer()
        fn = getattr(self, f"_{ev.plan.intent.value}", self._search)
        text, computed, general = fn(ev, cite, today)
        if ev.newest:  # "through <date>" in not-found answers states the newest date the store holds
            general += f" {ev.newest.isoformat()} {fmt_date(ev.newest)}"
        if ev.plan.window is not None:  # the asked window's own dates are the question's, not a record's
            w = ev.plan.window
            general += f" {w.start.isoformat()} {w.last_day.isoformat()} {fmt_date(w.start)} {fmt_date(w.last_day)}"
        dated = [r for r in cite.records if r.date]
        newest = max(dated, key=lambda r: r.date or today) if dated else None
        as_of = newest.date if newest else None
        warnings: list[str] = []
        if newest and as_of and (today - as_of).days > STALE_DAYS and ev.plan.intent not in (Intent.explain_concept,
                                                                                             Intent.help):
            text += (f"\n\nThese records are as of {fmt_when(newest)}, more than a year ago; newer results may "
                     "exist that are not in your records here.")
            warnings.append("stale_data")
        return Answer(text, cite.citations, cite.records, as_of, computed, warnings, general)

    # honest not-found -------------------------------------------------------------------------
    def _none(self, ev: Evidence, what: str) -> str:
        scope = CATEGORY_TITLES[ev.plan.category].lower() if ev.plan.category else "records"
        n_src = f"{ev.source_count} source{'s' if ev.source_count != 1 else ''}"
        through = f", through {fmt_date(ev.newest)}" if ev.newest else ""
        window = f" {ev.plan.window.describe()}" if ev.plan.window else ""
        if ev.category_count == 0:
            return (f"I found no {what}{window}: there are no {scope} in your records yet "
                    f"({n_src} connected). If you have them, add an export and ask again.")
        return f"I found no {what}{window} among your {ev.category_count} {scope} from {n_src}{through}."

    def _computed(self, ev: Evidence) -> set[str]:
        return {str(ev.category_count), str(ev.source_count), str(ev.total), str(ev.inactive)}

    # intents ----------------------------------------------------------------------------------
    def _latest_value(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        name = self._name(ev)
        if not ev.records:
            return self._none(ev, f"{name} results"), self._computed(ev), ""
        latest, *rest = ev.records
        conflicting = [r for r in rest if r.id in latest.conflicts]
        same_time = [r for r in rest if r.start is not None and r.start == latest.start and r not in conflicting]
        if conflicting:
            # Two sources disagree about the same test at the same time: show both, pick neither.
            same_time = [*conflicting, *same_time]
            rest = [r for r in rest if r not in same_time]
            values = "; ".join(f"**{_value(r)}** from {r.source_display()} {cite(r)}" for r in [latest, *same_time])
            text = (f"Your sources disagree about your most recent {name} ({fmt_when(latest)}): {values}. All are "
                    "kept as recorded; the clinic or lab that did the test can tell you which is right.")
        elif same_time:
            # Two results with the same timestamp (e.g. a repeated test): neither is "the latest" alone.
            rest = [r for r in rest if r not in same_time]
            values = "; ".join(f"**{_value(r)}** {cite(r)}" for r in [latest, *same_time])
            text = (f"Your most recent {in_sentence(name)} results are from {fmt_when(latest)}, when "
                    f"{_words(len(same_time) + 1)} were recorded: {values}, {from_source(latest)}.")
        elif latest.value is None and not latest.components:
            text = (f"Your most recent {in_sentence(name)} record says **{_value(latest)}**, recorded on "
                    f"{fmt_when(latest)} {cite(latest)}.")
        else:
            text = (f"Your most recent {in_sentence(name)} {was(name)} **{_value(latest)}** on "
                    f"{fmt_when(latest)} {cite(latest)}, {from_source(latest)}.")
        if latest.reference_range and display_range(latest.reference_range):
            text += f" The lab's reference range is {display_range(latest.reference_range)}."
        if latest.interpretation:
            text += f" The lab marked this result \"{latest.interpretation}\"."
        if rest:
            change = "" if same_time else _direction(latest, rest[0])
            shown = rest[:3]
            earlier = "; ".join(f"{_value(r)} on {fmt_when(r)} {cite(r)}" for r in shown)
            text += f"\n\nEarlier results: {earlier}"
            text += f" (and {len(rest) - len(shown)} more)." if len(rest) > len(shown) else "."
            if change:
                text += f" The latest value is {change}."
        return text, self._computed(ev) | {str(len(rest) - 3), str(len(same_time) + 1)}, ""

    def _history(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        name = self._name(ev)
        records = ev.records[ev.plan.offset:] if ev.plan.offset else ev.records
        if not records:
            if ev.plan.offset and ev.records:
                return (f"There are no {name} results before {fmt_when(ev.records[-1])} in your records; "
                        f"that is the earliest of {len(ev.records)}."), self._computed(ev) | {str(len(ev.records))}, ""
            return self._none(ev, f"{name} results"), self._computed(ev), ""
        if ev.plan.offset:
            first = records[0]
            text = (f"Before that, your {in_sentence(name)} {was(name)} **{_value(first)}** on {fmt_when(first)} "
                    f"{cite(first)}.")
            if len(records) > 1:
                text += " Earlier still: " + "; ".join(
                    f"{_value(r)} on {fmt_when(r)} {cite(r)}" for r in records[1:4]) + "."
            return text, self._computed(ev), ""
        shown = records[:HISTORY_SHOWN]
        window = f" {ev.plan.window.describe()}" if ev.plan.window else ""
        head = f"Your {in_sentence(name)} results{window}, newest first"
        head += f" (showing {len(shown)} of {len(records)})" if len(shown) < len(records) else f" ({len(records)})"
        lines = [f"{fmt_when(r)}: {_value(r)} {cite(r)}" for r in shown]
        text = f"{head}:\n{_bullets(lines)}"
        if len(records) > 1:
            change = _direction(records[0], records[-1] if len(records) <= HISTORY_SHOWN else shown[-1])
            if change:
                text += f"\n\nThe newest value is {change} in the oldest result shown."
        return text, self._computed(ev) | {str(len(shown)), str(len(records))}, ""

    def _last_event(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        name = self._name(ev) if ev.plan.concepts else EVENT_NOUNS.get(ev.plan.category or Category.encounter, "record")
        if not ev.records:
            return self._none(ev, f"{in_sentence(name)} records"), self._computed(ev), ""
        last, *rest = ev.records
        where = last.details.get("provider") or last.source.organization
        text = f"Your most recent {in_sentence(name)} was on **{fmt_when(last)}** {cite(last)}: {last.label}"
        text += f", at {where}." if where else "."
        total = len(ev.records)
        if rest:
            earlier = "; ".join(f"{fmt_when(r)} {cite(r)}" for r in rest[:4])
            text += f"\n\nYou have {total} on record. Before that: {earlier}"
            text += f" (and {len(rest) - 4} earlier)." if len(rest) > 4 else "."
        if ev.inactive:
            text += f" ({ev.inactive} record{'s' if ev.inactive > 1 else ''} marked not given are not counted.)"
        return text, self._computed(ev) | {str(total), str(len(rest) - 4)}, ""

    def _list(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        cat = ev.plan.category or Category.medication
        title = CATEGORY_TITLES[cat].lower()
        if ev.plan.terms:
            if not ev.records:
                return self._none(ev, f"medication records for {', '.join(ev.plan.terms)}"), self._computed(ev), ""
            lines = [self._med_line(r, cite) for r in ev.records]
            text = "Here is what your records say:\n" + _bullets(lines)
            text += ("\n\nFor any question about how much to take or whether to change it, ask your prescriber "
                     "or pharmacist.")
            return text, self._computed(ev), ""
        active_word = "active " if cat in (Category.medication, Category.condition, Category.allergy,
                                             Category.care_plan) else ""
        if not ev.records:
            if ev.inactive:
                return (f"No {active_word}{title} are recorded right now; {ev.inactive} earlier "
                        f"{title} in your records are marked resolved, stopped or inactive."), self._computed(ev), ""
            return self._none(ev, f"{active_word}{title}"), self._computed(ev), ""
        shown = ev.records[: self.list_limit * 2]
        line = {Category.medication: self._med_line, Category.allergy: self._allergy_line}.get(cat, self._item_line)
        head = f"{active_word.capitalize() or ''}{title if active_word else title.capitalize()} in your records"
        head += f" (showing {len(shown)} of {len(ev.records)})" if len(shown) < len(ev.records) else f" ({len(ev.records)})"
        text = f"{head}:\n{_bullets([line(r, cite) for r in shown])}"
        if cat is Category.allergy and ev.snippets:
            # A resolved allergy is still worth knowing: list it, cited, apart from the active ones.
            old = [r for _t, r in ev.snippets if r is not None]
            text += "\n\nNo longer active in your records:\n" + _bullets(
                [f"{r.label} ({r.status or 'inactive'}), recorded {fmt_when(r)} {cite(r)}" for r in old])
        elif ev.inactive:
            text += f"\n\n{ev.inactive} other {title} in your records are marked resolved, stopped or completed."
        for section in ev.sections:  # social findings filed as conditions: shown apart, never as conditions
            text += ("\n\nAlso recorded as findings, under social history (work, education, safety):\n" +
                     _bullets([self._item_line(r, cite) for r in section.records]))
        return text, self._computed(ev) | {str(len(shown)), str(len(ev.records))}, ""

    def _med_line(self, r: Record, cite: Citer) -> str:
        kind = r.details.get("kind", "")
        verb = {"MedicationRequest": "prescribed", "MedicationStatement": "reported",
                "MedicationAdministration": "given"}.get(kind, "recorded")
        line = f"{r.label} ({r.status or 'status not stated'}), {verb} {fmt_when(r)} {cite(r)}"
        if r.text:
            # Dosage text is the prescriber's (or anyone's) words: always a marked quote, never the coach's.
            who = "the prescription" if kind == "MedicationRequest" else "the record"
            quote = shown_text(r.text) if instruction_like(r.text) else f'{who} says: "{_quoted(r.text)}"'
            line += f"; {quote}"
        return line

    def _allergy_line(self, r: Record, cite: Citer) -> str:
        extra = [f"{r.details['criticality']} criticality"] if r.details.get("criticality") else []
        if r.details.get("reactions"):
            extra.append(f"reaction: {r.details['reactions']}")
        more = f" ({'; '.join(extra)})" if extra else ""
        return f"{r.label}{more}, recorded {fmt_when(r)} {cite(r)}"

    def _item_line(self, r: Record, cite: Citer) -> str:
        since = "since" if r.category in (Category.condition, Category.pregnancy, Category.care_plan) else "on"
        return f"{r.label}, {since} {fmt_when(r)} {cite(r)}"

    def _category_summary(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        cat = ev.plan.category or Category.lab
        title = CATEGORY_TITLES[cat].lower()
        if not ev.records:
            return self._none(ev, title), self._computed(ev), ""
        shown = ev.records[: self.list_limit]
        head = f"Your latest {title}"
        head += f" (showing {len(shown)} of {len(ev.records)})" if len(shown) < len(ev.records) else f" ({len(ev.records)})"
        lines = [f"{self.display_name(r)}: {_value(r, 120)} on {fmt_when(r)} {cite(r)}" for r in shown]
        return f"{head}:\n{_bullets(lines)}", self._computed(ev) | {str(len(shown)), str(len(ev.records))}, ""

    def _explain_results(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        if not ev.records:
            return self._none(ev, "lab results"), self._computed(ev), ""
        when = ev.records[0].date
        lines, general = [], []
        for r in ev.records[: self.list_limit * 2]:
            concept = next((self.catalog.by_code(k) for k in r.code_keys() if self.catalog.by_code(k)), None)
            rng = f"; lab's range {display_range(r.reference_range)}" if r.reference_range and display_range(
                r.reference_range) else ""
            flag = f"; marked \"{r.interpretation}\" by the lab" if r.interpretation else ""
            what = f" — {concept.explanation.split('. ')[0].rstrip('.')}." if concept else ""
            general.append(what)
            lines.append(f"**{self.display_name(r)}**: {_value(r, 80)}{rng}{flag} {cite(r)}{what}")
        text = (f"Your most recent lab results (around {fmt_date(when)}), with what each test measures:\n"
                f"{_bullets(lines)}\n\nThis explains what the tests measure, not what your results mean for "
                "you: ask your clinician about any result the lab flagged or that changed since last time.")
        return text, self._computed(ev), " ".join(general)

    def _record_summary(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        if not any(s.records for s in ev.sections):
            return self._none(ev, "records"), self._computed(ev), ""
        parts, computed = ["Here is a summary of your records, section by section."], self._computed(ev)
        for s in ev.sections:
            limit = 5 if "visit" in s.title.lower() else self.list_limit
            shown = s.records[:limit]
            count = f"showing {len(shown)} of {s.total}" if len(shown) < s.total else f"{s.total}"
            computed |= {str(len(shown)), str(s.total)}
            if not shown:
                parts.append(f"**{s.title}** (none recorded)")
                continue
            if "lab" in s.title.lower():
                lines = [f"{self.display_name(r)}: {_value(r, 60)} ({fmt_when(r)}) {cite(r)}"
                         for r in shown]
            elif "medication" in s.title.lower():
                lines = [f"{r.label} {cite(r)}" for r in shown]
            elif "immunization" in s.title.lower():
                lines = [f"{r.label}: last {fmt_when(r)} {cite(r)}" for r in shown]
            elif "social" in s.title.lower():
                lines = [f"{r.label}: {_value(r)} ({fmt_when(r)}) {cite(r)}" if r.category is
                         Category.social_history else self._item_line(r, cite) for r in shown]
            else:
                lines = [self._item_line(r, cite) for r in shown]
            parts.append(f"**{s.title}** ({count})\n{_bullets(lines)}")
        return "\n\n".join(parts), computed, ""

    def _explain_concept(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        concept = self.catalog.get(ev.plan.concepts[0])
        assert concept is not None
        text = f"**{concept.name}**: {concept.explanation}"
        if ev.records:
            r = ev.records[0]
            text += f"\n\nYour most recent {concept.name} in your records: {_value(r)} on {fmt_when(r)} {cite(r)}."
        return text, self._computed(ev), concept.explanation

    def _wellness_guidance(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        topic = self.wellness[ev.plan.wellness or ""]
        text = f"Here are general, evidence-based ways to support {topic.title.lower()}:\n{_bullets(list(topic.tips))}"
        if ev.records:
            mine = "; ".join(f"{self.display_name(r)} {_value(r)} on {fmt_when(r)} {cite(r)}" for r in ev.records)
            text += f"\n\nYour latest related results: {mine}."
        text += "\n\nQuestions to ask your doctor:\n" + _bullets(list(topic.ask_your_doctor))
        text += ("\n\nThis is general wellness information, not medical advice; don't start, stop or change any "
                 f"medication without your prescriber. (Sources: {', '.join(topic.sources)}.)")
        general = " ".join((*topic.tips, *topic.ask_your_doctor, *topic.sources, topic.title))
        return text, self._computed(ev), general

    def _wearable_summary(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        return wearable_text(ev, cite, today, self._none)

    def _help(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        return ("I'm a wellness coach that answers from your own health records, citing each fact. "
                "Try asking:\n" + _bullets(EXAMPLES) +
                "\n\nI can't diagnose or tell you to change a medication, and in an emergency call 911 "
                "(or your local emergency number)."), {"911"}, ""

    def _search(self, ev: Evidence, cite: Citer, today: date) -> tuple[str, set[str], str]:
        if not ev.snippets:
            return self._none(ev, "records that match your question"), self._computed(ev), ""
        lines = []
        for _text, rec in ev.snippets[:5]:
            if rec is not None:
                lines.append(f"{rec.label}: {_value(rec, 160)} ({fmt_when(rec)}) {cite(rec)}")
        if not lines:
            return self._none(ev, "individual records that match your question"), self._computed(ev), ""
        return ("These records in your file look most related to your question:\n" + _bullets(lines) +
                "\n\nIf this isn't what you meant, ask about a specific test, medication, vaccine or date."), \
            self._computed(ev), ""

    def display_name(self, r: Record) -> str:
        """The catalog's plain name for a record's test when it has one ('LDL cholesterol'), else its label."""
        for key in r.code_keys():
            concept = self.catalog.by_code(key)
            if concept is not None:
                return concept.name
        return r.label

    def _name(self, ev: Evidence) -> str:
        names = [self.catalog.concepts[c].name for c in ev.plan.concepts if c in self.catalog.concepts]
        return names[0] if names else "matching"


def number_tokens(values: set[str]) -> set[str]:
    """Normalise computed numbers for the output guard ('7.20' → '7.2')."""
    out = set()
    for v in values:
        out.add(v)  # as written ('2.20462' in a conversion rule), and normalised below
        with contextlib.suppress(ValueError):
            out.add(format_number(float(v)))
    return out
