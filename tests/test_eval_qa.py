"""The record-QA eval: our answers against ground truth, beside the naive vector baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import require_shared
from healthcoach.container import build_coach
from healthcoach.evals.baseline import NaiveBaseline
from healthcoach.evals.qa import run_cases, summarize
from healthcoach.evals.qa_run import coach_asker, people_cases, qa_report, write_qa_report
from healthcoach.settings import packaged_dir
from shared_data import user_for

PHRASINGS = packaged_dir("eval") / "suites" / "qa" / "phrasings.yaml"


@pytest.fixture(scope="module")
def evaluated(shared_population: Any, sample_coach: Any) -> Any:
    stores, facts, _ = shared_population
    coach = build_coach(stores.settings, stores)
    people = [(p["name"], user_for(p), p) for p in facts]
    cases = people_cases(people, PHRASINGS)
    ours = run_cases(cases, coach_asker(coach, stores))
    s_coach, s_stores, s_truth = sample_coach
    sample_cases = people_cases([("Maria Lopez", "maria", s_truth)], PHRASINGS)
    ours += run_cases(sample_cases, coach_asker(s_coach, s_stores))
    return stores, facts, cases, ours


def test_exact_facts_citations_and_no_invented_numbers(evaluated: Any) -> None:
    _stores, _facts, _cases, ours = evaluated
    s = summarize(ours)
    misses = [(o.case.person, o.case.question, o.answer[:200]) for o in ours if not o.exact][:10]
    assert s.exact >= 0.98, misses
    assert s.cited == 1.0, [(o.case.person, o.case.question) for o in ours if o.cited is False][:10]
    assert s.invented == 0, [(o.case.question, o.invented) for o in ours if o.invented][:10]


def test_report_puts_the_naive_baseline_beside_ours(evaluated: Any, tmp_path: Path) -> None:
    stores, facts, _cases, ours = evaluated
    shared = require_shared("data/fhir")
    chosen = facts[:2]  # the full baseline runs in `healthcoach eval qa`; two people keep the suite fast
    users = {user_for(p) for p in chosen}
    naive = NaiveBaseline(stores.embedder)
    for p in chosen:
        naive.index(user_for(p), shared / p["file"])
    mine = [o for o in ours if o.case.user_id in users]
    base = [naive.answer(o.case) for o in mine]
    report = qa_report(mine, base)
    paths = write_qa_report(report, tmp_path)
    md = paths["md"].read_text()
    assert "| exact fact (value and date) |" in md and "naive vector baseline" in md
    assert report["healthcoach"]["exact"] > report["naive_baseline"]["exact"]
