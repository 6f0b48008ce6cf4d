"""Benchmark part `cli_cold`: how long a person waits for `healthcoach` in a fresh process.

Every figure is a whole new process (interpreter start, imports, stores, the answer), timed from the
outside: `--version`, importing the CLI, and `ask` on a one-result record store whose caches (the
trained guard classifier, the exported encoder) were built by a warm-up run first."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Log = Callable[[str], None]
RUNS = 3

_BUNDLE = {
    "resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "b1", "birthDate": "1970-01-01", "gender": "other",
                      "name": [{"family": "Bench", "given": ["Cold"]}]}},
        {"resource": {"resourceType": "Observation", "id": "a1c1", "status": "final",
                      "subject": {"reference": "Patient/b1"}, "effectiveDateTime": "2025-03-04",
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                                "code": "laboratory"}]}],
                      "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4",
                                           "display": "Hemoglobin A1c"}]},
                      "valueQuantity": {"value": 5.9, "unit": "%", "system": "http://unitsofmeasure.org",
                                        "code": "%"}}},
    ]}


def _run(args: list[str], data_dir: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "healthcoach", *(["--data-dir", str(data_dir)] if data_dir else []), *args]
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    return time.perf_counter() - t0


def _median(fn: Callable[[], float]) -> float:
    return round(statistics.median(fn() for _ in range(RUNS)), 2)


def bench_cli_cold(work: Path, log: Log) -> dict[str, Any]:
    """Cold-process wall times of `healthcoach --version`, `import healthcoach.cli` and `healthcoach ask`."""
    home = work / "cli_cold"
    export = home / "bench.json"
    home.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps(_BUNDLE))
    _run(["ingest", str(export), "--user", "bench"], home)
    _run(["consent", "--user", "bench", "--records", "on"], home)
    ask = ["ask", "What's my A1c?", "--user", "bench"]
    first = round(_run(ask, home), 2)  # builds the caches a first run builds

    def import_cli() -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import healthcoach.cli"], check=True, timeout=600)
        return time.perf_counter() - t0

    result = {
        "runs": RUNS,
        "version_s": _median(lambda: _run(["--version"])),
        "import_cli_s": _median(import_cli),
        "ask_first_run_s": first,
        "ask_cold_s": _median(lambda: _run(ask, home)),
    }
    log("timed the CLI from cold processes")
    return result
