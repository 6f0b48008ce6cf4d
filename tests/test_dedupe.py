"""Cross-source identity of records: the same fact from two sources is one record; a different value for
the same test at the same time is a conflict (both kept); one source is never merged with itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from healthcoach.records.dedupe import find_links, same_quantity, time_match
from healthcoach.records.models import Category, Code, Component, Quantity, Record, Source

WINDOW = timedelta(minutes=120)
EST = timezone(timedelta(hours=-5))


def rec(rid: str, kind: str = "fhir", file: str = "clinic.json", *, code: str = "4548-4", system: str = "LOINC",
        value: float | None = 6.1, unit: str | None = "%", at: datetime | None = None,
        category: Category = Category.lab, **kw: Any) -> Record:
    at = at or datetime(2025, 3, 22, 9, 30, tzinfo=EST)
    return Record(id=rid, user_id="u", category=category, label=kw.pop("label", "Hemoglobin A1c"),
                  codes=(Code(system=system, code=code),), value=Quantity(value=value, unit=unit) if value is not None
                  else None, start=at, date=kw.pop("day", at.date()),
                  source=Source(kind=kind, file=file, resource_type="Observation", resource_id=rid), **kw)


def kinds(links: list[Any]) -> dict[str, str]:
    return {link.record_id: f"{link.kind}->{link.other_id}" for link in links}


def test_same_result_from_a_portal_document_and_a_second_provider_is_one_record() -> None:
    clinic = rec("a")
    portal = rec("b", "ccda", "portal.xml", at=datetime(2025, 3, 22, 14, 37, tzinfo=UTC))  # 7 min later, in UTC
    lab = rec("c", "fhir", "lab.ndjson", value=6.12, at=datetime(2025, 3, 22, 9, 41, tzinfo=EST))
    links = find_links([portal, lab, clinic], WINDOW)
    assert kinds(links) == {"b": "duplicate->a", "c": "duplicate->a"}
    why = {link.record_id: link.reason for link in links}
    assert why["b"] == "same LOINC:4548-4, 7 minutes apart, same value 6.1 %"


def test_different_values_for_the_same_test_and_time_are_a_conflict_both_kept() -> None:
    links = find_links([rec("a"), rec("b", "ccda", "portal.xml", value=6.4)], WINDOW)
    assert kinds(links) == {"b": "conflict->a"}
    assert "6.1 % from" in links[0].reason and "vs 6.4 % from" in links[0].reason


def test_one_source_is_never_merged_with_itself() -> None:
    assert find_links([rec("a"), rec("b")], WINDOW) == []  # the same file states it twice: both stay


def test_two_downloads_of_a_portal_document_under_one_file_name_are_two_sources() -> None:
    first = rec("a", "ccda", "MyChart_CCD.xml").model_copy(update={"source": Source(
        kind="ccda", file="MyChart_CCD.xml", resource_type="Result", resource_id="doc-2024/e1")})
    again = rec("b", "ccda", "MyChart_CCD.xml").model_copy(update={"source": Source(
        kind="ccda", file="MyChart_CCD.xml", resource_type="Result", resource_id="doc-2025/e9")})
    assert kinds(find_links([first, again], WINDOW)) == {"b": "duplicate->a"}


def test_outside_the_time_window_is_another_result() -> None:
    later = rec("b", "ccda", "p.xml", at=datetime(2025, 3, 22, 13, 0, tzinfo=EST))
    assert find_links([rec("a"), later], WINDOW) == []
    assert find_links([rec("a"), later], timedelta(hours=4)) != []


def test_a_date_only_record_matches_a_timed_one_on_the_same_calendar_day() -> None:
    dated = rec("b", "omop", "cdm", at=datetime(2025, 3, 22, tzinfo=UTC))
    assert kinds(find_links([rec("a"), dated], WINDOW)) == {"b": "duplicate->a"}
    next_day = rec("c", "omop", "cdm", at=datetime(2025, 3, 23, tzinfo=UTC))
    assert find_links([rec("a"), next_day], WINDOW) == []


def test_month_precision_compares_by_month() -> None:
    shot = dict(code="141", system="CVX", value=None, category=Category.immunization, label="Influenza")
    a = rec("a", **shot, at=datetime(1999, 11, 14, 10, tzinfo=EST))  # type: ignore[arg-type]
    b = rec("b", "ccda", "d.xml", **shot, at=datetime(1999, 11, 1, tzinfo=UTC),  # type: ignore[arg-type]
            details={"date_precision": "month"})
    assert time_match(a, b, WINDOW) == "same month"
    assert kinds(find_links([a, b], WINDOW)) == {"b": "duplicate->a"}


def test_units_are_normalised_before_comparing() -> None:
    assert same_quantity(Quantity(value=70.0, unit="kg"), Quantity(value=154.32, unit="[lb_av]"))
    assert same_quantity(Quantity(value=120, unit="mm[Hg]"), Quantity(value=120, unit="mmHg"))
    assert same_quantity(Quantity(value=37.0, unit="Cel"), Quantity(value=98.6, unit="[degF]"))
    assert not same_quantity(Quantity(value=5.4, unit="mmol/L"), Quantity(value=97, unit="mg/dL"))
    assert not same_quantity(Quantity(value=6.1, unit="%"), Quantity(value=6.2, unit="%"))


def test_blood_pressure_panels_match_by_their_readings() -> None:
    def bp(rid: str, kind: str, code: str, sys_v: float) -> Record:
        comps = tuple(Component(label=n, codes=(Code(system="LOINC", code=c),), value=Quantity(value=v, unit="mm[Hg]"))
                      for n, c, v in (("Systolic", "8480-6", sys_v), ("Diastolic", "8462-4", 80)))
        return rec(rid, kind, f"{kind}.file", code=code, value=None, category=Category.vital, components=comps)

    assert kinds(find_links([bp("a", "fhir", "85354-9", 120), bp("b", "ccda", "55284-4", 120)], WINDOW)) == {
        "b": "duplicate->a"}
    assert kinds(find_links([bp("a", "fhir", "85354-9", 120), bp("b", "ccda", "85354-9", 135)], WINDOW)) == {
        "b": "conflict->a"}


def test_conditions_and_medications_match_on_code_and_time_whatever_their_wording() -> None:
    med = dict(code="314076", system="RxNorm", value=None, category=Category.medication)
    a = rec("a", **med, label="lisinopril 10 MG Oral Tablet", text="Take 1 tablet by mouth once daily")  # type: ignore[arg-type]
    b = rec("b", "ccda", "p.xml", **med, label="Lisinopril 10mg tab", text="1 tablet, oral, every 24 h")  # type: ignore[arg-type]
    assert kinds(find_links([a, b], WINDOW)) == {"b": "duplicate->a"}


def test_notes_merge_only_when_their_text_is_the_same() -> None:
    note = dict(code="11506-3", value=None, category=Category.document, label="Progress note")
    a = rec("a", **note, text="Seen for cough.")  # type: ignore[arg-type]
    same = rec("b", "ccda", "p.xml", **note, text="  seen for   cough. ")  # type: ignore[arg-type]
    other = rec("c", "ccda", "q.xml", **note, text="Follow-up for back pain.")  # type: ignore[arg-type]
    assert kinds(find_links([a, same, other], WINDOW)) == {"b": "duplicate->a"}


def test_fhir_is_shown_over_ccda_and_the_fuller_export_over_a_partial_one() -> None:
    portal = rec("a-portal", "ccda", "p.xml")
    clinic = rec("z-clinic", "fhir", "clinic.json")
    extra = rec("y-extra", "fhir", "clinic.json", code="2093-3", value=180, unit="mg/dL")
    partial = rec("b-partial", "fhir", "partial.ndjson")
    links = find_links([portal, partial, clinic, extra], WINDOW)
    assert kinds(links) == {"a-portal": "duplicate->z-clinic", "b-partial": "duplicate->z-clinic"}


def test_wearable_days_are_left_to_their_own_reconciliation() -> None:
    a = rec("a", "fitbit", "f.json", category=Category.wearable, code="55423-8", value=8000, unit="{steps}")
    b = rec("b", "apple_health", "export.xml", category=Category.wearable, code="55423-8", value=9000, unit="{steps}")
    assert find_links([a, b], WINDOW) == []


def test_undated_records_with_the_same_code_from_two_sources_merge() -> None:
    a = rec("a", value=None, category=Category.allergy, code="91936005", system="SNOMED")
    a = a.model_copy(update={"start": None, "date": None})
    b = a.model_copy(update={"id": "b", "source": Source(kind="ccda", file="p.xml", resource_type="Allergy",
                                                          resource_id="b")})
    assert kinds(find_links([a, b], WINDOW)) == {"b": "duplicate->a"}  # identity rests on the code alone
