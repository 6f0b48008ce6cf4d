"""Output guard: diagnostic claims, dose directives and ungrounded numbers or dates are caught;
a clean grounded answer passes; an internal error fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthcoach.guardrails import load_policy
from healthcoach.guardrails.output import OutputGuard

POLICY = load_policy(Path(__file__).resolve().parents[1] / "guardrails")
EVIDENCE = (
    "[1] Hemoglobin A1c 7.20 % (2024-03-05, Lab: Quest). [2] LDL cholesterol 131 mg/dL on 03/05/2024. "
    "[3] Metformin 500 mg tablet, twice daily, started 2023-01-12. [4] Weight 81.46 kg on Jan 3, 2025."
)


@pytest.fixture
def guard() -> OutputGuard:
    return OutputGuard(POLICY.output, ["Call 911 now.", "Call Poison Control at 1-800-222-1222."])


def test_clean_grounded_answer_passes(guard: OutputGuard) -> None:
    text = (
        "Your most recent A1c was 7.2% on March 5, 2024 [1], and your LDL was 131 mg/dL on 2024-03-05 [2]. "
        "You were prescribed metformin 500 mg twice daily starting January 12, 2023 [3]. "
        "Your weight was 81.5 kg on 2025-01-03 [4]. Showing 10 of 23 results."
    )
    check = guard.check(text, EVIDENCE, allowed_numbers=["10", "23"])
    assert check.ok, check.violations


@pytest.mark.parametrize(
    "text",
    [
        "You have diabetes.",
        "This means you are diabetic.",
        "Your A1c indicates that you have prediabetes.",
        "You're probably hypertensive.",
        "You most likely have an infection.",
    ],
)
def test_diagnostic_claims_are_flagged(guard: OutputGuard, text: str) -> None:
    check = guard.check(text, EVIDENCE)
    assert not check.ok and any(v.startswith("diagnostic_claim") for v in check.violations)


@pytest.mark.parametrize(
    "text",
    [
        "Take 2 tablets tonight.",
        "Increase to 1000 mg twice a day.",
        "Stop taking your metformin.",
        "You should double your dose.",
        "Take it twice a day with food.",
    ],
)
def test_dose_directives_are_flagged(guard: OutputGuard, text: str) -> None:
    check = guard.check(text, EVIDENCE)
    assert not check.ok and any(v.startswith("dose_directive") for v in check.violations)


def test_invented_number_is_flagged(guard: OutputGuard) -> None:
    check = guard.check("Your A1c was 12.1% [1].", EVIDENCE)
    assert check.violations == ["ungrounded_number: 12.1"]


def test_wrong_date_is_flagged(guard: OutputGuard) -> None:
    check = guard.check("Your A1c was 7.2% on March 6, 2024 [1].", EVIDENCE)
    assert not check.ok and "ungrounded_date: 2024-03-06" in check.violations


def test_number_normalisation_and_citations(guard: OutputGuard) -> None:
    assert guard.check("A1c 7.20 [1][2]", EVIDENCE).ok  # 7.20 == 7.20
    assert guard.check("A1c 7.2 [1, 3]", EVIDENCE).ok  # trailing zero
    assert guard.check("weight 81.5 kg [4]", EVIDENCE).ok  # rounded to the shown precision
    assert not guard.check("weight 81.6 kg [4]", EVIDENCE).ok
    assert guard.check("Your HbA1c and B12 were checked in 2024.", EVIDENCE).ok  # A1c/B12 are names


def test_emergency_numbers_from_responses_are_allowed(guard: OutputGuard) -> None:
    assert guard.check("Call 911 or Poison Control at 1-800-222-1222.", "").ok


def test_allowed_numbers(guard: OutputGuard) -> None:
    assert not guard.check("Showing 10 of 23.", EVIDENCE).ok
    assert guard.check("Showing 10 of 23.", EVIDENCE, allowed_numbers=["10", "23"]).ok


def test_fails_closed(guard: OutputGuard) -> None:
    check = guard.check("fine text", None)  # type: ignore[arg-type]
    assert not check.ok and check.violations == ["guard_error"]
