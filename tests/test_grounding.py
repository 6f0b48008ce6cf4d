"""check_grounding: LLM text may only restate the grounded answer. Crafted hallucinations fail; a clean
paraphrase (other date and number formats, rounding to the shown precision) passes."""

from __future__ import annotations

from typing import Any

import pytest

from healthcoach.compose.grounding import check_grounding, cited_numbers, claims, medication_names
from llm_fakes import OutputGuardOnly, a1c_answer


@pytest.fixture(scope="module")
def guards() -> OutputGuardOnly:
    return OutputGuardOnly()


def kinds(result: Any) -> set[str]:
    return {v.split(":")[0] for v in result.violations}


@pytest.mark.parametrize("text", [
    "Your latest A1c was 6.1% on October 8, 2026 [1], a little lower than 6.2% in April 2026 [2].",
    "Your most recent A1c was 6.10 % (10/8/2026) [1]; before that 6.2 % on 2026-04-01 [2].",
    "On Oct 8, 2026 your A1c was 6.1% [1]. Earlier results were 6.2%, 6.2% and 6.5% [2-4], and there are 6 more.",
    "Your A1c was 6.1 % on 8 October 2026 [1]. Your records also list metformin [5]; ask your clinician about it.",
    'Your metformin prescription says "Take 1 tablet by mouth once daily" [5]; A1c 6.1% [1].',  # a verbatim quote
])
def test_clean_paraphrase_passes(guards: OutputGuardOnly, text: str) -> None:
    result = check_grounding(text, a1c_answer(), guards)
    assert result.ok, result.violations


@pytest.mark.parametrize(("text", "kind"), [
    ("Your A1c is 12.1% [1].", "ungrounded_number"),                               # SmolLM2's actual invention
    ("Your most recent A1c was 6.1% on March 5, 2024 [1].", "ungrounded_date"),       # wrong date
    ("Your most recent A1c was 6.1% on 3/5/2024 [1].", "ungrounded_date"),            # same, other format
    ("Your A1c was 6.1% [1]; keep taking your insulin as usual.", "ungrounded_medication"),
    ("Your A1c was 6.1% [1] and your lisinopril is listed.", "ungrounded_medication"),
    ("Your A1c was 6.1% [1]. You should double your metformin dose.", "dose_directive"),
    ("Your A1c was 6.1% [1]. Increase metformin to 1000 mg.", "dose_directive"),
    ("Your A1c was 6.1% [1]. Take 1 tablet of metformin by mouth once daily [5].", "dose_directive"),  # not a quote
    ("Your A1c was 6.1% [1], which means you have diabetes.", "diagnostic_claim"),
    ("Your A1c was 6.1% [9].", "unresolved_citation"),                                # citation that resolves to nothing
    ("Your A1c was 6.1% [1, 7].", "unresolved_citation"),
    ("Your A1c was 6.1% on October 8, 2026.", "missing_citation"),                  # cites nothing
    ("   ", "empty"),
    # SmolLM2-135M's real output: every number exists somewhere in the evidence, but not in what it cites
    ("Your most recent Hemoglobin A1c was **6.2 %** on October 8, 2026 [1].", "misattributed_number"),
    ("Earlier results: **6.2 % on April 1, 2026 [3] and 6.5 % on March 27, 2025 [4].", "misattributed_date"),
])
def test_crafted_hallucinations_fail(guards: OutputGuardOnly, text: str, kind: str) -> None:
    result = check_grounding(text, a1c_answer(), guards)
    assert not result.ok
    assert kind in kinds(result), result.violations
    assert result.first_kind  # used as the warning: "llm_grounding_failed: <kind>"


def test_rounding_to_the_shown_precision(guards: OutputGuardOnly) -> None:
    answer = a1c_answer()
    answer.citations[0] = answer.citations[0].model_copy(update={"value": "7.24"})
    assert check_grounding("Your latest A1c was about 7.2% [1].", answer, guards).ok
    assert not check_grounding("Your latest A1c was about 7.3% [1].", answer, guards).ok


def test_guard_error_fails_closed() -> None:
    class Broken:
        def check_output(self, *a: Any, **kw: Any) -> Any:
            raise RuntimeError("boom")

    result = check_grounding("Your A1c was 6.1% [1].", a1c_answer(), Broken())
    assert not result.ok and result.first_kind == "grounding_error"


def test_citation_parsing() -> None:
    assert cited_numbers("a [1] b [2, 4] c [5-7] d [8–9]") == [1, 2, 4, 5, 6, 7, 8, 9]
    assert cited_numbers("no markers, a list [x] or a year 2024") == []


def test_medication_names_skip_ordinary_words() -> None:
    text = "In April your cholesterol and spine were fine; lisinopril, Atorvastatin, Ozempic and insulin are drugs."
    assert medication_names(text) == {"lisinopril", "atorvastatin", "ozempic", "insulin"}


def test_the_template_answer_itself_is_grounded(guards: OutputGuardOnly) -> None:
    answer = a1c_answer()
    assert check_grounding(answer.text, answer, guards).ok  # a model that copies the facts verbatim passes


def test_claims_bind_text_to_the_markers_after_it() -> None:
    text = "Latest 6.1 % on Oct 8 [1]; before that 6.2 % [2][3]. Range 4-5.6 %.\nAlso 6.5 % [4, 5]"
    assert claims(text) == [("Latest 6.1 % on Oct 8 ", [1]), ("; before that 6.2 % ", [2, 3]), ("Also 6.5 % ", [4, 5])]
