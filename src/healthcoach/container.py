"""Plain wiring: build the parts from settings. No globals, no DI library."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from healthcoach.ingest.pipeline import Ingestor
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder
from healthcoach.store.records import RecordStore
from healthcoach.store.vectors import VectorIndex


def prepare_data_dir(path: Path) -> Path:
    """Create the data dir owner-only (0700): it holds health records."""
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass
class Stores:
    settings: Settings
    embedder: Embedder
    records: RecordStore
    vectors: VectorIndex
    ingestor: Ingestor


def build_stores(settings: Settings, embedder: Embedder | None = None) -> Stores:
    """The record store, vector index and ingestor for these settings."""
    home = prepare_data_dir(settings.home)
    embedder = embedder or Embedder(settings.embedding)
    records = RecordStore(settings.sql_url)
    vectors = VectorIndex(home / "chroma", embedder, records, url=settings.chroma_url)
    return Stores(settings, embedder, records, vectors, Ingestor(records, vectors, settings.ingest))
