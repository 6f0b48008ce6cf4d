"""Hybrid search for questions no concept resolves: Chroma vectors + BM25, fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from rank_bm25 import BM25Okapi

from healthcoach.store.vectors import VectorIndex

RRF_K = 60
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float


class _Bm25:
    def __init__(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]]) -> None:
        self.ids, self.texts, self.metas = ids, texts, metas
        self.index = BM25Okapi([tokenize(t) or ["_"] for t in texts]) if texts else None


class HybridSearch:
    """Per-user BM25 indexes built lazily from the user's chunks and rebuilt when the collection changes."""

    def __init__(self, vectors: VectorIndex) -> None:
        self.vectors = vectors
        self._bm25: dict[str, tuple[int, _Bm25]] = {}
        self._lock = threading.Lock()

    def invalidate(self, user_id: str) -> None:
        """Forget a user's BM25 index (after an ingest or delete)."""
        with self._lock:
            self._bm25.pop(user_id, None)

    def _bm25_for(self, user_id: str) -> _Bm25:
        count = self.vectors.count(user_id)
        with self._lock:
            cached = self._bm25.get(user_id)
            if cached and cached[0] == count:
                return cached[1]
        ids, texts, metas = self.vectors.texts(user_id)
        index = _Bm25(ids, texts, metas)
        with self._lock:
            self._bm25[user_id] = (count, index)
        return index

    def search(self, user_id: str, query: str, k: int = 8) -> list[Hit]:
        """The k best chunks of this user's index for a query."""
        fused: dict[str, float] = {}
        found: dict[str, Hit] = {}
        for rank, (doc, sim) in enumerate(self.vectors.search(user_id, query, k=k * 2)):
            cid = str(doc.id or doc.metadata.get("id") or doc.page_content[:40])
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            found.setdefault(cid, Hit(cid, doc.page_content, dict(doc.metadata), sim))
        bm = self._bm25_for(user_id)
        tokens = tokenize(query)
        if bm.index is not None and tokens:
            scores = bm.index.get_scores(tokens)
            order = sorted(range(len(scores)), key=lambda i: (-scores[i], bm.ids[i]))[: k * 2]
            for rank, i in enumerate(order):
                if scores[i] <= 0:
                    break
                cid = bm.ids[i]
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
                found.setdefault(cid, Hit(cid, bm.texts[i], bm.metas[i], float(scores[i])))
        best = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        return [Hit(c, found[c].text, found[c].metadata, fused[c]) for c in best]
