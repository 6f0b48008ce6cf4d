"""The question suite end to end on the bundled person: real ingest, real Coach.ask, scored and reported.
Kept small (one person, a few questions per operation) so it runs in about a minute."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import GUARD_CACHE, TODAY
from healthcoach.evals.qa_run import write_qa_report
from healthcoach.evals.qa_suite import OPERATIONS, load_suite, suite_dir
from healthcoach.evals.qa_suite_report import suite_report
from healthcoach.evals.qa_suite_run import coach_ask, evaluate, run_items, suite_items
from healthcoach.evals.truth.instantiate import Item
from healthcoach.settings import packaged_dir

PER_OPERATION = 3


def _few(items: list[Item]) -> list[Item]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for i in items:
        if seen[i.operation] < PER_OPERATION or i.template == "latest-lab":
            seen[i.operation] += 1
            out.append(i)
    return out


def test_the_suite_scores_real_answers_and_reports_every_operation(sample_coach: Any, sample_bundle: Any,
                                                                    tmp_path: Path) -> None:
    coach, stores, _ = sample_coach
    suite = load_suite(suite_dir())
    assert suite.today == TODAY  # the fixture's coach answers as of the suite's own today
    items, skips, _ = suite_items(suite, [("maria", sample_bundle[0])])
    chosen = _few(items)
    outs = run_items(chosen, coach_ask(coach, stores.records))
    assert len(outs) == len(chosen) and {o.item.operation for o in outs} == set(OPERATIONS)

    # the product already answers "what is my latest <lab>?" right; the scorer must agree
    latest_labs = [o for o in outs if o.item.template == "latest-lab"]
    assert latest_labs and all(o.verdict.correct for o in latest_labs), [
        (o.item.question, o.verdict.reasons, o.answer[:200]) for o in latest_labs if not o.verdict.correct]
    assert any(not o.verdict.correct for o in outs), "the suite asks what the product cannot answer yet"

    summary, checks = evaluate(outs, packaged_dir("eval") / "thresholds.yaml")
    part = suite_report(outs, summary, checks, skips, "all", 1)
    paths = write_qa_report({"suite": part}, tmp_path)
    md = paths["md"].read_text()
    assert "### Accuracy by operation" in md and all(f"| {op} |" in md for op in OPERATIONS)
    data = json.loads(paths["json"].read_text())["suite"]
    assert set(data["summary"]["by_operation"]) == set(OPERATIONS)
    metrics = {c["metric"]: c for c in data["thresholds"]}
    assert {"accuracy", "invented_numbers", "latency_p95_ms"} | {f"accuracy_{op}" for op in OPERATIONS} <= set(metrics)
    assert all(c["status"] in ("pass", "fail") for c in metrics.values())
    assert data["summary"]["latency_p95_ms"] > 0 and len(data["items"]) == len(outs)
    assert {m["id"] for m in data["misses"]} == {o.item.id for o in outs if not o.verdict.correct or o.verdict.invented}


def test_eval_qa_command_runs_the_suite_for_one_person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from healthcoach.cli import app

    monkeypatch.setenv("HEALTHCOACH_CACHE_DIR", str(GUARD_CACHE))
    out = tmp_path / "report"
    args = ["--data-dir", str(tmp_path / "d"), "eval", "qa", "--person", "sample", "--no-legacy", "--split", "dev",
            "--limit", "24", "--report", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    suite = json.loads((out / "qa.json").read_text())["suite"]
    assert suite["split"] == "dev" and suite["people"] == 1 and 0 < suite["summary"]["n"] <= 24
    assert set(suite["summary"]["by_split"]) == {"dev"}
    assert "Question suite" in (out / "qa.md").read_text()
    bad = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "eval", "qa", "--split", "train"])
    assert bad.exit_code != 0 and "--split must be dev, test or all" in bad.output
