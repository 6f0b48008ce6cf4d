"""Own records only, adults only: refused ingests store nothing, and the profile keeps the first identity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import fhir_factory as F
from healthcoach.container import Stores
from healthcoach.errors import Forbidden, HealthCoachError, IngestError
from healthcoach.store.schema import IngestRow


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores(ingest={"min_age": 18})  # the real default, not the test suite's 0


def state(stores: Stores, user: str) -> tuple[dict[str, str], int, int]:
    """Records (id → hash), vectors, and ingest reports of a user: all must be unchanged by a refusal."""
    with stores.records.session() as s:
        ingests = s.query(IngestRow).filter(IngestRow.user_id == user).count()
    return stores.records.snapshot(user), stores.vectors.count(user), ingests


def own(tmp_path: Path, name: str = "own.json", pid: str = "p1", born: str = "1980-04-02") -> Path:
    return F.write(tmp_path / name, F.bundle(F.patient(pid, born), F.a1c(f"{pid}-o1", 6.1, "2024-05-02", pid=pid)))


def test_profile_records_the_patient_identity_and_birth_date(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [own(tmp_path)])
    user = stores.records.get_user("ann")
    assert (user.patient_key, user.patient_name, user.birth_date) == ("fhir:p1", "Test Person", "1980-04-02")


def test_a_minor_is_refused_with_a_clear_message_and_nothing_stored(stores: Stores, tmp_path: Path) -> None:
    child = F.write(tmp_path / "child.json", F.bundle(F.patient("kid", "2015-06-01", "Small Child"),
                                                      F.a1c("k1", 5.0, "2024-05-02", pid="kid")))
    with pytest.raises(Forbidden, match="under 18") as err:
        stores.ingestor.ingest("parent", [child])
    assert "nothing was stored" in err.value.message and err.value.status == 403
    assert state(stores, "parent") == ({}, 0, 0)
    assert stores.records.users() == []  # not even an empty profile


def test_seventeen_year_old_refused_eighteen_accepted(stores: Stores, tmp_path: Path) -> None:
    from datetime import UTC, date, datetime, timedelta

    today = stores.ingestor.today().date()
    just_18 = date(today.year - 18, today.month, today.day) if (today.month, today.day) != (2, 29) else today
    almost = just_18 + timedelta(days=1)
    with pytest.raises(Forbidden):
        stores.ingestor.ingest("teen", [own(tmp_path, "t.json", "t1", almost.isoformat())])
    assert state(stores, "teen") == ({}, 0, 0)
    stores.ingestor.ingest("adult", [own(tmp_path, "a.json", "a1", just_18.isoformat())])
    assert len(stores.records.snapshot("adult")) == 1
    assert datetime.now(UTC)  # today() is real time here; the boundary is computed from it


def test_second_person_in_one_ingest_is_refused(stores: Stores, tmp_path: Path) -> None:
    two = F.write(tmp_path / "two.json", F.bundle(F.patient("p1"), F.patient("p2", "1975-01-01", "Other Person"),
                                                  F.a1c("o1", 6.1, "2024-05-02")))
    with pytest.raises(IngestError, match="2 different people"):
        stores.ingestor.ingest("ann", [two])
    assert state(stores, "ann") == ({}, 0, 0)


def test_second_person_across_two_files_is_refused(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="different people"):
        stores.ingestor.ingest("ann", [own(tmp_path, "a.json", "p1"), own(tmp_path, "b.json", "p2", "1970-01-01")])
    assert state(stores, "ann") == ({}, 0, 0)


def test_other_identity_refused_for_an_existing_profile(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [own(tmp_path)])
    before = state(stores, "ann")
    with pytest.raises(Forbidden, match="different person"):
        stores.ingestor.ingest("ann", [own(tmp_path, "other.json", "p9", "1980-04-02")])  # same birth date
    assert state(stores, "ann") == before
    assert stores.records.get_user("ann").patient_key == "fhir:p1"


def test_birth_date_mismatch_is_refused(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [own(tmp_path)])
    before = state(stores, "ann")
    with pytest.raises(Forbidden, match="birth date"):
        stores.ingestor.ingest("ann", [own(tmp_path, "fixed.json", "p1", "1981-04-02")])  # same id, other birth date
    assert state(stores, "ann") == before
    assert stores.records.get_user("ann").birth_date == "1980-04-02"


def test_refusals_are_health_coach_errors_with_a_status(stores: Stores, tmp_path: Path) -> None:
    child = F.write(tmp_path / "c.json", F.bundle(F.patient("kid", "2020-01-01", "Tiny Tot")))
    with pytest.raises(HealthCoachError) as err:
        stores.ingestor.ingest("x", [child])
    assert err.value.status in (403, 422)


def test_records_about_another_patient_without_a_patient_resource_are_refused(stores: Stores, tmp_path: Path) -> None:
    stores.ingestor.ingest("ann", [own(tmp_path)])
    before = state(stores, "ann")
    stray = F.write(tmp_path / "stray.json", F.bundle(F.a1c("x1", 9.9, "2024-06-01", pid="p9")))
    with pytest.raises(Forbidden):
        stores.ingestor.ingest("ann", [stray])
    assert state(stores, "ann") == before
