"""'Share with my doctor': the sample person's summary as a PDF from the CLI, as HTML and PDF from the API.

The PDF is read back with pdftotext (poppler-utils), as a person's PDF viewer would show it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import GUARD_CACHE
from healthcoach.api.app import create_app
from healthcoach.api.testing import SampleServer, sample_server
from healthcoach.cli import app
from healthcoach.records.models import format_number
from healthcoach.store.embeddings import Embedder

runner = CliRunner()


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def expect_person(text: str, truth: dict[str, Any]) -> None:
    """What a doctor must find on the page: active medications, allergies, the latest A1c with its range."""
    flat = " ".join(text.split())
    for med in truth["active_medications"]:
        assert med in flat, med
    for allergy in truth["allergies"]:
        assert allergy["display"] in flat, allergy
    latest = truth["hba1c"]["latest"]
    a1c = re.compile(rf"{latest['date']} Hemoglobin A1c[^·]* · {re.escape(format_number(latest['value']))} %; "
                     r"range \d+(\.\d+)?-\d+(\.\d+)? %")
    assert a1c.search(flat), flat[:3000]
    for condition in truth["active_conditions"]:
        assert condition in flat
    assert "holds no advice" in flat


def test_summary_command_writes_a_pdf_a_doctor_can_read(tmp_path: Path,
                                                        sample_bundle: tuple[Path, dict[str, Any]]) -> None:
    path, truth = sample_bundle
    home = tmp_path / "data"
    runner.env = {"HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE)}  # the trained guard, shared by the test session
    result = runner.invoke(app, ["--data-dir", str(home), "ingest", str(path), "--user", "maria"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "summary.pdf"
    result = runner.invoke(app, ["--data-dir", str(home), "summary", "--user", "maria", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    expect_person(pdf_text(out), truth)
    html = tmp_path / "summary.html"
    assert runner.invoke(app, ["--data-dir", str(home), "summary", "-u", "maria", "-o", str(html)]).exit_code == 0
    assert "<script" not in html.read_text()
    bad = runner.invoke(app, ["--data-dir", str(home), "summary", "-u", "maria", "-o", str(tmp_path / "s.docx")])
    assert bad.exit_code == 1 and "as .pdf or .html" in bad.output


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


def test_api_summary_is_the_callers_own_as_html_or_pdf(server: SampleServer, tmp_path: Path) -> None:
    truth = server.truths["maria"]
    with TestClient(create_app(server.settings, server.bundle, ui=False)) as c:
        maria = {"Authorization": f"Bearer {server.tokens['maria']}"}
        page = c.get("/v1/summary", headers=maria)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text and truth["active_medications"][0] in page.text
        pdf = c.get("/v1/summary?format=pdf", headers=maria)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        (tmp_path / "api.pdf").write_bytes(pdf.content)
        expect_person(pdf_text(tmp_path / "api.pdf"), truth)
        bob = c.get("/v1/summary", headers={"Authorization": f"Bearer {server.tokens['bob']}"})
        assert bob.status_code == 200 and truth["active_medications"][0] not in bob.text
        assert "None recorded." in bob.text
        assert c.get("/v1/summary").status_code == 401
