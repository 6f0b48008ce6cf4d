"""Coach.ask: input guard → plan → retrieve → compose → output guard → Reply. The one path for the CLI,
the API, the UI and the evals; none of them has logic of its own. The Coach only conducts: the texts
it adds live in compose/, the look-ups in retrieval/, the rules in guardrails/."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from healthcoach.compose import rephrase
from healthcoach.compose.care import with_care
from healthcoach.compose.citations import Citer
from healthcoach.compose.grounding import evidence_text, own_words
from healthcoach.compose.llm import LLMComposer, LLMRun
from healthcoach.compose.query_engine import QueryEngine
from healthcoach.compose.redirects import records_off_text, redirect_text, unchecked_answer_text
from healthcoach.compose.rephrase import LLMJob, llm_job
from healthcoach.compose.reply import Reply, Turn, turns
from healthcoach.compose.safe_text import quotable_text
from healthcoach.compose.templates import Answer, Composer, number_tokens
from healthcoach.errors import NotFound
from healthcoach.guardrails import Guardrails, Verdict
from healthcoach.records.models import Record
from healthcoach.retrieval.evidence import Evidence
from healthcoach.retrieval.planner import Intent, Plan, Planner
from healthcoach.retrieval.retriever import Retriever
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import UserRow

log = logging.getLogger(__name__)
GENERAL_INTENTS = {Intent.explain_concept, Intent.wellness_guidance, Intent.help}


@dataclass
class Coach:
    """Answers one user's questions from that user's records, safely."""

    store: RecordStore
    planner: Planner
    retriever: Retriever
    composer: Composer
    guards: Guardrails
    today: Callable[[], date] = lambda: datetime.now(UTC).date()
    llm: LLMComposer | None = None  # None: template answers only (behaviour exactly as without an LLM)
    llm_remote: bool = False  # compose.llm.is_remote(settings.llm): prompts leave this machine
    llm_observer: Callable[[LLMRun], None] | None = None  # eval hook, e.g. LLMStats.add
    queries: QueryEngine | None = None  # typed queries (operations, units, visits); None: intent templates only

    def ask(self, user_id: str, message: str, history: Sequence[Turn | str] = ()) -> Reply:
        """Answer a message for a user, given the conversation so far (oldest first)."""
        t0 = time.perf_counter()
        reply = self._ask(user_id, message, turns(history))
        reply.elapsed_ms = round((time.perf_counter() - t0) * 1000, 2)
        log.info("answered intent=%s blocked=%s citations=%d in %.1f ms", reply.intent, reply.blocked,
                 len(reply.citations), reply.elapsed_ms)
        return reply

    def stream(self, user_id: str, message: str, history: Sequence[Turn | str] = ()
               ) -> Iterator[tuple[str, dict[str, str] | Reply]]:
        """The answer as events: ("delta", {"text": ...}) pieces, then ("reply", Reply).

        Without an LLM the checked template answer is streamed in pieces. With one, the model's tokens
        are streamed as they come; if its complete text fails the grounding check (or the call fails),
        a ("replace", {"text": ...}) event carries the template answer that replaces everything
        streamed. The final Reply is authoritative."""
        t0 = time.perf_counter()
        reply, job = self._prepare(user_id, message, turns(history))
        if job is None or self.llm is None:
            for piece in re.findall(r"\S+\s*", reply.text):
                yield "delta", {"text": piece}
        else:
            reply = yield from rephrase.stream(self.llm, reply, job, self.llm_observer)
        reply.elapsed_ms = round((time.perf_counter() - t0) * 1000, 2)
        yield "reply", reply

    def _ask(self, user_id: str, message: str, history: list[Turn]) -> Reply:
        reply, job = self._prepare(user_id, message, history)
        if job is None or self.llm is None:
            return reply
        return rephrase.complete(self.llm, reply, job, self.llm_observer)

    def _prepare(self, user_id: str, message: str, history: list[Turn]) -> tuple[Reply, LLMJob | None]:
        """The checked template reply, and the LLM job that may rephrase it (None: show it as is)."""
        user_turns = [t.text for t in history if t.role == "user"]
        # Safety first, on the user's own words only: record text never reaches the input guard.
        verdict = self.guards.check_input(message, user_turns)
        user = self._user(user_id)
        records_on = bool(user and user.use_records_in_chat)
        if verdict.blocked:
            return self._redirect(user_id if records_on else None, message, verdict), None
        reply, job = self._answer(user_id, message, history, user)
        if verdict.action == "answer_with_care":  # vetted policy text around the checked look-up; no LLM
            reply, job = with_care(reply, self.guards.care_texts, message), None
        notice = self.guards.notice_text(verdict)
        if notice:  # not English: emergency numbers and a line in that language first; the checked template, no LLM
            reply.text = f"{notice}\n\n{reply.text}"
            return reply, None
        return reply, job

    def _answer(self, user_id: str, message: str, history: list[Turn], user: UserRow | None
                ) -> tuple[Reply, LLMJob | None]:
        """Plan, retrieve, compose and check an answer to a message the input guard let through."""
        user_turns = [t.text for t in history if t.role == "user"]
        records_on = bool(user and user.use_records_in_chat)
        today = self.today()
        meds = self.retriever.medication_names(user_id) if records_on else []
        has_wearables = records_on and bool(self.store.record_counts(user_id).get("wearable"))
        plan = self.planner.plan(message, today, user_turns, has_wearables=has_wearables, medications=meds)
        query = self.queries.read(message, plan, today, user_turns, has_wearables) if self.queries else None
        if user is None or not records_on:
            reply = self._general_only(user_id, plan, today, user is None)
            reply.query = query
            return reply, None
        answer = self.queries.answer(user_id, query, plan.intent.value, today) if self.queries and query else None
        if answer is None:
            answer = self.composer.compose(self.retriever.retrieve(user_id, plan, message, today), today)
        reply = self._checked(answer, plan)
        reply.query = query
        if self.llm is None:
            return reply, None
        return reply, llm_job(reply, answer, message, history, self.llm_remote, bool(user.remote_llm))

    def _user(self, user_id: str) -> UserRow | None:
        try:
            return self.store.get_user(user_id)
        except NotFound:
            return None

    # --------------------------------------------------------------------------------------
    def _checked(self, answer: Answer, plan: Plan) -> Reply:
        """Run the output guard; a violation is replaced by a safe, verbatim listing of the records."""
        grounding = evidence_text(answer.records) + " " + answer.general_text
        check = self.guards.check_output(own_words(answer.text, grounding), grounding, number_tokens(answer.computed))
        # The meaning of every sentence in the coach's own words: no treatment or dose instruction, whatever
        # its wording, and no instruction-like record text outside a marked quote.
        meaning = self.guards.check_meaning(answer.text, quotable_text(answer.records), answer.general_text)
        reply = Reply(text=answer.text, citations=answer.citations, intent=plan.intent.value, as_of=answer.as_of,
                      warnings=list(answer.warnings), record_ids=[r.id for r in answer.records])
        violations = check.violations + meaning.violations
        if violations:
            reply.warnings += [f"output_guard: {v.split(':')[0]}" for v in violations]
            log.warning("output guard replaced an answer (%d violations)", len(violations))
            cite = Citer()
            reply.text, reply.citations = unchecked_answer_text(answer.records, cite), cite.citations
        return reply

    def _general_only(self, user_id: str, plan: Plan, today: date, unknown: bool) -> Reply:
        """Consent is off (or no such profile): general answers only, and how to turn records on."""
        how = records_off_text(user_id, unknown)
        if plan.intent not in GENERAL_INTENTS:
            return Reply(text=how, intent=plan.intent.value, warnings=["records_not_used"])
        reply = self._checked(self.composer.compose(Evidence(plan), today), plan)
        reply.text += f"\n\n{how}"
        reply.warnings.append("records_not_used")
        return reply

    def _redirect(self, user_id: str | None, message: str, verdict: Verdict) -> Reply:
        """A blocked message gets the policy's redirect, plus recorded facts that still help (no retrieval)."""
        found: list[Record] = []
        if user_id and verdict.category == "treatment":
            found = self.retriever.mentioned_or_active_meds(user_id, message)
        elif user_id and verdict.category == "diagnosis":
            found = self.retriever.mentioned_records(user_id, message)
        cite = Citer()
        text = redirect_text(self.guards.response_text(verdict), verdict.category, found, cite)
        dated = [r.date for r in cite.records if r.date]
        return Reply(text=text, citations=cite.citations, intent="blocked", blocked=True, category=verdict.category,
                     action=verdict.action, as_of=max(dated) if dated else None,
                     record_ids=[r.id for r in cite.records])
