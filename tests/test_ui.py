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
    assert reply_messages({"text": "Call 911", "action": "escalate"})[0]["content"].startswith("🚨")
    assert reply_messages({"text": "Ask your prescriber", "action": "redirect"})[0]["content"].startswith("⚠️")


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
    assert "No blood pressure" in empty.axes[0].texts[0].get_text()


def test_ui_builds_with_banner_and_examples(server: SampleServer) -> None:
    demo = build_ui(server.bundle)
    config = str(demo.config)
    assert "wellness coach, not a doctor" in BANNER and "988" in BANNER and "911" in BANNER
    assert BANNER[:40] in config and all(q in config for q in EXAMPLES)
    for tab in ("Allergies", "Medications", "Vaccines", "Lab results", "Vitals", "Procedures", "Pregnancy",
                "Conditions", "Social history", "Visits", "Lab trends", "Vital trends", "Upload"):
        assert f'"{tab}"' in config or f"'{tab}'" in config, tab
