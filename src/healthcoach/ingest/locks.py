"""One writer per user: an ingest (or a delete, a disconnect, an index repair) holds its user's lock, so
two of them never interleave their writes; another user's work never waits for it.

The lock is an advisory file lock (flock) on <data dir>/locks/<hash of the user id>, so it holds across
threads and across processes (a CLI ingest while the server runs), and the kernel releases it when its
holder dies, even by SIGKILL. A second ingest for the same user is refused at once (Conflict, HTTP 409)
rather than queued: the caller can retry, and nothing waits on a long writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from healthcoach.errors import Conflict

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process locks only
    fcntl = None  # type: ignore[assignment]

ALREADY_RUNNING = ("an ingest (or another change to these records) is already running for this user; "
                   "try again when it has finished")


class UserLocks:
    """Per-user exclusive locks under a folder (file locks where the OS has them, else in-process)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._local: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _path(self, user_id: str) -> Path:
        return self.folder / (hashlib.sha256(user_id.encode()).hexdigest()[:32] + ".lock")

    @contextlib.contextmanager
    def hold(self, user_id: str, wait_s: float = 0.0) -> Iterator[None]:
        """Hold the user's lock for the block; Conflict when another holder keeps it past wait_s."""
        with self._guard:
            local = self._local.setdefault(user_id, threading.Lock())
        got = local.acquire(timeout=wait_s) if wait_s > 0 else local.acquire(blocking=False)
        if not got:
            raise Conflict(ALREADY_RUNNING)
        try:
            with self._file_lock(user_id, wait_s):
                yield
        finally:
            local.release()

    @contextlib.contextmanager
    def _file_lock(self, user_id: str, wait_s: float) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(user_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Conflict(ALREADY_RUNNING) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def busy(self, user_id: str) -> bool:
        """Whether someone (this process or another) holds the user's lock right now."""
        try:
            with self.hold(user_id):
                return False
        except Conflict:
            return True
