"""The Gradio UI's pieces: safety marking, citations under answers, trend series from the records."""

from __future__ import annotations

import pytest

from healthcoach.api.testing import SampleServer, sample_server
from healthcoach.knowledge.catalog import load_catalog
from healthcoach.store.embeddings import Embedder
from healthcoach.ui import charts
from healthcoach.ui.app import build_ui
from healthcoach.ui.render import BANNER, EXAMPLES, reply_messages


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


def test_answers_carry_collapsed_sources_and_redirects_are_marked() -> None:
    cite = {"n": 1, "record_id": "r", "date": "2026-10-08", "label": "Hemoglobin A1c", "value": "6.1", "unit": "%",
            "source": "Clinic (FHIR export)", "category": "lab"}
    answer, sources = reply_messages({"text": "A1c 6.1 % [1]", "citations": [cite], "action": "answer",
                                      "as_of": "2026-10-08"})
    assert answer["content"].startswith("A1c") and "As of 2026-10-08" in answer["content"]
    assert sources["metadata"]["title"] == "Sources (1)"
    assert sources["content"] == "[1] 2026-10-08 · Hemoglobin A1c: 6.1 % · Clinic (FHIR export)"
    emergency = reply_messages({"text": "Call 911", "action": "escalate"})[0]["content"]
    assert emergency.startswith("<div class='hc-emergency'>")  # the red card comes first
    assert all(f"href='tel:{n}'" in emergency for n in ("911", "988", "18002221222"))
    redirect = reply_messages({"text": "Ask your prescriber", "action": "redirect"})[0]["content"]
    assert redirect.startswith("<div class='hc-redirect'>") and "Safety redirect" in redirect
    care = reply_messages({"text": "It makes sense to want to check.", "action": "answer_with_care"})[0]["content"]
    assert care.startswith("<div class='hc-care'>") and "not a diagnosis" in care
    plain = reply_messages({"text": "A1c 6.1 %", "action": "answer"})[0]["content"]
    assert plain == "A1c 6.1 %"  # an answer carries no card


def test_trend_series_come_from_the_records(server: SampleServer) -> None:
    truth = server.truths["maria"]["hba1c"]
    store, catalog = server.bundle.stores.records, load_catalog()
    a1c, unit = charts.series_for(store, catalog, "maria", charts.TRENDS[0])
    points = a1c["Hemoglobin A1c"]
    assert unit == "%" and len(points) == truth["count"]
    assert points[-1] == (points[-1][0], truth["latest"]["value"]) and points[-1][0].isoformat() == truth["latest"]["date"]
    bp, unit = charts.series_for(store, catalog, "maria", charts.TRENDS[2])
    assert set(bp) == {"Systolic", "Diastolic"} and unit == "mmHg"
    assert len(charts.figures(store, catalog, "maria", "lab")) == 2
    empty = charts.figures(store, catalog, "bob", "vital")[0]
    assert "No blood pressure" in empty.layout.annotations[0].text


def test_ui_builds_with_banner_and_examples(server: SampleServer) -> None:
    demo = build_ui(server.bundle)
    config = str(demo.config)
    assert "wellness coach, not a doctor" in BANNER and "988" in BANNER and "911" in BANNER
    assert BANNER[:40] in config and all(q in config for q in EXAMPLES)
    for tab in ("Allergies", "Medications", "Vaccines", "Lab results", "Vitals", "Procedures", "Pregnancy",
                "Conditions", "Social history", "Visits", "Lab trends", "Vital trends", "Upload",
                "Share with my doctor"):
        assert f'"{tab}"' in config or f"'{tab}'" in config, tab
    for fmt in ("FHIR R4", "Apple Health", "Fitbit", "Google Fit", "Withings", "iHealth"):
        assert fmt in config, fmt  # the Upload tab lists every supported format


def test_a1c_chart_shades_the_labs_range_and_marks_results_outside_it(server: SampleServer) -> None:
    store, catalog = server.bundle.stores.records, load_catalog()
    a1c = charts.figures(store, catalog, "maria", "lab")[0]
    band = a1c.layout.shapes[0]
    assert (band.y0, band.y1) == (4, 5.6) or (band.y0, band.y1) == (4.0, 5.6)
    values = list(a1c.data[0].y)
    flagged = next(t for t in a1c.data if t.name == "outside the range")
    assert sorted(flagged.y) == sorted(v for v in values if v > 5.6 or v < 4)
    low, high = a1c.layout.yaxis.range
    assert low <= 4 and high >= max(values)  # the band and every point are on screen


def test_y_axis_never_zooms_into_a_small_change() -> None:
    low, high = charts.y_range([70.1, 70.3])  # 0.2 kg of weight
    assert high - low >= 14  # at least a fifth of the value: a 0.2 kg change stays a small wobble
    assert charts.y_range([5.4, 6.5], (4.0, 5.6))[0] < 4.0


def test_header_names_the_person_and_the_date_their_records_run_to() -> None:
    from datetime import date

    from healthcoach.ui.render import header_html

    html = header_html("Maria Garcia", "maria", date(2026, 9, 16), 412)
    assert "<h1>Maria Garcia</h1>" in html and "records to Sep 16, 2026" in html and "412 records" in html
    assert "Sign out" in html and "Sign out" not in header_html("M", "m", None, 0, local=True)
