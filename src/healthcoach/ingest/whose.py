"""Whose records these are: own records only, adults only, one person per profile.

The checks read who the files say they are about: the Patient resource when the files hold one (name,
birth date), else the patient every record's subject names. A file without its Patient resource cannot
prove an age or an identity, so it is accepted only for a profile that already holds that same patient
(proved by an earlier import that had the Patient), never as a first import: leaving the Patient out must
not be a way around the adult-only and own-records rules.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from healthcoach.errors import Forbidden, IngestError
from healthcoach.records.base import AdapterResult, PatientInfo
from healthcoach.records.fhir import birth_date_age
from healthcoach.records.identity import distinct, people, same_person
from healthcoach.store.schema import UserRow

NO_PATIENT = ("these files have no Patient resource, so healthcoach cannot check that they are your own "
              "records or that you are an adult (nothing was stored); import the complete export, which "
              "includes the Patient")
NOT_YOURS = ("these records are for a different person than the ones already in this profile (nothing was "
             "stored); create a separate user for them")


def check_person(result: AdapterResult, user: UserRow | None, known: list[PatientInfo], min_age: int,
                 today: date) -> None:
    """Raise Forbidden (IngestError for several people) unless these are the profile's own adult records.

    `known`: the identities the profile already accepted (one person can carry ids from several issuers: a
    FHIR export and a portal's C-CDA name the same person differently)."""
    groups = people(result.patients)
    if len(groups) > 1:
        raise IngestError(
            f"these files describe {len(groups)} different people; a profile holds one person's own records"
        )
    if sum(result.subjects.values()) and not any(p.resource for p in result.patients):
        _check_without_patient(result.subjects, user, {k.key for k in known})
    if not result.patients:
        return
    p = _best(result.patients)
    if p.birth_date is not None and birth_date_age(p.birth_date, today) < min_age:
        raise Forbidden(
            f"these records belong to someone under {min_age}; healthcoach only accepts an adult's own "
            "records (nothing was stored)"
        )
    if user is None:
        return
    # Every identity must fit the profile's person, and none may be another id from the same issuer.
    if known and (any(distinct(q, k) for q in result.patients for k in known)
                  or not any(same_person(q, k) for q in result.patients for k in known)):
        raise Forbidden(NOT_YOURS)
    if user.birth_date and p.birth_date and user.birth_date != p.birth_date.isoformat():
        raise Forbidden("the birth date in these records differs from this profile's (nothing was stored)")


def identity(result: AdapterResult) -> PatientInfo | None:
    """The person a Patient resource in the files describes (what a profile records), or None."""
    found = [p for p in result.patients if p.resource]
    return _best(found) if found else None


def _best(patients: list[PatientInfo]) -> PatientInfo:
    """The entry that says the most: a Patient resource with a birth date first."""
    return next((q for q in patients if q.resource and q.birth_date is not None),
                next((q for q in patients if q.resource), patients[0]))


def _check_without_patient(subjects: Counter[str], user: UserRow | None, known: set[str]) -> None:
    """FHIR records without their Patient: every one must name the profile's own, already proven patient."""
    own = known | ({user.patient_key} if user is not None and user.patient_key else set())
    if not own:
        raise Forbidden(NO_PATIENT)
    if subjects.get("", 0):
        raise Forbidden(
            f"{subjects['']} resource(s) in these files name no patient and there is no Patient resource, so "
            "healthcoach cannot check whose records they are (nothing was stored); import the complete export"
        )
    if any(key not in own for key in subjects):
        raise Forbidden(NOT_YOURS)
