"""HTTP API: every route, auth on each, per-user isolation, SSE, limits and the one error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import fhir_factory as F
from healthcoach.api.app import PUBLIC_PATHS, create_app
from healthcoach.api.routes.ingest import safe_name
from healthcoach.api.testing import SampleServer, sample_server
from healthcoach.errors import ConfigError
from healthcoach.store.embeddings import Embedder


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


@pytest.fixture(scope="module")
def app(server: SampleServer) -> FastAPI:
    return create_app(server.settings, server.bundle)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def auth(server: SampleServer, user: str = "maria") -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[user]}"}


def is_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["ok"] is False and body["status"] == status and isinstance(body["error"], str) and body["error"]
    assert set(body) == {"ok", "error", "status"}
    return body


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every HTTP route, descending into included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif getattr(route, "methods", None):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, prefix + route.path


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    """(event, data) pairs of a server-sent-event stream."""
    out = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        out.append((event, "\n".join(data)))
    return out


# auth -----------------------------------------------------------------------------------------------------
def test_healthz_needs_no_token_and_returns_no_data(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_every_route_refuses_without_a_valid_token(app: FastAPI, client: TestClient) -> None:
    routes = sorted(set(api_routes(app.routes)))
    openapi_paths = {p for p in app.openapi()["paths"]}
    # The web UI's own pages (sign-in, sign-out, downloads) are not API routes: test_web_security checks them.
    protected = [(m, p) for m, p in routes if p not in PUBLIC_PATHS and not p.startswith("/ui/")]
    assert {p for _, p in protected} == openapi_paths - {"/healthz"}  # every documented route is checked
    assert len(protected) >= 7
    for method, path in protected:
        url = path.replace("{conversation_id}", "abc")
        for headers in ({}, {"Authorization": "Bearer hc_not-a-token"}, {"Authorization": "Basic xyz"}):
            resp = client.request(method, url, headers=headers, json={"message": "hi"})
            is_error(resp, 401)
            assert resp.headers["www-authenticate"] == "Bearer"
    for path in ("/ui/config", "/ui/gradio_api/info", "/ui/files/a/b/c.zip"):  # the UI refuses until signed in
        assert client.get(path).status_code == 401


def test_local_single_user_mode_only_on_loopback(server: SampleServer) -> None:
    api = server.settings.api.model_copy(update={"local_user": "maria", "host": "0.0.0.0"})
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1"):
        create_app(server.settings.model_copy(update={"api": api}), server.bundle, ui=False)
    local = server.settings.model_copy(update={"api": api.model_copy(update={"host": "127.0.0.1"})})
    app = create_app(local, server.bundle, ui=False)
    with TestClient(app, base_url=f"http://127.0.0.1:{local.api.port}") as c:
        key = {"Authorization": f"Bearer {app.state.launch.secret}"}
        assert c.get("/v1/me", headers=key).json()["user_id"] == "maria"
        is_error(c.get("/v1/me"), 401)  # local mode is not open: it needs this launch's key
        is_error(c.get("/v1/me", headers={"Authorization": "Bearer wrong"}), 401)  # a bad token is never ignored


# chat -----------------------------------------------------------------------------------------------------
def test_chat_answers_a1c_with_citations_and_continues(server: SampleServer, client: TestClient) -> None:
    latest = server.truths["maria"]["hba1c"]["latest"]
    resp = client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=auth(server))
    body = resp.json()
    assert resp.status_code == 200 and f"{latest['value']:g}" in body["text"]
    assert body["citations"][0]["date"] == latest["date"] and body["citations"][0]["source"]
    assert body["blocked"] is False and body["conversation_id"]
    cid = body["conversation_id"]
    again = client.post("/v1/chat", json={"message": "And my cholesterol?", "conversation_id": cid},
                        headers=auth(server)).json()
    assert again["conversation_id"] == cid
    conv = client.get(f"/v1/conversations/{cid}", headers=auth(server)).json()
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant", "user", "assistant"]
    assert conv["messages"][1]["reply"]["citations"][0]["record_id"] == body["citations"][0]["record_id"]


def test_chat_streams_server_sent_events(server: SampleServer, client: TestClient) -> None:
    for kwargs in ({"json": {"message": "What's my A1c?", "stream": True}},
                   {"json": {"message": "What's my A1c?"}, "headers": {"Accept": "text/event-stream"}}):
        headers = {**auth(server), **kwargs.pop("headers", {})}
        resp = client.post("/v1/chat", headers=headers, **kwargs)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(resp.text)
        kinds = [e for e, _ in events]
        assert kinds[-1] == "reply" and set(kinds[:-1]) == {"delta"}
        reply = json.loads(events[-1][1])
        assert "".join(json.loads(d)["text"] for e, d in events[:-1]) == reply["text"]
        assert reply["conversation_id"] and reply["citations"] and "6.1" in reply["text"]


def test_safety_redirect_is_a_normal_reply(server: SampleServer, client: TestClient) -> None:
    body = client.post("/v1/chat", json={"message": "I have crushing chest pain and can't breathe"},
                       headers=auth(server)).json()
    assert body["blocked"] is True and body["action"] == "escalate" and "911" in body["text"]


def test_a_worried_question_is_answered_with_care(server: SampleServer, client: TestClient) -> None:
    body = client.post("/v1/chat", json={"message": "water went up my nose while swimming, should I worry?"},
                       headers=auth(server)).json()
    assert body["blocked"] is False and body["action"] == "answer_with_care" and "When to seek care:" in body["text"]


# isolation ------------------------------------------------------------------------------------------------
def test_another_user_cannot_read_or_continue_a_conversation(server: SampleServer, client: TestClient) -> None:
    cid = client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=auth(server)).json()["conversation_id"]
    missing = is_error(client.get("/v1/conversations/0123456789abcdef", headers=auth(server, "bob")), 404)
    theirs = is_error(client.get(f"/v1/conversations/{cid}", headers=auth(server, "bob")), 404)
    assert theirs["error"].replace(cid, "X") == missing["error"].replace("0123456789abcdef", "X")
    is_error(client.post("/v1/chat", json={"message": "What's my A1c?", "conversation_id": cid},
                         headers=auth(server, "bob")), 404)
    is_error(client.post("/v1/chat", json={"message": "hi", "conversation_id": cid, "stream": True},
                         headers=auth(server, "bob")), 404)


def test_another_user_never_sees_records(server: SampleServer, client: TestClient) -> None:
    maria = client.get("/v1/records", headers=auth(server)).json()
    assert maria["count"] > 50
    bob = client.get("/v1/records", headers=auth(server, "bob")).json()
    assert bob == {"count": 0, "records": []}
    answer = client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=auth(server, "bob")).json()
    assert answer["citations"] == [] and "6.1" not in answer["text"]
    done = client.post("/v1/chat/completions", headers=auth(server, "bob"),
                       json={"messages": [{"role": "user", "content": "Summarize my medical records"}]}).json()
    assert done["healthcoach"]["citations"] == []


# records --------------------------------------------------------------------------------------------------
def test_records_filters(server: SampleServer, client: TestClient) -> None:
    truth = server.truths["maria"]["hba1c"]
    body = client.get("/v1/records", params={"category": "lab", "code": "4548-4"}, headers=auth(server)).json()
    assert body["count"] == truth["count"] and all("LOINC:4548-4" in r["codes"] for r in body["records"])
    assert body["records"][0]["date"] == truth["latest"]["date"] and body["records"][0]["value"] == 6.1
    dates = [r["date"] for r in body["records"]]
    assert dates == sorted(dates, reverse=True)
    day = truth["latest"]["date"]
    one = client.get("/v1/records", params={"code": "LOINC:4548-4", "since": day, "until": day},
                     headers=auth(server)).json()
    assert [r["date"] for r in one["records"]] == [day]
    assert client.get("/v1/records", params={"limit": 3}, headers=auth(server)).json()["count"] == 3
    assert "category" in is_error(client.get("/v1/records", params={"category": "nope"},
                                             headers=auth(server)), 422)["error"]


def test_me_and_consent(server: SampleServer, client: TestClient) -> None:
    me = client.get("/v1/me", headers=auth(server)).json()
    assert me["user_id"] == "maria" and me["use_records_in_chat"] and me["record_counts"]["lab"] > 0
    off = client.put("/v1/me/consent", json={"use_records_in_chat": False}, headers=auth(server, "bob")).json()
    assert off["use_records_in_chat"] is False
    assert client.put("/v1/me/consent", json={"use_records_in_chat": True},
                      headers=auth(server, "bob")).json()["use_records_in_chat"]


# ingest ---------------------------------------------------------------------------------------------------
def test_ingest_upload_and_refusals(server: SampleServer, client: TestClient, tmp_path: Any) -> None:
    from healthcoach.api.auth import create_token

    token = {"Authorization": f"Bearer {create_token(server.bundle.stores.records, 'carol')}"}
    doc = json.dumps(F.bundle(F.patient(name="Carol Test"), F.a1c("o1", 5.9, "2026-05-01T09:00:00Z")))
    resp = client.post("/v1/ingest", headers=token,
                       files=[("files", ("../../etc/passwd.json", doc.encode(), "application/json"))])
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["user_id"] == "carol" and report["records_by_category"] == {"lab": 1} and report["new"] == 1
    assert len(report["files"]) == 1 and report["files"][0].endswith("000_passwd.json")  # saved under a safe name
    assert client.get("/v1/records", headers=token).json()["records"][0]["value"] == 5.9
    is_error(client.post("/v1/ingest", headers=token, files=[("files", ("x.json", b"{not json", "application/json"))]),
             422)
    other = json.dumps(F.bundle(F.patient(pid="p9", name="Someone Else"), F.a1c("o2", 5.0, "2026-05-02T09:00:00Z",
                                                                               pid="p9")))
    is_error(client.post("/v1/ingest", headers=token, files=[("files", ("y.json", other.encode(), "application/json"))]),
             403)


def test_upload_over_the_limit_is_413(server: SampleServer) -> None:
    small = server.settings.model_copy(update={"api": server.settings.api.model_copy(update={"max_upload_bytes": 2000})})
    with TestClient(create_app(small, server.bundle, ui=False)) as c:
        body = is_error(c.post("/v1/ingest", headers=auth(server), files=[("files", ("big.json", b"x" * 5000))]), 413)
        assert "limit" in body["error"] and "2,000" in body["error"]

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
            yield b'{"message": "'
            yield b"x" * 3000
            yield b'"}'

        is_error(c.post("/v1/chat", headers={**auth(server), "Content-Type": "application/json"}, content=chunked()),
                 413)


def test_safe_upload_names() -> None:
    assert safe_name(0, "../../etc/passwd") == "000_passwd"
    assert safe_name(1, "..\\..\\win.ini") == "001_win.ini"
    assert safe_name(2, ".hidden") == "002_hidden"
    assert safe_name(3, None) == "003_upload"
    assert safe_name(4, "a b;rm -rf.json") == "004_a_b_rm_-rf.json"


# errors and limits ----------------------------------------------------------------------------------------
def test_one_error_shape_everywhere(server: SampleServer, client: TestClient) -> None:
    is_error(client.get("/v1/nope", headers=auth(server)), 404)
    is_error(client.delete("/v1/records", headers=auth(server)), 405)
    assert "message" in is_error(client.post("/v1/chat", json={}, headers=auth(server)), 422)["error"]
    is_error(client.post("/v1/chat", content=b"{oops", headers={**auth(server), "Content-Type": "application/json"}),
             422)
    long = is_error(client.post("/v1/chat", json={"message": "x" * 4001}, headers=auth(server)), 422)
    assert long["error"] == "message is 4001 characters long; the limit is 4000"
    is_error(client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "hi"}]},
                         headers=auth(server)), 422)


def test_server_errors_leak_nothing(server: SampleServer, client: TestClient, monkeypatch: Any) -> None:
    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("Hemoglobin A1c 6.1 % for Maria Lopez at /secret/path.py line 3")

    monkeypatch.setattr(server.bundle.chat, "ask", boom)
    body = is_error(client.post("/v1/chat", json={"message": "What's my A1c?"}, headers=auth(server)), 500)
    assert body["error"] == "internal error"
    monkeypatch.setattr(server.bundle.coach, "stream", boom)
    is_error(client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "a1c"}],
                                                       "stream": True}, headers=auth(server)), 500)


def test_slow_answers_time_out(server: SampleServer, client: TestClient, app: FastAPI, monkeypatch: Any) -> None:
    import time

    monkeypatch.setattr(app.state.deps, "timeout_s", 0.2)
    monkeypatch.setattr(server.bundle.chat, "ask", lambda *a, **k: time.sleep(1))
    assert "0.2 s" in is_error(client.post("/v1/chat", json={"message": "hi"}, headers=auth(server)), 504)["error"]


def test_openapi_is_documented(app: FastAPI) -> None:
    doc = app.openapi()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("description"), f"{method} {path} has no docstring"
            if path != "/healthz":
                assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
            if "422" in op["responses"]:
                assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    schemas = doc["components"]["schemas"]
    for name in ("ChatRequest", "ChatResponse", "RecordOut", "Conversation", "Completion", "ErrorBody"):
        assert schemas[name].get("examples"), name
    assert schemas["ChatRequest"]["properties"]["message"]["maxLength"] == 4000


def test_log_weight_through_the_api_is_answered_from_the_record(tmp_path, embedder):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from conftest import settings_for
    from healthcoach.api.app import create_app
    from healthcoach.api.auth import create_token

    settings = settings_for(tmp_path / "d")
    from healthcoach.container import CoachBundle, build_stores

    bundle = CoachBundle.build(settings, build_stores(settings, embedder=embedder))
    token = create_token(bundle.stores.records, "lee")
    bundle.stores.records.set_consent("lee", records=True)
    client = TestClient(create_app(settings, bundle, ui=False))
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/log", json={"kind": "weight", "amount": "heavy"}, headers=h).json()["status"] == 422
    logged = client.post("/v1/log", json={"kind": "weight", "amount": "70kg", "date": "2026-11-20"}, headers=h)
    assert logged.status_code == 200 and logged.json()["value"] == "70 kg"
    answer = client.post("/v1/chat", json={"message": "What's my weight?"}, headers=h).json()
    assert "70 kg" in answer["text"] and answer["citations"][0]["record_id"] == logged.json()["record_id"]
