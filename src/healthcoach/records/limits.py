"""Bounded reading of untrusted exports: JSON that cannot blow the stack or smuggle in NaN, Infinity,
out-of-range or 5,000-digit numbers, and a byte budget that stops zip bombs before they are unpacked.

Every refusal is an IngestError (422) or TooLarge (413) that names the file: never a traceback.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from healthcoach.errors import IngestError, TooLarge

MAX_INT_DIGITS = 30  # no clinical or wearable value needs more; Python refuses 4,300+ digits with a ValueError


class BadNumber(ValueError):
    """A number JSON may spell but a health record never holds (raised from inside json.loads)."""


def _constant(token: str) -> Any:
    raise BadNumber(f"{token} is not a number JSON allows")


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise BadNumber(f"the number {token[:20]}{'…' if len(token) > 20 else ''} is out of range")
    return value


def _int(token: str) -> int:
    digits = len(token.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise BadNumber(f"an integer with {digits:,} digits is out of range")
    return int(token)


DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)


def nesting_depth(obj: Any, limit: int) -> int:
    """How deeply lists and objects nest in parsed JSON (iterative: no recursion; stops once past `limit`)."""
    deepest, stack = 0, [(obj, 1)] if type(obj) is dict or type(obj) is list else []
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
        children = node.values() if type(node) is dict else node
        stack.extend((c, depth + 1) for c in children if type(c) is dict or type(c) is list)
    return deepest


def loads(text: str, where: str, max_depth: int) -> Any:
    """json.loads with limits: nesting depth, no NaN/Infinity, finite floats, integers of sane length.

    Raises IngestError naming `where`; JSON syntax errors (json.JSONDecodeError) are the caller's to word."""
    try:
        obj = DECODER.decode(text)
    except BadNumber as exc:
        raise IngestError(f"{where}: {exc}; nothing was stored") from None
    except RecursionError:  # the C parser's own stack guard, far past any limit a setting allows
        raise IngestError(f"{where}: JSON nested too deeply to read; nothing was stored") from None
    check_depth(obj, where, max_depth)
    return obj


def check_depth(obj: Any, where: str, max_depth: int) -> None:
    """IngestError when parsed JSON nests deeper than the limit."""
    depth = nesting_depth(obj, max_depth)
    if depth > max_depth:
        raise IngestError(f"{where}: JSON nested more than {max_depth} levels deep "
                          "(HEALTHCOACH_INGEST__MAX_JSON_DEPTH); nothing was stored")


def raw_decode(buf: str, pos: int) -> tuple[Any, int]:
    """JSONDecoder.raw_decode with the same number rules (for streamed arrays); BadNumber on a bad number."""
    try:
        return DECODER.raw_decode(buf, pos)
    except RecursionError:
        raise BadNumber("JSON nested too deeply") from None


@dataclass
class ReadBudget:
    """Bytes and zip entries one ingest may read in all (decompressed), shared by every file it opens.

    Zip entries are checked against their declared sizes before anything is unpacked (zipfile never
    returns more than an entry declares), so a bomb is refused with bounded memory."""

    max_total_bytes: int
    max_entries: int
    max_file_bytes: int
    used_bytes: int = 0
    used_entries: int = 0
    files: list[str] = field(default_factory=list)

    def reserve(self, name: str, size: int) -> None:
        """Account for one file of `size` bytes; TooLarge when it or the running total is over a limit."""
        if size > self.max_file_bytes:
            raise TooLarge(f"{name}: {size:,} bytes is over the limit of {self.max_file_bytes:,} bytes "
                           "(HEALTHCOACH_INGEST__MAX_FILE_BYTES); nothing was stored")
        if self.used_bytes + size > self.max_total_bytes:
            raise TooLarge(f"{name}: this import would unpack more than {self.max_total_bytes:,} bytes in all "
                           "(HEALTHCOACH_INGEST__MAX_TOTAL_BYTES); nothing was stored. Import the files in parts")
        self.used_bytes += size
        self.files.append(name)

    def check_zip(self, name: str, sizes: list[int]) -> None:
        """Refuse a zip whose entry count or declared unpacked size is over the limits, before reading it."""
        self.used_entries += len(sizes)
        if self.used_entries > self.max_entries:
            raise TooLarge(f"{name}: {len(sizes):,} entries; an import may hold at most {self.max_entries:,} "
                           "(HEALTHCOACH_INGEST__MAX_ZIP_ENTRIES); nothing was stored")
        total = sum(sizes)
        if self.used_bytes + total > self.max_total_bytes:
            raise TooLarge(f"{name}: unpacks to {total:,} bytes; an import may unpack at most "
                           f"{self.max_total_bytes:,} bytes (HEALTHCOACH_INGEST__MAX_TOTAL_BYTES); nothing was "
                           "stored")
