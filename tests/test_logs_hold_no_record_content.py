"""Logs never hold record contents or a person's identity: not in progress lines, not in error tracebacks
(SQL parameters are hidden), not in SQL debug logging. A run of ingest, questions and errors through the
API is captured at DEBUG level and every line is searched for the person's name, birth date and values."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import fhir_factory as F
from healthcoach.api.app import create_app
from healthcoach.api.auth import create_token
from healthcoach.container import CoachBundle, Stores
from healthcoach.store import records as record_store

NAME = "Quintessa Vandermolen"
BIRTH = "1961-07-13"
NOTE = "Drinks chamomile with lavender honey at nine"
VALUE = 8.237
NEEDLES = (NAME, "Quintessa", "Vandermolen", BIRTH, NOTE, "lavender honey", str(VALUE))


class Capture(logging.Handler):
    """Every record, formatted with its traceback, as one string per record."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler, root = Capture(), logging.getLogger()
    engine_log = logging.getLogger("sqlalchemy.engine")
    old = (root.level, engine_log.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    engine_log.setLevel(logging.INFO)  # every SQL statement is logged: its parameters must not be
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old[0])
        engine_log.setLevel(old[1])


def test_no_log_line_names_the_person_or_holds_a_record_value(
    make_stores: Callable[..., Stores], tmp_path: Path, captured: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_store, "BUSY_TIMEOUT_S", 1)  # so the locked-database error below comes fast
    stores = make_stores()
    app = create_app(stores.settings, CoachBundle.build(stores.settings, stores), ui=False)
    http = TestClient(app, raise_server_exceptions=False)
    token = {"Authorization": f"Bearer {create_token(stores.records, 'quin')}"}
    own = F.bundle(
        F.patient("q1", BIRTH, NAME),
        F.a1c("q-a1", VALUE, "2025-05-02", pid="q1"),
        F.note("q-n1", NOTE, pid="q1"),
    )
    files = {"files": ("quin.json", F.write(tmp_path / "quin.json", own).read_bytes(), "application/json")}

    with sqlite3.connect(stores.settings.home / "healthcoach.db", isolation_level=None) as lock:
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the database: the ingest's write fails
        assert http.post("/v1/ingest", headers=token, files=files).status_code == 500
        lock.execute("ROLLBACK")
    assert http.post("/v1/ingest", headers=token, files=files).status_code == 200
    stores.records.set_consent("quin", records=True)
    for question in (
        "What's my A1c?",
        "Summarize my medical records",
        "What did my last note say?",
        "Should I double my metformin?",
    ):
        assert http.post("/v1/chat", headers=token, json={"message": question}).status_code == 200
    other = F.bundle(
        F.patient("q9", "1950-02-02", "Someone Else"), F.a1c("q9-a", 5.0, "2024-01-01", pid="q9")
    )
    refused = {"files": ("x.json", F.write(tmp_path / "x.json", other).read_bytes(), "application/json")}
    assert http.post("/v1/ingest", headers=token, files=refused).status_code == 403
    bad = {"files": ("bad.json", b'{"resourceType": "Bundle", "entry": [', "application/json")}
    assert http.post("/v1/ingest", headers=token, files=bad).status_code == 422

    text = "\n".join(captured.lines)
    assert "Traceback" in text and "hide_parameters" in text  # the crash was logged, without its values
    assert "INSERT INTO records" in text  # SQL debug logging was on
    leaks = {n: [line[:200] for line in captured.lines if n in line][:2] for n in NEEDLES}
    assert not {n: lines for n, lines in leaks.items() if lines}
