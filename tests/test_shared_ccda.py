"""All five shared HL7 C-CDA example documents ingest; per document, the stored records per category equal
the entries the XML holds (counted here with plain ElementTree paths, not with the adapter's code) minus
the skips the ingest reported for that category."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import require_shared, settings_for
from healthcoach.container import build_stores

H = "{urn:hl7-org:v3}"
S = "2.16.840.1.113883.10.20.22.2."
ALLERGY_OBS, PROBLEM_OBS = "2.16.840.1.113883.10.20.22.4.7", "2.16.840.1.113883.10.20.22.4.4"
# Section template → category, from the C-CDA R2.1 implementation guide's section list.
CATEGORY = {
    **dict.fromkeys([S + "3", S + "3.1"], "lab"), **dict.fromkeys([S + "4", S + "4.1"], "vital"),
    **dict.fromkeys([S + "1", S + "1.1", S + "11", S + "11.1", S + "44", S + "38"], "medication"),
    **dict.fromkeys([S + "2", S + "2.1"], "immunization"), **dict.fromkeys([S + "6", S + "6.1"], "allergy"),
    **dict.fromkeys([S + "5", S + "5.1", S + "20", S + "24", S + "43"], "condition"),
    **dict.fromkeys([S + "7", S + "7.1"], "procedure"), **dict.fromkeys([S + "22", S + "22.1"], "encounter"),
    S + "17": "social_history",
    **dict.fromkeys([S + "10", S + "58", S + "60", S + "61", "2.16.840.1.113883.10.20.21.2.3"], "plan"),
    S + "65": "notes",
}
# Where a pregnancy record came from, it is counted in that section's category.
BUCKET = {"Problem": "condition", "Social history": "social_history", "Result": "lab", "Vital sign": "vital"}


def n(sec: ET.Element, path: str) -> int:
    return len(sec.findall("/".join(H + step for step in path.split("/"))))


def concern_units(sec: ET.Element, template: str) -> int:
    """Observations in a concern act that are allergies/problems themselves (no template counts too)."""
    found = sec.findall(f"{H}entry/{H}act/{H}entryRelationship/{H}observation")
    roots = [{t.get("root") for t in o.findall(f"{H}templateId")} for o in found]
    return sum(1 for r in roots if not r or template in r) + n(sec, "entry/observation")


def expected_units(path: Path) -> Counter[str]:
    """What the document holds, per category, counted from the XML."""
    out: Counter[str] = Counter()
    for sec in ET.parse(path).getroot().iter(H + "section"):
        roots = {t.get("root") for t in sec.findall(H + "templateId")}
        cat = next((CATEGORY[r] for r in roots if r in CATEGORY), None)
        entries = n(sec, "entry")
        if cat is None or entries == 0:
            out["document"] += 1  # a section read as a note (its coded entries, if any, are not imported)
        elif cat in ("lab", "vital"):
            out[cat] += n(sec, "entry/organizer/component/observation") + n(sec, "entry/observation")
        elif cat == "medication":
            out[cat] += n(sec, "entry/substanceAdministration") + n(sec, "entry/act/entryRelationship/substanceAdministration")
        elif cat == "allergy":
            out[cat] += concern_units(sec, ALLERGY_OBS)
        elif cat == "condition":
            out[cat] += concern_units(sec, PROBLEM_OBS)
        elif cat == "procedure":
            out[cat] += n(sec, "entry/procedure") + n(sec, "entry/observation") + n(sec, "entry/act")
        elif cat == "immunization":
            out[cat] += n(sec, "entry/substanceAdministration")
        elif cat == "encounter":
            out[cat] += n(sec, "entry/encounter")
        elif cat == "social_history":
            out[cat] += n(sec, "entry/observation")
        elif cat == "plan":
            out["document"] += entries
        else:
            out["document"] += n(sec, "entry/act")
    return out


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, embedder: Any):  # type: ignore[no-untyped-def]
    folder = require_shared("data/ccda")
    stores = build_stores(settings_for(tmp_path_factory.mktemp("ccda")), embedder=embedder)
    docs = sorted(folder.glob("*.xml"))
    reports = {d.name: stores.ingestor.ingest(d.stem.lower(), [d]) for d in docs}
    return stores, docs, reports


def test_all_five_documents_ingest(documents: Any) -> None:
    _stores, docs, reports = documents
    assert len(docs) == 5
    for name, report in reports.items():
        assert report.total_records > 0 and report.files == [name]
        assert not [w for w in report.warnings if "skipped" in w], (name, report.warnings)


def test_stored_counts_per_category_equal_xml_entries_minus_reported_skips(documents: Any) -> None:
    stores, docs, reports = documents
    for doc in docs:
        skipped: Counter[str] = Counter()
        for reason, count in reports[doc.name].skipped.items():
            skipped[reason.split(":", 1)[0]] += count
        stored: Counter[str] = Counter()
        for rec in stores.records.query(doc.stem.lower()):
            cat = str(rec.category)
            stored[BUCKET.get(rec.source.resource_type, cat) if cat == "pregnancy" else cat] += 1
        expected = expected_units(doc)
        for cat in set(expected) | set(stored):
            assert stored[cat] == expected[cat] - skipped[cat], (doc.name, cat, stored[cat], expected[cat], skipped[cat])


def test_the_document_patient_goes_through_the_identity_check(documents: Any) -> None:
    stores, _docs, _ = documents
    user = stores.records.get_user("discharge_summary")
    assert (user.patient_name, user.birth_date) == ("Isabella Jones", "2005-05-01")
    with pytest.raises(Exception, match="different person"):
        stores.ingestor.ingest("discharge_summary", [require_shared("data/ccda") / "Progress_Note.xml"])


def test_a_month_precise_flu_shot_is_told_as_a_month(documents: Any) -> None:
    from healthcoach.container import build_coach

    stores, _docs, _ = documents
    stores.records.set_consent("ccd_1", records=True)
    coach = build_coach(stores.settings, stores)
    reply = coach.ask("ccd_1", "When was my last flu shot?")
    assert reply.citations and reply.citations[0].label.startswith("influenza")
    assert "November 1999" in reply.text and "November 1, 1999" not in reply.text
    assert "not given are not counted" in reply.text  # the negated (refused) dose is not a shot
