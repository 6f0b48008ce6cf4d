"""Per-user Chroma collections through langchain-chroma. Isolation by construction: a user's queries can
only ever open that user's collection, and query latency does not grow with the number of users."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from sqlalchemy.orm import Session

from healthcoach.store.embeddings import Embedder
from healthcoach.store.records import RecordStore

BATCH = 5000  # Chroma accepts up to 5,461 per call
Meta = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Chunk:
    """A text for the vector index with a stable id; metadata are scalars (Chroma's rule)."""

    id: str
    text: str
    metadata: Meta = field(default_factory=dict)

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)


@dataclass
class IndexPlan:
    """The change that makes a collection equal to its chunks: texts to (re)write, ids to delete."""

    changed: list[Chunk]
    stale: list[str]


@dataclass
class SyncStats:
    chunks: int = 0
    upserted: int = 0
    embedded: int = 0
    cached: int = 0
    deleted: int = 0
    unchanged: int = 0


def text_hash(text: str) -> str:
    """The key of a text in the embedding cache and in chunk metadata."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def vectors_for(embedder: Embedder, store: RecordStore, user_id: str, texts: Sequence[str],
                session: Session | None = None) -> tuple[list[list[float]], dict[str, np.ndarray]]:
    """(one vector per text, the vectors that were not cached yet by text hash): encodes only new texts.

    Reads the cache; writing the fresh vectors is the caller's (so an ingest can write them in its one
    short transaction, after the slow encoding is done)."""
    hashes = [text_hash(t) for t in texts]
    cached = store.cached_vectors(user_id, list(dict.fromkeys(hashes)), session)
    todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in cached}
    fresh: dict[str, np.ndarray] = {}
    if todo:
        fresh = dict(zip(todo, store_vectors(embedder.encode(list(todo.values()))), strict=True))
    known = {**cached, **fresh}
    return [known[h].tolist() for h in hashes], fresh


def store_vectors(encoded: Any) -> list[np.ndarray]:
    return [np.asarray(v, dtype=np.float32) for v in encoded]


class CachedEmbeddings(Embeddings):
    """Embeds through the record store's cache (user + text hash), encoding only texts never seen."""

    def __init__(
        self, embedder: Embedder, store: RecordStore, user_id: str, stats: SyncStats, session: Session | None
    ) -> None:
        self.embedder, self.store, self.user_id, self.stats = embedder, store, user_id, stats
        self.session = session

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors, fresh = vectors_for(self.embedder, self.store, self.user_id, texts, self.session)
        self.store.cache_vectors(self.user_id, fresh, self.session)
        missing = sum(1 for t in texts if text_hash(t) in fresh)
        self.stats.embedded += missing
        self.stats.cached += len(texts) - missing
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def collection_name(user_id: str) -> str:
    """The user's collection: a hash, so names never leak and never collide."""
    return "u_" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


class VectorIndex:
    """The derived, rebuildable vector index: one Chroma collection per user."""

    def __init__(self, path: Path | None, embedder: Embedder, store: RecordStore, url: str | None = None) -> None:
        self.path = None if url else path  # the local Chroma dir (None with a Chroma server)
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
            self.client: Any = chromadb.HttpClient(host=host, port=int(port or 8000), settings=settings)
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
        self.embedder, self.store = embedder, store

    def _store(self, user_id: str, embeddings: Embeddings | None = None) -> Chroma:
        return Chroma(
            collection_name=collection_name(user_id),
            embedding_function=embeddings or self.embedder,
            client=self.client,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def sync(self, user_id: str, chunks: Sequence[Chunk], session: Session | None = None) -> SyncStats:
        """Make the user's collection equal to chunks: upsert changed texts, delete stale ids.

        Vectors come from the embedding cache (encoding only texts never seen); pass a session so cache
        writes join it. The ingest pipeline embeds before it writes and calls plan() and apply() instead."""
        plan = self.plan(user_id, chunks)
        stats = SyncStats(chunks=len(chunks), unchanged=len(chunks) - len(plan.changed))
        embed = CachedEmbeddings(self.embedder, self.store, user_id, stats, session)
        vectors = embed.embed_documents([c.text for c in plan.changed]) if plan.changed else []
        self.apply(user_id, plan, vectors, stats)
        return stats

    def plan(self, user_id: str, chunks: Sequence[Chunk]) -> IndexPlan:
        """What sync would change: chunks whose text differs from the index, and ids no chunk has."""
        existing = self._hashes(self._store(user_id))
        wanted = {c.id for c in chunks}
        # Length-sorted batches pad less in the encoder.
        changed = sorted((c for c in chunks if existing.get(c.id) != c.text_hash), key=lambda c: len(c.text))
        return IndexPlan(changed=changed, stale=[i for i in existing if i not in wanted])

    def apply(self, user_id: str, plan: IndexPlan, vectors: Sequence[Sequence[float]],
              stats: SyncStats | None = None) -> SyncStats:
        """Write a plan with its precomputed vectors (one per changed chunk): upsert, then delete stale."""
        stats = stats or SyncStats(chunks=len(plan.changed))
        collection = self._store(user_id)._collection
        for i in range(0, len(plan.changed), BATCH):
            part = plan.changed[i : i + BATCH]
            collection.upsert(ids=[c.id for c in part], documents=[c.text for c in part],
                              embeddings=np.asarray(vectors[i : i + BATCH], dtype=np.float32),
                              metadatas=[{**c.metadata, "text_hash": c.text_hash} for c in part])
        stats.upserted = len(plan.changed)
        for i in range(0, len(plan.stale), BATCH):
            collection.delete(ids=plan.stale[i : i + BATCH])
        stats.deleted = len(plan.stale)
        return stats

    def _hashes(self, store: Chroma) -> dict[str, str]:
        got = store.get(include=["metadatas"])
        pairs = zip(got["ids"], got["metadatas"], strict=True)
        return {i: str((m or {}).get("text_hash", "")) for i, m in pairs}

    def collections(self) -> list[str]:
        """The name of every user collection in the index, whoever it belongs to."""
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith("u_"))

    def size(self, name: str) -> int:
        """Chunks in a collection by name (0 when there is none); never creates one."""
        try:
            return int(self.client.get_collection(name).count())
        except (ValueError, chromadb.errors.NotFoundError):
            return 0

    def collection_id(self, name: str) -> str | None:
        """The Chroma id of a collection (its segment folders are keyed by it), or None when there is none."""
        try:
            return str(self.client.get_collection(name).id)
        except (ValueError, chromadb.errors.NotFoundError):
            return None

    def drop(self, name: str) -> None:
        """Drop a collection by name (no error when it is already gone)."""
        with contextlib.suppress(ValueError, chromadb.errors.NotFoundError):
            self.client.delete_collection(name)

    def search(
        self, user_id: str, query: str | list[float], k: int = 8, where: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """Nearest chunks in this user's collection only, with cosine similarity (higher is closer)."""
        store = self._store(user_id)
        vec = self.embedder.embed_query(query) if isinstance(query, str) else query
        hits = store.similarity_search_by_vector_with_relevance_scores(vec, k=k, filter=where)
        return [(doc, 1.0 - float(dist)) for doc, dist in hits]

    def count(self, user_id: str) -> int:
        """Chunks in the user's collection."""
        return int(self._store(user_id)._collection.count())

    def texts(self, user_id: str) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, texts, metadatas) of every chunk of a user (for BM25 and export)."""
        got = self._store(user_id).get(include=["documents", "metadatas"])
        return list(got["ids"]), list(got["documents"]), [dict(m or {}) for m in got["metadatas"]]

    def delete_user(self, user_id: str) -> None:
        """Drop the user's whole collection."""
        self.drop(collection_name(user_id))
