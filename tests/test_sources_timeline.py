"""One person, three sources: the clinic's FHIR Bundle, the patient portal's C-CDA and a second provider's
NDJSON (other ids, clocks a few minutes off, in UTC). Together they read exactly like the FHIR alone: the
same counts, the same answers, no '2 results on the same day' — and every answer says where it came from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import TODAY, settings_for
from healthcoach.cli import app
from healthcoach.container import Stores, build_coach, build_stores
from healthcoach.privacy import disconnect_source
from healthcoach.privacy.export import collect
from healthcoach.sample.second_provider import to_ndjson
from healthcoach.sample.sources import write_person_sources

SEED_QUESTIONS = ["What's my A1c?", "When was my last flu shot?", "Summarize my medical records",
                  "What medications am I on?"]
SAME_DAY = re.compile(r"were recorded|results are from", re.I)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Any]]:
    return write_person_sources(tmp_path_factory.mktemp("three"), seed=42, today=TODAY)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory, embedder: Any, sources: Any):  # type: ignore[no-untyped-def]
    """(coach, stores, report, data dir): all three sources ingested in one go as user 'maria3'."""
    paths, _truth = sources
    home = tmp_path_factory.mktemp("timeline")
    stores = build_stores(settings_for(home, ingest={"min_age": 18}), embedder=embedder)
    report = stores.ingestor.ingest("maria3", list(paths.values()))
    stores.records.set_consent("maria3", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    return coach, stores, report, home


def facts(reply: Any) -> list[tuple[str | None, str | None, str | None]]:
    """What an answer states, source aside: (label, value, date) of each citation, in order of use."""
    return sorted((c.label, c.value, c.date) for c in reply.citations)


def test_three_sources_store_every_record_but_count_each_fact_once(timeline: Any, sample_coach: Any) -> None:
    _coach, stores, report, _ = timeline
    _fhir_coach, fhir_stores, _truth = sample_coach
    assert stores.records.record_counts("maria3") == fhir_stores.records.record_counts("maria")
    assert report.merged == sum(n for _k, f, n in stores.records.sources("maria3") if f != "sample_person.json")
    assert report.conflicts == 0
    assert {(k, f) for k, f, _n in stores.records.sources("maria3")} == {
        ("fhir", "sample_person.json"), ("ccda", "sample_person.ccd.xml"), ("fhir", "second_provider.ndjson")}


@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_seed_answers_state_the_same_facts_as_the_fhir_alone(timeline: Any, sample_coach: Any, question: str) -> None:
    coach, *_ = timeline
    fhir_coach, _stores, _truth = sample_coach
    three, alone = coach.ask("maria3", question), fhir_coach.ask("maria", question)
    assert facts(three) == facts(alone)
    assert not SAME_DAY.search(three.text), three.text
    assert three.as_of == alone.as_of


def test_the_a1c_answer_names_all_three_sources(timeline: Any, sources: Any) -> None:
    coach, *_ = timeline
    latest = sources[1]["hba1c"]["latest"]
    reply = coach.ask("maria3", "What's my A1c?")
    first = reply.text.split("\n")[0]
    assert f"**{latest['value']} %**" in first
    assert ("from 3 sources: Riverside Family Medicine (FHIR export), Lakeside Health Network (FHIR export), "
            "Riverside Family Medicine patient portal (C-CDA)") in first
    assert reply.citations[0].source.startswith("3 sources: ")


def test_duplicates_command_shows_what_was_merged_and_why(timeline: Any) -> None:
    _coach, _stores, report, home = timeline
    result = CliRunner().invoke(app, ["--data-dir", str(home), "records", "--user", "maria3", "--duplicates", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == report.merged and {r["kind"] for r in rows} == {"duplicate"}
    a1c = [r for r in rows if "LOINC:4548-4" in r["shown"]["codes"]]
    assert a1c and all(r["why"].startswith("same LOINC:4548-4, ") and "same value" in r["why"] for r in a1c)
    assert {r["other"]["source"] for r in a1c} == {"Lakeside Health Network (FHIR export)",
                                                  "Riverside Family Medicine patient portal (C-CDA)"}
    table = CliRunner().invoke(app, ["--data-dir", str(home), "records", "--user", "maria3", "--duplicates"])
    assert "Merged (shown once)" in table.output and "Conflicting values (both shown): 0" in table.output


def test_export_lists_every_source_of_each_record(timeline: Any) -> None:
    _coach, stores, *_ = timeline
    records = json.loads(collect(stores, "maria3")["records.json"])
    a1c = [r for r in records if any(c["code"] == "4548-4" for c in r["codes"])]
    assert a1c and all(len(r["sources"]) == 3 for r in a1c)
    assert {s["file"] for s in a1c[0]["sources"]} == {"sample_person.json", "sample_person.ccd.xml",
                                                      "second_provider.ndjson"}
    merged = a1c[0]["merged_records"]
    assert len(merged) == 2 and all(m["why"] and m["record"]["source"]["resource_id"] for m in merged)


def test_a_different_value_from_another_source_is_shown_side_by_side(
        make_stores: Callable[..., Stores], sources: Any, tmp_path: Path) -> None:
    paths, truth = sources
    latest = truth["hba1c"]["latest"]
    lines = paths["second_provider"].read_text().splitlines()
    changed = []
    for line in lines:
        res = json.loads(line)
        if (res["resourceType"] == "Observation" and res["code"]["coding"][0]["code"] == "4548-4"
                and res["effectiveDateTime"].startswith(latest["date"])):
            res["valueQuantity"]["value"] = round(latest["value"] + 0.3, 1)
        changed.append(res)
    other = tmp_path / "lab_portal.ndjson"
    other.write_text(to_ndjson(changed))
    stores = make_stores(ingest={"min_age": 18})
    report = stores.ingestor.ingest("mia", [paths["fhir"], other])
    assert report.conflicts == 1
    stores.records.set_consent("mia", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    reply = coach.ask("mia", "What's my A1c?")
    first = reply.text.split("\n")[0]
    assert first.startswith("Your sources disagree about your most recent Hemoglobin A1c")
    assert f"**{latest['value']} %** from Riverside Family Medicine (FHIR export)" in first
    assert f"**{round(latest['value'] + 0.3, 1)} %** from Lakeside Health Network (FHIR export)" in first
    assert len(stores.records.query("mia", code_keys=["LOINC:4548-4"])) == truth["hba1c"]["count"] + 1


def test_disconnecting_one_source_removes_only_what_no_other_source_backs(
        make_stores: Callable[..., Stores], sources: Any) -> None:
    paths, truth = sources
    stores = make_stores(ingest={"min_age": 18})
    stores.ingestor.ingest("dora", list(paths.values()))
    counts = stores.records.record_counts("dora")

    portal = disconnect_source(stores, "dora", "ccda")
    assert portal.records_removed == portal.still_backed > 0  # every portal fact is also in another source
    assert stores.records.record_counts("dora") == counts

    clinic = disconnect_source(stores, "dora", "fhir", "sample_person.json")
    assert 0 < clinic.still_backed < clinic.records_removed  # notes and reports were only in the clinic's bundle
    left = stores.records.record_counts("dora")
    assert left["document"] == 0 and left["lab"] == counts["lab"] - 7  # the seven lipid-panel reports
    a1c = stores.records.query("dora", code_keys=["LOINC:4548-4"])
    assert len(a1c) == truth["hba1c"]["count"] and a1c[0].source.file == "second_provider.ndjson"
    assert all(len(r.all_sources()) == 1 for r in a1c)


def test_the_sample_writers_are_deterministic(tmp_path: Path) -> None:
    first, _ = write_person_sources(tmp_path / "a", seed=7, today=TODAY)
    again, _ = write_person_sources(tmp_path / "b", seed=7, today=TODAY)
    assert all(first[k].read_bytes() == again[k].read_bytes() for k in first)
    lines = [json.loads(line) for line in first["second_provider"].read_text().splitlines()]
    bundle_ids = {e["resource"]["id"] for e in json.loads(first["fhir"].read_text())["entry"]}
    assert lines and not bundle_ids & {r["id"] for r in lines}  # the second provider's own ids
    assert all(r["effectiveDateTime"].endswith("Z") for r in lines if r["resourceType"] == "Observation")
