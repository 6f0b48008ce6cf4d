"""C-CDA documents as a patient portal sends them: codes with translations and nullFlavor, PQ/CD/ST values,
time-zone offsets and partial dates kept at their precision, notes from narrative-only sections, planned
tests that never pass for results, and a broken file refused with its line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from healthcoach.container import Stores
from healthcoach.errors import IngestError
from healthcoach.records.ccda import load_ccda
from healthcoach.records.models import Category

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <templateId root="2.16.840.1.113883.10.20.22.1.2" extension="2015-08-01"/>
  <id root="1.2.3.4.5" extension="doc-7"/>
  <code code="34133-9" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Summary</title>
  <effectiveTime value="20240601120000-0400"/>
  <recordTarget><patientRole>
    <id root="2.16.840.1.113883.4.1" extension="999-99-9999"/>
    <id root="1.2.3.4.9" extension="MRN-42"/>
    <patient><name use="L"><given>Ruth</given><family>Okonkwo</family></name>
      <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="19680211"/></patient>
  </patientRole></recordTarget>
  <custodian><assignedCustodian><representedCustodianOrganization><name>Harbor Clinic portal</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody>
    <component><section>
      <templateId root="2.16.840.1.113883.10.20.22.2.3.1"/><title>Results</title>
      <text><table><tbody><tr><td ID="r3">Glucose, fasting</td><td>102</td></tr></tbody></table></text>
      <entry><organizer classCode="BATTERY" moodCode="EVN">
        <code code="4548-4" codeSystem="2.16.840.1.113883.6.1" displayName="HbA1c panel"/>
        <effectiveTime><low value="201403051015-0500"/></effectiveTime>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="4548-4" codeSystem="2.16.840.1.113883.6.1" displayName="Hemoglobin A1c">
            <translation code="43396009" codeSystem="2.16.840.1.113883.6.96" displayName="Haemoglobin A1c measurement"/>
          </code>
          <statusCode code="completed"/><effectiveTime value="201403051015-0500"/>
          <value xsi:type="PQ" value="6.1" unit="%"/>
          <interpretationCode code="H" codeSystem="2.16.840.1.113883.5.83" displayName="High"/>
          <referenceRange><observationRange><value xsi:type="IVL_PQ"><low value="4" unit="%"/><high value="5.6" unit="%"/>
          </value></observationRange></referenceRange>
        </observation></component>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="2345-7" codeSystem="2.16.840.1.113883.6.1" displayName="Glucose"/>
          <effectiveTime value="201403051015-0500"/><value xsi:type="PQ" nullFlavor="NI"/>
        </observation></component>
        <component><observation classCode="OBS" moodCode="EVN">
          <code nullFlavor="OTH"><originalText><reference value="#r3"/></originalText></code>
          <effectiveTime value="20140305"/><value xsi:type="ST">102 mg/dL (fasting)</value>
        </observation></component>
      </organizer></entry>
    </section></component>
    <component><section>
      <templateId root="2.16.840.1.113883.10.20.22.2.2.1"/><title>Immunizations</title><text>Flu shot</text>
      <entry><substanceAdministration classCode="SBADM" moodCode="EVN" negationInd="false">
        <effectiveTime value="201410"/>
        <consumable><manufacturedProduct><manufacturedMaterial>
          <code code="141" codeSystem="2.16.840.1.113883.12.292" displayName="Influenza, seasonal, injectable"/>
        </manufacturedMaterial></manufacturedProduct></consumable>
      </substanceAdministration></entry>
    </section></component>
    <component><section>
      <templateId root="2.16.840.1.113883.10.20.22.2.5.1"/><title>Problems</title><text>Type 2 diabetes</text>
      <entry><act classCode="ACT" moodCode="EVN"><code code="CONC" codeSystem="2.16.840.1.113883.5.6"/>
        <statusCode code="active"/>
        <entryRelationship typeCode="SUBJ"><observation classCode="OBS" moodCode="EVN">
          <templateId root="2.16.840.1.113883.10.20.22.4.4"/>
          <code code="55607006" codeSystem="2.16.840.1.113883.6.96"/>
          <effectiveTime><low value="2012"/></effectiveTime>
          <value xsi:type="CD" nullFlavor="OTH"><originalText>Type 2 diabetes</originalText>
            <translation code="E11.9" codeSystem="2.16.840.1.113883.6.90" displayName="Type 2 diabetes mellitus"/>
          </value>
        </observation></entryRelationship>
      </act></entry>
    </section></component>
    <component><section>
      <templateId root="2.16.840.1.113883.10.20.22.2.17"/><title>Social history</title><text>Former smoker</text>
      <entry><observation classCode="OBS" moodCode="EVN">
        <templateId root="2.16.840.1.113883.10.20.22.4.78"/>
        <code code="72166-2" codeSystem="2.16.840.1.113883.6.1"/><effectiveTime value="20240601"/>
        <value xsi:type="CD" code="8517006" codeSystem="2.16.840.1.113883.6.96" displayName="Former smoker"/>
      </observation></entry>
    </section></component>
    <component><section>
      <templateId root="2.16.840.1.113883.10.20.22.2.10"/><title>Plan of treatment</title><text>Recheck A1c</text>
      <entry><observation classCode="OBS" moodCode="RQO">
        <code code="4548-4" codeSystem="2.16.840.1.113883.6.1" displayName="Hemoglobin A1c"/>
        <effectiveTime value="20240901"/>
      </observation></entry>
    </section></component>
    <component><section>
      <code code="10164-2" codeSystem="2.16.840.1.113883.6.1" displayName="History of present illness"/>
      <title>HISTORY OF PRESENT ILLNESS</title>
      <text><paragraph>Feels well.</paragraph><paragraph>Walking 30 minutes most days.</paragraph></text>
    </section></component>
    <component><section nullFlavor="NI">
      <templateId root="2.16.840.1.113883.10.20.22.2.1.1"/><title>Medications</title><text>No information</text>
    </section></component>
  </structuredBody></component>
</ClinicalDocument>
"""


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "portal_summary.xml"
    path.write_text(DOC, encoding="utf-8")
    return path


def by_label(path: Path) -> dict[str, object]:
    result, _ = load_ccda(path, "ruth", 10_000_000)
    return {r.label: r for r in result.records}


def test_result_keeps_codes_translation_unit_range_and_time_zone(doc: Path) -> None:
    a1c = by_label(doc)["Hemoglobin A1c"]
    assert [c.key for c in a1c.codes] == ["LOINC:4548-4", "SNOMED:43396009"]  # type: ignore[attr-defined]
    assert a1c.value.display() == "6.1 %" and a1c.interpretation == "High"  # type: ignore[attr-defined]
    assert a1c.reference_range.display() == "4-5.6 %"  # type: ignore[attr-defined]
    assert a1c.start == datetime(2014, 3, 5, 15, 15, tzinfo=UTC)  # type: ignore[attr-defined]
    assert a1c.date.isoformat() == "2014-03-05"  # type: ignore[attr-defined]
    assert a1c.source.display() == "Harbor Clinic portal (C-CDA)"  # type: ignore[attr-defined]


def test_string_value_and_label_from_the_narrative_when_the_code_is_null(doc: Path) -> None:
    glucose = by_label(doc)["Glucose, fasting"]
    assert glucose.text == "102 mg/dL (fasting)" and glucose.codes == ()  # type: ignore[attr-defined]


def test_partial_dates_keep_their_precision(doc: Path) -> None:
    records = by_label(doc)
    flu, diabetes = records["Influenza, seasonal, injectable"], records["Type 2 diabetes"]
    assert (flu.date.isoformat(), flu.details["date_precision"]) == ("2014-10-01", "month")  # type: ignore[attr-defined]
    assert (diabetes.date.isoformat(), diabetes.details["date_precision"]) == ("2012-01-01", "year")  # type: ignore[attr-defined]
    assert [c.key for c in diabetes.codes] == ["ICD-10:E11.9"]  # type: ignore[attr-defined]  # nullFlavor code, kept translation


def test_every_unit_is_a_record_or_a_counted_skip(doc: Path) -> None:
    result, files = load_ccda(doc, "ruth", 10_000_000)
    assert files == ["portal_summary.xml"]
    assert dict(result.skipped) == {"lab: no value given (nullFlavor NI)": 1,
                                    "document: a section marked 'no information' (NI)": 1}
    assert sorted(str(r.category) for r in result.records) == [
        "condition", "document", "document", "immunization", "lab", "lab", "social_history"]
    patient = result.patients[0]
    assert (patient.name, patient.birth_date.isoformat(), patient.key) == (  # type: ignore[union-attr]
        "Ruth Okonkwo", "1968-02-11", "ccda:1.2.3.4.9:MRN-42")  # the SSN is never used as the identity


def test_a_narrative_only_section_becomes_a_note(doc: Path) -> None:
    note = by_label(doc)["History of present illness"]
    assert note.category is Category.document  # type: ignore[attr-defined]
    assert note.text == "Feels well.\nWalking 30 minutes most days."  # type: ignore[attr-defined]
    assert note.date.isoformat() == "2024-06-01"  # type: ignore[attr-defined]  # the document's date


def test_a_planned_test_is_a_plan_note_never_a_result(make_stores: Callable[..., Stores], doc: Path) -> None:
    stores = make_stores()
    stores.ingestor.ingest("ruth", [doc])
    plan = [r for r in stores.records.query("ruth", categories=[Category.document]) if r.label.startswith("Planned")]
    assert [(p.label, p.status, p.codes) for p in plan] == [("Planned: Hemoglobin A1c", "planned", ())]
    a1c = stores.records.query("ruth", code_keys=["LOINC:4548-4"])
    assert [(r.value.value if r.value else None, r.date.isoformat() if r.date else None) for r in a1c] == [
        (6.1, "2014-03-05")]


def test_truncated_document_is_refused_with_its_line_and_nothing_stored(make_stores: Callable[..., Stores],
                                                                        tmp_path: Path, doc: Path) -> None:
    stores = make_stores()
    stores.ingestor.ingest("ruth", [doc])
    before = stores.records.snapshot("ruth")
    broken = tmp_path / "broken.xml"
    broken.write_text(DOC[: len(DOC) // 2], encoding="utf-8")
    with pytest.raises(IngestError, match=r"broken\.xml: not well-formed XML at line \d+"):
        stores.ingestor.ingest("ruth", [broken])
    assert stores.records.snapshot("ruth") == before


def test_an_xml_file_that_is_not_a_clinical_document_is_named(tmp_path: Path) -> None:
    other = tmp_path / "notes.xml"
    other.write_text("<?xml version='1.0'?><notes><note>hi</note></notes>", encoding="utf-8")
    with pytest.raises(IngestError, match=r"notes\.xml: not a C-CDA document"):
        load_ccda(other, "u", 10_000)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + DOC.split("?>", 1)[1], encoding="utf-8")
    with pytest.raises(IngestError, match="entity declarations are not accepted"):
        load_ccda(bomb, "u", 10_000_000)
