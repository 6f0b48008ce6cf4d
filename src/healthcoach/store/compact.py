"""Compaction of the local stores, so deleted rows and dropped collections leave no bytes behind.

SQLite and Chroma keep deleted rows in free pages (and SQLite in its WAL) until they are rewritten, and
Chroma leaves a dropped collection's segment folders on disk. Used by delete, disconnect and the index
repair that drops the collections of unknown users.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
CHECKPOINT_TRIES = 10


def vacuum_engine(engine: Engine) -> bool:
    """Checkpoint the WAL into the file, rewrite it without free pages, truncate the WAL (SQLite only)."""
    if engine.dialect.name != "sqlite":
        return False  # PostgreSQL: autovacuum reclaims dead rows; run VACUUM FULL for an immediate rewrite.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("VACUUM")
        for attempt in range(CHECKPOINT_TRIES):
            # busy=1 while another connection reads: the WAL (with old frames) is then not truncated yet.
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy or not busy[0]:
                return True
            time.sleep(0.1 * (attempt + 1))
    log.warning("record store WAL still in use by a reader; it is truncated at the next checkpoint")
    return False


def vacuum_file(path: Path) -> None:
    """Checkpoint and VACUUM one SQLite file (Chroma's chroma.sqlite3)."""
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def collection_segments(chroma_dir: Path | None, collection_id: str) -> list[str]:
    """Ids of a collection's segments (folder names under the Chroma dir); [] without a local store."""
    if chroma_dir is None or not (chroma_dir / "chroma.sqlite3").exists():
        return []
    con = sqlite3.connect(chroma_dir / "chroma.sqlite3", timeout=30)
    try:
        rows = con.execute("SELECT id FROM segments WHERE collection = ?", (collection_id,))
        return [str(r[0]) for r in rows]
    finally:
        con.close()


def compact_chroma(chroma_dir: Path | None, segments: list[str]) -> bool:
    """Remove dropped collections' segment folders and rewrite chroma.sqlite3; False without a local store."""
    if chroma_dir is None:
        return False  # a Chroma server compacts its own storage
    for seg in segments:
        folder = chroma_dir / seg
        if folder.is_dir():
            shutil.rmtree(folder)
    if (chroma_dir / "chroma.sqlite3").exists():
        vacuum_file(chroma_dir / "chroma.sqlite3")
        return True
    return False
