"""Local mode is safe from web pages (issue 12, item 1), and the gate's limits hold (item 6): each test is one
of the attacks the issue reproduced, tried again against the real app (API and mounted Gradio UI)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import fhir_factory as F
from healthcoach.api.auth import check_local_mode
from healthcoach.cli.serve import server_lines
from healthcoach.errors import ConfigError
from healthcoach.settings import APISettings
from healthcoach.store.embeddings import Embedder
from test_api import is_error
from web_helpers import PORT, Web, local_client, make_web

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Web:
    return make_web(tmp_path_factory.mktemp("web-security"), embedder)


@pytest.fixture(scope="module")
def local_app(web: Web) -> FastAPI:
    return web.app(local="kim", ui=True)


def lab_count(web: Web, user: str) -> int:
    return web.bundle.stores.records.record_counts(user)["lab"]


# 1. DNS rebinding --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/me", "/v1/export", "/ui/", "/ui/config", "/ui/gradio_api/info"])
def test_a_spoofed_host_gets_nothing_in_local_mode(local_app: FastAPI, path: str) -> None:
    """The issue's rebinding attack: a page on attacker.example, resolved to 127.0.0.1, asks for the data."""
    client = local_client(local_app)
    for host in (f"attacker.example:{PORT}", "attacker.example", f"127.0.0.1:{PORT + 1}", f"127.0.0.1.nip.io:{PORT}"):
        resp = client.get(path, headers={"Host": host})
        assert resp.status_code == 400, (host, resp.status_code)
        assert "Host" in resp.json()["error"]
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"):
        assert client.get("/v1/me", headers={"Host": host}).status_code == 200, host


def test_local_mode_answers_only_with_this_launchs_key(local_app: FastAPI) -> None:
    stranger = local_client(local_app, with_key=False)
    is_error(stranger.get("/v1/me"), 401)
    is_error(stranger.get("/v1/export"), 401)
    page = stranger.get("/ui/")
    assert page.status_code == 401 and "Open the link" in page.text and "key=" in page.text
    assert stranger.get("/ui/config").status_code == 401
    assert "another launch" in is_error(stranger.get("/ui/?key=not-the-key", follow_redirects=False), 403)["error"]
    opened = stranger.get(f"/ui/?key={local_app.state.launch.secret}&__theme=dark", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/ui/?__theme=dark"  # the key leaves the URL
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert stranger.get("/v1/me").json()["user_id"] == "kim"
    assert stranger.get("/ui/config").status_code == 200
    bearer = local_client(local_app, with_key=False)
    assert bearer.get("/v1/me", headers={"Authorization": f"Bearer {local_app.state.launch.secret}"}).status_code == 200


def test_another_launch_has_another_key(web: Web, local_app: FastAPI) -> None:
    again = web.app(local="kim")
    assert again.state.launch.secret != local_app.state.launch.secret
    old = local_client(local_app)
    client = TestClient(again, base_url=f"http://127.0.0.1:{PORT}", cookies=dict(old.cookies))
    is_error(client.get("/v1/me"), 401)


# 1. cross-site requests ----------------------------------------------------------------------------------------
def test_a_cross_origin_form_upload_stores_nothing(web: Web, local_app: FastAPI, tmp_path: Path) -> None:
    """The issue's CSRF: another site's page posts a multipart form (no CORS preflight) to /v1/ingest."""
    client = local_client(local_app)  # as if the browser attached the cookie anyway
    fake = json.dumps(F.bundle(F.patient(pid="p0", name="Pat Kim"), F.a1c("fake", 14.2, "2026-11-01T09:00:00Z",
                                                                           pid="p0"))).encode()
    before = lab_count(web, "kim")
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/page.html"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": f"http://localhost:{PORT + 1}"},
                    {"Origin": f"http://127.0.0.1:{PORT}.evil.example"}):
        resp = client.post("/v1/ingest", files={"files": ("lab.json", fake)}, headers=headers)
        assert "another web site" in is_error(resp, 403)["error"], headers
        is_error(client.request("DELETE", "/v1/data", json={"confirm": "kim"}, headers=headers), 403)
        is_error(client.put("/v1/me/consent", json={"use_records_in_chat": False}, headers=headers), 403)
    assert lab_count(web, "kim") == before
    assert web.bundle.stores.records.get_user("kim").use_records_in_chat
    ok = client.post("/v1/me/consent", headers={"Origin": f"http://127.0.0.1:{PORT}"})
    assert ok.status_code == 405  # same-origin gets through the gate (to the router)


def test_token_mode_refuses_cross_site_writes_too(web: Web) -> None:
    client = TestClient(web.app(), raise_server_exceptions=False)
    resp = client.put("/v1/me/consent", json={"remote_llm": True}, headers={**web.auth("lee"), "Origin": EVIL})
    is_error(resp, 403)
    assert client.get("/v1/me", headers={**web.auth("lee"), "Origin": EVIL}).status_code == 200  # reads: no CORS


def test_gradio_grants_no_cors_to_other_origins(local_app: FastAPI) -> None:
    """Gradio echoed any http://localhost:* origin with Access-Control-Allow-Credentials."""
    client = local_client(local_app)
    for origin in (f"http://localhost:{PORT + 1}", "http://localhost:3000", EVIL, "null"):
        for resp in (client.get("/ui/config", headers={"Origin": origin}),
                     client.options("/ui/gradio_api/queue/join", headers={
                         "Origin": origin, "Access-Control-Request-Method": "POST"})):
            assert "access-control-allow-origin" not in resp.headers, (origin, resp.headers)
            assert "access-control-allow-credentials" not in resp.headers


# 1. binding beyond this computer ------------------------------------------------------------------------------
def test_beyond_loopback_needs_token_mode_and_warns_about_plain_http(web: Web) -> None:
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(ConfigError, match=r"needs the server bound to 127\.0\.0\.1"):
            check_local_mode("kim", host)
    check_local_mode("kim", "::1")
    check_local_mode(None, "0.0.0.0")
    lines = "\n".join(server_lines(APISettings(host="0.0.0.0", port=8000), None))
    assert "plain HTTP" in lines and "HTTPS" in lines and "users add" in lines
    local = "\n".join(server_lines(APISettings(port=8000, local_user="demo"), "SECRET"))
    assert "http://127.0.0.1:8000/ui/?key=SECRET" in local and "plain HTTP" not in local


def test_allowed_hosts_in_token_mode(web: Web) -> None:
    open_ = TestClient(web.app())
    assert open_.get("/v1/me", headers={**web.auth("lee"), "Host": "coach.example.org"}).status_code == 200
    pinned = TestClient(web.app(allowed_hosts=["coach.example.org"]), raise_server_exceptions=False)
    assert pinned.get("/v1/me", headers={**web.auth("lee"), "Host": "coach.example.org"}).status_code == 200
    assert pinned.get("/v1/me", headers={**web.auth("lee"), "Host": f"localhost:{PORT}"}).status_code == 200
    is_error(pinned.get("/v1/me", headers={**web.auth("lee"), "Host": "attacker.example"}), 400)


# 6. auth before the body; header size -------------------------------------------------------------------------
def test_an_unauthenticated_90_mb_body_gets_401_without_being_read(web: Web) -> None:
    app = web.app()
    sent: list[Any] = []
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for headers in ([], [(b"authorization", b"Bearer hc_wrong")]):
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/v1/ingest", "raw_path": b"/v1/ingest",
                 "query_string": b"", "root_path": "", "scheme": "http", "server": ("testserver", 80),
                 "client": ("127.0.0.1", 5000), "http_version": "1.1", "asgi": {"version": "3.0"},
                 "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                             (b"content-length", str(90 * 1024 * 1024).encode()), *headers]}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 401
    assert reads == 0


def test_oversized_headers_get_431(web: Web) -> None:
    client = TestClient(web.app(max_header_bytes=4096), raise_server_exceptions=False)
    body = is_error(client.get("/v1/me", headers={**web.auth("lee"), "X-Padding": "x" * 5000}), 431)
    assert "4,096" in body["error"]
    assert client.get("/v1/me", headers=web.auth("lee")).status_code == 200
