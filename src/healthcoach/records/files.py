"""Reading export files safely: size limits, BOMs, folders and zips, with errors that name the file."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError, TooLarge

JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}


@dataclass(frozen=True)
class RawFile:
    """One file's bytes and the name a person recognises ('export.zip:Patient/x.json')."""

    name: str
    data: bytes


def iter_files(path: Path, max_bytes: int, suffixes: set[str] = JSON_SUFFIXES) -> Iterator[RawFile]:
    """Yield readable files under path (a file, a folder, or a .zip), enforcing the size limit per file."""
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if child.suffix.lower() in suffixes or child.suffix.lower() == ".zip":
                yield from iter_files(child, max_bytes, suffixes)
        return
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        yield from _iter_zip(path, max_bytes, suffixes)
        return
    size = path.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"{path.name}: {size:,} bytes is over the limit of {max_bytes:,} bytes")
    yield RawFile(path.name, path.read_bytes())


def _iter_zip(path: Path, max_bytes: int, suffixes: set[str]) -> Iterator[RawFile]:
    try:
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir() or Path(info.filename).suffix.lower() not in suffixes:
                    continue
                if info.file_size > max_bytes:
                    raise TooLarge(
                        f"{path.name}:{info.filename}: {info.file_size:,} bytes is over the limit of "
                        f"{max_bytes:,} bytes"
                    )
                yield RawFile(f"{path.name}:{info.filename}", zf.read(info))
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{path.name}: not a readable .zip file ({exc})") from exc


def decode_text(raw: RawFile) -> str:
    """UTF-8 text (a leading BOM is fine); binary files get a clear error."""
    if b"\x00" in raw.data[:4096]:
        raise IngestError(f"{raw.name}: a binary file, not a JSON export")
    try:
        return raw.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{raw.name}: not UTF-8 text (byte {exc.start})") from exc


def parse_json_documents(raw: RawFile) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, object) for a JSON file or each line of an NDJSON file; 'where' names the line."""
    text = decode_text(raw)
    stripped = text.strip()
    if not stripped:
        raise IngestError(f"{raw.name}: the file is empty")
    is_ndjson = raw.name.lower().endswith((".ndjson", ".jsonl"))
    if not is_ndjson:
        try:
            obj = json.loads(stripped)
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
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{raw.name}: line {lineno}: invalid JSON ({exc.msg}); the file may be truncated") from exc
        if not isinstance(obj, dict):
            raise IngestError(f"{raw.name}: line {lineno}: expected a JSON object")
        yield f"{raw.name}: line {lineno}", obj
