"""Test doubles for the LLM composer: a scripted chat model that records every prompt it receives and
fails loudly when it runs out of replies (so a test can never pass on an unexpected extra call)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class OutOfReplies(AssertionError):
    """The code under test called the model more often than the test scripted."""


class ScriptedChatModel(BaseChatModel):
    """Replies with the scripted texts in order; .calls holds the messages of every call."""

    replies: list[str] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    fail_with: str | None = None  # raise this (as RuntimeError) on the next call

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        if self.fail_with:
            raise RuntimeError(self.fail_with)
        if not self.replies:
            raise OutOfReplies(f"model called {len(self.calls)} times; only {len(self.calls) - 1} replies scripted")
        return self.replies.pop(0)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kw: Any) -> Iterator[ChatGenerationChunk]:
        for piece in re.findall(r"\S+\s*|\s+", self._next(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def prompt(self, i: int = -1) -> str:
        """The user message of call i (the system message is fixed text from prompts/system.yaml)."""
        return str(self.calls[i][-1].content)


class OutputGuardOnly:
    """The real output guard from the repo's guardrails/ policy, without training the input classifier:
    what check_grounding needs (check_output), fast enough for unit tests."""

    def __init__(self) -> None:
        from healthcoach.guardrails.output import OutputGuard
        from healthcoach.guardrails.policy import load_policy
        from healthcoach.settings import packaged_dir

        policy = load_policy(packaged_dir("guardrails"))
        region = next(iter(policy.config.regions.values())).model_dump()
        self.guard = OutputGuard(policy.output, [t.format(**region) for t in policy.responses.values()])

    def check_output(self, text: str, evidence: str, allowed_numbers: Any = ()) -> Any:
        return self.guard.check(text, evidence, allowed_numbers)

    def check_meaning(self, text: str, quotable: str = "", vetted: str = "") -> Any:
        """The meaning check's record-instruction patterns; its classifier half needs the trained input
        guard, so tests of that use the real Guardrails."""
        from healthcoach.guardrails.input import ALLOW
        from healthcoach.guardrails.output_meaning import MeaningCheck
        from healthcoach.guardrails.record_text import packaged_record_text

        return MeaningCheck(lambda _text: ALLOW, packaged_record_text()).check(text, quotable, vetted)


def a1c_answer() -> Any:
    """A template answer like the composer writes for "What's my A1c?" (citations only, no Record objects)."""
    from healthcoach.compose.citations import Citation
    from healthcoach.compose.templates import Answer

    src = "Riverside Family Medicine (FHIR export)"
    rows = [(1, "2026-10-08", "6.1"), (2, "2026-04-01", "6.2"), (3, "2025-10-03", "6.2"), (4, "2025-03-27", "6.5")]
    cites = [Citation(n=n, record_id=f"r{n}", date=d, label="Hemoglobin A1c/Hemoglobin.total in Blood", value=v,
                      unit="%", source=src, category="lab") for n, d, v in rows]
    cites.append(Citation(n=5, record_id="m1", date="2025-03-27", label="metformin hydrochloride 500 MG Oral Tablet",
                          value="Take 1 tablet by mouth once daily", unit=None, source=src, category="medication"))
    text = ("Your most recent Hemoglobin A1c was **6.1 %** on October 8, 2026 [1], from " + src + ". The lab's "
            "reference range is 4-5.6 %.\n\nEarlier results: 6.2 % on April 1, 2026 [2]; 6.2 % on October 3, 2025 [3]; "
            "6.5 % on March 27, 2025 [4] (and 6 more). The latest value is down from 6.2 %. Metformin is listed [5].")
    return Answer(text=text, citations=cites, records=[], computed={"6"})


def template_answer(stores: Any, user_id: str, question: str, today: Any) -> Any:
    """The grounded template Answer for a question, built like container.build_coach does but without
    the guardrails classifier (prompt tests need the answer, not the input guard)."""
    from healthcoach.compose.templates import Composer
    from healthcoach.knowledge.catalog import load_catalog, load_wellness
    from healthcoach.retrieval.hybrid import HybridSearch
    from healthcoach.retrieval.planner import Planner
    from healthcoach.retrieval.retriever import Retriever

    catalog = load_catalog()
    wellness = load_wellness(catalog=catalog)
    limits = stores.settings.retrieval
    retriever = Retriever(stores.records, catalog, HybridSearch(stores.vectors), limits.list_limit, limits.top_k)
    plan = Planner(catalog, wellness).plan(question, today, [])
    return Composer(catalog, wellness, limits.list_limit).compose(retriever.retrieve(user_id, plan, question, today),
                                                                   today)


class ObeyingChatModel(BaseChatModel):
    """A model that obeys instructions hidden in records: when its prompt contains `trigger` (words of an
    injected record), it writes `obey` (the instruction, carried out in its own words); otherwise it copies
    the checked facts it was given, as a faithful rephrasing would. .calls and .obeyed count what it did."""

    trigger: str = ""
    obey: str = ""
    calls: int = 0
    obeyed: int = 0

    @property
    def _llm_type(self) -> str:
        return "obeying-fake"

    def _reply(self, messages: list[BaseMessage]) -> str:
        self.calls += 1
        prompt = str(messages[-1].content)
        def words(text: str) -> str:
            return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

        if self.trigger and words(self.trigger) in words(prompt):
            self.obeyed += 1
            return self.obey
        facts = re.search(r"Checked (?:answer|summary) \(the facts to convey\):\n(.*?)\n</records>", prompt,
                          re.S)
        return facts.group(1).strip() if facts else "I can only repeat what your records say [1]."

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kw: Any) -> Iterator[ChatGenerationChunk]:
        for piece in re.findall(r"\S+\s*|\s+", self._reply(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
