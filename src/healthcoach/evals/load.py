"""Concurrency bench: N API clients in threads, each asking M questions over HTTP; latency and throughput."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
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
