"""Choose the adapter for a path: OMOP CDM (a CSV folder or a database URL), wearable exports by their shape,
C-CDA XML documents, and everything else as FHIR. A folder may mix C-CDA documents and FHIR files."""

from __future__ import annotations

from pathlib import Path

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult


def load_any(path: Path | str, user_id: str, max_bytes: int, tz: str | None = None,
             known: dict[str, str] | None = None, person_id: int | None = None) -> tuple[AdapterResult, list[str]]:
    """Load a file, folder or database URL with the adapter that fits it; returns the result and what was read.

    Wearable exports are streamed (an Apple Health export.xml can be gigabytes), so the per-file size
    limit applies to FHIR JSON and C-CDA XML, which are read whole."""
    from healthcoach import wearables
    from healthcoach.ingest.pipeline import fhir_loader
    from healthcoach.records.ccda import is_ccda, load_ccda
    from healthcoach.records.omop import load_omop
    from healthcoach.records.omop_tables import is_cdm_folder, is_url

    if isinstance(path, str) and is_url(path):
        return load_omop(path, user_id, person_id)
    path = Path(path)
    if is_cdm_folder(path):
        return load_omop(path, user_id, person_id)
    if person_id is not None:
        raise IngestError(f"{path.name}: --person-id applies to an OMOP CDM (a folder with person.csv, or a "
                          "database URL)")
    if wearables.detect(path) is not None:
        result = wearables.load_wearables(path, user_id, tz)
        files = [path.name] if path.is_file() else sorted({r.source.file or "" for r in result.records} - {""})
        return result, files
    if path.is_file() and path.suffix.lower() == ".xml":
        with path.open("rb") as fh:
            if is_ccda(fh.read(8192)):
                return load_ccda(path, user_id, max_bytes)
        raise IngestError(f"{path.name}: an XML file that is neither a C-CDA document nor an Apple Health export")
    if path.is_dir() and any(p.suffix.lower() == ".xml" for p in path.rglob("*") if p.is_file()):
        result, names = load_ccda(path, user_id, max_bytes) if _has_ccda(path) else (AdapterResult(), [])
        if any(p.suffix.lower() in (".json", ".ndjson", ".jsonl") for p in path.rglob("*") if p.is_file()):
            more, files = fhir_loader(path, user_id, max_bytes, known)
            result.extend(more)
            names += files
        if not names:
            raise IngestError(f"{path.name}: no C-CDA, FHIR or wearable files found")
        return result, names
    return fhir_loader(path, user_id, max_bytes, known)


def _has_ccda(folder: Path) -> bool:
    from healthcoach.records.ccda import is_ccda

    for p in folder.rglob("*.xml"):
        with p.open("rb") as fh:
            if is_ccda(fh.read(8192)):
                return True
    return False
