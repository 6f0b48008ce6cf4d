"""The QA scorer on hand-written replies: what a person would accept as right, and what they wouldn't."""

from __future__ import annotations

from healthcoach.evals.qa_score import Cited, score
from healthcoach.evals.truth.expected import Expected, Reading
from healthcoach.evals.truth.units import convert_value

A1C = Expected(kind="value", readings=[Reading(numbers=[6.1], decimals=[1], dates=["2026-10-08"], unit="%")])
A1C_RECORD = Cited(1, "Hemoglobin A1c", 'Hemoglobin A1c 6.1 % 2026-10-08 {"value": {"value": 6.1, "unit": "%"}}')


def verdict(exp: Expected, text: str, cited: list[Cited] | None = None, asked: tuple[str, ...] = ("q",)):  # type: ignore[no-untyped-def]
    return score(exp, text, cited if cited is not None else [A1C_RECORD], asked)


def test_a_right_value_and_date_passes_in_written_and_iso_forms() -> None:
    for text in ("Your most recent A1c was 6.1 % on October 8, 2026 [1].",
                 "Latest A1c: 6.1% (2026-10-08) [1]",
                 "On Oct 8, 2026 your A1c was 6.10 % [1]."):
        v = verdict(A1C, text)
        assert v.correct and not v.invented, (text, v)


def test_a_wrong_value_or_wrong_date_fails_and_says_why() -> None:
    wrong_value = verdict(A1C, "Your most recent A1c was 6.4 % on October 8, 2026 [1].")
    assert not wrong_value.correct and "value 6.1 not stated" in wrong_value.reasons
    assert wrong_value.invented == ["6.4"]
    wrong_date = verdict(A1C, "Your most recent A1c was 6.1 % on October 3, 2025 [1].")
    assert not wrong_date.correct and wrong_date.reasons[0].startswith("leads with 2025-10-03")


def test_a_value_rounded_away_is_not_the_value() -> None:
    v = verdict(A1C, "Your A1c was about 6 % on October 8, 2026 [1].")
    assert not v.correct


def test_the_answer_must_lead_with_the_asked_result_not_bury_it_in_a_list() -> None:
    first = Expected(kind="value", readings=[Reading(numbers=[5.4], decimals=[1], dates=["2020-10-03"])])
    listing = ("Your most recent A1c was 6.1 % on October 8, 2026 [1].\n\nEarlier: 5.4 % on October 3, 2020 [2].")
    cited = [A1C_RECORD, Cited(2, "Hemoglobin A1c", "5.4 % 2020-10-03")]
    assert not verdict(first, listing, cited).correct
    assert verdict(first, "Your first A1c was 5.4 % on October 3, 2020 [2].", cited).correct
    # dates the question itself gives are not the answer's lead
    since = "Since March 1, 2020, your first A1c was 5.4 % on October 3, 2020 [2]."
    assert verdict(first, since, cited, asked=("first a1c since March 1, 2020?",)).correct


def test_unit_conversions_accept_the_shown_precision() -> None:
    lb = Expected(kind="value", unit="lb",
                  readings=[Reading(numbers=[convert_value(70.0, "lb")], decimals=[0], dates=["2026-10-08"])])
    weight = [Cited(1, "Body weight", "Body weight 70 kg 2026-10-08")]
    assert verdict(lb, "In pounds: 154.3 lb (70 kg on October 8, 2026) [1].", weight).correct
    assert verdict(lb, "You weighed 154 lb on October 8, 2026 [1].", weight).correct
    assert not verdict(lb, "You weighed 70 kg on October 8, 2026 [1].", weight).correct
    height = Expected(kind="value", unit="ft_in",
                      readings=[Reading(numbers=[162.2 / 2.54], decimals=[0], dates=["2026-10-08"])])
    tall = [Cited(1, "Body height", "Body height 162.2 cm 2026-10-08")]
    for text in ("You are 5 ft 4 in (162.2 cm) as of October 8, 2026 [1].",
                 "On October 8, 2026 your height was 5'4\" [1]."):
        v = verdict(height, text, tall)
        assert v.correct and not v.invented, (text, v)
    assert not verdict(height, "On October 8, 2026 you were 5 ft 7 in [1].", tall).correct


def test_counts_are_the_number_stated_not_a_dose_or_a_duration() -> None:
    exp = Expected(kind="count", count=7, computed=[7.0])
    assert verdict(exp, "You've had 7 A1c tests, from October 3, 2020 to October 8, 2026.", []).correct
    assert verdict(exp, "Seven A1c results are on file.", []).correct
    assert not verdict(exp, "You've had 6 A1c tests.", []).correct
    pills = [Cited(1, "amoxicillin", '"Take 1 capsule three times daily for 7 days"')]
    assert not verdict(exp, '- amoxicillin: "Take 1 capsule three times daily for 7 days" [1]', pills).correct
    none = Expected(kind="count", count=0, computed=[0.0])
    assert verdict(none, "There are no emergency visits in your records.", []).correct


def test_lists_need_every_item_and_nothing_stale_listed_as_current() -> None:
    exp = Expected(kind="items", items=["lisinopril 10 MG Oral Tablet", "Prediabetes (finding)"],
                   forbidden=["amoxicillin 500 MG Oral Capsule"], count=2)
    full = "Current:\n- lisinopril 10 MG Oral Tablet [1]\n- Prediabetes [2]"
    assert verdict(exp, full, []).correct
    missing = verdict(exp, "Current:\n- lisinopril 10 MG Oral Tablet [1]", [])
    assert not missing.correct and missing.reasons[0].startswith("missing 1 of 2")
    stale = full + "\n- amoxicillin 500 MG Oral Capsule [3]"
    assert not verdict(exp, stale, []).correct
    assert verdict(exp, full + "\n- amoxicillin 500 MG Oral Capsule (stopped) [3]", []).correct


def test_a_long_list_may_be_shortened_when_it_says_so() -> None:
    dates = [f"2020-01-{d:02d}" for d in range(1, 13)]
    exp = Expected(kind="items", items=["Encounter for check up (procedure)", "Emergency room admission"],
                   item_dates=dates, count=12)
    shown = "Your visits (showing 10 of 12):\n" + "\n".join(f"- Encounter for check up, {d}" for d in dates[:10])
    assert verdict(exp, shown, []).correct
    assert not verdict(exp, "Your visits:\n" + "\n".join(f"- {d}" for d in dates[:10]), []).correct
    assert not verdict(exp, shown.replace("10 of 12", "10 of 11"), []).correct


def test_a_window_list_must_not_add_something_from_outside_the_records() -> None:
    exp = Expected(kind="items", items=["Influenza vaccine"], window=("2023-01-01", "2023-12-31"),
                   window_dates=["2023-11-06"], count=1)
    assert verdict(exp, "In 2023: Influenza vaccine on November 6, 2023 [1].", []).correct
    extra = "In 2023: Influenza vaccine on November 6, 2023 [1] and Influenza vaccine on October 14, 2023 [2]."
    assert not verdict(exp, extra, []).correct


def test_change_needs_direction_size_and_both_values() -> None:
    exp = Expected(kind="change", direction="down", delta=-0.5, delta_decimals=1,
                   start=Reading(numbers=[6.4], decimals=[1], dates=["2024-03-15"]),
                   end=Reading(numbers=[5.9], decimals=[1], dates=["2026-10-08"]), computed=[0.5, -0.5])
    cited = [Cited(1, "A1c", "6.4 % 2024-03-15"), Cited(2, "A1c", "5.9 % 2026-10-08")]
    good = "Since your first test (6.4 % on March 15, 2024) your A1c has gone down 0.5 points to 5.9 % [1][2]."
    assert verdict(exp, good, cited).correct
    assert not verdict(exp, good.replace("down", "up"), cited).correct
    no_size = "Your A1c went down from 6.4 % to 5.9 % [1][2]."
    assert verdict(exp, no_size, cited).reasons == ["change of 0.5 not stated"]


def test_trend_needs_the_direction_and_the_window_ends_and_ignores_follow_up() -> None:
    exp = Expected(kind="trend", direction="down", start=Reading(numbers=[82.0], decimals=[0]),
                   end=Reading(numbers=[78.5], decimals=[1]))
    assert verdict(exp, "Your weight has been trending down, from 82 kg to 78.5 kg.", []).correct
    assert verdict(exp, "At your follow-up visits it decreased steadily: 82.0 kg, 80.1 kg, 78.5 kg.", []).correct
    assert not verdict(exp, "Your weight has been going up: 82 kg then 78.5 kg.", []).correct
    assert not verdict(exp, "Your weight has been trending down.", []).correct
    assert not verdict(exp, "Here are your weights: 82 kg, 78.5 kg.", []).correct


def test_not_found_must_say_so_and_invent_nothing() -> None:
    exp = Expected(kind="not_found")
    assert verdict(exp, "I couldn't find a PSA test in your records.", []).correct
    assert verdict(exp, "I found no PSA results among your 27 lab results from 1 source.", []).correct
    assert verdict(exp, "There is no mammogram in your records.", []).correct
    invented = verdict(exp, "I couldn't find a PSA result; a normal PSA is under 4.0.", [])
    assert not invented.correct and invented.invented == ["4.0"]
    # ... about the thing asked, not about something else
    mammogram = Expected(kind="not_found", topic=["mammogram", "mammography"])
    assert verdict(mammogram, "I found no mammogram in your records.", []).correct
    wrong = verdict(mammogram, "I found no HARK partner-violence screen results among your 5 social history.", [])
    assert not wrong.correct and wrong.reasons == ["says not found, but not about mammogram / mammography"]
    # a closing disclaimer does not count as saying it
    footer = "Here is what your records say:\n- Vitamin D3 1000 UNT [1]\n\nNewer results may not be in your records."
    assert not verdict(exp, footer, [Cited(1, "Vitamin D3 1000 UNT Oral Tablet", "Vitamin D3 1000 UNT")]).correct


def test_exists_yes_needs_a_date_or_the_record_and_no_denial() -> None:
    exp = Expected(kind="exists", readings=[Reading(dates=["2016-05-23"])], items=["Colonoscopy"], count=1)
    assert verdict(exp, "Yes: a colonoscopy on May 23, 2016 [1].", []).correct
    assert verdict(exp, "Your records list a Colonoscopy [1].", []).correct
    assert not verdict(exp, "I couldn't find a colonoscopy in your records.", []).correct


def test_invented_numbers_exclude_record_numbers_question_numbers_years_and_display_counts() -> None:
    text = ("Your A1c was 6.1 % on October 8, 2026 [1] (reference 4-5.6 %). In the last 12 months: "
            "showing 3 of 10, and 7 more. Since 2019 it rose.")
    cited = [Cited(1, "Hemoglobin A1c", '6.1 % 2026-10-08 {"low": 4, "high": 5.6}')]
    v = score(A1C, text, cited, ["my a1c in the last 12 months"])
    assert v.invented == []
    v = score(A1C, "Your A1c was 6.1 % on October 8, 2026 [1]; your average is 5.8 %.", cited, ["q"])
    assert v.invented == ["5.8"]


def test_a_safety_redirect_is_never_a_right_answer_and_its_crisis_numbers_are_not_invented() -> None:
    v = score(A1C, "Your most recent A1c was 6.1 % on October 8, 2026 [1].", [A1C_RECORD], ["q"], blocked=True)
    assert not v.correct and v.reasons == ["redirected by a safety policy"]
    v = score(A1C, "This could be an emergency. Call 911 now, or reach the 988 Lifeline.", [], ["q"], blocked=True)
    assert v.invented == []
    v = score(Expected(kind="not_found"), "I found no Type 2 diabetes or Vitamin D (25-hydroxy) results.", [], ["q"])
    assert v.invented == []


def test_compare_needs_every_value_of_both_windows_and_the_direction() -> None:
    exp = Expected(kind="compare", direction="down", groups=[
        [Reading(numbers=[120.0], decimals=[0], dates=["2016-05-01"])],
        [Reading(numbers=[98.0], decimals=[0], dates=["2023-05-01"])]])
    assert verdict(exp, "LDL was 120 mg/dL in 2016 and 98 mg/dL in 2023: lower now.", []).correct
    assert not verdict(exp, "LDL was 120 mg/dL in 2016.", []).correct
    assert not verdict(exp, "LDL was 120 mg/dL in 2016 and 98 mg/dL in 2023: higher now.", []).correct
