"""OMOP CDM v5.4 adapter (All of Us, OHDSI networks): one person's rows → Records, decoded through concept.

Tables read: person, observation_period, visit_occurrence, condition_occurrence, drug_exposure,
procedure_occurrence, measurement, observation, device_exposure, death. Every clinical row becomes one
record or one skip counted under '<table>: <reason>'. Codes: the standard concept's vocabulary code
(SNOMED, LOINC, RxNorm, CVX), the OMOP concept id, and LOINC from measurement_source_value / RxNorm from
drug_source_value where the concept is not standard. Dates without a time (00:00:00) are dates.
A drug exposure is 'active' when it has no end date or ends on or after the person's observation period.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records import bp
from healthcoach.records.base import AdapterResult, PatientInfo
from healthcoach.records.fhir_map import PREGNANCY_LOINC, PREGNANCY_SNOMED, PREGNANCY_WORDS
from healthcoach.records.models import (
    Category,
    Code,
    Quantity,
    Record,
    ReferenceRange,
    Source,
    record_id,
)
from healthcoach.records.omop_tables import CLINICAL, OmopSource, Row, open_cdm

GENDER = {"8507": "male", "8532": "female"}
VOCAB = {"SNOMED": "SNOMED", "LOINC": "LOINC", "RxNorm": "RxNorm", "RxNorm Extension": "RxNorm", "CVX": "CVX",
         "ICD10CM": "ICD-10", "ICD10": "ICD-10", "CPT4": "CPT", "NDC": "NDC", "HCPCS": "HCPCS"}
VITAL_LOINC = {"8867-4", "29463-7", "8302-2", "39156-5", "8310-5", "9279-1", "59408-5", "2708-6", "2710-2",
               "8480-6", "8462-4", "85354-9", "55284-4", "8287-5", "9843-4", "72514-3", "77606-2", "59576-9",
               "8289-1", "3141-9"}
OPERATORS = {"4171756": "<", "4171754": "<=", "4171755": ">=", "4172704": ">"}
LOINC_RE = re.compile(r"^\d{1,7}-\d$")
RXCUI_RE = re.compile(r"^\d{2,8}$")


class Skip(Exception):
    """A row that cannot become a record; the message is the counted reason."""


def person_list(persons: list[Row], limit: int = 40) -> str:
    """'1 (born 1998, male), 2 (born 2014, female), ...' for the error that asks for --person-id."""
    shown = [f"{p['person_id']} (born {p.get('year_of_birth') or '?'}, {GENDER.get(p.get('gender_concept_id', ''), 'gender unknown')})"
             for p in persons[:limit]]
    more = f", and {len(persons) - limit} more" if len(persons) > limit else ""
    return ", ".join(shown) + more


def load_omop(where: str | Path, user_id: str, person_id: int | None = None,
              schema: str | None = None) -> tuple[AdapterResult, list[str]]:
    """One person of a CDM (CSV folder or database URL); without person_id a CDM of several persons is an
    error that lists them (a CDM of exactly one person needs none)."""
    cdm = open_cdm(where, schema)
    persons = cdm.persons()
    if not persons:
        raise IngestError(f"{cdm.name}: the person table is empty")
    if person_id is None:
        if len(persons) > 1:
            raise IngestError(f"{cdm.name} holds {len(persons)} persons; choose one with --person-id "
                              f"(persons: {person_list(persons)})")
        chosen = persons[0]
    else:
        found = [p for p in persons if p.get("person_id") == str(person_id)]
        if not found:
            raise IngestError(f"{cdm.name}: no person with person_id {person_id} (persons: {person_list(persons)})")
        chosen = found[0]
    return map_person(cdm, chosen, user_id), [f"{cdm.name} (person {chosen['person_id']})"]


@dataclass
class _Ctx:
    user_id: str
    file: str
    organization: str | None
    concepts: dict[str, Row]
    data_end: date | None = None
    bp: dict[tuple[str, str], dict[str, Record]] = field(default_factory=dict)

    def concept(self, cid: str | None) -> Row | None:
        return self.concepts.get(cid or "") if cid and cid != "0" else None

    def codes(self, cid: str | None, source_value: str | None = None, source_system: str | None = None) -> tuple[Code, ...]:
        out: list[Code] = []
        con = self.concept(cid)
        if con is not None and con.get("vocabulary_id") in VOCAB:
            out.append(Code(system=VOCAB[con["vocabulary_id"]], code=con["concept_code"], display=con.get("concept_name")))
        if source_system and source_value and not any(c.system == source_system and c.code == source_value for c in out):
            out.append(Code(system=source_system, code=source_value, display=None))
        if con is not None:
            out.append(Code(system="OMOP", code=str(cid), display=con.get("concept_name")))
        return tuple(out)

    def label(self, cid: str | None, fallback: str | None = None) -> str | None:
        con = self.concept(cid)
        return (con.get("concept_name") if con else None) or fallback or None


def map_person(cdm: OmopSource, person: Row, user_id: str) -> AdapterResult:
    """Every clinical row of one person → records (rows are read per table; concepts looked up once)."""
    pid = person["person_id"]
    result = AdapterResult()
    result.patients.append(_patient(person, cdm))
    tables = {t: list(cdm.rows(t, pid)) for t in ("observation_period", *CLINICAL)}
    ids = {v for rows in tables.values() for r in rows for k, v in r.items() if k.endswith("concept_id") and v}
    ctx = _Ctx(user_id, cdm.name, cdm.source_name(), cdm.concepts(ids))
    ends = [_date(r.get("observation_period_end_date")) for r in tables["observation_period"]]
    ctx.data_end = max((d for d in ends if d), default=None)
    for table in CLINICAL:
        mapper = MAPPERS[table]
        for row in tables[table]:
            result.resources_seen[table] += 1
            try:
                result.records.append(mapper(row, ctx))
            except Skip as exc:
                result.skip(f"{table}: {exc}")
            except (ValueError, KeyError, TypeError) as exc:
                result.skip(f"{table}: essential fields unreadable")
                if len(result.warnings) < 20:
                    result.warnings.append(f"{cdm.name}: {table} row {row.get(f'{table}_id', '?')} skipped "
                                           f"({type(exc).__name__})")
    result.records = _fold_blood_pressure(result, ctx)
    return result


def _patient(p: Row, cdm: OmopSource) -> PatientInfo:
    born = None
    if p.get("year_of_birth") and p.get("month_of_birth") and p.get("day_of_birth"):
        born = date(int(p["year_of_birth"]), int(p["month_of_birth"]), int(p["day_of_birth"]))
    elif p.get("birth_datetime"):
        born = date.fromisoformat(p["birth_datetime"][:10])
    issuer = f"omop:{cdm.source_name() or cdm.name}"
    return PatientInfo(key=f"{issuer}:{p.get('person_source_value') or p['person_id']}", birth_date=born,
                       gender=GENDER.get(p.get("gender_concept_id", "")), issuer=issuer)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _when(row: Row, prefix: str) -> datetime | None:
    """<prefix>_datetime, else <prefix>_date, as an aware datetime (UTC midnight for a date alone)."""
    raw = row.get(f"{prefix}_datetime") or row.get(f"{prefix}_date") or ""
    if not raw:
        return None
    dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("T", " ")[:26])
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _record(row: Row, ctx: _Ctx, table: str, category: Category, label: str | None, start: datetime | None,
            end: datetime | None = None, **kw: Any) -> Record:
    if not label:
        raise Skip("concept not in the concept table and no source value to name it")
    rid = row[f"{table}_id"] if f"{table}_id" in row else row.get("person_id", "")
    details = {k: str(v) for k, v in (kw.pop("details", None) or {}).items() if v not in (None, "", "0")}
    return Record(
        id=record_id(ctx.user_id, "omop", table, rid), user_id=ctx.user_id, category=category, label=label,
        start=start, end=end, date=start.date() if start else None, details=details,
        source=Source(kind="omop", organization=ctx.organization, file=ctx.file, resource_type=table, resource_id=rid),
        **kw,
    )


def map_visit(row: Row, ctx: _Ctx) -> Record:
    """A visit: its concept (Outpatient Visit, Inpatient Visit ...) and dates."""
    return _record(row, ctx, "visit_occurrence", Category.encounter, ctx.label(row.get("visit_concept_id"), "Visit"),
                   _when(row, "visit_start"), _when(row, "visit_end"), codes=ctx.codes(row.get("visit_concept_id")),
                   status="finished")


def map_condition(row: Row, ctx: _Ctx) -> Record:
    """A condition: SNOMED concept, onset and end dates."""
    src = row.get("condition_source_value")
    codes = ctx.codes(row.get("condition_concept_id"), src if src and src.isdigit() else None, "SNOMED")
    label = ctx.label(row.get("condition_concept_id"), src)
    pregnancy = any(c.system == "SNOMED" and c.code in PREGNANCY_SNOMED for c in codes) or bool(
        label and PREGNANCY_WORDS.search(label))
    end = _when(row, "condition_end")
    return _record(row, ctx, "condition_occurrence", Category.pregnancy if pregnancy else Category.condition, label,
                   _when(row, "condition_start"), end, codes=codes, status="resolved" if end else "active")


def map_drug(row: Row, ctx: _Ctx) -> Record:
    """A drug exposure (RxNorm), or a vaccine when its concept is CVX."""
    src = row.get("drug_source_value")
    con = ctx.concept(row.get("drug_concept_id"))
    vaccine = con is not None and con.get("vocabulary_id") == "CVX"
    system = "CVX" if vaccine else "RxNorm"
    codes = ctx.codes(row.get("drug_concept_id"), src if src and RXCUI_RE.match(src) else None, system)
    start, end = _when(row, "drug_exposure_start"), _when(row, "drug_exposure_end")
    label = ctx.label(row.get("drug_concept_id"), src)
    if vaccine:
        return _record(row, ctx, "drug_exposure", Category.immunization, label, start, codes=codes,
                       status="completed", details={"lot": row.get("lot_number")})
    active = end is None or (ctx.data_end is not None and end.date() >= ctx.data_end)
    return _record(row, ctx, "drug_exposure", Category.medication, label, start, end, codes=codes,
                   status="active" if active else "completed", text=row.get("sig") or None,
                   details={"days_supply": row.get("days_supply"), "quantity": row.get("quantity"),
                            "stop_reason": row.get("stop_reason")})


def map_procedure(row: Row, ctx: _Ctx) -> Record:
    """A procedure (SNOMED/CPT)."""
    src = row.get("procedure_source_value")
    return _record(row, ctx, "procedure_occurrence", Category.procedure,
                   ctx.label(row.get("procedure_concept_id"), src), _when(row, "procedure"),
                   _when(row, "procedure_end"), status="completed",
                   codes=ctx.codes(row.get("procedure_concept_id"), src if src and src.isdigit() else None, "SNOMED"))


def _value(row: Row, ctx: _Ctx) -> tuple[Quantity | None, str | None]:
    unit_con = ctx.concept(row.get("unit_concept_id"))
    unit = (unit_con.get("concept_code") if unit_con else None) or row.get("unit_source_value") or None
    if unit in ("n/a", "1", "No matching concept"):
        unit = None
    if row.get("value_as_number"):
        return Quantity(value=float(row["value_as_number"]), unit=unit,
                        comparator=OPERATORS.get(row.get("operator_concept_id", ""))), None
    text = ctx.label(row.get("value_as_concept_id")) or row.get("value_as_string") or None
    return None, text


def map_measurement(row: Row, ctx: _Ctx) -> Record:
    """A lab result or vital sign; LOINC from the concept or from measurement_source_value."""
    src = row.get("measurement_source_value")
    codes = ctx.codes(row.get("measurement_concept_id"), src if src and LOINC_RE.match(src) else None, "LOINC")
    loinc = {c.code for c in codes if c.system == "LOINC"}
    value, text = _value(row, ctx)
    if value is None and not text:
        raise Skip("no value given")
    category = Category.pregnancy if loinc & PREGNANCY_LOINC else Category.vital if loinc & VITAL_LOINC else Category.lab
    low, high = row.get("range_low"), row.get("range_high")
    rng = ReferenceRange(low=float(low) if low else None, high=float(high) if high else None,
                         unit=value.unit if value else None) if low or high else None
    rec = _record(row, ctx, "measurement", category, ctx.label(row.get("measurement_concept_id"), src),
                  _when(row, "measurement"), codes=codes, value=value, text=text, reference_range=rng, status="final")
    which = bp.part(rec)
    if which:
        ctx.bp.setdefault((row.get("measurement_datetime") or row.get("measurement_date", ""),
                           row.get("visit_occurrence_id", "")), {}).setdefault(which, rec)
    return rec


def map_observation(row: Row, ctx: _Ctx) -> Record:
    """An observation (smoking status, survey answers ...): LOINC or SNOMED with a value."""
    src = row.get("observation_source_value")
    system = "LOINC" if src and LOINC_RE.match(src) else "SNOMED" if src and src.isdigit() else None
    codes = ctx.codes(row.get("observation_concept_id"), src if system else None, system)
    value, text = _value(row, ctx)
    if value is None and not text:
        raise Skip("no value given (only that it was asked or noted)")
    loinc = {c.code for c in codes if c.system == "LOINC"}
    category = Category.pregnancy if loinc & PREGNANCY_LOINC else Category.social_history
    return _record(row, ctx, "observation", category, ctx.label(row.get("observation_concept_id"), src),
                   _when(row, "observation"), codes=codes, value=value, text=text, status="final")


def map_device(row: Row, ctx: _Ctx) -> Record:
    """A device in use (an implant, a pump): kept with procedures, marked as a device."""
    src = row.get("device_source_value")
    return _record(row, ctx, "device_exposure", Category.procedure, ctx.label(row.get("device_concept_id"), src),
                   _when(row, "device_exposure_start"), _when(row, "device_exposure_end"),
                   codes=ctx.codes(row.get("device_concept_id"), src if src and src.isdigit() else None, "SNOMED"),
                   status="completed", details={"kind": "device", "unique_device_id": row.get("unique_device_id")})


def map_death(row: Row, ctx: _Ctx) -> Record:
    """The recorded death, with its cause when given (a note, not a condition)."""
    cause = ctx.label(row.get("cause_concept_id"), row.get("cause_source_value"))
    start = _when(row, "death")
    return _record(row, ctx, "death", Category.document, "Death recorded", start,
                   text=f"Death recorded on {start.date().isoformat() if start else 'an unknown date'}"
                        + (f"; cause: {cause}" if cause else "") + ".",
                   details={"kind": "death", "cause": cause})


def _fold_blood_pressure(result: AdapterResult, ctx: _Ctx) -> list[Record]:
    """Systolic and diastolic measured together (same time and visit) become one blood-pressure record."""
    pairs = [g for g in ctx.bp.values() if len(g) == 2]
    diastolic = {g["diastolic"].id for g in pairs}
    systolic = {g["systolic"].id: g for g in pairs}
    out = []
    for rec in result.records:
        if rec.id in diastolic:
            result.skip("measurement: diastolic blood pressure folded into its blood-pressure record")
        elif rec.id in systolic:
            out.append(bp.fold(rec, systolic[rec.id]["diastolic"]))
        else:
            out.append(rec)
    return out


MAPPERS: dict[str, Callable[[Row, _Ctx], Record]] = {
    "visit_occurrence": map_visit, "condition_occurrence": map_condition, "drug_exposure": map_drug,
    "procedure_occurrence": map_procedure, "measurement": map_measurement, "observation": map_observation,
    "device_exposure": map_device, "death": map_death,
}
