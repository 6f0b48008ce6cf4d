"""The shared OMOP CDM (28 Synthea persons): every person ingests, one at a time; per person and table the
stored records equal the CSV rows minus the reported skips, and the latest A1c equals the CSVs read here
with plain csv code. The same CDM as a database gives the same records."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from conftest import require_shared, settings_for
from healthcoach.container import build_stores
from healthcoach.errors import IngestError
from healthcoach.records.omop import load_omop

TABLES = ("visit_occurrence", "condition_occurrence", "drug_exposure", "procedure_occurrence", "measurement",
          "observation", "device_exposure", "death")


def csv_truth(folder: Path) -> tuple[dict[str, Counter[str]], dict[str, tuple[str, set[float]]]]:
    """Rows per person per table, and each person's latest HbA1c (LOINC 4548-4): (date, values that day)."""
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    a1c: dict[str, tuple[str, set[float]]] = {}
    for table in TABLES:
        with (folder / f"{table}.csv").open(newline="") as fh:
            for r in csv.DictReader(fh):
                rows[r["person_id"]][table] += 1
                if table == "measurement" and r["measurement_source_value"] == "4548-4" and r["value_as_number"]:
                    when = r["measurement_datetime"] or r["measurement_date"]
                    best = a1c.get(r["person_id"])
                    if best is None or when > best[0]:
                        a1c[r["person_id"]] = (when, {float(r["value_as_number"])})
                    elif when == best[0]:
                        best[1].add(float(r["value_as_number"]))
    return rows, a1c


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory, embedder: Any):  # type: ignore[no-untyped-def]
    """All 28 persons loaded by the adapter and stored in a real record store (no vectors: a test-time saving;
    the full pipeline with vectors runs below for one person)."""
    folder = require_shared("data/omop/synthea27nj_full")
    stores = build_stores(settings_for(tmp_path_factory.mktemp("omop")), embedder=embedder)
    with (folder / "person.csv").open(newline="") as fh:
        persons = [r["person_id"] for r in csv.DictReader(fh)]
    results = {}
    for pid in persons:
        result, _files = stores.ingestor.load(f"omop{pid}", [folder], person_id=int(pid))
        with stores.records.session() as s:
            stores.records.ensure_user(f"omop{pid}", s)
            stores.records.upsert(s, result.records)
            stores.records.relink(s, f"omop{pid}", 120)
        results[pid] = result
    return stores, folder, persons, results


def test_without_person_id_the_error_lists_every_person(cdm: Any) -> None:
    stores, folder, persons, _ = cdm
    with pytest.raises(IngestError) as err:
        stores.ingestor.ingest("someone", [folder])
    assert "holds 28 persons; choose one with --person-id" in err.value.message
    assert all(f"{pid} (born" in err.value.message for pid in persons)
    assert stores.records.snapshot("someone") == {}
    with pytest.raises(IngestError, match="no person with person_id 999"):
        stores.ingestor.load("someone", [folder], person_id=999)


def test_every_person_reconciles_with_the_csv_rows(cdm: Any) -> None:
    stores, folder, persons, results = cdm
    rows, _ = csv_truth(folder)
    assert len(persons) == 28
    for pid in persons:
        skipped: Counter[str] = Counter()
        for reason, n in results[pid].skipped.items():
            skipped[reason.split(":", 1)[0]] += n
        stored = stores.records.resource_type_counts(f"omop{pid}")
        for table in TABLES:
            assert stored.get(table, 0) == rows[pid][table] - skipped[table], (pid, table)
        assert results[pid].patients[0].key.startswith("omop:NJ:")


def test_each_persons_latest_a1c_equals_the_csv(cdm: Any) -> None:
    stores, folder, persons, _ = cdm
    _, a1c = csv_truth(folder)
    assert len(a1c) >= 10
    for pid in persons:
        found = stores.records.query(f"omop{pid}", code_keys=["LOINC:4548-4"], limit=1)
        if pid not in a1c:
            assert found == [], pid
            continue
        when, values = a1c[pid]
        rec = found[0]
        assert rec.value is not None and rec.value.value in values and rec.value.unit == "%", pid
        assert rec.date is not None and rec.date.isoformat() == when[:10], pid


def test_deaths_and_devices_are_kept(cdm: Any) -> None:
    stores, *_ = cdm
    deaths = [r for pid in ("7", "11", "23") for r in stores.records.query(f"omop{pid}", resource_types=["death"])]
    assert [r.label for r in deaths] == ["Death recorded"] * 3 and all("cause:" in (r.text or "") for r in deaths)
    device = stores.records.query("omop16", resource_types=["device_exposure"])
    assert [(d.label, d.details.get("kind")) for d in device] == [("Implantable defibrillator", "device")]


def test_blood_pressure_is_one_reading_per_visit(cdm: Any) -> None:
    stores, *_ = cdm
    bp = stores.records.query("omop8", code_keys=["LOINC:85354-9"])
    assert bp and all(r.value_display().endswith("mmHg") and "/" in r.value_display() for r in bp)


def sql_type(column: str) -> str:
    """Column types as the CDM DDL declares them (ids integer, amounts numeric, the rest text)."""
    if column.endswith("_id") or column in ("year_of_birth", "month_of_birth", "day_of_birth", "refills"):
        return "INTEGER"
    return "REAL" if column in ("value_as_number", "range_low", "range_high", "quantity", "days_supply") else "TEXT"


def test_a_cdm_database_gives_the_same_records_as_its_csvs(tmp_path: Path) -> None:
    folder = require_shared("data/omop/subset_5_persons")
    db = tmp_path / "cdm.sqlite"
    con = sqlite3.connect(db)
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            con.execute(f"CREATE TABLE {path.stem} ({', '.join(f'{c} {sql_type(c)}' for c in header)})")
            con.executemany(f"INSERT INTO {path.stem} VALUES ({', '.join('?' * len(header))})",
                            ([v if v != "" else None for v in row] for row in reader))
    con.commit()
    con.close()

    def facts(result: Any) -> Counter[tuple[str, str, str, str]]:
        return Counter((str(r.category), r.label, r.value_display(), str(r.date)) for r in result.records)

    from_csv, _ = load_omop(folder, "u", 8)
    from_db, files = load_omop(f"sqlite:///{db}", "u", 8)
    assert files == ["cdm.sqlite (person 8)"]
    assert facts(from_db) == facts(from_csv) and len(from_db.records) > 100
    assert from_db.skipped == from_csv.skipped
