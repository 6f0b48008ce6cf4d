"""Leaving out the Patient resource is not a way around "own records, adults only": a bundle without its
Patient is accepted only when every resource's subject is the profile's own patient, proven by an earlier
import that had the Patient. The reproductions: a minor's bundle without its Patient entry, and a second
person's, were stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import fhir_factory as F
from conftest import TODAY
from healthcoach.container import Stores
from healthcoach.errors import Forbidden
from healthcoach.sample.generator import write_person
from healthcoach.store.schema import IngestRow


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores(ingest={"min_age": 18})  # the real default, not the test suite's 0


def state(stores: Stores, user: str) -> tuple[dict[str, str], int, int]:
    with stores.records.session() as s:
        ingests = s.query(IngestRow).filter(IngestRow.user_id == user).count()
    return stores.records.snapshot(user), stores.vectors.count(user), ingests


def person(tmp_path: Path, name: str, seed: int, born: date | None = None, patient: bool = True) -> Path:
    """The generated synthetic person (Synthea-style urn:uuid references), optionally younger, optionally
    without the Patient entry."""
    path, _ = write_person(tmp_path / name, seed=seed, today=TODAY)
    bundle: dict[str, Any] = json.loads(path.read_text())
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Patient" and born is not None:
            e["resource"]["birthDate"] = born.isoformat()
    if not patient:
        bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    out = tmp_path / f"{name}{'' if patient else '-no-patient'}.json"
    out.write_text(json.dumps(bundle))
    return out


CHILD = date(TODAY.year - 10, 6, 1)


def test_a_minors_bundle_without_its_patient_is_refused_and_nothing_is_stored(stores: Stores,
                                                                                tmp_path: Path) -> None:
    with pytest.raises(Forbidden, match="no Patient resource") as err:
        stores.ingestor.ingest("kid", [person(tmp_path, "kid", 42, born=CHILD, patient=False)])
    assert "nothing was stored" in err.value.message and err.value.status == 403
    assert state(stores, "kid") == ({}, 0, 0) and stores.records.users() == []
    # The control: the same file with its Patient is refused for the age, as before.
    with pytest.raises(Forbidden, match="under 18"):
        stores.ingestor.ingest("kid", [person(tmp_path, "kid", 42, born=CHILD)])


def test_a_minors_bundle_without_its_patient_is_refused_for_an_adults_profile_too(stores: Stores,
                                                                                   tmp_path: Path) -> None:
    stores.ingestor.ingest("parent", [person(tmp_path, "parent", 7)])
    before = state(stores, "parent")
    with pytest.raises(Forbidden, match="different person"):
        stores.ingestor.ingest("parent", [person(tmp_path, "kid", 42, born=CHILD, patient=False)])
    assert state(stores, "parent") == before


def test_a_second_persons_bundle_without_its_patient_is_refused(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [person(tmp_path, "ann", 7)])
    before = state(stores, "ann")
    with pytest.raises(Forbidden, match="different person"):
        stores.ingestor.ingest("ann", [person(tmp_path, "other", 42, patient=False)])
    assert state(stores, "ann") == before
    with pytest.raises(Forbidden, match="no Patient resource"):  # nor as someone's first import
        stores.ingestor.ingest("bo", [person(tmp_path, "other", 42, patient=False)])
    assert stores.records.user_ids() == {"ann"}


def test_your_own_later_export_without_the_patient_is_accepted(stores: Stores, tmp_path: Path) -> None:
    first = stores.ingestor.ingest("ann", [F.write(tmp_path / "a.json", F.bundle(
        F.patient("p1"), F.a1c("o1", 6.1, "2024-05-02")))])
    later = stores.ingestor.ingest("ann", [F.write(tmp_path / "b.json", F.bundle(
        F.a1c("o2", 6.4, "2025-05-02"), F.note("n1", "Walks daily.")))])
    assert (first.new, later.new) == (1, 2)
    assert stores.records.get_user("ann").patient_key == "fhir:p1"


def test_resources_that_name_no_patient_are_refused_without_the_patient(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [F.write(tmp_path / "a.json", F.bundle(F.patient("p1"),
                                                                        F.a1c("o1", 6.1, "2024-05-02")))])
    before = state(stores, "ann")
    orphan = F.a1c("o9", 9.9, "2025-01-01")
    del orphan["subject"]
    with pytest.raises(Forbidden, match="name no patient"):
        stores.ingestor.ingest("ann", [F.write(tmp_path / "x.json", F.bundle(orphan))])
    assert state(stores, "ann") == before


def test_wearable_and_manual_records_need_no_patient(stores: Stores) -> None:
    from healthcoach.wearables.manual import manual_entry

    report = stores.ingestor.add_records("sam", [manual_entry("sam", "weight", "160 lb", date(2026, 11, 20))])
    assert report.new == 1
