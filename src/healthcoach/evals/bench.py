"""`healthcoach eval bench`: speed measured, not asserted. Results to bench.json + bench.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from healthcoach.container import build_coach
from healthcoach.evals.bench_cli import bench_cli_cold
from healthcoach.evals.bench_formats import bench_formats
from healthcoach.evals.bench_heap import bench_heap_scrub
from healthcoach.evals.population import default_shared_data, eval_settings, ingest_population, people
from healthcoach.evals.qa import pct
from healthcoach.evals.qa_run import people_cases
from healthcoach.evals.safety import default_datasets, load_cases
from healthcoach.guardrails import Guardrails
from healthcoach.settings import Settings, packaged_dir
from healthcoach.store.embeddings import Embedder

Log = Callable[[str], None]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_ingest(settings: Settings, shared: Path | None, work: Path, log: Log) -> tuple[dict[str, Any], Any]:
    """Ingest the population; compare with the raw encoder on the same chunk texts; re-ingest."""
    persons = people(shared, work)
    s = eval_settings(work / "stores", settings)
    pop, first = _timed(lambda: ingest_population(s, persons))
    records = sum(r.total_records for r in pop.reports.values())
    chunks = sum(r.chunks for r in pop.reports.values())
    texts: list[str] = []
    for p in persons:
        texts.extend(pop.stores.vectors.texts(p.user_id)[1])
    log(f"ingested {len(persons)} people: {records} records, {chunks} chunks in {first:.1f} s; encoding raw ...")
    _, raw = _timed(lambda: pop.stores.embedder.encode(texts))
    _, again = _timed(lambda: [pop.stores.ingestor.ingest(p.user_id, [p.bundle]) for p in persons])
    result = {
        "people": len(persons), "records": records, "chunks": chunks, "seconds": round(first, 2),
        "records_per_s": round(records / first, 1), "chunks_per_s": round(chunks / first, 1),
        "raw_encoder_sentences": len(texts), "raw_encoder_seconds": round(raw, 2),
        "raw_encoder_per_s": round(len(texts) / raw, 1),
        "ingest_vs_encoder": round((chunks / first) / (len(texts) / raw), 3),
        "reingest_seconds": round(again, 2), "reingest_speedup": round(first / again, 1),
    }
    return result, pop


def bench_answers(pop: Any, log: Log) -> dict[str, Any]:
    """Answer latency with no LLM over the QA questions, after warm-up."""
    coach = build_coach(pop.stores.settings, pop.stores)
    cases = people_cases([(p.name, p.user_id, p.truth) for p in pop.people],
                         packaged_dir("eval") / "suites" / "qa" / "phrasings.yaml")
    for c in cases[:20]:
        coach.ask(c.user_id, c.question)
    lat = []
    for c in cases:
        t0 = time.perf_counter()
        coach.ask(c.user_id, c.question)
        lat.append((time.perf_counter() - t0) * 1000)
    log(f"answered {len(cases)} questions")
    return {"questions": len(cases), "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "max_ms": round(max(lat), 1)}


def bench_guard(settings: Settings, embedder: Any, log: Log) -> dict[str, Any]:
    """Input-guard latency over the safety suites."""
    guards = Guardrails.load(settings.guardrails_dir, embedder=embedder, cache_dir=None, region=settings.region)
    eval_dir = packaged_dir("eval")
    cases = load_cases(default_datasets(eval_dir, eval_dir.parent.parent / "shared"))
    for c in cases[:30]:
        guards.check_input(c.prompt, list(c.history))
    lat = []
    for c in cases:
        t0 = time.perf_counter()
        guards.check_input(c.prompt, list(c.history))
        lat.append((time.perf_counter() - t0) * 1000)
    log(f"guarded {len(cases)} prompts")
    return {"prompts": len(cases), "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95)}


GENERATE_SCRIPT = """
import json, sys
from datetime import date
from pathlib import Path
from healthcoach.wearables.generator import generate_fitbit_takeout
truth = generate_fitbit_takeout(Path(sys.argv[1]) / "takeout", date(2025, 1, 1), days=365, seed=7)
print(json.dumps({"samples": sum(truth["samples"].values())}))
"""

WEARABLE_SCRIPT = """
import json, sys, time
from pathlib import Path
from healthcoach.container import build_stores
from healthcoach.settings import Settings
work = Path(sys.argv[1])
truth = json.loads(sys.argv[2])
def hwm():  # VmHWM resets at exec, unlike ru_maxrss (which keeps the parent's peak)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
    return int(line.split()[1])
base = hwm()
stores = build_stores(Settings(data_dir=work / "stores"))
t0 = time.perf_counter()
report = stores.ingestor.ingest("wearer", [work / "takeout"])
secs = time.perf_counter() - t0
peak = hwm()
print(json.dumps({"days": 365, "records": report.total_records, "chunks": report.chunks,
                  "seconds": round(secs, 2), "days_per_s": round(365 / secs, 1),
                  "samples": truth.get("samples_total") or truth.get("samples"),
                  "peak_rss_mb": round(peak / 1024, 1), "rss_before_ingest_mb": round(base / 1024, 1)}))
"""


def bench_wearables(work: Path, log: Log) -> dict[str, Any]:
    """A year of minute-level Fitbit Takeout data, ingested in a fresh process (peak memory measured)."""
    # Generation and ingest run in separate processes so the ingest's peak memory is its own.
    gen = subprocess.run([sys.executable, "-c", GENERATE_SCRIPT, str(work / "wear")], capture_output=True,
                         text=True, check=True, timeout=1800)
    out = subprocess.run([sys.executable, "-c", WEARABLE_SCRIPT, str(work / "wear"), gen.stdout.strip().splitlines()[-1]],
                         capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    samples = result.get("samples")
    if isinstance(samples, dict):
        samples = sum(samples.values())
    if samples:
        result["samples"] = samples
        result["samples_per_s"] = round(float(samples) / result["seconds"], 0)
    log("ingested a year of wearable data")
    return result


def bench_scale(work: Path, log: Log) -> dict[str, Any]:
    """Vector query latency as users grow: one collection per user keeps it flat."""
    client = chromadb.PersistentClient(path=str(work / "scale"), settings=ChromaSettings(anonymized_telemetry=False))
    rng = np.random.default_rng(7)
    curve, users = [], 0
    for target in (1, 10, 100, 300):
        while users < target:
            col = client.get_or_create_collection(f"user_{users:04d}", metadata={"hnsw:space": "cosine"})
            vecs = rng.normal(size=(500, 384)).astype(np.float32)
            col.add(ids=[str(i) for i in range(500)], embeddings=vecs)
            users += 1
        col = client.get_collection("user_0000")
        q = rng.normal(size=(200, 384)).astype(np.float32)
        lat = []
        for v in q:
            t0 = time.perf_counter()
            col.query(query_embeddings=[v], n_results=8)
            lat.append((time.perf_counter() - t0) * 1000)
        curve.append({"users": target, "vectors": target * 500, "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95)})
    log("scale curve done")
    return {"vectors_per_user": 500, "curve": curve}


def run_bench(settings: Settings, shared: Path | None, report_dir: Path, only: set[str] | None,
              log: Log, extra: dict[str, Callable[[Path, Log], dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Run the selected benchmarks and write bench.json + bench.md. `extra` adds parts that need layers
    above this one (the CLI passes "load", which runs a live API server)."""
    extra = extra or {}
    want = only or {"ingest", "formats", "answers", "guard", "wearables", "scale", "heap_scrub", "cli_cold", *extra}
    shared = shared or default_shared_data()
    results: dict[str, Any] = {"machine": _machine()}
    with tempfile.TemporaryDirectory(prefix="hc-bench-") as tmp:
        work = Path(tmp)
        pop = None
        if want & {"ingest", "answers"}:
            results["ingest"], pop = bench_ingest(settings, shared, work, log)
        if "answers" in want and pop is not None:
            results["answers"] = bench_answers(pop, log)
        if "guard" in want:
            results["guard"] = bench_guard(settings, pop.stores.embedder if pop else Embedder(settings.embedding), log)
        if "formats" in want:
            try:
                results["formats"] = bench_formats(settings, shared, work, log)
            except Exception as exc:
                results["formats"] = {"error": f"{type(exc).__name__}: {exc}"}
        parts = {"wearables": bench_wearables, "scale": bench_scale, "heap_scrub": bench_heap_scrub,
                 "cli_cold": bench_cli_cold, **extra}
        for part, fn in parts.items():
            if part in want:
                try:
                    results[part] = fn(work, log)
                except Exception as exc:
                    results[part] = {"error": f"{type(exc).__name__}: {exc}"}
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "bench.json").write_text(json.dumps(results, indent=2))
    md = render(results)
    (report_dir / "bench.md").write_text(md)
    results["markdown"] = md
    return results


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def render(results: dict[str, Any]) -> str:
    """bench.md: one table per part."""
    lines = ["# Benchmarks", "", f"Machine: {results['machine']}", ""]
    for part, data in results.items():
        if part in ("machine", "markdown"):
            continue
        lines += [f"## {part}", ""]
        if part == "scale":
            lines += ["| users | vectors | p50 ms | p95 ms |", "|---|---|---|---|"]
            lines += [f"| {c['users']} | {c['vectors']} | {c['p50_ms']} | {c['p95_ms']} |" for c in data["curve"]]
        elif part == "formats" and "error" not in data:
            lines += ["| format and stage | records | seconds | records/s | notes |", "|---|---|---|---|---|"]
            for name, row in data.items():
                note = ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("records", "seconds", "records_per_s"))
                lines.append(f"| {name.replace('_', ' ')} | {row.get('records')} | {row.get('seconds', '')} | "
                             f"{row.get('records_per_s')} | {note} |")
        else:
            lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in data.items()]
        lines.append("")
    return "\n".join(lines)
