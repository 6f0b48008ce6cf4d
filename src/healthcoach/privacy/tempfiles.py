"""Per-user temporary files of the web server (exports waiting for download, uploads waiting for ingest).

Each lives in a private folder of its own, <base>/<user key>/<random>/, that is removed once the file has
been downloaded or ingested, and in any case by `sweep` once it is older than the time to live. A download
is only ever served to the user whose key is in its path; an upload is only ingested for the user who
uploaded it (the web UI's upload route claims each file for its uploader).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from healthcoach.errors import Forbidden

log = logging.getLogger(__name__)


def default_base() -> Path:
    """A folder in the system temp dir for this OS account (made 0700 by UserFiles)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"healthcoach-web-{uid}"


def user_key(user_id: str) -> str:
    """The folder name of a user's files (not the user id itself: ids may hold any character)."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:24]


class UserFiles:
    """Private, expiring, per-user temp folders."""

    def __init__(self, base: Path | None = None, ttl_s: float = 600.0) -> None:
        self.base, self.ttl_s = (base or default_base()).expanduser(), ttl_s
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o700)
        self._claims: dict[str, tuple[str, float]] = {}  # uploaded path -> (user, when)
        self._lock = threading.Lock()

    def new_dir(self, user_id: str) -> Path:
        """A new private folder for one export or upload of this user."""
        self.sweep()
        folder = self.base / user_key(user_id) / secrets.token_urlsafe(16)
        folder.mkdir(parents=True, mode=0o700)
        os.chmod(folder.parent, 0o700)
        return folder

    def file_id(self, user_id: str, path: Path) -> str:
        """The id of a file in one of the user's folders, for a download link ('<key>/<random>/<name>')."""
        rel = path.resolve().relative_to(self.base.resolve())
        if rel.parts[0] != user_key(user_id) or len(rel.parts) != 3:
            raise Forbidden("not one of your files")
        return rel.as_posix()

    def download(self, user_id: str, file_id: str) -> Path | None:
        """The file behind an id if it belongs to this user and still exists, else None."""
        parts = file_id.split("/")
        if len(parts) != 3 or parts[0] != user_key(user_id) or any(p in ("", ".", "..") for p in parts):
            return None
        path = self.base / parts[0] / parts[1] / parts[2]
        return path if path.is_file() and not path.is_symlink() else None

    def discard(self, path: Path) -> None:
        """Remove the folder of one export or upload (after it was sent or ingested)."""
        folder = path if path.is_dir() else path.parent
        if folder.resolve().parent.parent == self.base.resolve():
            shutil.rmtree(folder, ignore_errors=True)

    def claim(self, user_id: str, paths: list[str]) -> None:
        """Remember who uploaded these files (called by the web UI's upload route)."""
        now = time.monotonic()
        with self._lock:
            for p in paths:
                self._claims[os.path.realpath(p)] = (user_id, now)

    def take_upload(self, user_id: str, path: str) -> Path:
        """Move an uploaded file into a new private folder of its uploader; Forbidden for anyone else."""
        real = os.path.realpath(path)
        with self._lock:
            owner = self._claims.get(real)
            if owner is None or owner[0] != user_id:
                raise Forbidden("that upload is not yours or has expired; upload the file again")
            del self._claims[real]
        dest = self.new_dir(user_id) / Path(real).name
        shutil.move(real, dest)
        with contextlib.suppress(OSError):
            Path(real).parent.rmdir()  # the upload's own folder, now empty
        return dest

    def remove_user(self, user_id: str) -> None:
        """Remove every temp file of a user (when the user is deleted)."""
        shutil.rmtree(self.base / user_key(user_id), ignore_errors=True)
        with self._lock:
            for p in [p for p, (u, _) in self._claims.items() if u == user_id]:
                self._claims.pop(p, None)

    def sweep(self) -> int:
        """Remove folders (and upload claims) older than the time to live; returns how many folders."""
        cutoff, removed = time.time() - self.ttl_s, 0
        for user_dir in (d for d in self.base.iterdir() if d.is_dir() and len(d.name) == 24):
            for folder in list(user_dir.iterdir()):
                try:
                    if folder.stat().st_mtime < cutoff:
                        shutil.rmtree(folder, ignore_errors=True)
                        removed += 1
                except FileNotFoundError:
                    continue
        with self._lock:
            stale = time.monotonic() - self.ttl_s
            for p in [p for p, (_, t) in self._claims.items() if t < stale]:
                self._claims.pop(p, None)
        if removed:
            log.info("removed %d expired web temp folder(s)", removed)
        return removed
