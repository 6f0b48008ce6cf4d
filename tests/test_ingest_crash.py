"""Crash consistency: an ingest killed (SIGKILL) at any stage leaves the record store and the search index
in agreement once the next process starts, and the same import then completes.

The ingest runs in a subprocess that pauses at a named stage (through the pipeline's progress hook, the
same one the CLI's progress bar uses); the test kills it there with SIGKILL, then opens the stores again
here, which runs the start-up repair (ingest/reconcile.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import fhir_factory as F
import healthcoach
from conftest import settings_for
from healthcoach.container import Stores, build_stores
from healthcoach.store.embeddings import Embedder

SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from healthcoach.container import build_stores
    from healthcoach.settings import Settings
    home, stage, first, second = sys.argv[1:5]
    stores = build_stores(Settings(data_dir=Path(home), ingest={"min_age": 0}))
    if first != "-":
        stores.ingestor.ingest("kim", [Path(first)])
    def pause(name, done, total):
        if name == stage:
            print("PAUSED", flush=True)
            time.sleep(600)
    stores.ingestor.ingest("kim", [Path(second)], progress=pause)
    print("FINISHED", flush=True)
""")
NOTE = "Kim keeps bees on the roof of the clinic"


def bundles(tmp_path: Path) -> tuple[Path, Path]:
    first = F.bundle(
        F.patient("k1", "1975-03-04", "Kim Keller"),
        F.a1c("a1", 6.1, "2024-05-02", pid="k1"),
        F.a1c("a2", 5.9, "2023-04-01", pid="k1"),
        F.note("n1", "Feels well.", pid="k1"),
    )
    second = F.bundle(
        F.patient("k1", "1975-03-04", "Kim Keller"),
        F.a1c("a1", 6.1, "2024-05-02", pid="k1"),
        F.a1c("a3", 6.6, "2025-02-03", pid="k1"),
        F.note("n2", NOTE, "2025-02-03T09:00:00Z", pid="k1"),
        F.condition("c1", "44054006", "Diabetes mellitus type 2", "2025-02-03", pid="k1"),
    )
    return F.write(tmp_path / "first.json", first), F.write(tmp_path / "second.json", second)


def killed_at(home: Path, stage: str, first: Path | None, second: Path) -> None:
    """Run the ingest(s) in a subprocess, wait until it pauses at `stage`, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(Path(healthcoach.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(home), stage, str(first or "-"), str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "PAUSED":
            err = proc.stderr.read()[-2000:] if proc.stderr else ""
            pytest.fail(f"the ingest did not reach {stage!r}: {line!r} {err}")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


def outbox(home: Path) -> list[str]:
    with sqlite3.connect(home / "healthcoach.db") as con:
        return [r[0] for r in con.execute("SELECT user_id FROM index_outbox")]


def reopen(home: Path, embedder: Embedder) -> Stores:
    return build_stores(settings_for(home), embedder=embedder)


# (stage, a completed import before the killed one, records committed when killed)
CASES = [
    ("embedding", True, False),
    ("committing", True, False),  # inside the write transaction, before COMMIT
    ("indexing", True, True),  # records committed, the index not yet written
    ("pruning", True, True),  # new chunks written, stale ones not yet deleted
    ("reconciling", True, True),  # index written, the outbox row not yet cleared
    ("committing", False, False),  # a first import: no profile may appear
    ("indexing", False, True),  # a first import: the profile exists before any chunk
]


@pytest.mark.parametrize(
    ("stage", "after_first", "committed"),
    CASES,
    ids=[f"{s}-{'second' if a else 'first'}-import" for s, a, _ in CASES],
)
def test_an_ingest_killed_at_any_stage_leaves_sql_and_index_in_agreement(
    tmp_path: Path, embedder: Embedder, stage: str, after_first: bool, committed: bool
) -> None:
    first, second = bundles(tmp_path)
    home = tmp_path / "data"
    killed_at(home, stage, first if after_first else None, second)
    assert outbox(home) == (["kim"] if committed and stage != "embedding" else [])
    stores = reopen(home, embedder)  # the start-up repair runs here
    assert outbox(home) == []
    check = stores.ingestor.repair.check()
    assert check.ok, check.model_dump()
    stored = stores.records.snapshot("kim")
    if not committed and not after_first:
        assert stored == {} and stores.records.user_ids() == set()
    assert (NOTE in " ".join(stores.vectors.texts("kim")[1])) == committed  # the index says what SQL says
    again = stores.ingestor.ingest("kim", [second])
    assert again.new == (0 if committed else len(set(stores.records.snapshot("kim")) - set(stored)))
    assert stores.ingestor.repair.check().ok
    assert NOTE in " ".join(stores.vectors.texts("kim")[1])


def test_orphan_chunks_of_a_user_with_no_profile_are_dropped_at_start_and_by_delete(
    make_stores: Callable[..., Stores], tmp_path: Path
) -> None:
    """The reproduction: chunks in the index for a user the record store does not know."""
    from healthcoach.ingest.chunking import build_chunks
    from healthcoach.privacy import delete_user
    from healthcoach.records.fhir import parse_fhir_files
    from healthcoach.records.files import iter_files

    stores = make_stores()
    first, _ = bundles(tmp_path)
    records = parse_fhir_files(list(iter_files(first, 10**7)), "kim").records
    stores.vectors.sync("kim", build_chunks("kim", records))  # as if a crash left them
    stores.vectors.sync("lee", build_chunks("lee", records))
    report = stores.ingestor.repair.check()
    assert (report.orphan_collections, report.ok) == (2, False)
    deleted = delete_user(stores, "kim")  # no profile, but its chunks are gone after this
    assert deleted.removed["vectors"] == len(build_chunks("kim", records))
    stores = reopen(stores.settings.home, stores.embedder)  # start-up drops lee's
    assert stores.ingestor.repair.check().ok
    home = stores.settings.home
    assert not [p for p in home.rglob("*") if p.is_file() and b"Feels well" in p.read_bytes()]
