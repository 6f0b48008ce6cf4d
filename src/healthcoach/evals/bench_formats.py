"""`eval bench --only formats`: ingest throughput per format (FHIR, C-CDA, OMOP), in records per second.

Two numbers per format. `parse`: the adapter alone, over every shared example of the format (repeated
until a second has passed, so small sets still time well). `ingest`: the whole pipeline for one person
(store, de-duplicate, chunk, embed, index) in fresh stores, where embedding dominates. `three_sources`
ingests the sample person's FHIR + C-CDA + second-provider NDJSON together, with the de-duplication pass
timed on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from healthcoach.container import build_stores
from healthcoach.evals.population import eval_settings
from healthcoach.records.base import AdapterResult
from healthcoach.records.ccda import load_ccda
from healthcoach.records.fhir import parse_fhir_files
from healthcoach.records.files import iter_files
from healthcoach.records.omop import load_omop
from healthcoach.sample.sources import write_person_sources
from healthcoach.settings import Settings
from healthcoach.store.links import relink

Log = Callable[[str], None]
OMOP_PERSON = 22  # an adult with HbA1c results in the shared Synthea27Nj CDM


def _parse_rate(load: Callable[[], list[AdapterResult]]) -> dict[str, Any]:
    runs, records, t0 = 0, 0, time.perf_counter()
    while runs == 0 or time.perf_counter() - t0 < 1.0:
        records += sum(len(r.records) for r in load())
        runs += 1
    secs = time.perf_counter() - t0
    return {"records": records // runs, "runs": runs, "records_per_s": round(records / secs, 1)}


def _ingest_rate(settings: Settings, work: Path, name: str, paths: list[Path | str],
                 person_id: int | None = None) -> dict[str, Any]:
    stores = build_stores(eval_settings(work / f"stores_{name}", settings))
    stores.embedder.encode(["warm up"])
    t0 = time.perf_counter()
    report = stores.ingestor.ingest(name, paths, person_id=person_id)
    secs = time.perf_counter() - t0
    out = {"records": report.total_records, "chunks": report.chunks, "seconds": round(secs, 2),
           "records_per_s": round(report.total_records / secs, 1)}
    if report.merged:
        with stores.records.session() as s:
            t1 = time.perf_counter()
            relink(s, name, timedelta(minutes=stores.settings.ingest.dedupe_window_minutes))
            out["dedupe_seconds"] = round(time.perf_counter() - t1, 3)
        out.update(merged=report.merged, conflicts=report.conflicts)
    return out


def bench_formats(settings: Settings, shared: Path | None, work: Path, log: Log) -> dict[str, Any]:
    """Records/s per format: adapter only, and the full ingest."""
    paths, _truth = write_person_sources(work / "formats_sample", seed=42)
    limit = settings.ingest.max_file_bytes
    result: dict[str, Any] = {}
    fhir_files = sorted((shared / "fhir").rglob("*.json")) if shared else [paths["fhir"]]
    fhir_files = [f for f in fhir_files if f.name != "facts.json"]
    ccda_docs = sorted((shared / "ccda").glob("*.xml")) if shared else [paths["ccda"]]
    result["fhir_parse"] = {"files": len(fhir_files), **_parse_rate(
        lambda: [parse_fhir_files(iter_files(f, limit), "bench", validate=True) for f in fhir_files])}
    result["ccda_parse"] = {"files": len(ccda_docs), **_parse_rate(
        lambda: [load_ccda(d, "bench", limit)[0] for d in ccda_docs])}
    log(f"parsed FHIR ({result['fhir_parse']['records_per_s']} records/s) and C-CDA "
        f"({result['ccda_parse']['records_per_s']} records/s)")
    omop = shared / "omop" / "synthea27nj_full" if shared else None
    if omop is not None and omop.is_dir():
        persons = list(range(1, 29))
        result["omop_parse"] = {"persons": len(persons), **_parse_rate(
            lambda: [load_omop(omop, "bench", p)[0] for p in persons])}
        log(f"parsed OMOP ({result['omop_parse']['records_per_s']} records/s)")
    result["fhir_ingest"] = _ingest_rate(settings, work, "fhir", [paths["fhir"]])
    result["ccda_ingest"] = _ingest_rate(settings, work, "ccda", [paths["ccda"]])
    if omop is not None and omop.is_dir():
        result["omop_ingest"] = {"person_id": OMOP_PERSON, **_ingest_rate(settings, work, "omop", [omop], OMOP_PERSON)}
    result["three_sources_ingest"] = _ingest_rate(settings, work, "three", list(paths.values()))
    log("ingested each format end to end")
    return result
