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


# Words that say nothing about what a question is after ("what did the doctor say about my ..."), and
# words so common in records ("blood", "test") that sharing them is no sign of relevance.
_STOP = frozenset({"a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anything",
    "are", "as", "at", "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does",
    "doctor", "doctors", "done", "for", "from", "get", "got", "had", "has", "have", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "last", "latest", "me", "more", "most", "my", "no", "not", "of",
    "on", "or", "our", "out", "over", "said", "say", "see", "show", "should", "so", "some", "tell", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you",
    "your", "blood", "test", "tests", "level", "levels", "result", "results", "value", "values", "record",
    "records", "recorded", "number", "type", "kind", "something", "ever", "much", "many",
    "time", "times", "please", "thing", "things"})


def _stems(text: str) -> set[str]:
    """Content words of text, cut to 5 letters so 'pregnant' meets 'pregnancy'."""
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}


def relevant(question: str, hit: Hit, min_similarity: float) -> bool:
    """Whether a search hit may be shown for a question: its meaning is close (cosine at least
    `min_similarity`), or it shares a content word with the question. Unrelated hits are never filler."""
    if hit.similarity is not None and hit.similarity >= min_similarity:
        return True
    return bool(_stems(question) & _stems(hit.text))


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float  # fused reciprocal-rank score (ranking only)
    similarity: float | None = None  # cosine of question and chunk when the vector search found it


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
        sims: dict[str, float] = {}
        for rank, (doc, sim) in enumerate(self.vectors.search(user_id, query, k=k * 2)):
            cid = str(doc.id or doc.metadata.get("id") or doc.page_content[:40])
            sims[cid] = sim
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
        return [Hit(c, found[c].text, found[c].metadata, fused[c], sims.get(c)) for c in best]
