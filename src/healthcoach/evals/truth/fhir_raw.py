"""Raw FHIR R4 JSON bundles -> simple rows, with plain json and dicts only.

This is the QA suite's own reading of the records. It deliberately imports nothing from the product
(records, ingest, retrieval, compose, knowledge), so a bug in the product's parsing cannot hide itself
by being repeated in the truth.

Clinical dates only: Observation.effective[x], Immunization.occurrence[x], Condition.onset[x] (else
recordedDate), Procedure.performed[x], Encounter.period.start, MedicationRequest.authoredOn,
MedicationStatement.effective[x], AllergyIntolerance.recordedDate (else onset). ``when`` is the
timestamp in UTC (for ordering); ``day`` is the calendar date as written in the source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

SYSTEMS = {
    "http://loinc.org": "loinc",
    "http://hl7.org/fhir/sid/cvx": "cvx",
    "http://snomed.info/sct": "sct",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
}
KINDS = ("observation", "immunization", "condition", "procedure", "encounter", "medication", "allergy")
DROPPED_STATUS = {"entered-in-error"}


@dataclass(frozen=True)
class Quantity:
    """A number as written: ``decimals`` is how many decimals the source wrote (102 -> 0, 5.81 -> 2)."""

    value: float
    unit: str | None
    decimals: int


@dataclass(frozen=True)
class Row:
    """One clinical resource, reduced to what questions about it need."""

    kind: str
    id: str
    codes: frozenset[str]  # "loinc:4548-4", "cvx:140", "sct:73761001", "rxnorm:860975"
    name: str
    when: datetime | None  # UTC
    day: date | None  # calendar date as written in the source
    status: str | None = None
    quantity: Quantity | None = None
    text_value: str | None = None  # valueCodeableConcept / valueString
    components: dict[str, Quantity] = field(default_factory=dict)  # "loinc:8480-6" -> systolic
    end_day: date | None = None  # Encounter.period.end, Condition.abatement
    clinical_status: str | None = None  # Condition / AllergyIntolerance clinicalStatus code
    encounter_class: str | None = None  # Encounter.class.code: AMB, EMER, IMP, ...


@dataclass
class RawPerson:
    """Everything the truth needs about one person."""

    key: str  # the eval user id
    name: str
    file: Path
    rows: list[Row]

    def of_kind(self, kind: str) -> list[Row]:
        """Rows of one kind (observation, immunization, ...)."""
        return [r for r in self.rows if r.kind == kind]


def parse_time(raw: str | None) -> tuple[datetime | None, date | None]:
    """(UTC timestamp, calendar date as written) of a FHIR date or dateTime; a bare date is midnight UTC."""
    if not raw or len(raw) < 4:
        return None, None
    text = raw.strip()
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    written = date.fromisoformat(text[:10])
    if len(text) == 10:
        return datetime(written.year, written.month, written.day, tzinfo=UTC), written
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC), written


def _decimals(v: float | int) -> int:
    if isinstance(v, int) or float(v).is_integer():
        return 0
    text = repr(float(v))
    return 0 if "e" in text else len(text.split(".")[1])


def _quantity(q: dict[str, Any] | None) -> Quantity | None:
    if not isinstance(q, dict) or not isinstance(q.get("value"), int | float) or isinstance(q.get("value"), bool):
        return None
    return Quantity(float(q["value"]), q.get("unit") or q.get("code"), _decimals(q["value"]))


def _codes(concept: dict[str, Any] | None) -> frozenset[str]:
    out = set()
    for c in (concept or {}).get("coding", []) or []:
        if c.get("code"):
            out.add(f"{SYSTEMS.get(c.get('system', ''), c.get('system', ''))}:{c['code']}")
    return frozenset(out)


def _display(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    for c in concept.get("coding", []) or []:
        if c.get("display"):
            return str(c["display"])
    return str(concept.get("text") or "")


def _status_code(concept: dict[str, Any] | None) -> str | None:
    for c in (concept or {}).get("coding", []) or []:
        if c.get("code"):
            return str(c["code"])
    return None


def _first_time(r: dict[str, Any], prefix: str) -> str | None:
    if r.get(f"{prefix}DateTime"):
        return str(r[f"{prefix}DateTime"])
    if r.get(f"{prefix}Instant"):
        return str(r[f"{prefix}Instant"])
    period = r.get(f"{prefix}Period")
    if isinstance(period, dict) and period.get("start"):
        return str(period["start"])
    return None


def _observation(r: dict[str, Any]) -> Row:
    when, day = parse_time(_first_time(r, "effective"))
    comps = {}
    for c in r.get("component", []) or []:
        q = _quantity(c.get("valueQuantity"))
        if q is not None:
            for code in _codes(c.get("code")):
                comps[code] = q
    text = _display(r.get("valueCodeableConcept")) or r.get("valueString") or None
    return Row("observation", r.get("id", ""), _codes(r.get("code")), _display(r.get("code")), when, day,
               r.get("status"), _quantity(r.get("valueQuantity")), text, comps)


def _medication(r: dict[str, Any], meds: dict[str, dict[str, Any]]) -> Row:
    concept = r.get("medicationCodeableConcept")
    if concept is None:
        ref = str((r.get("medicationReference") or {}).get("reference", ""))
        concept = (meds.get(ref) or meds.get(ref.split("/")[-1]) or {}).get("code")
    raw = r.get("authoredOn") if r["resourceType"] == "MedicationRequest" else (
        _first_time(r, "effective") or r.get("dateAsserted"))
    when, day = parse_time(raw)
    return Row("medication", r.get("id", ""), _codes(concept), _display(concept), when, day, r.get("status"))


def _row(r: dict[str, Any], meds: dict[str, dict[str, Any]]) -> Row | None:
    t = r.get("resourceType")
    rid = str(r.get("id", ""))
    if t == "Observation":
        return _observation(r)
    if t in ("MedicationRequest", "MedicationStatement"):
        return _medication(r, meds)
    if t == "Immunization":
        when, day = parse_time(_first_time(r, "occurrence") or r.get("occurrenceString"))
        return Row("immunization", rid, _codes(r.get("vaccineCode")), _display(r.get("vaccineCode")), when, day,
                   r.get("status"))
    if t == "Condition":
        when, day = parse_time(_first_time(r, "onset") or r.get("recordedDate"))
        _, end = parse_time(_first_time(r, "abatement"))
        status = _status_code(r.get("verificationStatus"))
        return Row("condition", rid, _codes(r.get("code")), _display(r.get("code")), when, day, status,
                   end_day=end, clinical_status=_status_code(r.get("clinicalStatus")))
    if t == "Procedure":
        when, day = parse_time(_first_time(r, "performed"))
        return Row("procedure", rid, _codes(r.get("code")), _display(r.get("code")), when, day, r.get("status"))
    if t == "Encounter":
        period = r.get("period") or {}
        when, day = parse_time(period.get("start"))
        _, end = parse_time(period.get("end"))
        codes = frozenset().union(*[_codes(t) for t in r.get("type", []) or []]) if r.get("type") else frozenset()
        name = _display((r.get("type") or [{}])[0]) if r.get("type") else ""
        klass = r.get("class")
        klass_code = klass.get("code") if isinstance(klass, dict) else None
        return Row("encounter", rid, codes, name, when, day, r.get("status"), end_day=end, encounter_class=klass_code)
    if t == "AllergyIntolerance":
        when, day = parse_time(r.get("recordedDate") or _first_time(r, "onset"))
        status = _status_code(r.get("verificationStatus"))
        return Row("allergy", rid, _codes(r.get("code")), _display(r.get("code")), when, day, status,
                   clinical_status=_status_code(r.get("clinicalStatus")))
    return None


def _dropped(row: Row) -> bool:
    """entered-in-error anywhere; a refuted Condition and an Immunization that was not done never happened."""
    if row.status in DROPPED_STATUS or row.clinical_status in DROPPED_STATUS:
        return True
    if row.kind == "condition" and row.status == "refuted":
        return True
    return row.kind == "immunization" and row.status == "not-done"


def load_bundle(path: Path, key: str | None = None) -> RawPerson:
    """Parse one FHIR Bundle file into a RawPerson (key defaults to 'p_' + the first 8 chars of Patient.id)."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    resources = [e.get("resource") or {} for e in bundle.get("entry", []) or []]
    meds: dict[str, dict[str, Any]] = {}
    for e in bundle.get("entry", []) or []:
        r = e.get("resource") or {}
        if r.get("resourceType") == "Medication":
            meds[str(e.get("fullUrl", ""))] = r
            meds[f"Medication/{r.get('id')}"] = r
            meds[str(r.get("id"))] = r
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    names = patient.get("name") or [{}]
    name = " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
    rows = [row for r in resources if (row := _row(r, meds)) is not None and not _dropped(row)]
    return RawPerson(key or "p_" + str(patient.get("id", ""))[:8], name, path, rows)
