"""Test and bench helpers: a live uvicorn server on a free 127.0.0.1 port, in a thread, and the load bench
that needs one (`healthcoach eval bench --only load`)."""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from healthcoach.api.app import create_app
from healthcoach.api.auth import create_token
from healthcoach.container import CoachBundle, build_stores
from healthcoach.evals.load import run_load_bench, run_load_during_ingest
from healthcoach.evals.population import eval_settings
from healthcoach.sample.generator import write_person
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: FastAPI, port: int | None = None, start_timeout_s: float = 30.0) -> Iterator[str]:
    """Serve the app with uvicorn in a background thread; yields the base URL; stops it on exit."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="healthcoach-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class SampleServer:
    """A bundle with sample people ingested (consent on) and a token for each."""

    settings: Settings
    bundle: CoachBundle
    tokens: dict[str, str]
    truths: dict[str, dict[str, Any]]


_CACHE: dict[tuple[int, str], SampleServer] = {}


def sample_server(embedder: Embedder, people: dict[str, int] | None = None, others: tuple[str, ...] = ("bob",),
                  today: date | None = None, **settings: Any) -> SampleServer:
    """Build (once per embedder and arguments) stores with the bundled synthetic person ingested for each
    user (user -> generator seed), consent on, one token per user; `others` get a token and no records.
    Shared across test modules (ingest and guardrail training take a while on a small machine)."""
    people = people or {"maria": 42}
    key = (id(embedder), repr((sorted(people.items()), others, today, sorted(settings.items()))))
    if key in _CACHE:
        return _CACHE[key]
    home = Path(tempfile.mkdtemp(prefix="healthcoach-api-test-"))
    atexit.register(shutil.rmtree, home, True)
    settings.setdefault("ingest", {"min_age": 0})
    cfg = Settings(data_dir=home / "data", **settings)
    stores = build_stores(cfg, embedder=embedder)
    tokens, truths = {}, {}
    for user, seed in people.items():
        path, truth = write_person(home / f"sample-{user}", seed=seed, today=today)
        stores.ingestor.ingest(user, [path])
        stores.records.set_consent(user, records=True)
        tokens[user] = create_token(stores.records, user)
        truths[user] = truth
    for user in others:
        stores.records.set_consent(user, records=True)
        tokens[user] = create_token(stores.records, user)
    built = SampleServer(cfg, CoachBundle.build(cfg, stores), tokens, truths)
    _CACHE[key] = built
    return built


def bench_load(settings: Settings, work: Path, log: Callable[[str], None], clients: int = 10,
               questions: int = 30, uploads: int = 6) -> dict[str, Any]:
    """`eval bench --only load`: clients x questions over HTTP against a live server, first alone, then
    while other people's exports are being ingested one after another (POST /v1/ingest). Errors must be 0
    in both runs; p50/p95 show what an ingest costs the people asking meanwhile."""
    cfg = eval_settings(work / "load-stores", settings)
    cfg = cfg.model_copy(update={"api": cfg.api.model_copy(update={"request_timeout_s": 900.0})})
    stores = build_stores(cfg)
    reader, _ = write_person(work / "load-reader", seed=42)
    stores.ingestor.ingest("reader", [reader])
    stores.records.set_consent("reader", records=True)
    token = create_token(stores.records, "reader")
    files = [(create_token(stores.records, f"up{i}"), write_person(work / f"load-up{i}", seed=300 + i)[0])
             for i in range(uploads)]
    log(f"load: {clients} clients x {questions} questions, alone and during ingests")
    app = create_app(cfg, CoachBundle.build(cfg, stores), ui=False)
    with live_server(app) as url:
        run_load_bench(url, token, clients=2, questions=3)  # warm-up
        alone = run_load_bench(url, token, clients, questions)
        during = run_load_during_ingest(url, token, files, clients, questions)
    keep = ("requests", "errors", "error_examples", "p50_ms", "p95_ms", "max_ms", "throughput_rps")
    out: dict[str, Any] = {"clients": clients, "questions_per_client": questions}
    out |= {f"alone_{k}": alone[k] for k in keep}
    out |= {f"during_ingest_{k}": during[k] for k in keep}
    out |= {"ingests_during": during["ingests"], "ingest_statuses": during["ingest_statuses"],
            "ingest_seconds": during["ingest_seconds"], "ingest_overlap": during["overlap"]}
    return out
