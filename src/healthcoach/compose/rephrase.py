"""The optional LLM stage: the model rephrases a checked template answer, and its text is shown only if
it passes the grounding check (else the template answer stands). A remote model sees record content
only with the profile's separate remote-LLM consent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass

from healthcoach.compose.llm import RECORDS_NOT_SENT_NOTE, LLMComposer, LLMRun
from healthcoach.compose.reply import Reply, Turn
from healthcoach.compose.templates import Answer

log = logging.getLogger(__name__)
Observer = Callable[[LLMRun], None]


@dataclass
class LLMJob:
    """What the LLM composer needs to rephrase one checked answer."""

    question: str
    history: list[Turn]
    answer: Answer
    records_allowed: bool
    intent: str


def llm_job(reply: Reply, answer: Answer, message: str, history: list[Turn], remote: bool,
            remote_consent: bool) -> LLMJob | None:
    """Whether and how the LLM rephrases this reply. Only an answer the output guard accepted is
    rephrased (a replaced answer is a verbatim listing: nothing to phrase). A remote model gets
    record content only with the profile's separate remote-LLM consent."""
    if any(w.startswith("output_guard") for w in reply.warnings):
        return None
    return LLMJob(message, history, answer, not remote or remote_consent, reply.intent)


def complete(llm: LLMComposer, reply: Reply, job: LLMJob, observe: Observer | None) -> Reply:
    """The reply rephrased at once (Coach.ask)."""
    run = llm.complete(job.question, job.history, job.answer, job.records_allowed, job.intent)
    return with_llm(reply, job, run, observe)


def stream(llm: LLMComposer, reply: Reply, job: LLMJob, observe: Observer | None
           ) -> Generator[tuple[str, dict[str, str]], None, Reply]:
    """The model's tokens as ("delta", {"text": ...}) events as they come; then the rest of the checked
    text as a delta, or a ("replace", {"text": ...}) event when the checked text is not what was
    streamed (the model's text failed the check, or the call failed). Returns the final Reply."""
    run, streamed = None, []
    for item in llm.stream(job.question, job.history, job.answer, job.records_allowed, job.intent):
        if isinstance(item, str):
            streamed.append(item)
            yield "delta", {"text": item}
        else:
            run = item
    assert run is not None  # LLMComposer.stream always ends with its LLMRun
    reply = with_llm(reply, job, run, observe)
    shown = "".join(streamed).strip()
    if run.kept and reply.text.startswith(shown):
        if reply.text[len(shown):]:
            yield "delta", {"text": reply.text[len(shown):]}  # e.g. the records-not-sent note
    else:
        yield "replace", {"text": reply.text}
    return reply


def with_llm(reply: Reply, job: LLMJob, run: LLMRun, observe: Observer | None = None) -> Reply:
    """The reply with the LLM's checked text (run.text is the template answer when not kept)."""
    if observe is not None:
        observe(run)
    reply.text = run.text
    reply.warnings += run.warnings
    if not job.records_allowed:
        if run.kept:
            reply.citations = []  # general text only: it cites nothing
        reply.text += f"\n\n{RECORDS_NOT_SENT_NOTE}"
        reply.warnings.append("records_not_sent_to_remote_llm")
    log.info("llm kept=%s tokens=%d in %.2f s", run.kept, run.tokens, run.latency_s)
    return reply
