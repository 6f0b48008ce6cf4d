"""The reproduction of "one ingest blocks everyone", small: clients ask questions over HTTP while other
people's exports are being ingested through the same server. No request fails; a second upload for a user
whose ingest is running gets a clear 409. (`healthcoach eval bench --only load` is the 10 x 30 version.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from conftest import TODAY
from healthcoach.api.app import create_app
from healthcoach.api.testing import live_server, sample_server
from healthcoach.evals.load import run_load_during_ingest
from healthcoach.sample.generator import write_person

LOADERS = ("loader0", "loader1")


def test_questions_asked_during_ingests_all_succeed(embedder: Any, tmp_path: Path) -> None:
    server = sample_server(embedder, others=LOADERS, today=TODAY)
    uploads = [(server.tokens[u], write_person(tmp_path / u, seed=500 + i, today=TODAY)[0])
               for i, u in enumerate(LOADERS)]
    app = create_app(server.settings, server.bundle, ui=False)
    with live_server(app) as url:
        result = run_load_during_ingest(url, server.tokens["maria"], uploads, clients=4, questions=5)
    assert (result["errors"], result["ok"]) == (0, 20), result["error_examples"]
    assert result["ingests"] >= 1 and result["ingest_statuses"] == [200]
    assert result["overlap"] >= 0.5  # the questions really were asked while an ingest ran
    assert server.bundle.stores.ingestor.repair.check().ok


def test_a_second_upload_while_the_users_ingest_runs_is_409(embedder: Any, tmp_path: Path) -> None:
    server = sample_server(embedder, others=LOADERS, today=TODAY)
    app = create_app(server.settings, server.bundle, ui=False)
    path = write_person(tmp_path / "again", seed=500, today=TODAY)[0]
    with live_server(app) as url, server.bundle.stores.ingestor.locks.hold("loader0"):
        resp = httpx.post(f"{url}/v1/ingest", headers={"Authorization": f"Bearer {server.tokens['loader0']}"},
                          files={"files": (path.name, path.read_bytes(), "application/json")}, timeout=120)
    assert resp.status_code == 409
    assert resp.json() == {"ok": False, "status": 409, "error": resp.json()["error"]}
    assert "already running" in resp.json()["error"]
