"""Reading OMOP CDM v5.4 tables one person at a time, from a folder of CSV files or any SQLAlchemy URL.

Memory stays bounded: CSVs are streamed row by row and only the chosen person's rows are kept; concepts
are looked up only for the ids those rows use (streamed from concept.csv, or `WHERE concept_id IN (...)`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from healthcoach.errors import IngestError

Row = dict[str, str]
TABLES = ("person", "observation_period", "visit_occurrence", "condition_occurrence", "drug_exposure",
          "procedure_occurrence", "measurement", "observation", "device_exposure", "death")
CLINICAL = TABLES[2:]
URL_RE = re.compile(r"^[a-z][a-z0-9+]*://", re.I)
BATCH = 500


def is_url(text: str) -> bool:
    """True for 'sqlite:///cdm.db', 'postgresql://host/cdm' (not for a file path)."""
    return bool(URL_RE.match(text))


def is_cdm_folder(path: Path) -> bool:
    """A folder holding OMOP CDM CSV files (person.csv and at least one clinical table)."""
    return path.is_dir() and (path / "person.csv").is_file() and any((path / f"{t}.csv").is_file() for t in CLINICAL)


class OmopSource(Protocol):
    """One CDM: the persons in it, one person's rows of a table, and concept lookups."""

    name: str

    def persons(self) -> list[Row]: ...
    def rows(self, table: str, person_id: str) -> Iterator[Row]: ...
    def concepts(self, ids: set[str]) -> dict[str, Row]: ...
    def source_name(self) -> str | None: ...


class CsvCdm:
    """A folder of CDM CSV files (person.csv, measurement.csv, concept.csv ...)."""

    def __init__(self, folder: Path) -> None:
        if not (folder / "person.csv").is_file():
            raise IngestError(f"{folder.name}: no person.csv, so not an OMOP CDM folder")
        self.folder, self.name = folder, folder.name

    def _read(self, table: str) -> Iterator[Row]:
        path = self.folder / f"{table}.csv"
        if not path.is_file():
            return
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                return
            for lineno, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise IngestError(f"{path.name}: line {lineno} has the wrong number of columns; the file may "
                                      "be truncated")
                yield row

    def persons(self) -> list[Row]:
        """Every person row (small: one line per person)."""
        return list(self._read("person"))

    def rows(self, table: str, person_id: str) -> Iterator[Row]:
        """The person's rows of a table, streamed (a missing table has no rows)."""
        return (r for r in self._read(table) if r.get("person_id") == person_id)

    def concepts(self, ids: set[str]) -> dict[str, Row]:
        """The concept rows for these ids, streamed from concept.csv (empty when there is none)."""
        return {r["concept_id"]: r for r in self._read("concept") if r.get("concept_id") in ids}

    def source_name(self) -> str | None:
        """cdm_source_name from cdm_source.csv, when present."""
        return next((r.get("cdm_source_name") or None for r in self._read("cdm_source")), None)


class SqlCdm:
    """A CDM database reached through SQLAlchemy (tables in `schema`, or unqualified)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.name = url.split("/")[-1].split("?")[0] or "cdm"
        try:
            self.engine = create_engine(url)
            self.tables = set(inspect(self.engine).get_table_names(schema=schema))
        except (SQLAlchemyError, ValueError) as exc:
            raise IngestError(f"cannot open the OMOP database ({type(exc).__name__}); check the URL") from exc
        if "person" not in self.tables:
            raise IngestError("the database has no person table, so it is not an OMOP CDM")
        self.prefix = f"{schema}." if schema else ""

    def _select(self, sql: str, **params: object) -> Iterator[Row]:
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(text(sql), params)
            keys = list(result.keys())
            for values in result:
                yield {k: "" if v is None else str(v) for k, v in zip(keys, values, strict=True)}

    def persons(self) -> list[Row]:
        """Every person row."""
        return list(self._select(f"SELECT * FROM {self.prefix}person ORDER BY person_id"))

    def rows(self, table: str, person_id: str) -> Iterator[Row]:
        """The person's rows of a table (a missing table has no rows)."""
        if table not in self.tables:
            return iter(())
        return self._select(f"SELECT * FROM {self.prefix}{table} WHERE person_id = :p", p=int(person_id))

    def concepts(self, ids: set[str]) -> dict[str, Row]:
        """Concept rows for these ids, looked up in batches."""
        if "concept" not in self.tables:
            return {}
        out: dict[str, Row] = {}
        wanted = sorted(int(i) for i in ids if i.isdigit())
        for i in range(0, len(wanted), BATCH):
            marks = ",".join(str(v) for v in wanted[i:i + BATCH])  # integers only: safe to inline
            out.update({r["concept_id"]: r for r in self._select(
                f"SELECT * FROM {self.prefix}concept WHERE concept_id IN ({marks})")})
        return out

    def source_name(self) -> str | None:
        """cdm_source_name, when the cdm_source table has one."""
        if "cdm_source" not in self.tables:
            return None
        return next((r.get("cdm_source_name") or None for r in self._select(f"SELECT * FROM {self.prefix}cdm_source")),
                    None)


def open_cdm(where: str | Path, schema: str | None = None) -> OmopSource:
    """A CSV folder or a database URL as an OmopSource."""
    if isinstance(where, str) and is_url(where):
        return SqlCdm(where, schema)
    return CsvCdm(Path(where))
