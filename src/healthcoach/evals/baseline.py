"""The naive baseline the architecture argues against: LangChain + Chroma top-k over raw FHIR resource
JSON, answering with the top hit. Scored on the same cases as the coach."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from healthcoach.evals.qa import Case, Outcome
from healthcoach.records.models import format_number
from healthcoach.store.embeddings import Embedder


class NaiveBaseline:
    """One Chroma collection of raw resource JSON per person."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.stores: dict[str, Chroma] = {}

    def index(self, user_id: str, bundle_path: Path) -> int:
        """Embed every resource of a bundle as its raw JSON."""
        bundle = json.loads(bundle_path.read_text(encoding="utf-8-sig"))
        resources = [e["resource"] for e in bundle.get("entry", []) if isinstance(e, dict) and "resource" in e]
        store = Chroma(collection_name=f"naive_{user_id}"[:60], embedding_function=self.embedder,
                       client=self.client, collection_metadata={"hnsw:space": "cosine"})
        texts = [json.dumps(r) for r in resources]
        for i in range(0, len(texts), 2000):
            store.add_texts(texts[i : i + 2000], ids=[f"r{j}" for j in range(i, min(i + 2000, len(texts)))])
        self.stores[user_id] = store
        return len(texts)

    def answer(self, case: Case) -> Outcome:
        """Top-1 hit as the answer; exact when it is the truth's record with its value and date."""
        t0 = time.perf_counter()
        hits = self.stores[case.user_id].similarity_search(case.question, k=1)
        latency = (time.perf_counter() - t0) * 1000
        top: dict[str, Any] = json.loads(hits[0].page_content) if hits else {}
        ok = _matches(top, case)
        return Outcome(case, ok, ok if case.expected.items is None else None, [], latency,
                       hits[0].page_content[:300] if hits else "")


def _matches(res: dict[str, Any], case: Case) -> bool:
    exp = case.expected
    text = json.dumps(res)
    if exp.items is not None:
        return len(exp.items) == 1 and exp.items[0] in text
    if exp.day is None:
        return False
    when = str(res.get("effectiveDateTime") or res.get("occurrenceDateTime") or "")
    if not when.startswith(exp.day.isoformat()):
        return False
    if exp.value is None:
        return res.get("resourceType") == "Immunization"
    vq = res.get("valueQuantity", {}).get("value")
    if vq is not None and format_number(float(vq)) == exp.value:
        return True
    comps = [c.get("valueQuantity", {}).get("value") for c in res.get("component", [])]
    if len(comps) >= 2 and all(v is not None for v in comps[:2]):
        return f"{format_number(round(comps[0]))}/{format_number(round(comps[1]))}" == exp.value
    concept = res.get("valueCodeableConcept", {})
    return exp.value in json.dumps(concept)
