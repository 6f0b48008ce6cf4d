"""Choose the adapter for a path: wearable exports by their shape, everything else as FHIR."""

from __future__ import annotations

from pathlib import Path

from healthcoach.records.base import AdapterResult


def load_any(path: Path, user_id: str, max_bytes: int, tz: str | None = None,
             known: dict[str, str] | None = None) -> tuple[AdapterResult, list[str]]:
    """Load a file or folder with the adapter that fits it; returns the result and the files read.

    Wearable exports are streamed (an Apple Health export.xml can be gigabytes), so the per-file size
    limit applies to FHIR JSON, which is read whole."""
    from healthcoach import wearables
    from healthcoach.ingest.pipeline import fhir_loader

    if wearables.detect(path) is not None:
        result = wearables.load_wearables(path, user_id, tz)
        files = [path.name] if path.is_file() else sorted({r.source.file or "" for r in result.records} - {""})
        return result, files
    return fhir_loader(path, user_id, max_bytes, known)
