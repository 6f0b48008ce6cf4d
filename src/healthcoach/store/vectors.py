"""Per-user Chroma collections through langchain-chroma. Isolation by construction: a user's queries can
only ever open that user's collection, and query latency does not grow with the number of users."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
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
        return hashlib.sha256(self.text.encode()).hexdigest()[:32]


@dataclass
class SyncStats:
    chunks: int = 0
    upserted: int = 0
    embedded: int = 0
    cached: int = 0
    deleted: int = 0
    unchanged: int = 0


class CachedEmbeddings(Embeddings):
    """Embeds through the record store's cache (user + text hash), encoding only texts never seen."""

    def __init__(
        self, embedder: Embedder, store: RecordStore, user_id: str, stats: SyncStats, session: Session | None
    ) -> None:
        self.embedder, self.store, self.user_id, self.stats = embedder, store, user_id, stats
        self.session = session

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        hashes = [hashlib.sha256(t.encode()).hexdigest()[:32] for t in texts]
        cached = self.store.cached_vectors(self.user_id, hashes, self.session)
        missing = [i for i, h in enumerate(hashes) if h not in cached]
        if missing:
            vecs = self.embedder.encode([texts[i] for i in missing])
            fresh = {hashes[i]: v for i, v in zip(missing, vecs, strict=True)}
            self.store.cache_vectors(self.user_id, fresh, self.session)
            cached.update(fresh)
        self.stats.embedded += len(missing)
        self.stats.cached += len(texts) - len(missing)
        return [cached[h].tolist() for h in hashes]

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def collection_name(user_id: str) -> str:
    """The user's collection: a hash, so names never leak and never collide."""
    return "u_" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


class VectorIndex:
    """The derived, rebuildable vector index: one Chroma collection per user."""

    def __init__(self, path: Path | None, embedder: Embedder, store: RecordStore, url: str | None = None) -> None:
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

    def sync(self, user_id: str, chunks: Sequence[Chunk], session: Session | None = None,
             progress: Callable[[int, int], None] | None = None) -> SyncStats:
        """Make the user's collection equal to chunks: upsert changed texts, delete stale ids.

        Pass the ingest's session so embedding-cache writes join its transaction; `progress(done, total)`
        hears after each embedded batch."""
        stats = SyncStats(chunks=len(chunks))
        store = self._store(user_id, CachedEmbeddings(self.embedder, self.store, user_id, stats, session))
        existing = self._hashes(store)
        wanted = {c.id: c for c in chunks}
        # Length-sorted batches pad less in the encoder.
        changed = sorted((c for c in chunks if existing.get(c.id) != c.text_hash), key=lambda c: len(c.text))
        stats.unchanged = len(chunks) - len(changed)
        for i in range(0, len(changed), BATCH):
            part = changed[i : i + BATCH]
            store.add_texts(
                [c.text for c in part],
                metadatas=[{**c.metadata, "text_hash": c.text_hash} for c in part],
                ids=[c.id for c in part],
            )
            if progress is not None:
                progress(i + len(part), len(changed))
        stats.upserted = len(changed)
        stale = [i for i in existing if i not in wanted]
        for i in range(0, len(stale), BATCH):
            store.delete(ids=stale[i : i + BATCH])
        stats.deleted = len(stale)
        return stats

    def _hashes(self, store: Chroma) -> dict[str, str]:
        got = store.get(include=["metadatas"])
        return {i: str((m or {}).get("text_hash", "")) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

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
        with contextlib.suppress(ValueError, chromadb.errors.NotFoundError):
            self.client.delete_collection(collection_name(user_id))
