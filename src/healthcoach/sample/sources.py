"""The sample person from three sources: the clinic's FHIR Bundle, the patient portal's C-CDA CCD, and a
second provider's NDJSON export (other ids, shifted clock times). Together they are one person's records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from healthcoach.sample.ccda_writer import write_ccda
from healthcoach.sample.generator import generate_person
from healthcoach.sample.second_provider import second_provider, to_ndjson

FILES = {"fhir": "sample_person.json", "ccda": "sample_person.ccd.xml", "second_provider": "second_provider.ndjson"}


def write_person_sources(out_dir: Path, seed: int = 42, today: date | None = None) -> tuple[dict[str, Path], dict[str, object]]:
    """Write the three exports (and sample_person.truth.json) to out_dir; return ({source: path}, truth).
    The truth is computed from the FHIR Bundle alone: the other two add no facts, only copies."""
    bundle, truth = generate_person(seed, today or date.today())
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {k: out_dir / name for k, name in FILES.items()}
    paths["fhir"].write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
    paths["ccda"].write_text(write_ccda(bundle), encoding="utf-8")
    paths["second_provider"].write_text(to_ndjson(second_provider(bundle, seed)), encoding="utf-8")
    (out_dir / "sample_person.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return paths, truth
