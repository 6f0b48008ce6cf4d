"""The eval population: the shared Synthea patients plus the bundled synthetic person, ingested into a
throw-away data dir (never the user's own stores)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from healthcoach.container import Stores, build_stores
from healthcoach.ingest.pipeline import IngestReport
from healthcoach.sample.generator import write_person
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder


@dataclass
class Person:
    name: str
    user_id: str
    bundle: Path
    truth: dict[str, Any]


@dataclass
class Population:
    stores: Stores
    people: list[Person] = field(default_factory=list)
    reports: dict[str, IngestReport] = field(default_factory=dict)


def default_shared_data() -> Path | None:
    """../shared/data beside the repository (or the working directory), when present."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def eval_settings(work_dir: Path, base: Settings | None = None) -> Settings:
    """Settings for an eval data dir. min_age=0: the shared synthetic set includes children."""
    data: dict[str, Any] = base.model_dump() if base else {}
    data.update(data_dir=work_dir, database_url=None, chroma_url=None)
    data.setdefault("ingest", {})["min_age"] = 0
    return Settings(**data)


def people(shared_data: Path | None, work_dir: Path, today: date | None = None) -> list[Person]:
    """The bundled person (always) and, when shared data is present, every patient in facts.json."""
    bundle, truth = write_person(work_dir / "sample", seed=42, today=today)
    out = [Person(str(truth.get("name", "Sample person")), "sample", bundle, truth)]
    if shared_data is not None:
        facts = json.loads((shared_data / "fhir" / "facts.json").read_text())
        for p in facts["patients"]:
            out.append(Person(p["name"], "p_" + str(p["patient_id"])[:8], shared_data / "fhir" / p["file"], p))
    return out


def ingest_population(settings: Settings, persons: list[Person], embedder: Embedder | None = None,
                      progress: Callable[[str], None] | None = None) -> Population:
    """Ingest each person as their own user with records-in-chat consent on."""
    stores = build_stores(settings, embedder=embedder)
    pop = Population(stores, persons)
    for p in persons:
        if progress:
            progress(p.name)
        pop.reports[p.user_id] = stores.ingestor.ingest(p.user_id, [p.bundle])
        stores.records.set_consent(p.user_id, records=True)
    return pop
