"""FHIR R4 adapter: Bundles of any type, NDJSON bulk exports, single resources, folders and zips → Records.

Every resource becomes exactly one record or one counted skip with a reason, so counts reconcile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from healthcoach.errors import IngestError
from healthcoach.records import fhir_types as ft
from healthcoach.records.base import AdapterResult, PatientInfo
from healthcoach.records.fhir_map import MAPPERS, Context, Json, Skip, org_name
from healthcoach.records.files import DEFAULT_MAX_DEPTH, RawFile, parse_json_documents

# Types that carry no clinical fact for the coach; counted as skips with these reasons.
NOT_CLINICAL = {
    "Patient": "identity (kept in the profile, not a record)",
    "Medication": "resolved into the medication records that reference it",
    "Claim": "billing data, not clinical",
    "ExplanationOfBenefit": "billing data, not clinical",
    "Coverage": "insurance data, not clinical",
    "Organization": "directory data",
    "Practitioner": "directory data",
    "PractitionerRole": "directory data",
    "Location": "directory data",
    "Provenance": "provenance metadata",
}
def parse_fhir_files(files: Iterable[RawFile], user_id: str, validate: bool = True,
                     known: dict[str, str] | None = None, max_depth: int = DEFAULT_MAX_DEPTH) -> AdapterResult:
    """Map every resource in the files to records; references resolve across all files of one ingest.

    `known` (record id → content hash already stored) skips strict validation of records that are
    unchanged, so re-syncing an unchanged export costs little. `max_depth` bounds JSON nesting."""
    entries: list[tuple[str, str, Json]] = []  # (file, where, resource)
    ctx = Context(user_id=user_id, file="")
    for raw in files:
        n_before = len(entries)
        for where, obj in parse_json_documents(raw, max_depth):
            for loc, full_url, res in _unpack(where, obj):
                entries.append((raw.name, loc, res))
                for key in _keys(res, full_url):
                    ctx.index.setdefault(key, res)
        if len(entries) == n_before:
            raise IngestError(f"{raw.name}: contains no FHIR resources (an empty Bundle?)")
    for res in ctx.index.values():
        if res.get("resourceType") == "Encounter":
            org = ft.ref_display(res.get("serviceProvider")) or org_name(ctx, res.get("serviceProvider"))
            if org:
                for key in _keys(res, None):
                    ctx.org_of_encounter[key] = org
    result = AdapterResult()
    failed_validation: dict[str, int] = {}
    for file, where, res in entries:
        rtype = str(res.get("resourceType"))
        result.resources_seen[rtype] += 1
        ctx.file = file.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if rtype == "Patient":
            result.patients.append(_patient(res, where))
        mapper = MAPPERS.get(rtype)
        if mapper is None:
            reason = NOT_CLINICAL.get(rtype)
            if reason is None:
                reason = "not used by the coach" if _is_fhir_type(rtype) else "unknown resourceType"
            result.skip(f"{rtype}: {reason}")
            continue
        try:
            record = mapper(res, ctx)
        except Skip as exc:
            result.skip(f"{rtype}: {exc}")
            continue
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            result.skip(f"{rtype}: essential fields unreadable")
            if len(result.warnings) < 20:
                result.warnings.append(f"{where}: {rtype} skipped ({type(exc).__name__})")
            continue
        result.subjects[_subject_key(res, ctx)] += 1
        if validate and (known is None or known.get(record.id) != record.content_hash) and not _valid(rtype, res):
            failed_validation[rtype] = failed_validation.get(rtype, 0) + 1
        result.records.append(record)
    _add_referenced_patients(result, ctx, entries)
    for rtype, n in sorted(failed_validation.items()):
        result.warnings.append(f"{n} {rtype} resource(s) failed strict FHIR R4 validation; kept (essential fields parsed)")
    return result


def _subject_key(res: Json, ctx: Context) -> str:
    """The patient a resource is about, as a PatientInfo key ('fhir:<id>'), or "" when it names none.

    A reference resolves to a Patient resource in the files when there is one; otherwise 'Patient/<id>' and
    'urn:uuid:<id>' (Synthea's form, whose Patient id is the uuid) name the patient by id."""
    reference = ft.ref(res.get("subject") or res.get("patient"))
    if not reference:
        return ""
    target = ctx.resolve(reference)
    if target is not None and target.get("resourceType") == "Patient" and target.get("id"):
        return f"fhir:{target['id']}"
    parts = reference.split("/_history")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Patient":
        return f"fhir:{parts[-1]}"
    if reference.startswith("urn:uuid:") and target is None:
        return f"fhir:{reference.removeprefix('urn:uuid:')}"
    return f"ref:{reference}"  # a subject that is not a Patient (a Group, a Device): not this person


def _add_referenced_patients(result: AdapterResult, ctx: Context, entries: list[tuple[str, str, Json]]) -> None:
    """People named only by reference (no Patient resource in the files) still count for whose records these are."""
    known = {p.key for p in result.patients}
    for _, _, res in entries:
        reference = ft.ref(res.get("subject") or res.get("patient"))
        if not reference or ctx.resolve(reference) is not None:
            continue
        key = _subject_key(res, ctx)
        if key.startswith("fhir:") and key not in known:
            known.add(key)
            result.patients.append(PatientInfo(key=key, resource=False))


def _unpack(where: str, obj: Json) -> Iterable[tuple[str, str | None, Json]]:
    rtype = obj.get("resourceType")
    if not isinstance(rtype, str):
        raise IngestError(f"{where}: not a FHIR resource (no resourceType)")
    if rtype != "Bundle":
        yield where, None, obj
        return
    entries = obj.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise IngestError(f"{where}: Bundle.entry is not a list")
    for i, entry in enumerate(entries or []):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str):
            yield from _unpack(f"{where} entry {i}", res) if res["resourceType"] == "Bundle" else [
                (f"{where} entry {i}", entry.get("fullUrl"), res)
            ]


def _keys(res: Json, full_url: str | None) -> list[str]:
    keys = [full_url] if isinstance(full_url, str) and full_url else []
    if isinstance(res.get("id"), str | int) and res["id"]:
        keys += [f"{res['resourceType']}/{res['id']}", f"urn:uuid:{res['id']}"]
    return keys


def _is_fhir_type(rtype: str) -> bool:
    try:
        get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return False
    return True


def _valid(rtype: str, res: Json) -> bool:
    try:
        get_fhir_model_class(rtype).model_validate(res)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _patient(res: Json, where: str) -> PatientInfo:
    name = None
    names = res.get("name")
    for n in names if isinstance(names, list) else []:
        if isinstance(n, dict):
            given = " ".join(str(g) for g in n.get("given") or [] if isinstance(g, str))
            name = f"{given} {n.get('family', '')}".strip() or n.get("text")
            break
    return PatientInfo(key=f"fhir:{res.get('id')}", name=str(name) if name else None,
                       birth_date=_birth_date(res.get("birthDate"), where),
                       gender=str(res["gender"]) if res.get("gender") is not None else None,
                       issuer=ft.patient_issuer(res))


def _birth_date(raw: object, where: str) -> date | None:
    """Patient.birthDate; a birth date that is written but unreadable, or after today, refuses the import:
    without it the adults-only check cannot be made."""
    if raw is None:
        return None
    born = ft.parse_datetime(raw)
    if born is None:
        raise IngestError(f"{where}: Patient.birthDate is not a date (write YYYY-MM-DD); healthcoach needs it to "
                          "check these are an adult's own records. Nothing was stored")
    if born[1] > date.today() + timedelta(days=1):
        raise IngestError(f"{where}: Patient.birthDate {born[1].isoformat()} is in the future; nothing was stored")
    return born[1]


def birth_date_age(born: date, today: date) -> int:
    """Age in whole years on a given day."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
