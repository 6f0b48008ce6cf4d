"""What scrubbing freed memory (store/heap.py) costs: the same ingest in fresh processes, with it off, with
the in-process mallopt that library users get, and with the glibc tunables the `healthcoach` command runs
under. Modes alternate and each keeps its best run, so machine noise hits all of them alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from healthcoach.store.heap import MARKER, scrubbed_env

Log = Any  # Callable[[str], None]; kept loose so bench.py's alias stays the one definition

SCRIPT = """
import json, sys, time
from datetime import date
from pathlib import Path
from healthcoach.container import build_stores
from healthcoach.sample.generator import write_person
from healthcoach.settings import Settings
work, people = Path(sys.argv[1]), int(sys.argv[2])
files = [write_person(work / f"p{i}", seed=100 + i, today=date(2026, 11, 23))[0] for i in range(people)]
stores = build_stores(Settings(data_dir=work / "stores", ingest={"min_age": 0}))
stores.embedder.encode(["warm up"])
t0 = time.perf_counter()
records = sum(stores.ingestor.ingest(f"u{i}", [f]).total_records for i, f in enumerate(files))
print(json.dumps({"records": records, "seconds": time.perf_counter() - t0}))
"""


def _env(mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", MARKER, "HEALTHCOACH_HEAP_SCRUB")}
    if mode == "off":
        env["HEALTHCOACH_HEAP_SCRUB"] = "0"
    elif mode == "cli":
        env = scrubbed_env(env)
    return env


def bench_heap_scrub(work: Path, log: Log, people: int = 3, rounds: int = 2) -> dict[str, Any]:
    """Ingest records/s with scrubbing off, in-process (mallopt) and as the CLI runs (glibc tunables)."""
    best: dict[str, float] = {}
    records = 0
    for r in range(rounds):
        for mode in ("off", "in_process", "cli"):
            out = subprocess.run([sys.executable, "-c", SCRIPT, str(work / f"heap-{mode}-{r}"), str(people)],
                                 env=_env(mode), capture_output=True, text=True, check=True, timeout=1800)
            got = json.loads(out.stdout.strip().splitlines()[-1])
            records = int(got["records"])
            best[mode] = min(best.get(mode, float("inf")), float(got["seconds"]))
    log("measured the cost of scrubbing freed memory")
    rate = {m: records / s for m, s in best.items()}
    return {
        "records": records,
        **{f"{m}_records_per_s": round(v, 1) for m, v in rate.items()},
        "in_process_cost_pct": round(100 * (1 - rate["in_process"] / rate["off"]), 1),
        "cli_cost_pct": round(100 * (1 - rate["cli"] / rate["off"]), 1),
    }
