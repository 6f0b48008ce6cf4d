"""Clear 4xx errors instead of 500s and tracebacks (issue 12, items 6 and 8), one test per reproduction:
impossible log entries, impossible numbers and dates in exports, garbage birth dates, deep JSON, a damaged
record store (CLI and API), and timestamps without a time zone."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import fhir_factory as F
from healthcoach.cli import main as cli_main
from healthcoach.errors import IngestError
from healthcoach.store.embeddings import Embedder
from test_api import is_error
from web_helpers import Web, make_web

NEXT_MONTH = (date.today() + timedelta(days=31)).isoformat()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Web:
    return make_web(tmp_path_factory.mktemp("bad-input"), embedder, users=("kim",))


@pytest.fixture(scope="module")
def client(web: Web) -> TestClient:
    return TestClient(web.app(), raise_server_exceptions=False)


@pytest.mark.parametrize("body", [
    '{"kind": "weight", "amount": "70kg", "date": "9999-12-31"}',
    '{"kind": "weight", "amount": "70kg", "date": "0001-01-01"}',
    '{"kind": "water", "amount": "500ml", "date": "2999-01-01"}',
    '{"kind": "weight", "amount": NaN}',
    '{"kind": "weight", "amount": "NaN kg"}',
    '{"kind": "weight", "amount": 1e400}',
    '{"kind": "weight", "amount": "1e400kg"}',
    '{"kind": "weight", "amount": "' + "9" * 5000 + 'kg"}',
    '{"kind": "weight", "amount": ' + "9" * 5000 + "}",
    '{"kind": "water", "amount": "' + "9" * 30 + 'ml"}',
    '{"kind": "weight", "amount": "0.0000000000000000001 kg"}',
])
def test_impossible_log_entries_are_4xx(web: Web, client: TestClient, body: str) -> None:
    """POST /v1/log with date 9999-12-31 was an OverflowError (500)."""
    before = web.bundle.stores.records.snapshot("kim")
    resp = client.post("/v1/log", content=body, headers={**web.auth("kim"), "Content-Type": "application/json"})
    is_error(resp, resp.status_code)
    assert resp.status_code in (400, 422), resp.text
    assert web.bundle.stores.records.snapshot("kim") == before


def test_log_names_the_allowed_dates(web: Web, client: TestClient) -> None:
    body = is_error(client.post("/v1/log", json={"kind": "weight", "amount": "70kg", "date": "9999-12-31"},
                                headers=web.auth("kim")), 422)
    assert "9999-12-31" in body["error"] and "today" in body["error"]


@pytest.mark.parametrize(("value", "message"), [
    ("NaN", "NaN is not a number JSON allows"), ("Infinity", "Infinity is not a number"),
    ("1e400", "the number 1e400 is out of range"), ("9" * 5000, "an integer with 5,000 digits is out of range"),
])
def test_numbers_no_record_holds_are_422_naming_the_file(web: Web, tmp_path: Path, value: str, message: str) -> None:
    text = json.dumps(F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02"))).replace('"value": 6.1', f'"value": {value}')
    path = tmp_path / "lab.json"
    path.write_text(text)
    with pytest.raises(IngestError, match=rf"lab.json: {message}") as caught:
        web.bundle.stores.ingestor.ingest("kim", [path])
    assert caught.value.status == 422


def test_deep_json_is_422_not_a_recursion_error(web: Web, tmp_path: Path) -> None:
    for depth, message in ((100, "nested more than 64 levels"), (100_000, "nested too deeply to read")):
        path = tmp_path / "deep.json"
        path.write_text('{"resourceType": "Bundle", "entry": ' + "[" * depth + "]" * depth + "}")
        with pytest.raises(IngestError, match=f"deep.json: JSON {message}"):
            web.bundle.stores.ingestor.ingest("kim", [path])


@pytest.mark.parametrize(("born", "message"), [
    ("garbage", "Patient.birthDate is not a date"), ("1980-02-30", "Patient.birthDate is not a date"),
    ("2999-01-01", "is not a date"), (NEXT_MONTH, f"Patient.birthDate {NEXT_MONTH} is in the future"),
])
def test_a_garbage_or_future_birth_date_is_refused(web: Web, tmp_path: Path, born: str, message: str) -> None:
    path = F.write(tmp_path / "born.json", F.bundle(F.patient(pid="zz", born=born), F.a1c("b1", 5.0, "2024-05-02",
                                                                                          pid="zz")))
    with pytest.raises(IngestError, match=message):
        web.bundle.stores.ingestor.ingest("newcomer", [path])
    assert web.bundle.stores.records.snapshot("newcomer") == {}


def test_a_lab_dated_9999_is_a_counted_skip_and_an_open_end_is_open(web: Web, tmp_path: Path) -> None:
    doc = F.bundle(F.patient(), F.a1c("far", 6.0, "9999-12-31T23:59:59-12:00"), F.a1c("ok", 6.2, "2024-05-02"))
    report = web.bundle.stores.ingestor.ingest("dates", [F.write(tmp_path / "d.json", doc)])
    assert report.records_by_category == {"lab": 1}
    assert report.skipped["Observation: date out of range (before 1800 or after 2200)"] == 1
    reply = web.bundle.coach.ask("dates", "What's my A1c?")  # the date arithmetic that overflowed is safe
    assert "6.2" in reply.text or reply.text


def test_api_timestamps_carry_a_time_zone(web: Web, client: TestClient) -> None:
    h = web.auth("kim")
    client.put("/v1/me/consent", json={"remote_llm": True}, headers=h)
    client.put("/v1/me/consent", json={"remote_llm": False}, headers=h)
    cid = client.post("/v1/chat", json={"message": "What is A1c?"}, headers=h).json()["conversation_id"]
    stamps = [e["at"] for e in client.get("/v1/me/consent", headers=h).json()["history"]]
    stamps += [e["at"] for e in client.get("/v1/audit", headers=h).json()]
    stamps += [m["at"] for m in client.get(f"/v1/conversations/{cid}", headers=h).json()["messages"]]
    assert len(stamps) >= 5
    for stamp in stamps:
        assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).utcoffset() is not None, stamp


def test_a_damaged_record_store_gives_one_clear_message(web: Web, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "healthcoach.db").write_bytes(b"not a database " * 500)
    monkeypatch.setattr(sys, "argv", ["healthcoach", "--data-dir", str(data), "records", "--user", "kim"])
    with pytest.raises(SystemExit) as done:
        cli_main()
    err = capsys.readouterr().err
    assert done.value.code == 1 and "Traceback" not in err
    assert str(data / "healthcoach.db") in err.replace("\n", "") and "damaged" in err and "backup" in err

    # A store that breaks while the server runs: one 503 that names the file, never a driver traceback.
    store = web.bundle.stores.records
    path = Path(str(store.path))
    store.engine.dispose()  # the last connection checkpoints the WAL into the file
    saved = path.read_bytes()
    try:
        path.write_bytes(b"\x00garbage" * (len(saved) // 8 + 1))
        body = is_error(TestClient(web.app(), raise_server_exceptions=False).get("/v1/me", headers=web.auth("kim")),
                        503)
        assert "healthcoach.db" in body["error"] and "damaged" in body["error"] and str(path.parent) not in body["error"]
    finally:
        store.engine.dispose()
        path.write_bytes(saved)
