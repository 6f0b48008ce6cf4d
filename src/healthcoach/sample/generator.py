"""A seeded generator of one realistic synthetic person as a FHIR R4 Bundle, plus its ground truth.

The demo and the unit tests use it so a fresh clone works without ../shared. Everything is drawn
from ``random.Random(seed)`` and dated relative to ``today`` (never the wall clock), so one seed
always gives byte-identical JSON: the story below runs in a fixed order, each part drawing from the
same generator. The person and the chart are in sample.person and sample.clinical; the truth is
*computed from the bundle* by sample.truth.compute_truth with the same definitions as
../shared/data/fhir/facts.json, never written by hand.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta
from pathlib import Path

from healthcoach.sample.clinical import Chart
from healthcoach.sample.codes import FLU_CVX as FLU_CVX  # public: the flu family the truth counts
from healthcoach.sample.codes import FLU_VACCINES, RXNORM, SMOKING, SNOMED, Resource, cc, dt
from healthcoach.sample.person import Timeline
from healthcoach.sample.truth import compute_truth

A1C_CURVE = [5.4, 5.5, 5.6, 6.1, 6.4, 6.2, 6.1]  # drifts up, then eases after metformin
FOLLOWUP_A1C = {3: 6.2, 4: 6.5, 5: 6.2}
BLOOD_PRESSURE = [(118, 76), (120, 78), (126, 82), (142, 90), (134, 86), (130, 84), (128, 82)]
SMOKING_BY_YEAR = ["some_day", "some_day", "every_day", "every_day", "every_day", "every_day", "every_day"]


def generate_person(seed: int = 42, today: date = date(2026, 11, 1)) -> tuple[Resource, Resource]:
    """Build the synthetic person for ``seed`` as of ``today``: (FHIR R4 collection Bundle, truth dict).

    Seven yearly wellness visits end 3-7 weeks before ``today``; a pregnancy in the first two years,
    two sick visits, A1c follow-ups every six months once prediabetes is found, a flu shot each autumn.
    """
    rng = random.Random(seed)
    p = Chart(rng, today)
    t = Timeline.draw(rng, today)
    _wellness_years(p, t)
    preg_enc = _pregnancy(p, t)
    bron, back = _sick_visits(p, t)
    metformin_day = _chronic_care(p, t)
    _allergies(p, t)
    _vaccines(p, t)
    _screening(p, t)
    _notes(p, t, preg_enc, bron, back, metformin_day)
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "collection",
        "timestamp": dt(today, "12:00"),
        "entry": p.b.entries,
    }
    return bundle, compute_truth(bundle)


def _wellness_years(p: Chart, t: Timeline) -> None:
    """A wellness visit each year (vitals, smoking, labs); A1c follow-ups once prediabetes is found."""
    rng = t.rng
    for year, day in enumerate(t.wellness):
        enc = t.encounters[day] = p.encounter(day, "wellness", p.gp)
        p.vitals(enc, day, *BLOOD_PRESSURE[year], t.weight_at(day))
        p.social(enc, day, SMOKING_BY_YEAR[year])
        p.lab(enc, day, "hba1c", round(A1C_CURVE[year] + rng.uniform(-0.05, 0.05), 1))
        p.lab(enc, day, "glucose", float(round(88 + (A1C_CURVE[year] - 5.4) * 22 + rng.uniform(-3, 3))))
        p.lipid_panel(enc, day, treated=year >= 4)
        p.metabolic_panel(enc, day)
        if year % 2 == 0:
            p.cbc(enc, day)
        if year == 2:
            p.lab(enc, day, "tsh", round(rng.uniform(1.2, 2.8), 2))
        if year in FOLLOWUP_A1C:
            mid = t.followups[year] = day + timedelta(days=rng.randint(170, 190))
            fenc = t.encounters[mid] = p.encounter(mid, "followup", p.np, ("714628002", "Prediabetes"))
            bp = BLOOD_PRESSURE[year]
            p.vitals(fenc, mid, bp[0] - 2, bp[1] - 1, t.weight_at(mid))
            p.lab(fenc, mid, "hba1c", round(FOLLOWUP_A1C[year] + rng.uniform(-0.05, 0.05), 1))


def _pregnancy(p: Chart, t: Timeline) -> Resource:
    """Prenatal visits, an anatomy ultrasound and Tdap in the third trimester; returns the first visit."""
    rng = t.rng
    preg_enc = None
    for i, day in enumerate(t.prenatal_days):
        enc = t.encounters[day] = p.encounter(
            day, "prenatal_initial" if i == 0 else "prenatal", p.midwife, ("72892002", "Normal pregnancy")
        )
        p.vitals(enc, day, 112 + rng.randint(0, 6), 70 + rng.randint(0, 6), t.weight_at(day))
        if i == 0:
            preg_enc = enc
            p.condition("72892002", "Normal pregnancy", t.conceived + timedelta(weeks=2), enc, abated=t.delivered)
            p.cbc(enc, day, pregnant=True)
            p.observation(
                enc,
                day,
                "social-history",
                "72166-2",
                "Tobacco smoking status",
                valueCodeableConcept=cc(SNOMED, *SMOKING["former"]),
            )
        if i == 2:
            p.procedure(
                "271442007",
                "Fetal anatomy study",
                dt(day, "10:00"),
                dt(day, "10:40"),
                enc,
                "Routine second-trimester anatomy scan",
            )
        if i == 4:
            p.immunize(day, "115", "Tdap", "Riverside Family Medicine")
    assert preg_enc is not None
    return preg_enc


def _sick_visits(p: Chart, t: Timeline) -> tuple[Resource, Resource]:
    """Acute bronchitis (amoxicillin) and low back pain; returns both encounters."""
    sick_bronchitis, sick_back = t.sick_bronchitis, t.sick_back
    bron = t.encounters[sick_bronchitis] = p.encounter(
        sick_bronchitis, "sick", p.np, ("10509002", "Acute bronchitis")
    )
    p.vitals(bron, sick_bronchitis, 124, 80, t.weight_at(sick_bronchitis), fever=True)
    p.condition(
        "10509002",
        "Acute bronchitis",
        sick_bronchitis - timedelta(days=4),
        bron,
        abated=sick_bronchitis + timedelta(days=18),
        category="encounter-diagnosis",
    )
    p.prescribe(
        sick_bronchitis,
        bron,
        "completed",
        "308182",
        "amoxicillin 500 MG Oral Capsule",
        "Take 1 capsule by mouth three times daily for 7 days",
        per_day=3,
        days=7,
    )
    back = t.encounters[sick_back] = p.encounter(sick_back, "sick", p.gp, ("279039007", "Low back pain"))
    p.vitals(back, sick_back, 130, 84, t.weight_at(sick_back))
    p.condition(
        "279039007",
        "Low back pain",
        sick_back - timedelta(days=6),
        back,
        abated=sick_back + timedelta(days=40),
        category="encounter-diagnosis",
    )
    return bron, back


def _chronic_care(p: Chart, t: Timeline) -> date:
    """Chronic conditions and their medicines; returns the day metformin was started."""
    w, encounters = t.wellness, t.encounters
    p.condition("714628002", "Prediabetes", w[3], encounters[w[3]])
    p.condition("59621000", "Essential hypertension", w[3], encounters[w[3]])
    p.condition("55822004", "Hyperlipidemia", w[3], encounters[w[3]])
    p.prescribe(
        w[3],
        encounters[w[3]],
        "active",
        "314076",
        "lisinopril 10 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    )
    p.prescribe(
        w[3],
        encounters[w[3]],
        "active",
        "617310",
        "atorvastatin 20 MG Oral Tablet",
        "Take 1 tablet by mouth once daily at bedtime",
    )
    metformin_day = t.followups[4]  # A1c 6.5 six months after the diagnosis
    metformin = p.b.add(
        {
            "resourceType": "Medication",
            "status": "active",
            "code": cc(RXNORM, "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
        }
    )
    p.prescribe(
        metformin_day,
        encounters[metformin_day],
        "active",
        "860975",
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "Take 1 tablet by mouth once daily with the evening meal",
        medication=metformin,
    )
    p.b.add(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": cc(RXNORM, "636671", "Vitamin D3 1000 UNT Oral Tablet"),
            "subject": p.patient,
            "effectivePeriod": {"start": dt(w[2])},
            "dateAsserted": dt(w[2]),
            "informationSource": p.patient,
            "dosage": [{"text": "1 tablet by mouth once daily"}],
        }
    )
    return metformin_day


def _allergies(p: Chart, t: Timeline) -> None:
    """Peanut known since childhood; hives after the amoxicillin course put penicillin on the list."""
    hives = t.sick_bronchitis + timedelta(days=9)
    for code, display, category, criticality, manifestation, recorded in (
        ("91935009", "Allergy to peanuts", "food", "low", ("271807003", "Eruption of skin"), t.start),
        ("91936005", "Allergy to penicillin", "medication", "high", ("247472004", "Hives"), hives),
    ):
        p.b.add(
            {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": cc(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"
                ),
                "verificationStatus": cc(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "confirmed",
                    "Confirmed",
                ),
                "type": "allergy",
                "category": [category],
                "criticality": criticality,
                "code": cc(SNOMED, code, display),
                "patient": p.patient,
                "recordedDate": dt(recorded),
                "reaction": [{"manifestation": [cc(SNOMED, *manifestation)], "severity": "moderate"}],
            }
        )


def _vaccines(p: Chart, t: Timeline) -> None:
    """Flu shots each autumn (several CVX codes; one season declined at the clinic, given later
    elsewhere) and two COVID-19 doses."""
    rng, start, last = t.rng, t.start, t.last
    codes = list(FLU_VACCINES)
    rng.shuffle(codes)
    declined_year = start.year + 3
    for i, year in enumerate(range(start.year, last.year + 1)):
        day = date(year, 10, rng.randint(2, 27))
        if not start <= day <= last:
            continue
        cvx = codes[i % len(codes)]
        if year == declined_year:
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Riverside Family Medicine", status="not-done")
            day += timedelta(days=rng.randint(20, 30))
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Corner Pharmacy")
        else:
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Riverside Family Medicine")
    covid = start + timedelta(days=rng.randint(420, 460))
    for dose in (covid, covid + timedelta(days=21)):
        p.immunize(
            dose,
            "208",
            "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
            "Corner Pharmacy",
        )


def _screening(p: Chart, t: Timeline) -> None:
    """Screening and preventive procedures: a colonoscopy and a dental cleaning."""
    w, rng = t.wellness, t.rng
    colo = w[5] + timedelta(days=rng.randint(30, 60))
    p.procedure(
        "73761001", "Colonoscopy", dt(colo, "08:00"), dt(colo, "08:45"), None, "Colorectal cancer screening"
    )
    dental = w[4] + timedelta(days=rng.randint(40, 80))
    p.procedure(
        "1260009003",
        "Removal of supragingival plaque and calculus from all teeth using dental instrument (procedure)",
        dt(dental, "14:00"),
        None,
        None,
        "Routine dental cleaning",
    )


def _notes(p: Chart, t: Timeline, preg_enc: Resource, bron: Resource, back: Resource, metformin_day: date) -> None:
    """Clinical notes in plain language (fictional clinicians, no real people)."""
    p.note(
        t.prenatal_days[0],
        preg_enc,
        p.midwife,
        "34117-2",
        "Prenatal intake",
        "Prenatal intake visit at about 9 weeks by dates. Patient feels well apart from mild nausea. "
        "She stopped smoking when she learned she was pregnant. Prenatal vitamins started, CBC drawn, "
        "dating ultrasound scheduled. Follow up in 4 weeks.",
    )
    p.note(
        t.sick_bronchitis,
        bron,
        p.np,
        "11506-3",
        "Cough and fever",
        "Seen for five days of productive cough and low-grade fever. Lungs with scattered rhonchi, no "
        "focal findings. Assessed as acute bronchitis. Amoxicillin for 7 days, fluids and rest; return if "
        "short of breath. Addendum: hives two days after finishing amoxicillin, resolved with an "
        "antihistamine; penicillin allergy added to the chart.",
    )
    p.note(
        t.sick_back,
        back,
        p.gp,
        "11506-3",
        "Low back pain",
        "Lower back pain for six days after lifting boxes at home. No leg weakness or numbness. "
        "Assessed as mechanical low back pain. Advised to stay active, heat, and short course of "
        "over-the-counter pain relief. Physical therapy exercises given.",
    )
    p.note(
        metformin_day,
        t.encounters[metformin_day],
        p.np,
        "11506-3",
        "Prediabetes follow-up",
        "Follow-up for prediabetes. Hemoglobin A1c has risen over the last year. Discussed diet, "
        "walking 30 minutes most days and smoking cessation. Starting metformin extended release "
        "500 mg with the evening meal. Recheck A1c in six months.",
    )
    systolic, diastolic = BLOOD_PRESSURE[-1]
    p.note(
        t.last,
        t.encounters[t.last],
        p.gp,
        "11506-3",
        "Annual wellness visit",
        f"Annual wellness visit. Blood pressure {systolic}/{diastolic} on lisinopril. BMI {p.last_bmi}. "
        "Still smoking about half a pack a day; cessation options discussed again. Fasting labs and "
        "A1c drawn. Flu vaccine offered per season. Continue current medicines.",
    )


def write_person(out_dir: Path, seed: int = 42, today: date | None = None) -> tuple[Path, Resource]:
    """Write <out_dir>/sample_person.json and sample_person.truth.json; return (bundle path, truth).

    ``today`` defaults to the real date so the history stays recent ("last year" means something).
    """
    bundle, truth = generate_person(seed, today or date.today())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "sample_person.json"
    path.write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
    (out_dir / "sample_person.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return path, truth
