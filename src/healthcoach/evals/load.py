"""Concurrency bench: N API clients in threads, each asking M questions over HTTP; latency and throughput,
alone and while exports are being ingested (`healthcoach eval bench --only load`)."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

QUESTIONS = ("What's my A1c?", "When's the last time I got a flu shot?", "Summarize my medical records",
             "What is A1c?", "How can I improve my cholesterol?", "What medications am I on?",
             "What was my last blood pressure?", "Do I have any allergies?")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_load_bench(base_url: str, token: str, clients: int = 20, questions: int = 50,
                   timeout_s: float = 120.0) -> dict[str, Any]:
    """`clients` concurrent clients each POST `questions` questions to /v1/chat; returns p50/p95/max latency
    (ms), throughput (answers/s), error count and the first few error descriptions (never answer text)."""
    headers = {"Authorization": f"Bearer {token}"}

    def client(i: int) -> tuple[list[float], list[str]]:
        latencies, errors = [], []
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s) as http:
            for j in range(questions):
                t0 = time.perf_counter()
                try:
                    resp = http.post("/v1/chat", json={"message": QUESTIONS[(i + j) % len(QUESTIONS)]})
                    if resp.status_code != 200:
                        errors.append(f"HTTP {resp.status_code}")
                        continue
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
        return latencies, errors

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(client, range(clients)))
    wall = time.perf_counter() - t0
    latencies = [v for lat, _ in results for v in lat]
    errors = [e for _, errs in results for e in errs]
    return {
        "clients": clients, "questions_per_client": questions, "requests": clients * questions,
        "ok": len(latencies), "errors": len(errors), "error_examples": sorted(set(errors))[:5],
        "p50_ms": round(_percentile(latencies, 50), 1), "p95_ms": round(_percentile(latencies, 95), 1),
        "max_ms": round(max(latencies, default=0.0), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "throughput_rps": round(len(latencies) / wall, 2) if wall else 0.0, "wall_s": round(wall, 2),
    }


class IngestLoop:
    """Uploads exports (POST /v1/ingest), one after another, until stopped: the 'during an ingest' load.

    Each upload goes to its own user (token), so every one is a real ingest. Records how long ingests were in
    flight, so a load run can say how much of it overlapped one."""

    def __init__(self, base_url: str, uploads: list[tuple[str, Path]], timeout_s: float = 900.0) -> None:
        self.base_url, self.uploads, self.timeout_s = base_url, uploads, timeout_s
        self.stop, self.started = threading.Event(), threading.Event()
        self.spans: list[tuple[float, float]] = []
        self.statuses: list[int] = []
        self._thread = threading.Thread(target=self._run, name="ingest-loop", daemon=True)

    def __enter__(self) -> IngestLoop:
        self._thread.start()
        self.started.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(self.timeout_s)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout_s) as http:
            for token, path in self.uploads:
                if self.stop.is_set():
                    break
                t0 = time.perf_counter()
                self.started.set()
                with path.open("rb") as fh:
                    resp = http.post("/v1/ingest", headers={"Authorization": f"Bearer {token}"},
                                     files={"files": (path.name, fh, "application/json")})
                self.statuses.append(resp.status_code)
                self.spans.append((t0, time.perf_counter()))

    def summary(self, window: tuple[float, float]) -> dict[str, Any]:
        """Ingests done, their statuses and seconds, and the share of the window an ingest was running."""
        lo, hi = window
        busy = sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in self.spans)
        return {"ingests": len(self.spans), "ingest_statuses": sorted(set(self.statuses)),
                "ingest_seconds": [round(b - a, 1) for a, b in self.spans],
                "overlap": round(busy / (hi - lo), 3) if hi > lo else 0.0}


def run_load_during_ingest(base_url: str, token: str, uploads: list[tuple[str, Path]], clients: int = 10,
                           questions: int = 30, timeout_s: float = 120.0) -> dict[str, Any]:
    """run_load_bench while IngestLoop uploads exports; the result adds the ingests and their overlap."""
    with IngestLoop(base_url, uploads) as loop:
        t0 = time.perf_counter()
        result = run_load_bench(base_url, token, clients, questions, timeout_s)
        window = (t0, time.perf_counter())
    return {**result, **loop.summary(window)}
