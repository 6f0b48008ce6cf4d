"""Sessions and the web UI's temporary files (issue 12, item 7): deleting a user or revoking a token signs
their browser out at once; exports and uploads live in private per-user folders that go away; no user can
fetch another's file through Gradio or the download route."""

from __future__ import annotations

import glob
import io
import json
import tempfile
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import fhir_factory as F
from healthcoach.api.auth import create_token
from healthcoach.cli import app as cli_app
from healthcoach.errors import Forbidden, NotFound
from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.store.embeddings import Embedder
from healthcoach.ui.privacy import PrivacyPanel
from healthcoach.ui.tabs import Handlers
from test_api import is_error
from web_helpers import Web, make_web, sign_in


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Web:
    return make_web(tmp_path_factory.mktemp("web-sessions"), embedder, users=("kim", "lee", "max"))


@pytest.fixture(scope="module")
def app(web: Web) -> FastAPI:
    return web.app(ui=True)


def browser(app: FastAPI, web: Web, user: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    sign_in(client, user, web.tokens[user])
    return client


def test_sign_in_needs_the_users_own_token(app: FastAPI, web: Web) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"
    page = client.get("/ui/login")
    assert page.status_code == 200 and "Token" in page.text and "healthcoach users add NAME" in page.text
    wrong = client.post("/ui/login", data={"username": "kim", "token": web.tokens["lee"]}, follow_redirects=False)
    assert wrong.status_code == 401 and "do not match" in wrong.text
    assert client.get("/ui/config").status_code == 401
    sign_in(client, "kim", web.tokens["kim"])
    cookie = next(c for c in client.cookies.jar)
    assert cookie.name.startswith("healthcoach_session_") and cookie.has_nonstandard_attr("HttpOnly")
    assert client.get("/ui/config").status_code == 200
    assert client.get("/ui/logout", follow_redirects=False).headers["location"] == "/ui/login"
    assert client.get("/ui/config").status_code == 401


def test_deleting_a_user_ends_their_ui_session_and_nothing_is_recreated(app: FastAPI, web: Web,
                                                                      tmp_path: Path) -> None:
    """The issue: after DELETE /v1/data the UI cookie still worked, re-created the profile and could upload."""
    store = web.bundle.stores.records
    token = create_token(store, "gone")
    ui = TestClient(app, raise_server_exceptions=False)
    sign_in(ui, "gone", token)
    assert ui.get("/ui/config").status_code == 200
    api = TestClient(app, raise_server_exceptions=False)
    assert api.request("DELETE", "/v1/data", json={"confirm": "gone"},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for resp in (ui.get("/ui/config"), ui.post("/ui/gradio_api/queue/join", json={"data": []}),
                 ui.post("/ui/gradio_api/upload", files={"files": ("x.json", b"{}")})):
        assert resp.status_code == 401, resp.text
    with pytest.raises(NotFound):
        store.get_user("gone")


def test_revoking_tokens_ends_sessions_from_the_cli_and_the_api(app: FastAPI, web: Web, tmp_path: Path) -> None:
    store = web.bundle.stores.records
    first, second = create_token(store, "rev"), create_token(store, "rev")
    a, b = TestClient(app, raise_server_exceptions=False), TestClient(app, raise_server_exceptions=False)
    sign_in(a, "rev", first)
    sign_in(b, "rev", second)
    revoked = a.request("DELETE", "/v1/me/tokens", headers={"Authorization": f"Bearer {first}"})
    assert revoked.json() == {"tokens_revoked": 1, "sessions_ended": 1}
    assert a.get("/ui/config").status_code == 401 and b.get("/ui/config").status_code == 200
    is_error(a.get("/v1/me", headers={"Authorization": f"Bearer {first}"}), 401)
    assert a.get("/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200

    result = CliRunner().invoke(cli_app, ["--data-dir", str(web.settings.home), "users", "revoke", "rev"])
    assert result.exit_code == 0 and "Revoked 1 token(s)" in result.output and "1 web session" in result.output
    assert b.get("/ui/config").status_code == 401  # the running server sees it on the next request
    is_error(b.get("/v1/me", headers={"Authorization": f"Bearer {second}"}), 401)
    unknown = CliRunner().invoke(cli_app, ["--data-dir", str(web.settings.home), "users", "revoke", "nobody"])
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_an_export_is_its_owners_only_and_goes_after_download(app: FastAPI, web: Web) -> None:
    deps = app.state.deps
    before = set(glob.glob(str(Path(tempfile.gettempdir()) / "healthcoach-export-*")))
    path, link = PrivacyPanel(web.bundle, files=deps.files).export("kim")
    url = link.split("](", 1)[1].split(")", 1)[0]
    assert url.startswith("/ui/files/") and path.is_file()
    lee = browser(app, web, "lee")
    assert lee.get(url).status_code == 404  # another signed-in user
    for gradio_url in (f"/ui/gradio_api/file={path}", f"/ui/file={path}", f"/ui/gradio_api/file/{path}"):
        assert lee.get(gradio_url).status_code == 403, gradio_url
    assert TestClient(app).get(url).status_code == 401  # nobody signed in
    kim = browser(app, web, "kim")
    got = kim.get(url)
    assert got.status_code == 200 and "records.json" in zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert "attachment" in got.headers["content-disposition"]
    assert not path.exists() and not path.parent.exists() and kim.get(url).status_code == 404
    api = TestClient(app).get("/v1/export", headers=web.auth("kim"))
    assert api.status_code == 200 and not any(deps.files.base.rglob("*.zip"))
    assert set(glob.glob(str(Path(tempfile.gettempdir()) / "healthcoach-export-*"))) == before


def test_an_upload_is_imported_only_for_its_uploader(app: FastAPI, web: Web) -> None:
    files: UserFiles = app.state.deps.files
    doc = json.dumps(F.bundle(F.patient(pid="p2", name="Pat Max"), F.a1c("up1", 6.0, "2026-06-01T09:00:00Z",
                                                                         pid="p2"))).encode()
    max_ = browser(app, web, "max")
    resp = max_.post("/ui/gradio_api/upload", files={"files": ("mine.json", doc)})
    assert resp.status_code == 200, resp.text
    (uploaded,) = resp.json()
    assert Path(uploaded).resolve().is_relative_to(files.base.resolve())  # private, not /tmp/gradio
    assert browser(app, web, "lee").get(f"/ui/gradio_api/file={uploaded}").status_code == 403
    handlers = Handlers(web.bundle, files=files)
    store = web.bundle.stores.records
    before = store.record_counts("lee")
    note = handlers.upload([uploaded], SimpleNamespace(username="lee"), progress=lambda *a, **k: None)
    assert note.startswith("⚠️ Nothing was stored") and "not yours" in note
    assert store.record_counts("lee") == before
    note = handlers.upload([uploaded], SimpleNamespace(username="max"), progress=lambda *a, **k: None)
    assert note.startswith("**Stored 1 records**"), note
    assert not Path(uploaded).exists() and not list(files.base.rglob("mine.json"))  # moved, imported, removed


def test_temp_files_expire_and_go_with_their_user(tmp_path: Path) -> None:
    files = UserFiles(tmp_path / "t", ttl_s=0.2)
    old = files.new_dir("ann")
    (old / "healthcoach-export.zip").write_bytes(b"PK")
    with pytest.raises(Forbidden):
        files.file_id("bob", old / "healthcoach-export.zip")
    assert files.download("bob", files.file_id("ann", old / "healthcoach-export.zip")) is None
    assert files.download("ann", "../../etc/passwd") is None
    time.sleep(0.3)
    fresh = files.new_dir("ann")  # creating one sweeps the expired
    assert not old.exists() and fresh.exists()
    files.claim("ann", [str(tmp_path / "x.json")])
    files.remove_user("ann")
    assert not fresh.exists()
    with pytest.raises(Forbidden):
        files.take_upload("ann", str(tmp_path / "x.json"))
    assert oct((tmp_path / "t").stat().st_mode & 0o777) == "0o700"
