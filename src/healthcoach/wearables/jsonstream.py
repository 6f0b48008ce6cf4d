"""JSON reading that tolerates a UTF-8 BOM, streams large arrays, and names the file on failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records import limits
from healthcoach.records.files import DEFAULT_MAX_DEPTH

_CHUNK = 1 << 20
_MAX_ELEMENT = 64 << 20  # a single array element larger than this is not a wearable sample


def load_json(path: Path) -> Any:
    """Whole-file JSON (small API bodies). Raises IngestError naming the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return limits.loads(text, path.name, DEFAULT_MAX_DEPTH)
    except json.JSONDecodeError as exc:
        what = "truncated" if exc.pos >= len(text.rstrip()) else "malformed"
        raise IngestError(f"{path.name}: {what} JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from exc


def iter_array(path: Path) -> Iterator[Any]:
    """Yield the elements of a top-level JSON array one at a time, reading the file in 1 MiB chunks.

    Memory stays proportional to one element, not the file (Takeout series can hold a year of minutes).
    A truncated or malformed file raises IngestError naming the file and the element index.
    """
    with path.open("r", encoding="utf-8-sig") as fh:
        buf = fh.read(_CHUNK)
        pos = _skip_ws(buf, 0)
        if pos >= len(buf) or buf[pos] != "[":
            if not buf.strip():
                raise IngestError(f"{path.name}: empty file (expected a JSON array)")
            raise IngestError(f"{path.name}: expected a JSON array, found {buf[pos:pos + 1]!r}")
        pos += 1
        index = 0
        eof = False
        expect_value = True  # right after '[' or ','
        while True:
            pos = _skip_ws(buf, pos)
            if pos >= len(buf):
                if eof:
                    raise IngestError(f"{path.name}: truncated JSON after element {index} (array not closed)")
                more = fh.read(_CHUNK)
                eof = not more
                buf = buf[pos:] + more
                pos = 0
                continue
            ch = buf[pos]
            if ch == "]" and (index == 0 or not expect_value):
                return
            if not expect_value:
                if ch != ",":
                    raise IngestError(f"{path.name}: malformed JSON after element {index} (expected ',' or ']')")
                pos += 1
                expect_value = True
                continue
            try:
                value, end = limits.raw_decode(buf, pos)
            except limits.BadNumber as exc:
                raise IngestError(f"{path.name}: element {index}: {exc}; nothing was stored") from None
            except json.JSONDecodeError as exc:
                if eof or len(buf) - pos > _MAX_ELEMENT:
                    what = "truncated" if eof else "malformed"
                    raise IngestError(f"{path.name}: {what} JSON in element {index} ({exc.msg})") from exc
                more = fh.read(_CHUNK)
                eof = not more
                buf = buf[pos:] + more
                pos = 0
                continue
            if end >= len(buf) and not eof:
                # a number at the very end of the buffer may continue in the next chunk
                more = fh.read(_CHUNK)
                if more:
                    buf = buf[pos:] + more
                    pos = 0
                    continue
                eof = True
            limits.check_depth(value, f"{path.name}: element {index}", DEFAULT_MAX_DEPTH)
            yield value
            index += 1
            pos = end
            expect_value = False


def _skip_ws(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in " \t\r\n":
        pos += 1
    return pos
