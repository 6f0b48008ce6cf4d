"""The sample person as a second provider sees them: an NDJSON FHIR export from a health-information
exchange ('Lakeside Health Network') holding copies of the same clinical facts under its own resource ids,
with clock times a few minutes off and written in UTC. Used to test cross-source de-duplication."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

Resource = dict[str, Any]
NETWORK = "Lakeside Health Network"
MRN_SYSTEM = "urn:example:lakeside-health:mrn"
KEEP = ("Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "MedicationStatement",
        "Immunization", "AllergyIntolerance", "Procedure")
TIME_FIELDS = ("effectiveDateTime", "issued", "authoredOn", "occurrenceDateTime", "onsetDateTime",
               "abatementDateTime", "recordedDate", "performedDateTime", "dateAsserted")
PERIODS = ("period", "effectivePeriod", "performedPeriod")


def _new_id(old: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lakeside/{old}"))


def _shift(stamp: str, minutes: int) -> str:
    """Move a dateTime by some minutes and write it in UTC; a date alone stays a date."""
    if len(stamp) <= 10:
        return stamp
    moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(minutes=minutes)
    return moved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def second_provider(bundle: Resource, seed: int = 42) -> list[Resource]:
    """The bundle's clinical resources re-identified and re-timed as another provider's export."""
    rng = random.Random(seed * 7919 + 1)
    by_url = {e.get("fullUrl"): e["resource"] for e in bundle.get("entry", [])}
    out: list[Resource] = []
    for entry in bundle.get("entry", []):
        res = json.loads(json.dumps(entry["resource"]))
        if res["resourceType"] not in KEEP:
            continue
        res["id"] = _new_id(res["id"])
        if res["resourceType"] == "Patient":
            res["identifier"] = [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                       "code": "MR"}]},
                                  "system": MRN_SYSTEM, "value": "LHN-" + res["id"][:8]}]
            res["managingOrganization"] = {"display": NETWORK}
            out.append(res)
            continue
        minutes = rng.randint(3, 25)
        for key in TIME_FIELDS:
            if isinstance(res.get(key), str):
                res[key] = _shift(res[key], minutes)
        for key in PERIODS:
            for side in ("start", "end"):
                if isinstance((res.get(key) or {}).get(side), str):
                    res[key][side] = _shift(res[key][side], minutes)
        if "medicationReference" in res:
            med = by_url.get(res.pop("medicationReference")["reference"]) or {}
            res["medicationCodeableConcept"] = med.get("code")
        _rewire(res)
        out.append(res)
    return out


def _rewire(res: Resource) -> None:
    """References point at the new ids; organisations and people become display-only references."""
    for key in ("subject", "patient", "encounter"):
        ref = res.get(key)
        if isinstance(ref, dict) and ref.get("reference", "").startswith("urn:uuid:"):
            res[key] = {"reference": f"{'Patient' if key != 'encounter' else 'Encounter'}/"
                                     f"{_new_id(ref['reference'].removeprefix('urn:uuid:'))}"}
    if res["resourceType"] == "Encounter":
        res["serviceProvider"] = {"display": NETWORK}
        res["participant"] = []
    for key in ("performer", "requester", "recorder", "asserter", "informationSource", "resultsInterpreter"):
        res.pop(key, None)
    if res["resourceType"] == "Immunization":
        res["performer"] = [{"actor": {"display": NETWORK, "type": "Organization"}}]
        res.pop("location", None)


def to_ndjson(resources: list[Resource]) -> str:
    """One resource per line."""
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources)
