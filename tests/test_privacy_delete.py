"""Delete and disconnect without the coach: compaction is what removes the bytes, other users are untouched,
a disconnected source leaves no records, vectors or cached embeddings behind; the data dir is owner-only."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import fhir_factory as F
from healthcoach.container import Stores
from healthcoach.errors import NotFound
from healthcoach.ingest.chunking import build_chunks
from healthcoach.privacy import delete, delete_user, disconnect_source, list_audit
from healthcoach.store.schema import EmbeddingRow, TokenRow

NOTE_A = "Swims in the kelp forest every Tuesday"
NOTE_B = "Collects vintage barometers as a hobby"


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores()


def two_sources(tmp_path: Path) -> tuple[Path, Path]:
    a = F.write(tmp_path / "clinic_a.json", F.bundle(F.patient(), F.a1c("a1", 6.1, "2024-05-02"), F.note("na", NOTE_A)))
    b = F.write(tmp_path / "clinic_b.json", F.bundle(F.patient(), F.a1c("b1", 6.9, "2025-01-09"), F.note("nb", NOTE_B)))
    return a, b


def found(home: Path, needle: str) -> list[str]:
    return [str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_data_dir_is_owner_only(stores: Stores) -> None:
    assert stat.S_IMODE(stores.settings.home.stat().st_mode) == 0o700


def test_without_compaction_deleted_bytes_stay_on_disk(stores: Stores, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control: row deletes alone leave the text in free pages; scrub() removes it."""
    stores.ingestor.ingest("ann", list(two_sources(tmp_path)))
    monkeypatch.setattr(delete, "scrub", lambda stores, segments: [])
    delete_user(stores, "ann")
    assert found(stores.settings.home, NOTE_A)  # still there: this is why delete_user compacts
    monkeypatch.undo()
    delete.scrub(stores, [])
    assert found(stores.settings.home, NOTE_A) == []


def test_delete_removes_tokens_and_cache_and_leaves_a_counts_only_tombstone(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", list(two_sources(tmp_path)))
    with stores.records.session() as s:
        s.add(TokenRow(token_hash=hashlib.sha256(b"tok").hexdigest(), user_id="ann", created_at=datetime.now(UTC)))
    report = delete_user(stores, "ann")
    assert report.removed["api_tokens"] == 1 and report.removed["embedding_cache"] > 0
    assert report.scrubbed == ["record store", "vector store"]
    with stores.records.session() as s:
        assert s.query(EmbeddingRow).count() == 0 and s.query(TokenRow).count() == 0
    (entry,) = list_audit(stores.records, "ann")
    assert entry.action == "delete" and set(entry.detail) == {"removed"}
    assert all(isinstance(v, int) for v in entry.detail["removed"].values())
    assert list_audit(stores.records, "someone-else") == []
    with pytest.raises(NotFound):
        delete_user(stores, "ann")


def test_delete_then_reingest_starts_a_fresh_profile(stores: Stores, tmp_path: Path) -> None:
    a, _ = two_sources(tmp_path)
    stores.ingestor.ingest("ann", [a])
    delete_user(stores, "ann")
    report = stores.ingestor.ingest("ann", [a])
    assert report.new == 2 and report.embedded > 0  # nothing came back from a cache
    assert stores.vectors.count("ann") == report.chunks
    assert not stores.records.get_user("ann").use_records_in_chat  # consent starts off again


def test_disconnect_one_source_resyncs_vectors_and_prunes_the_cache(stores: Stores, tmp_path: Path) -> None:
    a, b = two_sources(tmp_path)
    stores.ingestor.ingest("ann", [a])
    stores.ingestor.ingest("ann", [b])
    stores.ingestor.ingest("bob", [F.write(tmp_path / "bob.json", F.bundle(F.patient("b9", "1960-01-01", "Bob B"),
                                                                           F.note("bn", NOTE_B, "2020-01-01", pid="b9")))])
    bob_before = (stores.records.snapshot("bob"), stores.vectors.count("bob"))
    report = disconnect_source(stores, "ann", "fhir", "clinic_b.json")
    assert (report.records_removed, report.records_left) == (2, 2) and report.cache_removed > 0
    left = stores.records.query("ann")
    assert {r.source.file for r in left} == {"clinic_a.json"}
    assert stores.records.sources("ann") == [("fhir", "clinic_a.json", 2)]
    _, texts, _ = stores.vectors.texts("ann")
    assert not any(NOTE_B in t or "6.9" in t for t in texts)
    assert sorted(texts) == sorted(c.text for c in build_chunks("ann", left))
    with stores.records.session() as s:
        cached = s.query(EmbeddingRow).filter(EmbeddingRow.user_id == "ann").count()
    assert cached == len({c.text_hash for c in build_chunks("ann", left)})
    assert (stores.records.snapshot("bob"), stores.vectors.count("bob")) == bob_before
    assert found(stores.settings.home, "2025-01-09") == []
    assert list_audit(stores.records, "ann")[-1].action == "disconnect"
    with pytest.raises(NotFound):
        disconnect_source(stores, "ann", "fhir", "clinic_b.json")


def test_disconnect_by_kind_removes_every_file_of_it(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", list(two_sources(tmp_path)))
    report = disconnect_source(stores, "ann", "fhir")
    assert (report.records_removed, report.records_left, report.chunks) == (4, 0, 0)
    assert stores.vectors.count("ann") == 0


def test_a_flushed_vector_index_leaves_no_segment_files(stores: Stores) -> None:
    """Past Chroma's flush threshold the HNSW folder holds the ids; delete_user removes the folder too."""
    from healthcoach.store.vectors import Chunk

    stores.records.ensure_user("big")
    chunks = [Chunk(id=f"zebra-chunk-{i:05d}", text=f"zebra reading number {i}", metadata={"category": "lab"})
              for i in range(1100)]
    stores.vectors.sync("big", chunks)
    home = stores.settings.home
    assert any(p.name == "index_metadata.pickle" for p in found_paths(home, "zebra-chunk-"))
    delete_user(stores, "big")
    assert found_paths(home, "zebra-chunk-") == [] and found_paths(home, "zebra reading") == []


def found_paths(home: Path, needle: str) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]
