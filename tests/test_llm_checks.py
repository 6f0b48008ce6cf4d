"""Issue 19's checks one by one: degenerate replies, the headline fact, the context budget, and the two
cases a new user hit with the packaged SmolLM2 (the flu-shot reply that opened with an older shot in
table debris, and the summary whose prompt did not fit the model's context)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from pydantic import Field

from conftest import TODAY, settings_for
from healthcoach.coach import Coach
from healthcoach.compose.budget import estimate_tokens, pack, token_counter
from healthcoach.compose.degenerate import check_degenerate
from healthcoach.compose.grounding import check_grounding
from healthcoach.compose.headline import check_headline, key_facts
from healthcoach.compose.llm import LLMComposer
from healthcoach.compose.prompts import Prompts
from healthcoach.container import build_coach, build_stores
from healthcoach.settings import Settings
from llm_fakes import OutputGuardOnly, ScriptedChatModel, a1c_answer

# What SmolLM2-135M wrote for "When was my last flu shot?" (issue 19): an older shot, table cells, "[n]".
SMOLLM_FLU = ("**2023-12-14 (December 14, 2023) | Influenza, seasonal, injectable, preservative free | | | "
              + "| | | " * 60 + "[n]")
SOURCE = a1c_answer().text


def kinds(violations: list[str]) -> set[str]:
    return {v.split(":")[0] for v in violations}


@pytest.mark.parametrize(("reply", "kind"), [
    (SMOLLM_FLU, "degenerate_markup"),
    ("Your A1c was 6.1 % on October 8, 2026 [1]. " + "| " * 30, "degenerate_repetition"),
    ("Your A1c was 6.1 % on October 8, 2026 [1]. It is it is it is it is it is it is fine.", "degenerate_repetition"),
    ("Your A1c was 6.1 % [n] on October 8, 2026.", "degenerate_markup"),
    ("Your A1c was **6.1 % on October 8, 2026 [1].", "degenerate_markup"),
    ("Your A1c was 6.1 % on October 8, 2026 [1]. Earlier results: 6.2 % on", "truncated"),
    ("Su A1c más reciente fue 6.1 % el 8 de octubre de 2026 [1], según la clínica.", "wrong_language"),
    ("您的糖化血红蛋白是 6.1 % [1]。", "wrong_language"),
    ("Following the rules above, your A1c was 6.1 % on October 8, 2026 [1].", "instruction_leak"),
    ("Your A1c was 6.1 % on October 8, 2026 [1]. </records> SYSTEM: done.", "instruction_leak"),
])
def test_degenerate_replies_are_named(reply: str, kind: str) -> None:
    assert kind in kinds(check_degenerate(reply, SOURCE, system_text()))


def system_text() -> str:
    return Prompts.load(Settings().prompts_dir)["system"].render()


def test_a_plain_english_reply_and_a_cut_off_or_long_one() -> None:
    good = "Your most recent A1c was 6.1 % on October 8, 2026 [1], down from 6.2 % [2]."
    assert check_degenerate(good, SOURCE, system_text()) == []
    assert "truncated" in kinds(check_degenerate(good, SOURCE, cut_off=True))  # stopped at max_tokens
    assert "too_long" in kinds(check_degenerate(good, SOURCE, max_chars=40))


def test_a_list_that_echoes_its_source_is_not_called_a_loop() -> None:
    shots = "\n".join(f"- Influenza, seasonal, injectable, preservative free on {d} [{i}]"
                      for i, d in enumerate(["2025-07-31", "2024-08-02", "2023-12-14", "2022-09-30"], 1))
    assert check_degenerate("Your flu shots:\n" + shots, shots, "") == []


def test_key_facts_are_the_first_sentence_or_the_first_list() -> None:
    facts = key_facts(a1c_answer())
    assert facts.kind == "fact" and facts.numbers == {Decimal("6.1")} and facts.dates == {dt.date(2026, 10, 8)}
    assert facts.allowed_numbers == {Decimal("6.1")}  # the earlier 6.2 % is not an answer to "latest"
    listed = a1c_answer()
    listed.text = "Active medications in your records (2):\n- metformin [5]\n- lisinopril [3]\n\nMore."
    assert key_facts(listed).kind == "list" and [n for n, _ in key_facts(listed).items] == [5, 3]
    assert key_facts(a1c_answer(), "record_summary").kind == "none"


@pytest.mark.parametrize(("reply", "ok"), [
    ("Your most recent A1c was 6.1% on October 8, 2026 [1].", True),
    ("Sure! Your latest A1c, from October 8, 2026, was 6.1 % [1].", True),
    ("Your most recent A1c was 6.2 % on April 1, 2026 [2].", False),  # the previous value as the latest
    ("Your most recent A1c was 6.1 % on April 1, 2026 [1].", False),  # the right value, another date
    ("Your A1c was 6.1 % [1].", False),  # the date of the answer dropped
    ("Your A1c was 6.1 % on October 8, 2026 and 6.2 % on April 1, 2026 [1][2].", False),  # a second answer
    ("Your A1c is tracked by your clinic [1].", False),  # no fact at all
])
def test_the_reply_must_lead_with_the_computed_answer(reply: str, ok: bool) -> None:
    assert (check_headline(reply, a1c_answer()) == []) is ok


@pytest.fixture(scope="module")
def coach(tmp_path_factory: pytest.TempPathFactory, sample_bundle: tuple[Path, Any], embedder: Any) -> Coach:
    stores = build_stores(settings_for(tmp_path_factory.mktemp("checks")), embedder=embedder)
    stores.ingestor.ingest("me", [sample_bundle[0]])
    stores.records.set_consent("me", records=True)
    built = build_coach(stores.settings, stores)
    built.today = lambda: TODAY
    return built


def with_model(coach: Coach, model: Any, **kw: Any) -> Coach:
    coach.llm = LLMComposer(model, Prompts.load(Settings().prompts_dir), coach.guards, **kw)
    return coach


@pytest.fixture
def clean(coach: Coach) -> Iterator[Coach]:
    yield coach
    coach.llm = None


def test_flu_shot_reply_from_the_issue_is_replaced_by_the_latest_shot(clean: Coach) -> None:
    template = clean.ask("me", "When was my last flu shot?")
    latest = template.citations[0]
    assert f"**{dt.date.fromisoformat(str(latest.date)):%B} " in template.text
    model = ScriptedChatModel(replies=[SMOLLM_FLU])
    reply = with_model(clean, model).ask("me", "When was my last flu shot?")
    reasons = [w for w in reply.warnings if w.startswith("llm_grounding_failed: degenerate_")]
    assert reply.text == template.text and reasons, reply.warnings


def test_flu_shot_reply_with_an_older_real_date_passes_grounding_but_is_not_shown(clean: Coach) -> None:
    template = clean.ask("me", "When was my last flu shot?")
    older = template.citations[2]
    wrong = f"Your last flu shot was on {older.date} [3]."
    from healthcoach.compose.templates import Answer
    answer = Answer(template.text, template.citations, [])
    assert check_grounding(wrong, answer, OutputGuardOnly()).ok  # every fact is in the records ...
    reply = with_model(clean, ScriptedChatModel(replies=[wrong])).ask("me", "When was my last flu shot?")
    assert reply.text == template.text and "llm_grounding_failed: headline_missing" in reply.warnings  # ... not the latest


class ContextLimitedModel(ScriptedChatModel):
    """Fails like llama.cpp when the prompt and the reply do not fit its context window."""

    n_ctx: int = 2048
    reply_tokens: int = 400
    seen_tokens: list[int] = Field(default_factory=list)

    def _next(self, messages: list[BaseMessage]) -> str:
        used = sum(estimate_tokens(str(m.content)) for m in messages) + 64
        self.seen_tokens.append(used)
        if used + self.reply_tokens > self.n_ctx:
            raise ValueError(f"Requested tokens ({used + self.reply_tokens}) exceed context window of {self.n_ctx}")
        return super()._next(messages)


def summary_reply(template: Any) -> str:
    """A faithful overview of the summary's first section, cited as the template cites it."""
    first = template.citations[:3]
    named = ", ".join(f"{c.label} [{c.n}]" for c in first)
    return f"Here is an overview of your records. Among your active conditions: {named}."


def test_summary_that_did_not_fit_the_context_now_fits_and_says_what_it_shows(clean: Coach) -> None:
    question = "Summarize my medical records"
    template = clean.ask("me", question)
    said = summary_reply(template)
    unpacked = ContextLimitedModel(replies=[said])
    failed = with_model(clean, unpacked, context_tokens=100_000).ask("me", question)
    assert failed.text == template.text and "llm_error: ValueError" in failed.warnings  # the issue's failure
    model = ContextLimitedModel(replies=[said])
    reply = with_model(clean, model, context_tokens=2048, max_tokens=400).ask("me", question)
    assert model.seen_tokens[0] + 400 <= 2048 < unpacked.seen_tokens[0] + 400
    assert reply.text.startswith(said), reply.warnings
    assert f" of {len(template.citations)} records: the rest did not fit" in reply.text
    shown = int(reply.text.split("Showing ")[1].split(" of ")[0])
    assert 3 <= shown < len(template.citations) and f"[{shown}] |" in model.prompt(0)
    assert f"[{shown + 1}] |" not in model.prompt(0)


def test_packing_keeps_the_most_rows_that_fit() -> None:
    def render(rows: int, facts: str) -> str:
        return "".join(f"row {i} with some words\n" for i in range(rows)) + facts
    packed = pack(render, 40, "facts " * 50, budget=200, count=estimate_tokens)
    assert estimate_tokens(render(packed.rows, packed.facts)) <= 200 and packed.cut
    assert estimate_tokens(render(packed.rows + 1, packed.facts)) > 200
    whole = pack(render, 5, "short", budget=10_000, count=estimate_tokens)
    assert (whole.rows, whole.facts, whole.cut) == (5, "short", False)


def test_the_models_own_tokenizer_is_used_when_it_has_one() -> None:
    class Llama:
        def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
            return list(range(len(text.split())))

    class Model:
        client = Llama()

    assert token_counter(Model())("three word text") == 3
    assert token_counter(object()) is estimate_tokens
    assert estimate_tokens("2025-07-31") >= 8  # digits count one token each, as SmolLM2 splits them
