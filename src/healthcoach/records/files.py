"""Reading export files safely: size and unpacked-size limits, BOMs, folders and zips, bounded JSON,
with errors that name the file.

Files are yielded one at a time, so an import holds one file's bytes (plus what was parsed from the
earlier ones), and a zip is checked against the limits from its directory before any entry is unpacked.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records.limits import ReadBudget, loads

JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}
DEFAULT_MAX_DEPTH = 64
_CHUNK = 1 << 20
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"


@dataclass(frozen=True)
class RawFile:
    """One file's bytes and the name a person recognises ('export.zip:Patient/x.json')."""

    name: str
    data: bytes


def budget_of(limits: ReadBudget | int) -> ReadBudget:
    """A ReadBudget; a plain number is a per-file limit with no total (callers that read one trusted file)."""
    if isinstance(limits, ReadBudget):
        return limits
    return ReadBudget(max_total_bytes=1 << 62, max_entries=1 << 62, max_file_bytes=limits)


def iter_files(path: Path, limits: ReadBudget | int, suffixes: set[str] = JSON_SUFFIXES) -> Iterator[RawFile]:
    """Yield readable files under path (a file, a folder, or a .zip) one at a time, within the limits."""
    budget = budget_of(limits)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if child.suffix.lower() in suffixes or child.suffix.lower() == ".zip":
                yield from iter_files(child, budget, suffixes)
        return
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        yield from _iter_zip(path, budget, suffixes)
        return
    budget.reserve(path.name, path.stat().st_size)
    yield RawFile(path.name, path.read_bytes())


def zip_entry_count(path: Path) -> int | None:
    """The entry count a zip declares in its end record (zip64 too), read without parsing its directory.

    None when there is no end record (zipfile then refuses the file)."""
    with path.open("rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        start = max(0, size - (1 << 16) - 22)
        fh.seek(start)
        tail = fh.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        total = int(struct.unpack_from("<H", tail, at + 10)[0])
        locator = at - 20
        if total != 0xFFFF or locator < 0 or tail[locator:locator + 4] != _ZIP64_LOCATOR:
            return total
        fh.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = fh.read(56)
    if len(record) < 40 or record[:4] != _ZIP64_END:
        return None
    return int(struct.unpack_from("<Q", record, 32)[0])


def _display(name: str) -> str:
    """An entry name fit for a message: printable characters only, not too long."""
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= 200 else clean[:200] + "…"


def _iter_zip(path: Path, budget: ReadBudget, suffixes: set[str]) -> Iterator[RawFile]:
    declared = zip_entry_count(path)
    if declared is not None and budget.used_entries + declared > budget.max_entries:
        budget.check_zip(path.name, [0] * declared)  # raises before the directory is parsed
    try:
        with zipfile.ZipFile(path) as zf:
            infos = sorted((i for i in zf.infolist() if not i.is_dir() and Path(i.filename).suffix.lower() in suffixes),
                           key=lambda i: i.filename)
            budget.check_zip(path.name, [i.file_size for i in infos])
            for info in infos:
                name = f"{path.name}:{_display(info.filename)}"
                budget.reserve(name, info.file_size)
                yield RawFile(name, _read_entry(zf, info, name))
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{path.name}: not a readable .zip file ({exc})") from exc


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """One entry, unpacked in chunks; never more than it declares (zipfile stops there and checks the CRC)."""
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out += chunk
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise IngestError(f"{name}: damaged zip entry ({type(exc).__name__}); nothing was stored") from exc
    except (NotImplementedError, RuntimeError) as exc:  # an unknown compression method, or encrypted
        raise IngestError(f"{name}: cannot unpack this zip entry ({exc}); nothing was stored") from exc
    return bytes(out)


def decode_text(raw: RawFile) -> str:
    """UTF-8 text (a leading BOM is fine); binary files get a clear error."""
    if b"\x00" in raw.data[:4096]:
        raise IngestError(f"{raw.name}: a binary file, not a JSON export")
    try:
        return raw.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{raw.name}: not UTF-8 text (byte {exc.start})") from exc


def parse_json_documents(raw: RawFile, max_depth: int = DEFAULT_MAX_DEPTH) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, object) for a JSON file or each line of an NDJSON file; 'where' names the line."""
    text = decode_text(raw)
    stripped = text.strip()
    if not stripped:
        raise IngestError(f"{raw.name}: the file is empty")
    is_ndjson = raw.name.lower().endswith((".ndjson", ".jsonl"))
    if not is_ndjson:
        try:
            obj = loads(stripped, raw.name, max_depth)
        except json.JSONDecodeError as exc:
            if stripped.startswith("{") and "\n{" in stripped:
                is_ndjson = True  # bulk export saved with a .json name
            else:
                raise IngestError(
                    f"{raw.name}: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                    "the file may be truncated"
                ) from exc
        else:
            if not isinstance(obj, dict):
                raise IngestError(f"{raw.name}: expected a JSON object, found {type(obj).__name__}")
            yield raw.name, obj
            return
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            obj = loads(line, f"{raw.name}: line {lineno}", max_depth)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{raw.name}: line {lineno}: invalid JSON ({exc.msg}); the file may be truncated") from exc
        if not isinstance(obj, dict):
            raise IngestError(f"{raw.name}: line {lineno}: expected a JSON object")
        yield f"{raw.name}: line {lineno}", obj
