"""The canonical record model every adapter maps to. Frozen: a record is a fact as the source stated it."""

from __future__ import annotations

import hashlib
import json
from datetime import date as Date
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    allergy = "allergy"
    medication = "medication"
    immunization = "immunization"
    lab = "lab"
    vital = "vital"
    procedure = "procedure"
    pregnancy = "pregnancy"
    condition = "condition"
    social_history = "social_history"
    encounter = "encounter"
    document = "document"
    wearable = "wearable"
    care_plan = "care_plan"


CATEGORY_TITLES: dict[Category, str] = {
    Category.allergy: "Allergies",
    Category.medication: "Medications",
    Category.immunization: "Vaccines",
    Category.lab: "Lab results",
    Category.vital: "Vitals",
    Category.procedure: "Procedures",
    Category.pregnancy: "Pregnancy",
    Category.condition: "Conditions",
    Category.social_history: "Social history",
    Category.encounter: "Visits",
    Category.document: "Notes",
    Category.wearable: "Wearables",
    Category.care_plan: "Care plans and goals",
}

# Code system URIs → short names used in metadata, the CLI and the concept catalog.
SYSTEMS: dict[str, str] = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "https://ohdsi.org/omop": "OMOP",
}


def system_name(uri: str | None) -> str:
    """Short name of a code system ('LOINC'); unknown systems keep their URI."""
    if not uri:
        return "local"
    return SYSTEMS.get(uri.rstrip("/"), SYSTEMS.get(uri, uri))


class Code(BaseModel):
    model_config = _FROZEN
    system: str = Field(description="Short system name: LOINC, SNOMED, RxNorm, CVX, ICD-10, OMOP, or a URI.")
    code: str
    display: str | None = None

    @property
    def key(self) -> str:
        """'LOINC:4548-4': how codes are indexed and matched."""
        return f"{self.system}:{self.code}"


class Quantity(BaseModel):
    model_config = _FROZEN
    value: float
    unit: str | None = Field(None, description="UCUM unit where the source gives one (mg/dL, %, kg).")
    comparator: str | None = Field(None, description="'<', '<=', '>=', '>' when the source gives one.")

    def display(self) -> str:
        """'7.2 %', '< 0.5 mg/dL'."""
        v = format_number(self.value)
        prefix = f"{self.comparator} " if self.comparator else ""
        return f"{prefix}{v} {self.unit}".strip() if self.unit else f"{prefix}{v}"


class Component(BaseModel):
    model_config = _FROZEN
    label: str
    codes: tuple[Code, ...] = ()
    value: Quantity | None = None
    text: str | None = None


class ReferenceRange(BaseModel):
    model_config = _FROZEN
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    text: str | None = None

    def display(self) -> str:
        """'4.0-5.6 %' or the source's own text."""
        if self.text:
            return self.text
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{format_number(self.low)}-{format_number(self.high)}{unit}"
        if self.low is not None:
            return f">= {format_number(self.low)}{unit}"
        if self.high is not None:
            return f"<= {format_number(self.high)}{unit}"
        return ""


class Source(BaseModel):
    model_config = _FROZEN
    kind: str = Field(description="Adapter: fhir, ccda, omop, fitbit, apple_health, google_fit, manual ...")
    organization: str | None = Field(None, description="Provider or device maker, when known.")
    file: str | None = Field(None, description="File name the record came from (no directories).")
    resource_type: str = Field(description="Source type: Observation, Immunization, sleep log ...")
    resource_id: str = Field(description="Id of the resource in its source.")

    def display(self) -> str:
        """'Example Clinic (FHIR export)'."""
        kind = SOURCE_KINDS.get(self.kind, self.kind.replace("_", " "))
        return f"{self.organization} ({kind})" if self.organization else kind


SOURCE_KINDS = {"fhir": "FHIR export", "ccda": "C-CDA", "omop": "OMOP CDM", "manual": "entered by you"}
# Fields the record store fills in when it reads a record (never part of what a source stated).
STORE_FIELDS = frozenset({"sources", "conflicts"})


class Record(BaseModel):
    """One clinical fact. Dates are clinical dates (never the source's lastUpdated)."""

    model_config = _FROZEN
    id: str
    user_id: str
    category: Category
    label: str = Field(description="What a person would call it: 'Hemoglobin A1c', 'Influenza vaccine'.")
    codes: tuple[Code, ...] = ()
    value: Quantity | None = None
    text: str | None = Field(None, description="A text value: 'Never smoker', dosage instructions, note text.")
    components: tuple[Component, ...] = ()
    reference_range: ReferenceRange | None = None
    interpretation: str | None = None
    status: str | None = None
    start: datetime | None = Field(None, description="Clinical start (effective, occurrence, onset) as stated.")
    end: datetime | None = Field(None, description="Clinical end (period end, abatement), when stated.")
    date: Date | None = Field(None, description="Calendar date of start as written in the source.")
    details: dict[str, str] = Field(default_factory=dict, description="Dosage, reaction, encounter type ...")
    related: tuple[str, ...] = Field((), description="Ids of linked records (a report's results).")
    source: Source
    sources: tuple[Source, ...] = Field(
        (), description="Every source that states this fact, this record's own first; filled by the record store "
                        "(empty on a record fresh from an adapter).")
    conflicts: tuple[str, ...] = Field(
        (), description="Ids of records from other sources that give a different value for the same test and "
                        "time; both are kept and shown side by side.")

    @cached_property
    def content_hash(self) -> str:
        """Hash of everything the source said (not what the store added); unchanged data re-ingests as a no-op."""
        body = self.model_dump(mode="json", exclude=set(STORE_FIELDS))
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]

    def all_sources(self) -> tuple[Source, ...]:
        """The sources stating this record: its own, then any other source's duplicate of it."""
        return self.sources or (self.source,)

    def source_display(self) -> str:
        """'Riverside (FHIR export)' or 'from 2 sources'-style text: '2 sources: Riverside (FHIR export),
        Riverside portal (C-CDA)'. File names are added only where two sources would read the same."""
        srcs = self.all_sources()
        if len(srcs) == 1:
            return srcs[0].display()
        names = [s.display() for s in srcs]
        if len(set(names)) < len(names):
            names = [f"{n[:-1]}, {s.file})" if n.endswith(")") and s.file else n for n, s in zip(names, srcs, strict=True)]
        return f"{len(srcs)} sources: {', '.join(dict.fromkeys(names))}"

    def code_keys(self) -> list[str]:
        """Every code of the record and its components, as 'SYSTEM:code'."""
        keys = [c.key for c in self.codes]
        for comp in self.components:
            keys.extend(c.key for c in comp.codes)
        return keys

    def value_display(self) -> str:
        """The value as a person reads it: '7.2 %', '128/82 mmHg', 'Never smoker'."""
        bp = blood_pressure(self)
        if bp:
            return bp
        if self.value is not None:
            return self.value.display()
        if self.components:
            return "; ".join(
                f"{c.label} {c.value.display() if c.value else (c.text or '')}".strip() for c in self.components
            )
        return self.text or ""


def record_id(user_id: str, kind: str, resource_type: str, resource_id: str) -> str:
    """Stable id: the same resource from the same source for the same user is always the same record."""
    raw = "|".join((user_id, kind, resource_type, resource_id))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def format_number(v: float) -> str:
    """Numbers as a person writes them: 7.2, 120, 27.61 (at most 2 decimals, no trailing zeros)."""
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def blood_pressure(rec: Record) -> str | None:
    """'128/82 mmHg' for a blood-pressure record with systolic and diastolic components."""
    sys_v = dia_v = None
    for comp in rec.components:
        keys = {c.code for c in comp.codes}
        if keys & {"8480-6"} and comp.value:
            sys_v = comp.value.value
        elif keys & {"8462-4"} and comp.value:
            dia_v = comp.value.value
    if sys_v is None or dia_v is None:
        return None
    return f"{format_number(round(sys_v))}/{format_number(round(dia_v))} mmHg"

