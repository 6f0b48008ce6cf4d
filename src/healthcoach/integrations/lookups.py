"""Guarded record look-ups for agents: the coach's own guards, planner and retriever, answering with records
(ids, clinical dates, sources) instead of prose. The MCP tools and the LangChain retriever both call these.

Every look-up runs in the coach's order: the input guard on each free-text argument first (a blocked
argument gets the coach's own redirect, emergency help first), then consent (records off: the coach's
consent text and no records), then the structured or hybrid retrieval the coach itself uses."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from healthcoach.coach import Coach
from healthcoach.compose.redirects import records_off_text
from healthcoach.compose.reply import Reply, Turn
from healthcoach.errors import NotFound
from healthcoach.integrations.results import ToolResult
from healthcoach.knowledge.catalog import Concept
from healthcoach.privacy.audit import write_audit
from healthcoach.records.models import Category, Record
from healthcoach.retrieval.evidence import Evidence
from healthcoach.retrieval.planner import EVENT_CATEGORIES, Intent, Plan
from healthcoach.retrieval.retriever import NOT_GIVEN, latest_per_label
from healthcoach.retrieval.timewindow import Window

log = logging.getLogger(__name__)
SUMMARY_QUESTION = "Summarize my records"
EARLIEST = date(1900, 1, 1)


def unique(records: Iterable[Record]) -> list[Record]:
    """Records in their first order, each once."""
    seen: dict[str, Record] = {}
    for r in records:
        seen.setdefault(r.id, r)
    return list(seen.values())


def window_for(since: date | None, until: date | None, today: date) -> Window | None:
    """The [since, until] window (both days included) as the retriever's Window; None when neither is set."""
    if since is None and until is None:
        return None
    start, last = since or EARLIEST, until or today
    return Window(start, last + timedelta(days=1), f"from {start.isoformat()} to {last.isoformat()}")


def within(rec: Record, category: Category | None, since: date | None, until: date | None) -> bool:
    """Whether a record is of the category (when given) and dated inside [since, until] (when given)."""
    if category is not None and rec.category is not category:
        return False
    if since is None and until is None:
        return True
    return rec.date is not None and (since or EARLIEST) <= rec.date <= (until or date.max)


@dataclass
class RecordLookups:
    """Look-ups over one coach's stores, each guarded and consented like Coach.ask. `via` names the caller
    in the audit log ('mcp', 'langchain')."""

    coach: Coach
    limit: int = 200  # records listed per result; `total` and `truncated` say when more matched
    via: str = "mcp"

    # guard, consent, audit ------------------------------------------------------------------------
    def screened(self, user_id: str, texts: Sequence[str | None]) -> ToolResult | None:
        """The coach's redirect when a free-text argument is blocked (the most urgent one wins), else None."""
        order = self.coach.guards.policy.config.order
        verdicts = [(t, self.coach.guards.check_input(t)) for t in texts if t and t.strip()]
        blocked = [(t, v) for t, v in verdicts if v.blocked]
        if not blocked:
            return None
        text, _ = min(blocked, key=lambda tv: order.index(tv[1].category) if tv[1].category in order
                      else len(order))
        # The coach's own path for that text: the same verdict, the same redirect, emergency help first.
        return self.of_reply(user_id, self.coach.ask(user_id, text))

    def records_off(self, user_id: str) -> ToolResult | None:
        """The coach's consent text when this user's records may not be used (or there is no profile)."""
        try:
            user = self.coach.store.get_user(user_id)
        except NotFound:
            user = None
        if user is not None and user.use_records_in_chat:
            return None
        return ToolResult(text=records_off_text(user_id, user is None), warnings=["records_not_used"])

    def of_reply(self, user_id: str, reply: Reply) -> ToolResult:
        """A coach Reply as a tool result, with the cited records."""
        found = self.coach.store.get_records(user_id, [c.record_id for c in reply.citations])
        return ToolResult.of_reply(reply, found)

    def guarded(self, user_id: str, tool: str, args: dict[str, Any], texts: Sequence[str | None],
                run: Callable[[], ToolResult]) -> ToolResult:
        """Guard the free-text arguments, check consent, run the look-up, and audit it (record ids only)."""
        result = self.screened(user_id, texts) or self.records_off(user_id) or run()
        self._audit(user_id, "lookup", {"via": self.via, "tool": tool, "arguments": args,
                                        "blocked": result.blocked, "category": result.category,
                                        "records_read": [r.record_id for r in result.records]})
        return result

    def _audit(self, user_id: str, action: str, detail: dict[str, Any]) -> None:
        try:
            self.coach.store.get_user(user_id)
        except NotFound:
            return  # no profile, nothing read: nothing to audit
        with self.coach.store.session() as s:
            write_audit(s, user_id, action, detail)

    # helpers ----------------------------------------------------------------------------------------
    def concept(self, text: str) -> Concept | None:
        """The catalog concept a name or id means ('A1c', 'hba1c', 'flu shot'), or None."""
        catalog = self.coach.retriever.catalog
        by_id = catalog.get(text.strip().lower().replace(" ", "_"))
        return by_id or next(iter(catalog.find(text) or catalog.find_fuzzy(text)), (None, ""))[0]

    def _evidence(self, user_id: str, plan: Plan, message: str) -> Evidence:
        return self.coach.retriever.retrieve(user_id, plan, message, self.coach.today())

    def _by_label(self, user_id: str, text: str, since: date | None, until: date | None) -> list[Record]:
        """Records whose label contains the words (for names the concept catalog does not know)."""
        words = text.lower().split()
        found = [r for r in self.coach.store.query(user_id) if all(w in r.label.lower() for w in words)]
        return [r for r in found if (r.status or "") not in NOT_GIVEN and within(r, None, since, until)]

    def _concept_records(self, user_id: str, name: str, intent: Intent, since: date | None = None,
                         until: date | None = None) -> tuple[str, list[Record], list[str]]:
        """(display name, records newest first, warnings) for a concept name, through the retriever's
        structured look-up; a name the catalog does not know is matched against record labels instead."""
        concept = self.concept(name)
        if concept is None:
            return name, self._by_label(user_id, name, since, until), ["matched_by_label"]
        if intent is Intent.latest_value and concept.category in EVENT_CATEGORIES:
            intent = Intent.last_event
        plan = Plan(intent, concepts=(concept.id,), category=concept.category,
                    window=window_for(since, until, self.coach.today()))
        records = [r for r in self._evidence(user_id, plan, name).records if within(r, None, since, until)]
        return concept.name, records, []

    # the look-ups -----------------------------------------------------------------------------------
    def search_records(self, user_id: str, query: str, category: Category | None = None,
                       since: date | None = None, until: date | None = None) -> ToolResult:
        """Records matching a question or words, through the coach's planner and retriever (exact look-ups
        for concepts and categories, hybrid vector + BM25 search otherwise), filtered by category, dates."""
        def run() -> ToolResult:
            today = self.coach.today()
            meds = self.coach.retriever.medication_names(user_id)
            wearables = bool(self.coach.store.record_counts(user_id).get("wearable"))
            plan = self.coach.planner.plan(query, today, medications=meds, has_wearables=wearables)
            plan = replace(plan, window=window_for(since, until, today) or plan.window)
            ev = self._evidence(user_id, plan, query)
            found = unique([*ev.records, *(r for _, r in ev.snippets if r is not None),
                            *(r for s in ev.sections for r in s.records)])
            found = [r for r in found if within(r, category, since, until)]
            scope = "".join([f" in {category}" if category else "", f" from {since}" if since else "",
                             f" until {until}" if until else ""])
            text = (f"{len(found)} record(s) match '{query}'{scope}." if found else
                    f"No records match '{query}'{scope} (searched: {ev.searched or 'your records'}).")
            return ToolResult.listing(text, found, self.limit)

        args = {"query": query, "category": category, "since": since, "until": until}
        return self.guarded(user_id, "search_records", _plain(args), [query], run)

    def get_latest(self, user_id: str, concept: str) -> ToolResult:
        """The newest record of a concept ('A1c', 'flu shot', 'blood pressure'), with its date and source."""
        def run() -> ToolResult:
            name, records, warnings = self._concept_records(user_id, concept, Intent.latest_value)
            if not records:
                return ToolResult(text=f"No {name} records found in your records.", warnings=warnings)
            first = records[0]
            value = first.value_display()
            when = first.date or "an unknown date"
            text = (f"Your most recent {name} was {value + ' ' if value else ''}on {when} "
                    f"({first.label}; source: {first.source.display()}).")
            result = ToolResult.listing(text, [first], 1, warnings)
            result.total = len(records)
            return result

        return self.guarded(user_id, "get_latest", {"concept": concept}, [concept], run)

    def get_series(self, user_id: str, concept: str, since: date | None = None, until: date | None = None
                   ) -> ToolResult:
        """Every record of a concept in the window, newest first (complete up to the listing limit)."""
        def run() -> ToolResult:
            name, records, warnings = self._concept_records(user_id, concept, Intent.history, since, until)
            scope = window_for(since, until, self.coach.today())
            where = f" {scope.describe()}" if scope else ""
            text = (f"{len(records)} {name} record(s){where}, newest first." if records else
                    f"No {name} records found{where}.")
            return ToolResult.listing(text, records, self.limit, warnings)

        args = {"concept": concept, "since": since, "until": until}
        return self.guarded(user_id, "get_series", _plain(args), [concept], run)

    def list_medications(self, user_id: str, active: bool = True) -> ToolResult:
        """Medications on record, newest entry of each: only active ones (default) or all ever listed."""
        def run() -> ToolResult:
            if active:
                plan = Plan(Intent.list, category=Category.medication)
                ev = self._evidence(user_id, plan, "my medications")
                records, other = ev.records, ev.inactive
                text = f"{len(records)} active medication(s) on record" + (
                    f" ({other} more listed as not active; ask with active=false to see them)."
                    if other else ".")
            else:
                records = latest_per_label(self.coach.store.query(user_id, categories=[Category.medication]))
                text = f"{len(records)} medication(s) ever listed in your records, with their status."
            return ToolResult.listing(text, records, self.limit)

        return self.guarded(user_id, "list_medications", {"active": active}, [], run)

    def summarize_records(self, user_id: str) -> ToolResult:
        """The coach's record summary (conditions, medications, allergies, recent labs, vaccines, visits)."""
        def run() -> ToolResult:
            return self.of_reply(user_id, self.coach.ask(user_id, SUMMARY_QUESTION))

        return self.guarded(user_id, "summarize_records", {}, [], run)

    def category_records(self, user_id: str, category: Category) -> ToolResult:
        """Every record of one category, newest first (up to the listing limit)."""
        def run() -> ToolResult:
            records = self.coach.store.query(user_id, categories=[category])
            text = f"{len(records)} {category} record(s), newest first."
            return ToolResult.listing(text, records, self.limit)

        return self.guarded(user_id, "category_records", {"category": str(category)}, [], run)

    def ask_coach(self, user_id: str, question: str, history: Sequence[Turn | str] = ()) -> ToolResult:
        """The guarded coach itself (Coach.ask): input guard, plan, retrieve, compose, output guard."""
        reply = self.coach.ask(user_id, question, history)
        self.audit_ask(user_id, question, reply)
        return self.of_reply(user_id, reply)

    def audit_ask(self, user_id: str, question: str, reply: Reply) -> None:
        """The audit entry a chat question gets (ids of the records read, never their content)."""
        self._audit(user_id, "ask", {"via": self.via, "conversation_id": None, "question": question,
                                     "intent": reply.intent, "blocked": reply.blocked,
                                     "category": reply.category, "records_read": reply.record_ids})


def _plain(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as JSON-ready values for the audit log (dates as ISO text), leaving out unset ones."""
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Category) else v)
            for k, v in args.items() if v is not None}
