"""Is this the same person? Identity checks across sources, for 'own records only, one person per profile'.

Each source names the person its own way: a FHIR Patient id, a C-CDA recordTarget id (an OID root plus an
extension), an OMOP person. Two identities are the same person when their keys are equal, or when they come
from different issuers (a second provider, a patient portal) and agree on the full name and the birth
date. Two different ids from the same issuer (or two ids whose issuer is not stated) are two people: that is
the strict rule the profile had before several sources existed, and it still holds within one source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from healthcoach.records.base import PatientInfo

_PUNCT = re.compile(r"[^\w\s]")


def norm_name(name: str | None) -> str:
    """'Ms. María  López' and 'maria lopez' compare equal; titles and punctuation are dropped."""
    if not name:
        return ""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = _PUNCT.sub(" ", plain.casefold()).split()
    return " ".join(w for w in words if w not in {"mr", "mrs", "ms", "miss", "dr", "mx"})


def distinct(a: PatientInfo, b: PatientInfo) -> bool:
    """Certainly two people: two different ids from the same issuer (or both with no issuer stated)."""
    return a.key != b.key and a.issuer == b.issuer


def same_person(a: PatientInfo, b: PatientInfo) -> bool:
    """True when two identities name the same person (see the module docstring for the rule)."""
    if a.key == b.key:
        return True
    if distinct(a, b):
        return False
    return bool(norm_name(a.name) and norm_name(a.name) == norm_name(b.name)
                and a.birth_date is not None and a.birth_date == b.birth_date)


def people(identities: Iterable[PatientInfo]) -> list[list[PatientInfo]]:
    """Group identities into people (each group is one person named by one or more sources)."""
    groups: list[list[PatientInfo]] = []
    for p in identities:
        home = next((g for g in groups if any(same_person(p, q) for q in g)
                     and not any(distinct(p, q) for q in g)), None)
        if home is None:
            groups.append([p])
        elif p not in home:
            home.append(p)
    return groups
