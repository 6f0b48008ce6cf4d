"""Ingest never blocks other people: one ingest per user at a time (a second one gets 409 at once), other
users' ingests and questions run alongside, and the store's logs never carry SQL parameters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import fhir_factory as F
from healthcoach.container import Stores
from healthcoach.errors import Conflict


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores()


def person(tmp_path: Path, pid: str, name: str, results: int = 1) -> Path:
    obs = [F.a1c(f"{pid}-{i}", 6.1 + i / 10, f"202{i}-05-02", pid=pid) for i in range(results)]
    return F.write(tmp_path / f"{pid}-{results}.json", F.bundle(F.patient(pid, "1970-01-01", name), *obs))


def paused_ingest(
    stores: Stores, user: str, path: Path, stage: str
) -> tuple[threading.Thread, threading.Event, threading.Event, list[object]]:
    """An ingest in a thread that waits at `stage` until released; returns (thread, reached, release, out)."""
    reached, release, out = threading.Event(), threading.Event(), []

    def progress(name: str, done: int, total: int) -> None:
        if name == stage:
            reached.set()
            release.wait(60)

    def run() -> None:
        try:
            out.append(stores.ingestor.ingest(user, [path], progress=progress))
        except Exception as exc:  # the test asserts on it
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert reached.wait(60)
    return thread, reached, release, out


def test_a_second_ingest_for_the_same_user_is_refused_at_once_and_the_first_completes(
    stores: Stores, tmp_path: Path
) -> None:
    path = person(tmp_path, "p1", "Ann Able")
    thread, _, release, out = paused_ingest(stores, "ann", path, "embedding")
    with pytest.raises(Conflict, match="already running") as err:
        stores.ingestor.ingest("ann", [path])
    assert err.value.status == 409
    release.set()
    thread.join(60)
    assert getattr(out[0], "new", None) == 1
    assert stores.ingestor.ingest("ann", [path]).unchanged == 1  # free again afterwards


def test_other_users_ingest_and_read_while_one_ingest_is_half_done(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("bob", [person(tmp_path, "p2", "Bob Bell")])
    # Paused after its records committed and before its index is written: the slowest point for others.
    thread, _, release, out = paused_ingest(stores, "ann", person(tmp_path, "p1", "Ann Able"), "indexing")
    cy = stores.ingestor.ingest("cy", [person(tmp_path, "p3", "Cy Cole")])
    assert cy.new == 1 and stores.records.snapshot("bob") and stores.vectors.search("bob", "A1c", k=2)
    release.set()
    thread.join(60)
    assert getattr(out[0], "new", None) == 1 and stores.ingestor.repair.check().ok


def test_a_delete_waits_for_the_running_ingest_instead_of_interleaving(
    stores: Stores, tmp_path: Path
) -> None:
    from healthcoach.privacy import delete_user

    path = person(tmp_path, "p1", "Ann Able")
    stores.ingestor.ingest("ann", [path])
    thread, _, release, out = paused_ingest(stores, "ann", person(tmp_path, "p1", "Ann Able", 2), "embedding")
    done: list[object] = []
    deleter = threading.Thread(target=lambda: done.append(delete_user(stores, "ann")))
    deleter.start()
    deleter.join(1.0)
    assert deleter.is_alive() and not done  # waiting for the ingest's lock
    release.set()
    thread.join(60)
    deleter.join(60)
    assert getattr(out[0], "new", None) == 1  # the ingest finished first, then the delete ran
    assert done and stores.records.user_ids() == set() and stores.ingestor.repair.check().ok
