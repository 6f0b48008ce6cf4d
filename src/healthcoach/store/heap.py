"""Freed memory is overwritten, so one user's text can never reach another user's files.

Why: Chroma's HNSW index (hnswlib) persists its whole capacity buffer, including element slots and link
slots it never wrote. glibc hands out that buffer without clearing it, so in a long-lived process the
unused bytes are whatever the heap held before: another user's record text, which then sits in this
user's `data_level0.bin` (and outlives the other user's delete). Scanning files afterwards cannot fix
that; clearing memory can. glibc's perturb option fills every chunk with a fixed byte when it is freed
and when it is handed out, so no allocation can carry old heap content into a file.

Two layers, because a running process can only change part of glibc's behaviour:
- `scrub_freed_memory()` turns perturbing on in this process through mallopt(M_PERTURB). Every process
  that opens the stores calls it (container.build_stores), including library users and the tests.
- `reexec_scrubbed()` restarts the `healthcoach` command once with GLIBC_TUNABLES that also disable
  glibc's per-thread cache (tcache), whose small chunks mallopt cannot reach, so that the CLI and the
  server it starts are covered from their first allocation.
Elsewhere than glibc (macOS, musl) both do nothing and say so; there, run the data dir on an
encrypted volume and delete with the index rebuilt (see README, "Your data").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Sequence
from functools import cache

log = logging.getLogger(__name__)

PERTURB_BYTE = 0xA5  # any non-zero byte works; freed chunks get it, new chunks its complement
M_PERTURB = -6  # <malloc.h>
TUNABLES = f"glibc.malloc.perturb={PERTURB_BYTE}:glibc.malloc.tcache_count=0"
MARKER = "HEALTHCOACH_HEAP_SCRUBBED"  # set on re-exec, so a process restarts itself at most once


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None  # musl or another libc: no mallopt(M_PERTURB)
    return libc


def scrub_freed_memory() -> bool:
    """Make glibc overwrite memory as it is freed and handed out, in this process; True when it took."""
    if os.environ.get("HEALTHCOACH_HEAP_SCRUB") == "0":
        return False  # only the benchmark that measures the cost of scrubbing turns it off
    libc = _glibc()
    if libc is None:
        log.warning("freed-memory scrubbing is not available on this platform (needs glibc)")
        return False
    return bool(libc.mallopt(M_PERTURB, PERTURB_BYTE))


def scrubbed_env(env: dict[str, str]) -> dict[str, str]:
    """env plus the glibc tunables that scrub freed memory from a process's first allocation."""
    out = dict(env)
    have = out.get("GLIBC_TUNABLES", "")
    out["GLIBC_TUNABLES"] = f"{have}:{TUNABLES}" if have else TUNABLES
    out[MARKER] = "1"
    return out


def reexec_scrubbed(argv: Sequence[str]) -> None:
    """Restart this command once under scrubbed_env (no return when it restarts).

    Does nothing when already restarted, off glibc, or when HEALTHCOACH_HEAP_SCRUB=0 (used only by the
    benchmark that measures what scrubbing costs)."""
    if os.environ.get(MARKER) or os.environ.get("HEALTHCOACH_HEAP_SCRUB") == "0" or _glibc() is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "healthcoach", *argv], scrubbed_env(dict(os.environ)))
