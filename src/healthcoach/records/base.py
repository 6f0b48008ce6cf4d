"""What every adapter returns: records plus an honest account of what it skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from healthcoach.records.models import Record


@dataclass(frozen=True)
class PatientInfo:
    """Who a file is about: used to refuse a second person, a minor, or someone else's records."""

    key: str  # stable identity: source kind + patient resource id (or identifier)
    name: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    issuer: str | None = None  # who assigned the id (identifier system, OID root); None when not stated
    resource: bool = True  # False: known only from a reference (no Patient resource in the files)


@dataclass
class AdapterResult:
    """Records from one file (or folder), the people it names, and every skip counted by reason."""

    records: list[Record] = field(default_factory=list)
    patients: list[PatientInfo] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    resources_seen: Counter[str] = field(default_factory=Counter)
    # FHIR records by the patient they are about ("fhir:<id>", "" when a resource names no subject).
    subjects: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, n: int = 1) -> None:
        """Count a skipped item under a reason a person can read ('Claim: not clinical data')."""
        self.skipped[reason] += n

    def extend(self, other: AdapterResult) -> None:
        """Merge another file's result into this one."""
        self.records.extend(other.records)
        for p in other.patients:
            if p not in self.patients:
                self.patients.append(p)
        self.skipped.update(other.skipped)
        self.warnings.extend(other.warnings)
        self.resources_seen.update(other.resources_seen)
        self.subjects.update(other.subjects)
