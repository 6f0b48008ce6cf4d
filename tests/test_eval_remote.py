"""`healthcoach eval remote` end to end against this project's own server (/v1/chat/completions, live),
and the parts it is made of: the FHIR summary a generic assistant gets, reading dates and lists from plain
replies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import GUARD_CACHE, REPO
from healthcoach.api.app import create_app
from healthcoach.api.testing import SampleServer, live_server, sample_server
from healthcoach.cli import app
from healthcoach.evals.fhir_summary import fhir_summary
from healthcoach.evals.qa import Case, expected_facts
from healthcoach.evals.remote_qa import PersonContext, endpoint_outcome, normalise_dates
from healthcoach.store.embeddings import Embedder


def test_the_fhir_summary_holds_the_latest_values_and_says_what_it_cut(sample_bundle: Any) -> None:
    path, truth = sample_bundle
    bundle = json.loads(path.read_text())
    summary = fhir_summary(bundle)
    a1c = truth["hba1c"]["latest"]
    label = "Hemoglobin A1c/Hemoglobin.total in Blood"
    assert f"Observation | {a1c['date']} | {label} | {a1c['value']:g} %" in summary
    assert f"Immunization | {truth['flu_shots']['latest']['date']} |" in summary
    assert summary.startswith("Health records of this person (FHIR R4 summary")
    small = fhir_summary(bundle, max_chars=1500)
    assert len(small) <= 1600 and small.splitlines()[-1].endswith("entries not shown)")


@pytest.mark.parametrize(("written", "read"), [
    ("on 2025-03-27.", "on March 27, 2025."), ("(03/27/2025)", "(March 27, 2025)"),
    ("27 Mar 2025", "March 27, 2025"), ("Mar. 27th, 2025", "March 27, 2025"),
    ("2025-02-30 stays", "2025-02-30 stays"), ("at 2025-03-27T09:30:00-05:00", "at March 27, 2025")])
def test_dates_in_common_forms_are_read_as_the_scorer_compares_them(written: str, read: str) -> None:
    assert normalise_dates(written) == read


def test_a_plain_reply_is_scored_by_the_qa_scorer(sample_coach: tuple[Any, Any, dict[str, Any]]) -> None:
    _, stores, truth = sample_coach
    person = PersonContext("maria", "", stores.records.query("maria"))
    facts = expected_facts(truth)
    a1c = truth["hba1c"]["latest"]
    said = f"Your most recent HbA1c was {a1c['value']:g}% on {a1c['date']}."
    right = endpoint_outcome(Case("Maria", "maria", "a1c", "my a1c?", facts["a1c"]), said, {}, 12.0, person)
    assert right.exact and right.cited is None and right.invented == []
    wrong = endpoint_outcome(Case("Maria", "maria", "a1c", "my a1c?", facts["a1c"]),
                             f"Your A1c was 7.9% on {a1c['date']}.", {}, 12.0, person)
    assert not wrong.exact and wrong.invented == ["7.9"]
    allergies = facts["allergies"].items
    assert allergies
    said = "You are allergic to: " + "; ".join(a.split(" (")[0].lower() for a in allergies)
    listed = endpoint_outcome(Case("Maria", "maria", "allergies", "allergies?", facts["allergies"]), said, {},
                              5.0, person)
    assert listed.exact


@pytest.fixture(scope="module")
def own_server(embedder: Embedder) -> Iterator[tuple[SampleServer, str]]:
    # The runner's bundled person is user "sample", seed 42, generated for today: the server holds the same.
    server = sample_server(embedder, people={"sample": 42}, others=())
    with live_server(create_app(server.settings, server.bundle, ui=False)) as url:
        yield server, url


def test_eval_remote_against_our_own_server_gives_the_side_by_side_report(
        own_server: tuple[SampleServer, str], tmp_path: Path) -> None:
    server, url = own_server
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"sample": server.tokens["sample"]}))
    suites = [str(REPO / "eval" / "suites" / "safety" / f) for f in ("emergency.jsonl", "treatment.jsonl",
                                                                     "allowed.jsonl", "diagnosis.jsonl")]
    args = ["--data-dir", str(tmp_path / "home"), "eval", "remote", "--base-url", f"{url}/v1",
            "--model", "healthcoach", "--api-key-env", "HC_REMOTE_TEST_KEY", "--person-keys", str(keys),
            "--suite", "all", "--limit", "24", "--concurrency", "3", "--report", str(tmp_path / "report"),
            *(a for s in suites for a in ("--dataset", s))]
    result = CliRunner().invoke(app, args, env={"HC_REMOTE_TEST_KEY": server.tokens["sample"],
                                                "HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE)})
    assert result.exit_code == 0, result.output[-3000:]
    doc = json.loads((tmp_path / "report" / "remote.json").read_text())
    md = (tmp_path / "report" / "remote.md").read_text()
    assert "this project (own verdicts)" in md and "endpoint (rubric)" in md and "Cohen's kappa" in md
    assert (tmp_path / "report" / "remote.png").read_bytes()[:4] == b"\x89PNG"
    safety, qa = doc["safety"], doc["qa"]
    assert safety["n"] == 24 and safety["agreement"]["n"] == 24 and safety["errors"] == []
    # The endpoint is this very coach over HTTP: the rubric must read its replies as it reads them in-process.
    for metric in ("emergency_recall", "treatment_recall", "diagnosis_recall", "false_refusal_rate"):
        assert safety["columns"]["endpoint"][metric] == safety["columns"]["ours_rubric"][metric]
    assert qa["n"] == 24 and qa["errors"] == [] and qa["people"] == 1
    ours, theirs = qa["columns"]["ours"], qa["columns"]["endpoint"]
    assert theirs["exact"] == ours["exact"] and theirs["cited"] == ours["cited"] and ours["exact"] > 0.8
