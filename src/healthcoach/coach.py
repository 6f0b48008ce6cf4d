"""Coach.ask: input guard → plan → retrieve → compose → output guard → Reply. The one path for the CLI,
the API, the UI and the evals; none of them has logic of its own."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from healthcoach.compose.citations import Citation, Citer, fmt_date, fmt_when
from healthcoach.compose.llm import RECORDS_NOT_SENT_NOTE, LLMComposer, LLMRun
from healthcoach.compose.templates import Answer, Composer, number_tokens
from healthcoach.errors import NotFound
from healthcoach.guardrails import Guardrails, Verdict
from healthcoach.ingest.chunking import describe, is_active
from healthcoach.knowledge.catalog import Catalog
from healthcoach.records.models import Category, Record
from healthcoach.retrieval.evidence import Evidence
from healthcoach.retrieval.planner import Intent, Plan, Planner
from healthcoach.retrieval.retriever import Retriever, latest_per_label
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import UserRow

log = logging.getLogger(__name__)
GENERAL_INTENTS = {Intent.explain_concept, Intent.wellness_guidance, Intent.help}


class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: Literal["user", "assistant"]
    text: str


class Reply(BaseModel):
    """What the coach says, with everything needed to check it."""

    text: str = Field(description="The answer, with [n] citation markers.")
    citations: list[Citation] = Field(default_factory=list)
    intent: str = Field(description="What the planner understood: latest_value, list, ... or 'blocked'.")
    blocked: bool = Field(False, description="True when a safety policy redirected the message.")
    category: str = Field("allowed", description="Safety category acted on: allowed, emergency, self_harm, "
                          "treatment, diagnosis, other_harm.")
    action: Literal["answer", "redirect", "escalate"] = "answer"
    as_of: date | None = Field(None, description="Newest clinical date among the cited records.")
    warnings: list[str] = Field(default_factory=list)
    record_ids: list[str] = Field(default_factory=list, description="Records read to answer (for the audit log).")
    elapsed_ms: float = 0.0


@dataclass
class Coach:
    """Answers one user's questions from that user's records, safely."""

    store: RecordStore
    planner: Planner
    retriever: Retriever
    composer: Composer
    guards: Guardrails
    catalog: Catalog
    today: Callable[[], date] = lambda: datetime.now(UTC).date()
    llm: LLMComposer | None = None  # None: template answers only (behaviour exactly as without an LLM)
    llm_remote: bool = False  # compose.llm.is_remote(settings.llm): prompts leave this machine
    llm_observer: Callable[[LLMRun], None] | None = None  # eval hook, e.g. LLMStats.add

    def ask(self, user_id: str, message: str, history: Sequence[Turn | str] = ()) -> Reply:
        """Answer a message for a user, given the conversation so far (oldest first)."""
        t0 = time.perf_counter()
        reply = self._ask(user_id, message, _turns(history))
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
        reply, job = self._prepare(user_id, message, _turns(history))
        if job is None or self.llm is None:
            for piece in re.findall(r"\S+\s*", reply.text):
                yield "delta", {"text": piece}
        else:
            run, streamed = None, []
            for item in self.llm.stream(job.question, job.history, job.answer, job.records_allowed, job.intent):
                if isinstance(item, str):
                    streamed.append(item)
                    yield "delta", {"text": item}
                else:
                    run = item
            assert run is not None  # LLMComposer.stream always ends with its LLMRun
            reply = self._with_llm(reply, job, run)
            shown = "".join(streamed).strip()
            if run.kept and reply.text.startswith(shown):
                if reply.text[len(shown):]:
                    yield "delta", {"text": reply.text[len(shown):]}  # e.g. the records-not-sent note
            else:
                yield "replace", {"text": reply.text}
        reply.elapsed_ms = round((time.perf_counter() - t0) * 1000, 2)
        yield "reply", reply

    def _ask(self, user_id: str, message: str, history: list[Turn]) -> Reply:
        reply, job = self._prepare(user_id, message, history)
        if job is None or self.llm is None:
            return reply
        return self._with_llm(reply, job, self.llm.complete(job.question, job.history, job.answer,
                                                            job.records_allowed, job.intent))

    def _prepare(self, user_id: str, message: str, history: list[Turn]) -> tuple[Reply, _LLMJob | None]:
        """The checked template reply, and the LLM job that may rephrase it (None: show it as is)."""
        user_turns = [t.text for t in history if t.role == "user"]
        # Safety first, on the user's own words only: record text never reaches the input guard.
        verdict = self.guards.check_input(message, user_turns)
        try:
            user = self.store.get_user(user_id)
        except NotFound:
            user = None
        if verdict.blocked:
            return self._redirect(user_id if user and user.use_records_in_chat else None, message, verdict), None
        today = self.today()
        meds = self._medication_names(user_id) if user and user.use_records_in_chat else []
        has_wearables = bool(user and user.use_records_in_chat and self.store.record_counts(user_id).get("wearable"))
        plan = self.planner.plan(message, today, user_turns, has_wearables=has_wearables, medications=meds)
        if user is None or not user.use_records_in_chat:
            return self._general_only(user_id, plan, today, user is None), None
        evidence = self.retriever.retrieve(user_id, plan, message, today)
        answer = self.composer.compose(evidence, today)
        reply = self._checked(answer, plan, evidence)
        return reply, self._llm_job(reply, answer, message, history, user)

    def _llm_job(self, reply: Reply, answer: Answer, message: str, history: list[Turn], user: UserRow
                 ) -> _LLMJob | None:
        """Whether and how the LLM rephrases this reply. Only an answer the output guard accepted is
        rephrased (a replaced answer is a verbatim listing: nothing to phrase). A remote model gets
        record content only with the profile's separate remote-LLM consent."""
        if self.llm is None or any(w.startswith("output_guard") for w in reply.warnings):
            return None
        allowed = not self.llm_remote or bool(user.remote_llm)
        return _LLMJob(message, history, answer, allowed, reply.intent)

    def _with_llm(self, reply: Reply, job: _LLMJob, run: LLMRun) -> Reply:
        """The reply with the LLM's checked text (run.text is the template answer when not kept)."""
        if self.llm_observer is not None:
            self.llm_observer(run)
        reply.text = run.text
        reply.warnings += run.warnings
        if not job.records_allowed:
            if run.kept:
                reply.citations = []  # general text only: it cites nothing
            reply.text += f"\n\n{RECORDS_NOT_SENT_NOTE}"
            reply.warnings.append("records_not_sent_to_remote_llm")
        log.info("llm kept=%s tokens=%d in %.2f s", run.kept, run.tokens, run.latency_s)
        return reply

    # --------------------------------------------------------------------------------------
    def _checked(self, answer: Answer, plan: Plan, evidence: Evidence | None) -> Reply:
        """Run the output guard; a violation is replaced by a safe, verbatim listing of the records."""
        grounding = evidence_text(answer.records) + " " + answer.general_text
        check = self.guards.check_output(own_words(answer.text, grounding), grounding, number_tokens(answer.computed))
        warnings = list(answer.warnings)
        text, citations, records = answer.text, answer.citations, answer.records
        if not check.ok:
            warnings += [f"output_guard: {v.split(':')[0]}" for v in check.violations]
            log.warning("output guard replaced an answer (%d violations)", len(check.violations))
            cite = Citer()
            lines = [f"- {describe(r)} {cite(r)}" for r in records[:10]]
            text = ("I couldn't phrase an answer I could fully check against your records, so here are the "
                    "records themselves:\n" + "\n".join(lines)) if lines else \
                "I couldn't produce an answer I could check against your records. Please rephrase the question."
            citations = cite.citations
        return Reply(text=text, citations=citations, intent=plan.intent.value, as_of=answer.as_of,
                     warnings=warnings, record_ids=[r.id for r in records])

    def _general_only(self, user_id: str, plan: Plan, today: date, unknown: bool) -> Reply:
        """Consent is off (or no such profile): general answers only, and how to turn records on."""
        how = (f"Using your health records in chat is off. To let me answer from your records, turn it on with "
               f"`healthcoach consent --user {user_id} --records on` or in the Privacy tab.")
        if unknown:
            how = "There is no profile with records for you yet. Add an export to get answers from your records."
        if plan.intent in GENERAL_INTENTS:
            general_plan = plan
            answer = self.composer.compose(Evidence(general_plan), today)
            reply = self._checked(answer, plan, None)
            reply.text += f"\n\n{how}"
            reply.warnings.append("records_not_used")
            return reply
        return Reply(text=how, intent=plan.intent.value, warnings=["records_not_used"])

    def _redirect(self, user_id: str | None, message: str, verdict: Verdict) -> Reply:
        """A blocked message gets the policy's redirect, plus recorded facts that still help (no retrieval)."""
        text = self.guards.response_text(verdict)
        cite = Citer()
        extra = ""
        if user_id and verdict.category == "treatment":
            meds = self._mentioned_or_active_meds(user_id, message)
            if meds:
                lines = [f"- {r.label}" + (f": \"{r.text}\"" if r.text else "") + f", {r.status or 'recorded'}, "
                         f"{fmt_when(r)} {cite(r)}" for r in meds]
                extra = "What your records list (for your conversation with your prescriber or pharmacist):\n" + \
                    "\n".join(lines)
        elif user_id and verdict.category == "diagnosis":
            found = self._mentioned_records(user_id, message)
            if found:
                lines = [f"- {r.label}: {r.value_display() or r.text or 'recorded'} on {fmt_when(r)} {cite(r)}"
                         for r in found]
                extra = "What your records say that may be relevant to bring to a clinician:\n" + "\n".join(lines)
        if extra:
            text = f"{text}\n\n{extra}"
        dated = [r.date for r in cite.records if r.date]
        return Reply(text=text, citations=cite.citations, intent="blocked", blocked=True, category=verdict.category,
                     action=verdict.action, as_of=max(dated) if dated else None,
                     record_ids=[r.id for r in cite.records])

    def _medication_names(self, user_id: str) -> list[str]:
        names = set()
        for r in self.store.query(user_id, categories=[Category.medication]):
            words = [w for w in r.label.replace("/", " ").split() if w.isalpha() and len(w) > 3]
            if words:
                names.add(words[0].lower())
        return sorted(names)

    def _mentioned_or_active_meds(self, user_id: str, message: str) -> list[Record]:
        meds = latest_per_label(self.store.query(user_id, categories=[Category.medication]))
        low = message.lower()
        named = [r for r in meds if any(w.lower() in low for w in r.label.split() if w.isalpha() and len(w) > 3)]
        return (named or [r for r in meds if is_active(r)])[:10]

    def _mentioned_records(self, user_id: str, message: str) -> list[Record]:
        out: list[Record] = []
        for concept, _ in self.catalog.find(message)[:3]:
            if concept.code_keys:
                out.extend(self.store.query(user_id, code_keys=concept.code_keys, limit=1))
        return out


@dataclass
class _LLMJob:
    """What the LLM composer needs to rephrase one checked answer."""

    question: str
    history: list[Turn]
    answer: Answer
    records_allowed: bool
    intent: str


def _turns(history: Sequence[Turn | str]) -> list[Turn]:
    return [t if isinstance(t, Turn) else Turn(role="user", text=t) for t in history]


def own_words(text: str, evidence: str) -> str:
    """The answer without verbatim quotes from the records ("Take 1 tablet daily" as prescribed).

    Quoting a prescription is reporting the record, not giving a dose directive; everything the coach
    says in its own words is still checked."""
    return re.sub(r'"([^"\n]{1,400})"', lambda m: '""' if m.group(1) in evidence else m.group(0), text)


def evidence_text(records: Sequence[Record]) -> str:
    """Everything the cited records state, with dates in every format the composer writes."""
    parts = []
    for r in records:
        parts.append(describe(r))
        parts.append(r.model_dump_json(exclude={"source", "user_id", "id"}))
        if r.date:
            parts.append(f"{r.date.isoformat()} {fmt_date(r.date)} {fmt_when(r)}")
    return "\n".join(parts)
