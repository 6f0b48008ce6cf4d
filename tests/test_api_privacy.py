"""Privacy over HTTP: consent history, export zip, delete everything, sources and disconnect, the audit log;
each for its owner only. Uses the shared sample server (maria ingested once per session) and small users of
its own for the destructive routes, so maria's records stay as other modules expect them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import fhir_factory as F
from healthcoach.api.app import create_app
from healthcoach.api.auth import create_token
from healthcoach.api.testing import SampleServer, sample_server
from healthcoach.errors import NotFound
from healthcoach.store.embeddings import Embedder
from test_api import auth, is_error

EXPORT_FILES = {"README.md", "profile.json", "records.json", "fhir_bundle.json", "conversations.json", "audit.json"}


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


@pytest.fixture(scope="module")
def app(server: SampleServer) -> FastAPI:
    return create_app(server.settings, server.bundle, ui=False)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def small_user(server: SampleServer, client: TestClient, user: str, tmp_path: Path) -> dict[str, str]:
    """A user of this module's own: two A1c results from a FHIR file and one manual weight; consent on."""
    doc = F.bundle(F.patient(name="Pat Privacy"), F.a1c("o1", 5.9, "2026-05-01T09:00:00Z"),
                   F.a1c("o2", 6.2, "2026-09-01T09:00:00Z"))
    stores = server.bundle.stores
    token = create_token(stores.records, user)
    stores.ingestor.ingest(user, [F.write(tmp_path / f"{user}.json", doc)])
    stores.records.set_consent(user, records=True)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/log", json={"kind": "weight", "amount": "70kg", "date": "2026-11-20"},
                       headers=headers).status_code == 200
    return headers


# consent --------------------------------------------------------------------------------------------------
def test_consent_flags_and_history(server: SampleServer, client: TestClient) -> None:
    token = create_token(server.bundle.stores.records, "privacy-consent")
    h = {"Authorization": f"Bearer {token}"}
    fresh = client.get("/v1/me/consent", headers=h).json()
    assert fresh == {"user_id": "privacy-consent", "use_records_in_chat": False, "remote_llm": False, "history": []}
    client.put("/v1/me/consent", json={"use_records_in_chat": True}, headers=h)
    client.put("/v1/me/consent", json={"use_records_in_chat": False, "remote_llm": True}, headers=h)
    state = client.get("/v1/me/consent", headers=h).json()
    assert (state["use_records_in_chat"], state["remote_llm"]) == (False, True)
    assert [(e["flag"], e["value"]) for e in state["history"]] == [
        ("use_records_in_chat", True), ("use_records_in_chat", False), ("remote_llm", True)]
    assert all(e["at"] for e in state["history"])
    assert client.get("/v1/me/consent", headers=auth(server)).json()["use_records_in_chat"] is True


# export ---------------------------------------------------------------------------------------------------
def test_export_is_a_zip_download_of_everything_and_the_temp_file_goes(
        server: SampleServer, client: TestClient, app: FastAPI) -> None:
    files = app.state.deps.files
    before = set(files.base.rglob("*.zip"))
    resp = client.get("/v1/export", headers=auth(server))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    assert resp.headers["content-disposition"].startswith("attachment") and ".zip" in resp.headers["content-disposition"]
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    assert set(zf.namelist()) >= EXPORT_FILES
    records = json.loads(zf.read("records.json"))
    assert len(records) == sum(server.bundle.stores.records.record_counts("maria").values()) > 0
    assert json.loads(zf.read("fhir_bundle.json"))["type"] == "collection"
    assert set(files.base.rglob("*.zip")) <= before  # written to the user's private temp folder, removed once sent
    audit = client.get("/v1/audit", params={"limit": 1}, headers=auth(server)).json()
    assert [e["action"] for e in audit] == ["export"]


# isolation ------------------------------------------------------------------------------------------------
def test_another_user_can_neither_see_nor_delete_maria(server: SampleServer, client: TestClient) -> None:
    store = server.bundle.stores.records
    before = store.record_counts("maria")
    bob = auth(server, "bob")
    assert client.get("/v1/sources", headers=bob).json() == []
    maria_ids = set(store.snapshot("maria"))
    bob_read = {i for e in client.get("/v1/audit", headers=bob).json() for i in e["detail"].get("records_read", [])}
    assert not bob_read & maria_ids  # bob's own questions (other tests) never read maria's records
    is_error(client.request("DELETE", "/v1/sources", params={"kind": "fhir"}, headers=bob), 404)
    refused = is_error(client.request("DELETE", "/v1/data", json={"confirm": "maria"}, headers=bob), 422)
    assert "nothing was deleted" in refused["error"]
    export = zipfile.ZipFile(io.BytesIO(client.get("/v1/export", headers=bob).content))
    assert json.loads(export.read("records.json")) == []
    assert "maria" not in export.read("profile.json").decode()
    assert store.record_counts("maria") == before
    assert client.get("/v1/me", headers=auth(server)).status_code == 200


# sources --------------------------------------------------------------------------------------------------
def test_sources_and_disconnect_one(server: SampleServer, client: TestClient, tmp_path: Path) -> None:
    h = small_user(server, client, "privacy-sources", tmp_path)
    listed = client.get("/v1/sources", headers=h).json()
    assert sorted((s["kind"], s["records"]) for s in listed) == [("fhir", 2), ("manual", 1)]
    assert next(s for s in listed if s["kind"] == "fhir")["file"]
    is_error(client.request("DELETE", "/v1/sources", headers=h), 422)  # kind is required
    report = client.request("DELETE", "/v1/sources", params={"kind": "manual"}, headers=h).json()
    assert (report["source_kind"], report["records_removed"], report["records_left"]) == ("manual", 1, 2)
    assert [s["kind"] for s in client.get("/v1/sources", headers=h).json()] == ["fhir"]
    assert is_error(client.request("DELETE", "/v1/sources", params={"kind": "manual"}, headers=h), 404)["error"]
    assert client.get("/v1/audit", headers=h).json()[-1]["action"] == "disconnect"


# audit ----------------------------------------------------------------------------------------------------
def test_audit_lists_the_records_read_by_id_and_no_record_text(server: SampleServer, client: TestClient) -> None:
    latest = server.truths["maria"]["hba1c"]["latest"]
    reply = client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=auth(server)).json()
    assert f"{latest['value']:g}" in reply["text"]
    entries = client.get("/v1/audit", params={"limit": 5}, headers=auth(server)).json()
    assert 1 <= len(entries) <= 5
    ask = [e for e in entries if e["action"] == "ask"][-1]
    assert ask["detail"]["question"] == "What's my A1c?"
    assert ask["detail"]["records_read"] and {c["record_id"] for c in reply["citations"]} <= set(
        ask["detail"]["records_read"])
    text = json.dumps(ask)
    for content in (reply["text"], "Hemoglobin", f"{latest['value']:g} %", latest["date"]):
        assert content not in text
    is_error(client.get("/v1/audit", params={"limit": 0}, headers=auth(server)), 422)


# delete ---------------------------------------------------------------------------------------------------
def test_delete_needs_the_matching_confirm_then_everything_and_the_token_are_gone(
        server: SampleServer, client: TestClient, tmp_path: Path) -> None:
    user = "privacy-delete"
    h = small_user(server, client, user, tmp_path)
    store = server.bundle.stores.records
    assert client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=h).status_code == 200
    for body in ({"confirm": "privacy-delet"}, {"confirm": "maria"}, {}, {"confirm": user, "also": 1}):
        is_error(client.request("DELETE", "/v1/data", json=body, headers=h), 422)
    assert "privacy-delete" in is_error(client.request("DELETE", "/v1/data", json={"confirm": "x"}, headers=h),
                                        422)["error"]
    assert len(store.query(user)) == 3
    resp = client.request("DELETE", "/v1/data", json={"confirm": user}, headers=h)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["user_id"] == user and report["removed"]["records"] == 3
    assert report["removed"]["api_tokens"] == 1 and report["removed"]["messages"] == 2
    is_error(client.get("/v1/me/consent", headers=h), 401)
    is_error(client.get("/v1/sources", headers=h), 401)
    assert store.query(user) == [] and store.sources(user) == []
    assert store.record_counts("maria")  # nobody else's records were touched


# docs -----------------------------------------------------------------------------------------------------
def test_privacy_routes_are_documented_with_examples(app: FastAPI) -> None:
    doc = app.openapi()
    for path, method in (("/v1/me/consent", "get"), ("/v1/export", "get"), ("/v1/data", "delete"),
                         ("/v1/sources", "get"), ("/v1/sources", "delete"), ("/v1/audit", "get")):
        op = doc["paths"][path][method]
        assert op["description"] and "privacy" in op["tags"], (method, path)
    assert "application/zip" in doc["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]
    schemas = doc["components"]["schemas"]
    for name in ("ConsentOut", "DeleteConfirm", "DeleteOut", "SourceOut", "DisconnectOut", "AuditOut"):
        assert schemas[name].get("examples"), name


# the UI's Privacy tab -------------------------------------------------------------------------------------
def test_privacy_tab_builds_with_its_controls(server: SampleServer) -> None:
    from healthcoach.ui.app import build_ui

    config = str(build_ui(server.bundle).config)
    for text in ("Use my records to answer my questions", "remote language model", "Consent changes",
                 "Download my data", "Sources of your records", "Disconnect", "Activity", "Delete everything",
                 "Type your user id to confirm"):
        assert text in config, text


def test_privacy_panel_actions(server: SampleServer, client: TestClient, tmp_path: Path) -> None:
    from healthcoach.ui.privacy import PrivacyPanel

    user = "privacy-ui"
    small_user(server, client, user, tmp_path)
    panel = PrivacyPanel(server.bundle)
    records_on, remote_on, history, sources, _pick, _activity = panel.views(user)
    assert (records_on, remote_on) == (True, False)
    assert history[-1][1:] == ["use_records_in_chat", "on"]
    assert sorted(row[0] for row in sources) == ["fhir", "manual"]
    assert "remote" in panel.set_remote(user, True)
    assert panel.views(user)[2][-1][1:] == ["remote_llm", "on"]

    path, link = panel.export(user)
    assert set(zipfile.ZipFile(path).namelist()) >= EXPORT_FILES
    assert link.startswith("[Download healthcoach-export.zip") and "/ui/files/" in link
    panel.files.discard(path)
    assert not path.parent.exists()

    assert panel.disconnect(user, None) == "Choose a source first."
    assert "1 records removed, 2 left" in panel.disconnect(user, "manual\t")
    assert panel.disconnect(user, "manual\t").startswith("⚠️")
    assert [row[0] for row in panel.views(user)[3]] == ["fhir"]
    assert any(row[1] == "disconnect" for row in panel.views(user)[5])

    note, kept = panel.delete(user, "maria")
    assert note.startswith("Nothing was deleted") and kept == "maria"
    assert len(server.bundle.stores.records.query(user)) == 2
    note, cleared = panel.delete(user, user)
    assert "was deleted" in note and "sign out" in note and cleared == ""
    assert server.bundle.stores.records.query(user) == []
    assert panel.views(user)[3] == [["", "no records yet", 0]]  # shown empty, and no profile re-created
    with pytest.raises(NotFound):
        server.bundle.stores.records.get_user(user)


def test_privacy_panel_local_mode_says_the_profile_is_empty(server: SampleServer, client: TestClient,
                                                           tmp_path: Path) -> None:
    from healthcoach.ui.privacy import PrivacyPanel, audit_text

    user = "privacy-local"
    small_user(server, client, user, tmp_path)
    note, _ = PrivacyPanel(server.bundle, local_user=user).delete(user, user)
    assert "profile **privacy-local** is now empty" in note and "sign out" not in note
    line = audit_text("ask", {"question": "What's my A1c?", "records_read": ["r1", "r2"], "intent": "x"})
    assert line == "What's my A1c? → read 2 record(s): r1, r2"
