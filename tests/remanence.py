"""Helpers for the data-remanence tests: scan every byte under a data dir for a person's strings, and dirty
the heap with them the way a long-lived server does (parsing, chunking and embedding leave text behind)."""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Iterable
from pathlib import Path

from healthcoach.records.models import Record


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def scan(root: Path, needles: Iterable[str]) -> dict[str, list[str]]:
    """needle → files under root whose bytes contain it (SQLite with -wal/-shm, every Chroma file)."""
    blobs = {p: p.read_bytes() for p in files_under(root)}
    found = {n: [str(p.relative_to(root)) for p, b in blobs.items() if n.encode() in b] for n in needles}
    return {n: ps for n, ps in found.items() if ps}


def needles_of(records: Iterable[Record], extra: Iterable[str] = ()) -> set[str]:
    """Strings of this person's data: record and resource ids, long labels, note and dosage texts."""
    out = {e for e in extra if e}
    for r in records:
        out |= {r.id, r.source.resource_id}
        if len(r.label) >= 12:
            out.add(r.label)
        if r.text and len(r.text) >= 12:
            out.add(r.text[:60])
    return out


def without_shared(needles: set[str], others: Iterable[str]) -> set[str]:
    """Drop needles that other people's own data also contains (a lab label both have is not a leak)."""
    blob = "\n".join(others)
    return {n for n in needles if n not in blob}


def dirty_heap(texts: list[str], rounds: int = 2, seed: int = 0) -> None:
    """Allocate and free many buffers of these texts, small to large, in this thread and in worker threads
    (glibc keeps an arena per thread), so that freed memory everywhere holds this person's text."""
    rng = random.Random(seed)
    body = "\n".join(texts).encode()

    def churn() -> None:
        for _ in range(rounds):
            bufs = []
            for size in (600, 1_500, 4_000, 20_000, 140_000, 400_000, 2_000_000):
                for _ in range(6):
                    start = rng.randrange(max(1, len(body) - 1))
                    chunk = (body[start:] + body) * (size // max(1, len(body)) + 1)
                    bufs.append(bytearray(chunk[:size]))
            del bufs
            gc.collect()

    churn()
    workers = [threading.Thread(target=churn) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
