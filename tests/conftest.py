"""Shared fixtures: one real embedder per test session, fresh stores per test, the bundled sample person,
and ../shared data that skips clearly when absent (and fails when HEALTHCOACH_REQUIRE_SHARED=1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from healthcoach.container import Stores, build_stores
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TODAY = date(2026, 11, 23)


def require_shared(sub: str = "") -> Path:
    """Path under ../shared, or skip (fail when HEALTHCOACH_REQUIRE_SHARED=1) when it is absent."""
    path = SHARED / sub
    if not path.exists():
        if os.environ.get("HEALTHCOACH_REQUIRE_SHARED") == "1":
            pytest.fail(f"{path} is missing and HEALTHCOACH_REQUIRE_SHARED=1")
        pytest.skip(f"{path} is not present (the shared test data lives beside the repo)")
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged all-MiniLM-L6-v2, loaded once."""
    e = Embedder()
    e.encode(["warm up"])
    return e


GUARD_CACHE = Path(os.environ.get("HEALTHCOACH_TEST_CACHE", "/tmp/healthcoach-test-cache"))


def settings_for(data_dir: Path, **kw: object) -> Settings:
    """Settings for a test data dir. min_age=0 only because shared Synthea data includes children.
    The trained guard classifier is cached once per machine (keyed by a hash of the policy)."""
    kw.setdefault("ingest", {"min_age": 0})
    kw.setdefault("cache_dir", GUARD_CACHE)
    return Settings(data_dir=data_dir, **kw)  # type: ignore[arg-type]


@pytest.fixture
def make_stores(tmp_path: Path, embedder: Embedder) -> Callable[..., Stores]:
    """Build fresh stores in a temp data dir (several per test are allowed)."""
    counter = iter(range(1000))

    def make(**kw: object) -> Stores:
        return build_stores(settings_for(tmp_path / f"data{next(counter)}", **kw), embedder=embedder)

    return make


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The bundled synthetic person (file, truth), generated relative to a fixed today."""
    from healthcoach.sample.generator import write_person

    out = tmp_path_factory.mktemp("sample")
    path, truth = write_person(out, seed=42, today=TODAY)
    return path, truth


@pytest.fixture(scope="session")
def shared_population(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder):  # type: ignore[no-untyped-def]
    """(stores, facts, reports): every shared FHIR bundle ingested as its own user, consent on."""
    from shared_data import load_facts, user_for

    shared = require_shared("data/fhir")
    facts = load_facts(shared.parent.parent)
    stores = build_stores(settings_for(tmp_path_factory.mktemp("population")), embedder=embedder)
    reports = {}
    for p in facts:
        user = user_for(p)
        reports[user] = stores.ingestor.ingest(user, [shared / p["file"]])
        stores.records.set_consent(user, records=True)
    return stores, facts, reports


@pytest.fixture(scope="session")
def sample_coach(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, sample_bundle):  # type: ignore[no-untyped-def]
    """(coach, stores, truth): the bundled person ingested as user 'maria' with consent on; today fixed."""
    from healthcoach.container import build_coach

    path, truth = sample_bundle
    stores = build_stores(settings_for(tmp_path_factory.mktemp("sample_stores")), embedder=embedder)
    stores.ingestor.ingest("maria", [path])
    stores.records.set_consent("maria", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    return coach, stores, truth
