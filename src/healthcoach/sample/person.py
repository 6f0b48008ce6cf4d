"""The synthetic person's identity and care team, and how encounters and observations are written.

Every id and value comes from the seeded generator, in a fixed order, so one seed gives identical JSON."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from healthcoach.sample.codes import ENCOUNTER_TYPES, LOINC, OBS_CAT, SNOMED, TZ, UCUM, Resource, cc, dt


class Builder:
    """Accumulates bundle entries; every id comes from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.entries: list[Resource] = []

    def add(self, resource: Resource) -> Resource:
        """Give ``resource`` a seeded uuid id, append it, and return a reference {reference} to it."""
        rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        resource["id"] = rid
        self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return {"reference": f"urn:uuid:{rid}"}


class Person:
    """The story of one person; each method writes the resources of one kind of event."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today, self.b = rng, today, Builder(rng)
        self.birth = date(rng.randint(1979, 1980), rng.randint(1, 12), rng.randint(1, 28))
        self.height = round(rng.uniform(160.0, 168.0), 1)
        self.last_bmi: float = 0.0
        self.patient = self.b.add(
            {
                "resourceType": "Patient",
                "gender": "female",
                "birthDate": self.birth.isoformat(),
                "name": [{"use": "official", "family": "Lopez", "given": ["Maria"], "prefix": ["Ms."]}],
                "address": [
                    {
                        "line": ["418 Willow Creek Road"],
                        "city": "Springfield",
                        "state": "IL",
                        "postalCode": "62704",
                        "country": "US",
                    }
                ],
                "telecom": [{"system": "phone", "value": "555-0142", "use": "home"}],
            }
        )
        self.clinic = self._org("Riverside Family Medicine", "prov", "Healthcare Provider")
        self.lab_org = self._org("Lakeside Lab Services", "other", "Other")
        self.gp = self._practitioner("Elena", "Marsh", "MD")
        self.np = self._practitioner("Samuel", "Okafor", "NP")
        self.midwife = self._practitioner("Priya", "Raman", "CNM")
        self.pathologist = self._practitioner("Daniel", "Cho", "MD")

    def _org(self, name: str, code: str, display: str) -> Resource:
        ref = self.b.add(
            {
                "resourceType": "Organization",
                "active": True,
                "name": name,
                "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", code, display)],
            }
        )
        return {**ref, "display": name}

    def _practitioner(self, given: str, family: str, suffix: str) -> Resource:
        ref = self.b.add(
            {
                "resourceType": "Practitioner",
                "active": True,
                "name": [{"family": family, "given": [given], "suffix": [suffix]}],
            }
        )
        return {**ref, "display": f"{given} {family}, {suffix}"}

    # --- encounters and observations -------------------------------------------------------------
    def encounter(
        self, day: date, kind: str, who: Resource, reason: tuple[str, str] | None = None
    ) -> Resource:
        code, display = ENCOUNTER_TYPES[kind]
        end = datetime.combine(day, datetime.min.time()).replace(hour=10, minute=15)
        enc: Resource = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [cc(SNOMED, code, display)],
            "subject": self.patient,
            "participant": [{"individual": who}],
            "period": {"start": dt(day), "end": f"{end.isoformat()}{TZ}"},
            "serviceProvider": self.clinic,
        }
        if reason:
            enc["reasonCode"] = [cc(SNOMED, *reason)]
        return self.b.add(enc)

    def observation(
        self, enc: Resource, day: date, category: str, code: str, display: str, **value: Any
    ) -> Resource:
        obs: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "category": [cc(OBS_CAT, category, category.replace("-", " ").title())],
            "code": cc(LOINC, code, display),
            "subject": self.patient,
            "encounter": enc,
            "effectiveDateTime": dt(day),
            "issued": dt(day, "16:00"),
            **value,
        }
        return self.b.add(obs)

    def quantity(self, value: float, unit: str) -> Resource:
        return {"value": value, "unit": unit, "system": UCUM, "code": unit}


@dataclass
class Timeline:
    """The dates of the story, drawn first; encounters and follow-ups are filled in as it is told."""

    rng: random.Random
    base_weight: float
    last: date
    wellness: list[date]
    conceived: date
    sick_bronchitis: date
    sick_back: date
    encounters: dict[date, Resource] = field(default_factory=dict)
    followups: dict[int, date] = field(default_factory=dict)

    @classmethod
    def draw(cls, rng: random.Random, today: date) -> Timeline:
        """Seven yearly wellness visits ending 3-7 weeks before today; the pregnancy and sick visits."""
        base_weight = rng.uniform(70.0, 75.0)
        last = today - timedelta(days=rng.randint(21, 49))
        # 366-day steps plus a little slack keep the span over six full years.
        wellness = [last - timedelta(days=366 * k + (rng.randint(0, 15) if k else 0)) for k in range(6, -1, -1)]
        start = wellness[0]
        # Pregnancy: conceived ~13 months after the first visit (she quits smoking), delivered ~39 weeks later.
        conceived = start + timedelta(days=400 + rng.randint(0, 20))
        sick_bronchitis = start + timedelta(days=rng.randint(60, 100))
        sick_back = start + timedelta(days=365 * 4 + rng.randint(120, 180))
        return cls(rng, base_weight, last, wellness, conceived, sick_bronchitis, sick_back)

    @property
    def start(self) -> date:
        return self.wellness[0]

    @property
    def delivered(self) -> date:
        return self.conceived + timedelta(days=273)

    @property
    def prenatal_days(self) -> list[date]:
        return [self.conceived + timedelta(weeks=w) for w in (9, 16, 20, 28, 32, 36)]

    def weight_at(self, day: date) -> float:
        """Slow gain with age, pregnancy gain after week 12, a few kilos kept after delivery."""
        kg = self.base_weight + 0.6 * (day - self.start).days / 365.25 + self.rng.uniform(-0.4, 0.4)
        if self.conceived <= day <= self.delivered:
            kg += max(0.0, (day - self.conceived).days / 7 - 12) * 0.45
        elif day > self.delivered:
            kg += 3.0
        return round(kg, 1)
