"""The proofs that need the whole coach: delete leaves no trace on disk, an export re-ingests to the same
answers, consent off reveals no record content, and logs at INFO hold no questions or record content.

One coach is built for the module (it is slow to build); each test uses its own user ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import fhir_factory as F
from conftest import TODAY
from healthcoach.chat import ChatService
from healthcoach.coach import Coach
from healthcoach.compose.reply import Reply
from healthcoach.container import Stores, build_coach, build_stores
from healthcoach.privacy import delete_user, export_user, list_audit, set_consent
from healthcoach.records.models import Record
from healthcoach.settings import Settings
from healthcoach.store.embeddings import Embedder
from healthcoach.store.schema import AuditRow
from healthcoach.store.vectors import collection_name

ROUND_TRIP_QUESTIONS = ["What's my A1c?", "What medications am I on?", "When's the last time I got a flu shot?",
                        "Do I have any allergies?", "What did my last note say?"]


@dataclass
class World:
    stores: Stores
    coach: Coach
    chat: ChatService

    @property
    def home(self) -> Path:
        return Path(self.stores.settings.home)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("privacy") / "data")  # real defaults: adults only
    stores = build_stores(settings, embedder=embedder)
    stores.ingestor.today = lambda: datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    coach = build_coach(settings, stores)
    coach.today = lambda: TODAY
    yield World(stores, coach, ChatService(coach, stores.records))


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def scan(root: Path, needles: set[str]) -> dict[str, list[str]]:
    """needle → files under root whose bytes contain it (SQLite, its -wal/-shm, Chroma files: everything)."""
    blobs = {p: p.read_bytes() for p in files_under(root)}
    found = {n: [str(p.relative_to(root)) for p, b in blobs.items() if n.encode() in b] for n in needles}
    return {n: ps for n, ps in found.items() if ps}


def needles_of(records: list[Record], questions: list[str], name: str | None) -> set[str]:
    """Strings only this person's data contains: ids, labels, note and dosage texts, questions, name."""
    out = set(questions) | ({name} if name else set())
    for r in records:
        out |= {r.id, r.source.resource_id}
        if len(r.label) >= 12:
            out.add(r.label)
        if r.text and len(r.text) >= 12:
            out.add(r.text[:60])
    return out


def comparable(reply: Reply, orgs: set[str]) -> tuple[str, list[tuple[str | None, ...]]]:
    """Answer text and citations without source organisations (the FHIR reader takes those from encounters)."""
    text = reply.text
    for org in sorted(orgs, key=len, reverse=True):
        text = text.replace(f"{org} (FHIR export)", "FHIR export")
    cites: list[tuple[str | None, ...]] = [(c.record_id, c.date, c.label, c.value, c.unit, c.category)
                                           for c in reply.citations]
    return re.sub(r"\s+", " ", text).strip(), cites


def test_delete_leaves_no_trace_and_the_export_reingests_to_the_same_answers(
        world: World, sample_bundle: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    stores, chat = world.stores, world.chat
    other = F.write(tmp_path / "other.json", F.bundle(F.patient("o1", "1970-01-01", "Olive Other"),
                                                      F.a1c("other-a1c", 5.5, "2024-01-01", pid="o1")))
    stores.ingestor.ingest("olive", [other])
    olive_before = (stores.records.snapshot("olive"), stores.vectors.count("olive"))

    stores.ingestor.ingest("alice", [sample_bundle[0]])
    set_consent(stores.records, "alice", records=True)
    before = [chat.ask("alice", q)[1] for q in ROUND_TRIP_QUESTIONS]
    assert all(r.citations for r in before[:3]), [r.text for r in before]
    records = stores.records.query("alice")
    orgs = {r.source.organization for r in records if r.source.organization}
    export = export_user(stores, "alice", tmp_path / "export")  # outside the data dir
    assert world.home not in export.parents

    needles = needles_of(records, ROUND_TRIP_QUESTIONS, stores.records.get_user("alice").patient_name)
    seen = scan(world.home, needles)
    assert any(p.startswith("chroma") for ps in seen.values() for p in ps)  # the scan can see both stores
    assert any(p.startswith("healthcoach.db") for ps in seen.values() for p in ps)

    report = delete_user(stores, "alice")
    assert report.removed["records"] == len(records) and report.removed["vectors"] > len(records)
    assert report.removed["messages"] == 2 * len(ROUND_TRIP_QUESTIONS) and report.removed["profile"] == 1
    assert scan(world.home, needles) == {}
    assert collection_name("alice") not in {c.name for c in stores.vectors.client.list_collections()}
    assert "alice" not in {u.id for u in stores.records.users()}
    with stores.records.session() as s:  # the one entry left: counts only, owner hashed
        rows = s.query(AuditRow).filter(AuditRow.action == "delete").all()
        assert len(rows) == 1 and "alice" not in rows[0].user_id
    assert [e.action for e in list_audit(stores.records, "alice")] == ["delete"]
    assert (stores.records.snapshot("olive"), stores.vectors.count("olive")) == olive_before  # others untouched

    stores.ingestor.ingest("alice", [export / "fhir_bundle.json"])
    set_consent(stores.records, "alice", records=True)
    after = [chat.ask("alice", q)[1] for q in ROUND_TRIP_QUESTIONS]
    for q, b, a in zip(ROUND_TRIP_QUESTIONS, before, after, strict=True):
        assert comparable(a, orgs) == comparable(b, orgs), q


SECRET_NOTE = "Patient keeps a zanzibar marmalade diary"
SECRET_LABEL = "Quokka-pattern fever syndrome"


def secret_bundle(tmp_path: Path, pid: str) -> Path:
    return F.write(tmp_path / f"{pid}.json", F.bundle(
        F.patient(pid, "1979-03-03", "Secret Keeper"), F.a1c(f"{pid}-a1c", 7.37, "2013-07-19", pid=pid),
        F.condition(f"{pid}-c", "44054006", SECRET_LABEL, "2013-07-19", pid=pid),
        F.note(f"{pid}-n", SECRET_NOTE, "2013-07-19", pid=pid)))


def secrets_of(stores: Stores, user: str) -> list[str]:
    recs = stores.records.query(user)
    return [SECRET_NOTE, SECRET_LABEL, "7.37", "2013-07-19", "July 19, 2013", "Secret Keeper"] + \
        [r.id for r in recs] + [r.source.resource_id for r in recs]


def test_consent_off_answers_reveal_no_record_content(world: World, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    world.stores.ingestor.ingest("bea", [secret_bundle(tmp_path, "bea")])
    questions = ["What's my A1c?", "What is A1c?", "What conditions do I have?", "What did my last note say?",
                 "Summarize my health records", "Should I double my metformin?", "Do I have a fever syndrome?"]
    caplog.set_level(logging.DEBUG)
    replies = [world.chat.ask("bea", q)[1] for q in questions]
    secrets = secrets_of(world.stores, "bea")
    for q, reply in zip(questions, replies, strict=True):
        dumped = reply.model_dump_json()
        assert [s for s in secrets if s in dumped] == [], q
        assert reply.citations == [] and reply.record_ids == [], q
        assert "records_not_used" in reply.warnings or reply.blocked, q
    assert "--records on" in replies[0].text  # says how to turn records on
    assert [s for s in secrets if s in caplog.text] == []
    asks = [e for e in list_audit(world.stores.records, "bea") if e.action == "ask"]
    assert len(asks) == len(questions) and all(e.detail["records_read"] == [] for e in asks)


def test_info_logs_hold_no_questions_or_record_content(world: World, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    world.stores.ingestor.ingest("cy", [secret_bundle(tmp_path, "cy")])
    set_consent(world.stores.records, "cy", records=True)
    questions = ["What was my A1c in 2013?", "What did my note say about the diary?"]
    replies = [world.chat.ask("cy", q)[1] for q in questions]
    assert "7.37" in replies[0].text  # consent on: the answer does use the records
    leaked = [s for s in secrets_of(world.stores, "cy") + questions if s in caplog.text]
    assert leaked == []
    assert any("answered intent=" in r.getMessage() for r in caplog.records)  # logging was on
