"""The data-rights commands end to end: consent, export, audit, disconnect, delete (with confirmation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fhir_factory as F
from healthcoach.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "data"


def cli(home: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(home), *args], input=input)
    return result.exit_code, result.output


def test_consent_export_audit_disconnect_delete(home: Path, tmp_path: Path) -> None:
    a = F.write(tmp_path / "a.json", F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02")))
    b = F.write(tmp_path / "b.json", F.bundle(F.patient(), F.note("n1", "Likes long walks by the canal.")))
    assert cli(home, "ingest", str(a), str(b), "--user", "ann")[0] == 0

    code, out = cli(home, "consent", "--user", "ann", "--json")
    assert code == 0 and json.loads(out)["use_records_in_chat"] is False
    code, out = cli(home, "consent", "--user", "ann", "--records", "on")
    assert code == 0 and "records in chat: on" in out
    assert cli(home, "consent", "--user", "ann", "--records", "maybe")[0] != 0
    code, out = cli(home, "consent", "--user", "ann")
    assert "use_records_in_chat" in out and "remote LLM: off" in out

    code, out = cli(home, "export", "--user", "ann", "--out", str(tmp_path / "ann.zip"))
    assert code == 0 and (tmp_path / "ann.zip").exists()

    code, out = cli(home, "disconnect", "--user", "ann")
    assert code == 0 and "b.json" in out
    code, out = cli(home, "disconnect", "--user", "ann", "--kind", "fhir", "--file", "b.json", "--yes")
    assert code == 0 and "removed 1 records" in out

    code, out = cli(home, "audit", "--user", "ann", "--json")
    assert code == 0 and [e["action"] for e in json.loads(out)] == ["consent", "export", "disconnect"]
    code, out = cli(home, "audit", "--user", "ann")
    assert code == 0 and "3 entries" in out

    code, out = cli(home, "delete", "--user", "ann", input="n\n")
    assert code != 0 and "Aborted" in out
    assert cli(home, "records", "--user", "ann", "--json")[0] == 0  # still there
    code, out = cli(home, "delete", "--user", "ann", input="y\n")
    assert code == 0 and "deleted ann" in out
    code, out = cli(home, "audit", "--user", "ann", "--json")
    assert [e["action"] for e in json.loads(out)] == ["delete"]


def test_unknown_user_fails_cleanly(home: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(home), "delete", "--user", "ghost", "--yes"])
    assert result.exit_code == 1 and "no user named 'ghost'" in result.output  # one clear error line, no traceback
    assert "Traceback" not in result.output
