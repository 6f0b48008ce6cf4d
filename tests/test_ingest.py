"""Ingest is all-or-nothing, idempotent, and says exactly what was wrong with a bad file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import fhir_factory as F
from healthcoach.container import Stores
from healthcoach.errors import Forbidden, IngestError, TooLarge


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return F.write(tmp_path / "good.json", F.bundle(
        F.patient(), F.a1c("o1", 6.1, "2024-05-02"), F.a1c("o2", 5.8, "2023-04-01"),
        F.blood_pressure("bp1", 121, 79, "2024-05-02"), F.note("d1", "Feels well.")))


def state(stores: Stores, user: str) -> tuple[dict[str, str], int]:
    return stores.records.snapshot(user), stores.vectors.count(user)


def test_ingest_stores_records_and_chunks(stores: Stores, good: Path) -> None:
    report = stores.ingestor.ingest("ann", [good])
    assert report.records_by_category == {"lab": 2, "vital": 1, "document": 1}
    assert report.new == 4 and report.chunks == stores.vectors.count("ann") > 4  # + series and roll-ups
    (latest, older) = stores.records.query("ann", code_keys=["LOINC:4548-4"])
    assert (latest.value.value, older.value.value) == (6.1, 5.8)  # type: ignore[union-attr]


def test_reingest_is_idempotent_and_embeds_nothing(stores: Stores, good: Path) -> None:
    first = stores.ingestor.ingest("ann", [good])
    before = state(stores, "ann")
    again = stores.ingestor.ingest("ann", [good])
    assert (again.new, again.updated, again.unchanged) == (0, 0, first.new)
    assert again.embedded == 0 and again.vectors_upserted == 0
    assert state(stores, "ann") == before


BAD_FILES: dict[str, tuple[bytes | str, str]] = {
    "truncated.json": ('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Obs', "invalid JSON at line 1"),
    "not_fhir.json": ('{"name": "my notes", "items": [1, 2]}', "not a FHIR resource (no resourceType)"),
    "empty.json": (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}), "contains no FHIR resources"),
    "binary.json": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file"),
    "list.json": ("[1, 2, 3]", "expected a JSON object"),
    "blank.json": ("   ", "the file is empty"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_with_file_and_reason_and_store_unchanged(
    stores: Stores, good: Path, tmp_path: Path, name: str
) -> None:
    stores.ingestor.ingest("ann", [good])
    before = state(stores, "ann")
    content, message = BAD_FILES[name]
    bad = F.write(tmp_path / name, content)
    with pytest.raises(IngestError) as err:
        stores.ingestor.ingest("ann", [good, bad])
    assert name in err.value.message and message in err.value.message
    assert state(stores, "ann") == before


def test_unknown_and_invalid_resources_are_counted_skips(stores: Stores, tmp_path: Path) -> None:
    weird = {"resourceType": "Spaceship", "id": "x1"}
    broken = F.a1c("o9", 6.0, "2024-01-01")
    broken["status"] = 42  # fails strict validation but its essential fields parse
    no_code = {"resourceType": "Observation", "id": "o10", "status": "final", "effectiveDateTime": "2024-01-01"}
    bundle = F.bundle(F.patient(), weird, broken, no_code)
    report = stores.ingestor.ingest("ann", [F.write(tmp_path / "b.json", bundle)])
    assert report.skipped == {
        "Patient: identity (kept in the profile, not a record)": 1,
        "Spaceship: unknown resourceType": 1,
        "Observation: no code or text to say what it is": 1,
    }
    assert report.records_by_category == {"lab": 1}
    assert any("failed strict FHIR R4 validation" in w for w in report.warnings)


def test_file_over_size_limit(make_stores: Callable[..., Stores], good: Path) -> None:
    small = make_stores(ingest={"max_file_bytes": 100, "min_age": 0})
    with pytest.raises(TooLarge, match=r"good.json: .* over the limit of 100 bytes"):
        small.ingestor.ingest("ann", [good])
    assert small.records.snapshot("ann") == {}


def test_utf8_bom_is_fine(stores: Stores, tmp_path: Path) -> None:
    text = json.dumps(F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02")))
    report = stores.ingestor.ingest("ann", [F.write(tmp_path / "bom.json", "\ufeff".encode() + text.encode())])
    assert report.records_by_category == {"lab": 1}


def test_two_people_in_one_bundle_are_refused(stores: Stores, tmp_path: Path) -> None:
    two = F.bundle(F.patient("p1"), F.patient("p2", name="Other Person"), F.a1c("o1", 6.1, "2024-05-02"))
    with pytest.raises(IngestError, match="2 different people"):
        stores.ingestor.ingest("ann", [F.write(tmp_path / "two.json", two)])
    assert stores.records.snapshot("ann") == {}


def test_someone_elses_records_are_refused_for_an_existing_profile(stores: Stores, good: Path, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [good])
    before = state(stores, "ann")
    other = F.write(tmp_path / "other.json", F.bundle(F.patient("p9", name="Someone Else"), F.a1c("o5", 9.0, "2025-01-01", pid="p9")))
    with pytest.raises(Forbidden, match="different person"):
        stores.ingestor.ingest("ann", [other])
    assert state(stores, "ann") == before


def test_a_minors_records_are_refused(make_stores: Callable[..., Stores], tmp_path: Path) -> None:
    adult_only = make_stores(ingest={"min_age": 18})
    child = F.write(tmp_path / "child.json", F.bundle(F.patient(born="2019-05-22"), F.a1c("o1", 5.0, "2024-01-01")))
    with pytest.raises(Forbidden, match="under 18"):
        adult_only.ingestor.ingest("kid", [child])
    assert adult_only.records.snapshot("kid") == {}


def test_failed_vector_write_rolls_back_records(stores: Stores, good: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stores.ingestor.ingest("ann", [good])
    before = state(stores, "ann")
    newer = F.write(tmp_path / "newer.json", F.bundle(F.patient(), F.a1c("o3", 6.4, "2025-06-01")))

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(stores.embedder, "encode", boom)
    with pytest.raises(RuntimeError):
        stores.ingestor.ingest("ann", [newer])
    monkeypatch.undo()
    assert state(stores, "ann") == before


def test_users_never_mix(stores: Stores, good: Path, tmp_path: Path) -> None:
    bob_file = F.write(tmp_path / "bob.json", F.bundle(F.patient("pb", name="Bob Stone"), F.a1c("ob", 9.9, "2025-01-01", pid="pb")))
    stores.ingestor.ingest("ann", [good])
    stores.ingestor.ingest("bob", [bob_file])
    _, bob_texts, _ = stores.vectors.texts("bob")
    for text in bob_texts:
        hits = stores.vectors.search("ann", text, k=50)
        assert all(doc.page_content not in bob_texts for doc, _ in hits)
        assert all("9.9" not in doc.page_content for doc, _ in hits)
    assert all(r.user_id == "ann" for r in stores.records.query("ann"))
    assert {r.value.value for r in stores.records.query("bob", code_keys=["LOINC:4548-4"])} == {9.9}  # type: ignore[union-attr]
