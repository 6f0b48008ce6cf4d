"""The command line as a person meets it: one rendering per answer, quiet help, a version, clear refusals
for empty questions, bad user names and unsupported files, and library log lines kept off the console."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import fhir_factory as F
from conftest import GUARD_CACHE
from healthcoach import __version__
from healthcoach.cli import app, command
from healthcoach.cli.chat import show
from healthcoach.compose.citations import Citation
from healthcoach.compose.reply import Reply

runner = CliRunner()


def cli(home: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    env = {"HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE)}  # the trained guard, shared by the test session
    result = runner.invoke(app, ["--data-dir", str(home), *args], input=input, env=env)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir where 'ann' has one A1c result and lets the coach read her records."""
    tmp = tmp_path_factory.mktemp("cli")
    export = F.write(tmp / "ann.json", F.bundle(F.patient(), F.a1c("o1", 5.82, "2024-05-02")))
    data = tmp / "data"
    code, out = cli(data, "ingest", str(export), "--user", "ann")
    assert code == 0, out
    assert cli(data, "consent", "--user", "ann", "--records", "on")[0] == 0
    return data


def test_piped_answer_is_plain_text_shown_once_with_its_citation(home: Path) -> None:
    code, out = cli(home, "ask", "What's my A1c?", "--user", "ann")
    assert code == 0, out
    assert out.count("5.82") == 2  # once in the answer, once in its citation line
    assert "**" not in out and "╭" not in out  # no raw markdown, no panel when piped
    assert any(line.strip().startswith("[1] ") and "Hemoglobin A1c" in line for line in out.splitlines()), out


def test_terminal_answer_is_one_panel(home: Path) -> None:
    reply = Reply(text="Your latest A1c is **5.82 %** [1].", intent="latest", citations=[
        Citation(n=1, record_id="r1", date="2024-05-02", label="Hemoglobin A1c", value="5.82", unit="%",
                 source="ann.json", category="lab")])
    buf = io.StringIO()
    show(reply, Console(file=buf, force_terminal=True, width=100))
    out = buf.getvalue()
    assert out.count("╭") == 1 and "**" not in out
    assert out.count("5.82 %") == 2  # the answer in the panel, then the citation line


def test_json_answer_is_only_json(home: Path) -> None:
    code, out = cli(home, "ask", "What's my A1c?", "--user", "ann", "--json")
    assert code == 0
    body = json.loads(out)
    assert "5.82" in body["answer"] and body["citations"][0]["value"].startswith("5.82")


def test_chat_prints_each_answer_once(home: Path) -> None:
    code, out = cli(home, "chat", "--user", "ann", input="What's my A1c?\n   \nexit\n")
    assert code == 0, out
    answer_lines = [line for line in out.splitlines() if "5.82" in line and not line.lstrip().startswith("[")]
    assert len(answer_lines) == 1, out
    assert "please type a question" in out


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_empty_question_is_refused_kindly(home: Path, question: str) -> None:
    code, out = cli(home, "ask", question, "--user", "ann")
    assert code == 1 and "please type a question" in out


def test_ingest_and_users_add_share_one_user_name_rule(home: Path, tmp_path: Path) -> None:
    export = F.write(tmp_path / "b.json", F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02")))
    code, out = cli(home, "ingest", str(export), "--user", "bad user!")
    assert code == 1 and "letters, digits" in out
    code, add_out = cli(home, "users", "add", "bad user!")
    assert code == 1 and "letters, digits" in add_out
    code, out = cli(home, "users")
    assert "bad user" not in out


def test_unsupported_file_names_the_supported_formats(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "labs.csv"
    csv.write_text("date,test,value\n2024-05-02,A1c,5.8\n")
    code, out = cli(home, "ingest", str(csv), "--user", "ann")
    assert code == 1
    assert "labs.csv: not a supported format (supported:" in " ".join(out.split())
    assert "FHIR R4" in out and "Apple Health" in out
    assert "invalid JSON" not in out


def test_version_and_help_without_type_labels(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.invoke(app, ["--version"]).output.strip() == f"healthcoach {__version__}"
    for args in (["--help"], ["ask", "--help"], ["ingest", "--help"], ["users", "add", "--help"]):
        with pytest.raises(SystemExit):
            command().main(args=args, prog_name="healthcoach")
        out = capsys.readouterr().out
        assert "Usage" in out
        assert "<bool>" not in out and "<str>" not in out and "<path>" not in out, out


def test_library_warnings_go_to_the_log_file_not_the_console(home: Path) -> None:
    code, _ = cli(home, "users")
    assert code == 0
    result = runner.invoke(app, ["--data-dir", str(home), "users"])
    logging.getLogger("healthcoach.coach").warning("output guard replaced a reply (test line)")
    assert "output guard replaced" not in result.output
    log_file = home / "logs" / "healthcoach.log"
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "output guard replaced a reply (test line)" in log_file.read_text()


def test_ingest_progress_has_rate_and_eta() -> None:
    from healthcoach.cli.records import ingest_progress

    buf = io.StringIO()
    bar = ingest_progress(out=Console(file=buf, force_terminal=True, width=120))
    with bar:
        task = bar.add_task("embedding", total=1000)
        bar.update(task, completed=10)
        bar.update(task, completed=500)
        bar.refresh()
    text = buf.getvalue()
    assert "embedding" in text and "500/1000" in text and "ETA" in text
