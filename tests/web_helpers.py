"""Small servers for the web-hardening tests: a fresh data dir, two people with a few records each, a token
each; local mode or token mode, with or without the mounted UI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

import fhir_factory as F
from conftest import settings_for
from healthcoach.api.app import create_app
from healthcoach.api.auth import create_token
from healthcoach.container import CoachBundle, build_stores
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder

PORT = 8766


@dataclass
class Web:
    settings: Settings
    bundle: CoachBundle
    tokens: dict[str, str]

    def app(self, *, local: str | None = None, ui: bool = False, **api: Any) -> FastAPI:
        """An app over the same stores: local mode as `local` when given, else token mode."""
        update = {"port": PORT, "local_user": local, **api}
        settings = self.settings.model_copy(update={"api": self.settings.api.model_copy(update=update)})
        return create_app(settings, self.bundle, ui=ui)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def make_web(home: Path, embedder: Embedder, users: tuple[str, ...] = ("kim", "lee"), **kw: Any) -> Web:
    """Stores in `home` with each user's own small FHIR bundle ingested (consent on) and a token each."""
    settings = settings_for(home / "data", **kw)
    stores = build_stores(settings, embedder=embedder)
    tokens = {}
    for i, user in enumerate(users):
        doc = F.bundle(F.patient(pid=f"p{i}", name=f"Pat {user.title()}"),
                       F.a1c(f"o{i}", 5.5 + i / 10, "2026-05-01T09:00:00Z", pid=f"p{i}"))
        stores.ingestor.ingest(user, [F.write(home / f"{user}.json", doc)])
        stores.records.set_consent(user, records=True)
        tokens[user] = create_token(stores.records, user)
    return Web(settings, CoachBundle.build(settings, stores), tokens)


def local_client(app: FastAPI, with_key: bool = True) -> TestClient:
    """A client of a local-mode app at 127.0.0.1:PORT that (by default) opened the printed link."""
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}", raise_server_exceptions=False)
    if with_key:
        resp = client.get(f"/ui/?key={app.state.launch.secret}", follow_redirects=False)
        assert resp.status_code == 303, resp.text
    return client


def sign_in(client: TestClient, user: str, token: str) -> None:
    """Sign in to the web UI through its form (token mode)."""
    resp = client.post("/ui/login", data={"username": user, "token": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/", resp.text
