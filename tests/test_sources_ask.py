"""`healthcoach ask` answers the seed questions for someone whose only records are a patient-portal C-CDA,
and for someone whose only records are one person of an OMOP CDM (end to end through the CLI)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import GUARD_CACHE, TODAY, require_shared
from healthcoach.cli import app
from healthcoach.compose.citations import fmt_date
from healthcoach.sample.sources import write_person_sources

runner = CliRunner()


def cli(home: Path, *args: str) -> str:
    result = runner.invoke(app, ["--data-dir", str(home), *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def ask(home: Path, user: str, question: str) -> dict[str, Any]:
    reply: dict[str, Any] = json.loads(cli(home, "ask", question, "--user", user, "--json"))
    assert not reply["blocked"], reply
    return reply


@pytest.fixture(autouse=True)
def guard_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHCOACH_CACHE_DIR", str(GUARD_CACHE))  # the trained guard, shared by the suite


def test_ccda_only_user_gets_a1c_flu_shot_and_summary(tmp_path: Path) -> None:
    paths, truth = write_person_sources(tmp_path / "src", seed=42, today=TODAY)
    home = tmp_path / "data"
    out = cli(home, "ingest", str(paths["ccda"]), "--user", "cara")
    assert "vital" in out and "diastolic blood pressure folded" in out
    cli(home, "consent", "--user", "cara", "--records", "on")

    a1c = ask(home, "cara", "What's my A1c?")
    latest = truth["hba1c"]["latest"]  # type: ignore[index]
    assert a1c["intent"] == "latest_value"
    assert f"**{latest['value']} %** on {fmt_date(date.fromisoformat(latest['date']))}" in a1c["answer"]
    assert "Riverside Family Medicine patient portal (C-CDA)" in a1c["answer"]

    flu = ask(home, "cara", "When was my last flu shot?")
    shots = truth["flu_shots"]  # type: ignore[index]
    assert flu["citations"][0]["date"] == shots["latest"]["date"]
    assert f"You have {shots['count']} on record" in flu["answer"]

    summary = ask(home, "cara", "Summarize my medical records")
    for section in ("Active conditions", "Active medications", "Allergies", "Recent lab results", "Immunizations"):
        assert f"**{section}**" in summary["answer"]
    assert "Prediabetes" in summary["answer"] and "Allergy to penicillin" in summary["answer"]


def test_omop_only_user_gets_a1c_an_honest_no_flu_shot_and_summary(tmp_path: Path) -> None:
    folder = require_shared("data/omop/synthea27nj_full")
    home = tmp_path / "data"
    failed = runner.invoke(app, ["--data-dir", str(home), "ingest", str(folder), "--user", "omar"])
    assert failed.exit_code == 1 and "--person-id" in failed.output  # one error line: which persons to choose from
    cli(home, "ingest", str(folder), "--user", "omar", "--person-id", "22")
    cli(home, "consent", "--user", "omar", "--records", "on")

    with (folder / "measurement.csv").open(newline="") as fh:
        a1c_rows = [r for r in csv.DictReader(fh) if r["person_id"] == "22" and r["measurement_source_value"] == "4548-4"]
    newest = max(a1c_rows, key=lambda r: r["measurement_datetime"])
    a1c = ask(home, "omar", "What's my A1c?")
    value = float(newest["value_as_number"])
    shown = str(int(value)) if value.is_integer() else str(value)
    assert f"**{shown} %** on {fmt_date(date.fromisoformat(newest['measurement_date']))}" in a1c["answer"]
    assert "(OMOP CDM)" in a1c["answer"]
    assert len(a1c["citations"]) >= 2  # earlier results cited too

    flu = ask(home, "omar", "When was my last flu shot?")
    assert flu["citations"] == [] and flu["answer"].startswith("I found no")  # this CDM has no immunizations

    summary = ask(home, "omar", "Summarize my medical records")
    assert "**Recent lab results**" in summary["answer"] and "Hemoglobin A1c" in summary["answer"]
    assert summary["citations"]
