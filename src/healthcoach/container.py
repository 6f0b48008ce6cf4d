"""The composition root: plain wiring that builds the parts from settings. No globals, no DI library.

The CLI, the API and the UI all get their stores, coach and chat service from here."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from healthcoach.chat import ChatService
from healthcoach.coach import Coach
from healthcoach.compose.llm import LLMComposer, build_chat_model, is_remote
from healthcoach.compose.prompts import Prompts
from healthcoach.compose.query_engine import QueryEngine
from healthcoach.compose.query_templates import QueryComposer
from healthcoach.compose.templates import Composer
from healthcoach.guardrails import Guardrails
from healthcoach.ingest.locks import UserLocks
from healthcoach.ingest.pipeline import Ingestor
from healthcoach.knowledge.catalog import Catalog, load_catalog, load_wellness
from healthcoach.knowledge.vocabulary import Vocabulary, load_vocabulary
from healthcoach.retrieval.executor import Executor
from healthcoach.retrieval.hybrid import HybridSearch
from healthcoach.retrieval.planner import Planner
from healthcoach.retrieval.query_reader import QueryReader
from healthcoach.retrieval.retriever import Retriever
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder
from healthcoach.store.heap import scrub_freed_memory
from healthcoach.store.records import RecordStore
from healthcoach.store.vectors import VectorIndex

log = logging.getLogger(__name__)


def prepare_data_dir(path: Path) -> Path:
    """Create the data dir owner-only (0700): it holds health records."""
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass
class Stores:
    settings: Settings
    embedder: Embedder
    records: RecordStore
    vectors: VectorIndex
    ingestor: Ingestor


def build_stores(settings: Settings, embedder: Embedder | None = None) -> Stores:
    """The record store, vector index and ingestor for these settings."""
    # Before any record is read: freed memory must never carry one user's text into another's files.
    scrub_freed_memory()
    home = prepare_data_dir(settings.home)
    embedder = embedder or Embedder(settings.embedding)
    records = RecordStore(settings.sql_url)
    vectors = VectorIndex(home / "chroma", embedder, records, url=settings.chroma_url)
    ingestor = Ingestor(records, vectors, settings.ingest, locks=UserLocks(home / "locks"))
    stores = Stores(settings, embedder, records, vectors, ingestor)
    repair_index(stores)
    return stores


def repair_index(stores: Stores) -> None:
    """At every start: finish index updates a crash interrupted and drop collections of unknown users."""
    try:
        stores.ingestor.repair.pending()
    except Exception:  # a broken index must not stop the records from being read; `index check` reports it
        log.exception("index repair at start-up failed; run `healthcoach index check`")


def build_coach(settings: Settings, stores: Stores | None = None) -> Coach:
    """The coach with its guards, planner, retriever and composer."""
    stores = stores or build_stores(settings)
    catalog = load_catalog()
    wellness = load_wellness(catalog=catalog)
    guards = Guardrails.load(settings.guardrails_dir, embedder=stores.embedder, cache_dir=settings.cache,
                             region=settings.region)
    hybrid = HybridSearch(stores.vectors)
    vocab = load_vocabulary(catalog=catalog)
    retriever = Retriever(stores.records, catalog, hybrid, settings.retrieval.list_limit, settings.retrieval.top_k,
                          social=vocab.is_social_finding, min_similarity=settings.retrieval.min_similarity)
    chat = build_chat_model(settings.llm)  # None for provider 'none'; ConfigError if the extra is missing
    llm = LLMComposer(chat, Prompts.load(settings.prompts_dir), guards, context_tokens=settings.llm.context_tokens,
                      max_tokens=settings.llm.max_tokens) if chat is not None else None
    planner = Planner(catalog, wellness)
    return Coach(stores.records, planner, retriever, Composer(catalog, wellness, settings.retrieval.list_limit),
                 guards, llm=llm, llm_remote=is_remote(settings.llm),
                 queries=build_query_engine(settings, stores.records, catalog, vocab, planner))


def build_query_engine(settings: Settings, store: RecordStore, catalog: Catalog, vocab: Vocabulary,
                       planner: Planner) -> QueryEngine:
    """The typed-query path: reader (with the user's preferred units), executor, per-operation templates."""
    reader = QueryReader(catalog, vocab, settings.display.preferred_units())
    return QueryEngine(planner, reader, Executor(store, catalog, vocab), QueryComposer(catalog))


@dataclass
class CoachBundle:
    """The parts a server needs, built once (tests and `demo` pass a pre-built one to share it)."""

    stores: Stores
    coach: Coach
    chat: ChatService

    @classmethod
    def build(cls, settings: Settings, stores: Stores | None = None) -> CoachBundle:
        """Stores, coach and chat service for these settings."""
        stores = stores or build_stores(settings)
        coach = build_coach(settings, stores)
        return cls(stores, coach, ChatService(coach, stores.records))
