"""The last step before a reply leaves the coach: the output guard over a composed answer, and the redirect
reply for a blocked message. Both build the Reply the CLI, API and UI show."""

from __future__ import annotations

import logging

from healthcoach.compose.citations import Citer
from healthcoach.compose.grounding import evidence_text, own_words
from healthcoach.compose.redirects import redirect_text, unchecked_answer_text
from healthcoach.compose.reply import Reply
from healthcoach.compose.safe_text import quotable_text
from healthcoach.compose.templates import Answer, number_tokens
from healthcoach.guardrails import Guardrails, Verdict
from healthcoach.records.models import Record

log = logging.getLogger(__name__)


def checked_reply(guards: Guardrails, answer: Answer, intent: str) -> Reply:
    """Run the output guard; a violation is replaced by a safe, verbatim listing of the records."""
    grounding = evidence_text(answer.records) + " " + answer.general_text
    check = guards.check_output(own_words(answer.text, grounding), grounding, number_tokens(answer.computed))
    # The meaning of every sentence in the coach's own words: no treatment or dose instruction, whatever
    # its wording, and no instruction-like record text outside a marked quote.
    meaning = guards.check_meaning(answer.text, quotable_text(answer.records), answer.general_text)
    reply = Reply(text=answer.text, citations=answer.citations, intent=intent, as_of=answer.as_of,
                  warnings=list(answer.warnings), record_ids=[r.id for r in answer.records])
    violations = check.violations + meaning.violations
    if violations:
        reply.warnings += [f"output_guard: {v.split(':')[0]}" for v in violations]
        log.warning("output guard replaced an answer (%d violations)", len(violations))
        cite = Citer()
        reply.text, reply.citations = unchecked_answer_text(answer.records, cite), cite.citations
    return reply


def redirect_reply(guards: Guardrails, verdict: Verdict, found: list[Record]) -> Reply:
    """A blocked message's reply: the policy's redirect, plus the recorded facts that still help (`found`:
    the medicines of a treatment question, the results mentioned in a diagnosis question)."""
    cite = Citer()
    text = redirect_text(guards.response_text(verdict), verdict.category, found, cite)
    dated = [r.date for r in cite.records if r.date]
    return Reply(text=text, citations=cite.citations, intent="blocked", blocked=True, category=verdict.category,
                 action=verdict.action, as_of=max(dated) if dated else None, record_ids=[r.id for r in cite.records])
