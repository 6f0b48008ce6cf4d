"""The source registry: every format healthcoach reads, as (name, sniff, load) rows tried in order.

Adding a format = one module (its sniff and load functions) + one line in SOURCES.

A file is read by the first row whose sniff accepts it; FHIR comes last and takes everything else (a
file that is not FHIR JSON/NDJSON gets a clear IngestError from the FHIR reader). Rows marked `folder`
recognise a whole folder (an OMOP CDM of CSV tables; a database URL goes to OMOP too). A folder that
holds any wearable export is read as wearable exports, file by file (a Fitbit Takeout export as a
whole); any other folder is read file by file as C-CDA documents and FHIR, and a zip as FHIR.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from healthcoach.errors import HealthCoachError, IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.records.ccda import is_ccda, load_ccda
from healthcoach.records.fhir import parse_fhir_files
from healthcoach.records.files import DEFAULT_MAX_DEPTH, JSON_SUFFIXES, RawFile, iter_files
from healthcoach.records.limits import ReadBudget
from healthcoach.records.omop import load_omop
from healthcoach.records.omop_tables import is_cdm_folder, is_url
from healthcoach.wearables import is_apple_health, is_google_fit, is_ihealth, is_withings
from healthcoach.wearables.apple_health import load_apple_health
from healthcoach.wearables.fitbit_api import is_fitbit_api, load_fitbit_api
from healthcoach.wearables.fitbit_takeout import find_export_dir, is_takeout_file, load_fitbit_takeout
from healthcoach.wearables.google_fit import load_google_fit
from healthcoach.wearables.ihealth import load_ihealth
from healthcoach.wearables.withings import load_withings

log = logging.getLogger(__name__)
PEEK = 65536  # characters of a .json/.xml file that a sniff sees
UNREADABLE = "could not be read"  # the last-resort message; tests assert no fuzz case ends with it


@dataclass(frozen=True)
class Request:
    """Whose records these are and how to read them."""

    user_id: str
    limits: ReadBudget | int  # FHIR files are read whole: per-file and per-ingest (unpacked) byte limits
    tz: str | None = None  # the wearer's IANA time zone (wearable days)
    known: dict[str, str] | None = None  # content hashes already stored: unchanged records skip validation
    person_id: int | None = None  # OMOP: the one person to import
    max_depth: int = DEFAULT_MAX_DEPTH  # JSON nesting limit


Sniff = Callable[[Path, str], bool]  # (file, its first PEEK characters; "" unless .json/.xml) -> this format?
Load = Callable[[Path, Request], tuple[AdapterResult, list[str]]]  # -> (records, names of the files read)


@dataclass(frozen=True)
class Source:
    """One format: its name, how to recognise a file of it, and how to load a file (or folder) of it."""

    name: str
    sniff: Sniff
    load: Load
    wearable: bool = True
    folder: bool = False  # the sniff recognises a whole folder, not a file


def _wearable(load: Callable[[Path, str, str | None], AdapterResult]) -> Load:
    return lambda path, req: (load(path, req.user_id, req.tz), [path.name])


def _anything(path: Path, head: str) -> bool:
    return True  # the last row: whatever no other row claimed is read as FHIR


def _ccda(path: Path, head: str) -> bool:
    return path.suffix.lower() == ".xml" and is_ccda(head)


def _cdm(path: Path, head: str) -> bool:
    return is_cdm_folder(path)


def load_ccda_file(path: Path, req: Request) -> tuple[AdapterResult, list[str]]:
    """Load C-CDA documents (a file, or each document in a folder or zip)."""
    return load_ccda(path, req.user_id, req.limits)


def load_omop_cdm(path: Path, req: Request) -> tuple[AdapterResult, list[str]]:
    """Load one person (req.person_id) of an OMOP CDM folder."""
    return load_omop(path, req.user_id, req.person_id)


def load_fhir(path: Path, req: Request) -> tuple[AdapterResult, list[str]]:
    """Load FHIR JSON/NDJSON files, folders and zips (one file in memory at a time)."""
    names: list[str] = []

    def files() -> Iterator[RawFile]:
        for raw in iter_files(path, req.limits):
            names.append(raw.name)
            yield raw

    result = parse_fhir_files(files(), req.user_id, known=req.known, max_depth=req.max_depth)
    if not names:
        raise IngestError(f"{path}: no FHIR JSON or NDJSON files found")
    return result, names


SOURCES: tuple[Source, ...] = (
    Source("omop", _cdm, load_omop_cdm, wearable=False, folder=True),
    Source("fitbit_takeout", is_takeout_file, _wearable(load_fitbit_takeout)),
    Source("apple_health", is_apple_health, _wearable(load_apple_health)),
    Source("ihealth", is_ihealth, _wearable(load_ihealth)),
    Source("google_fit", is_google_fit, _wearable(load_google_fit)),
    Source("withings", is_withings, _wearable(load_withings)),
    Source("fitbit_api", is_fitbit_api, _wearable(load_fitbit_api)),
    Source("ccda", _ccda, load_ccda_file, wearable=False),
    Source("fhir", _anything, load_fhir, wearable=False),
)


def source_of(file: Path) -> Source:
    """The first registry row whose sniff accepts this file (FHIR when no other does)."""
    head = ""
    if file.suffix.lower() in (".json", ".xml"):
        with file.open("r", encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(PEEK)
    return next(s for s in SOURCES if s.sniff(file, head))


def _wearable_file(file: Path) -> Source | None:
    source = source_of(file)
    return source if source.wearable else None


def detect(path: Path) -> str | None:
    """The wearable format of a file or folder ('fitbit_takeout', 'apple_health', ...), else None.

    A folder is 'fitbit_takeout' when it holds a Takeout export, else the format of its files when
    they agree, 'mixed' when they do not, and None when nothing in it is a wearable export.
    """
    path = Path(path)
    if path.is_file():
        source = _wearable_file(path)
        return source.name if source else None
    if not path.is_dir():
        return None
    if find_export_dir(path) is not None:
        return "fitbit_takeout"
    found = {s.name for p in sorted(path.rglob("*")) if p.is_file() and (s := _wearable_file(p))}
    if not found:
        return None
    return found.pop() if len(found) == 1 else "mixed"


def load_wearables(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Import every wearable export under `path` (a file or a folder) as daily records.

    `tz` is the wearer's IANA time zone; without it each adapter uses offsets in the data, else UTC
    (see each adapter's docstring). Files that are not a known wearable format are counted in
    result.skipped. A truncated or malformed file raises IngestError naming the file.
    """
    path = Path(path)
    req = Request(user_id, limits=0, tz=tz)
    if not path.exists():
        raise IngestError(f"{path.name}: no such file or folder")
    if path.is_file():
        source = _wearable_file(path)
        if source is None:
            raise IngestError(f"{path.name}: not a recognised wearable export")
        # One file of a Takeout export stands for the whole export it belongs to.
        return source.load(path.parent if source.name == "fitbit_takeout" else path, req)[0]
    result = AdapterResult()
    takeout_dirs: set[Path] = set()
    for cand in [path, *sorted(p for p in path.rglob("*") if p.is_dir())]:
        if any(cand.is_relative_to(t.parent) for t in takeout_dirs):
            continue
        export = find_export_dir(cand)
        if export is not None and export not in takeout_dirs:
            takeout_dirs.add(export)
            result.extend(load_fitbit_takeout(export, user_id, tz))
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if any(file.is_relative_to(t.parent) for t in takeout_dirs):
            continue  # part of a Takeout export, read above (its own unknown files are counted there)
        source = _wearable_file(file)
        if source is None:
            result.skip("file not a recognised wearable export (ignored)")
            continue
        result.extend(source.load(file, req)[0])
    return _dedupe(result)


def _dedupe(result: AdapterResult) -> AdapterResult:
    """One record per (source kind, metric, day): a day repeated in another file of the same source
    (an overlapping API range, a re-saved body) is counted once; the first file in name order wins."""
    seen: set[str] = set()
    kept = []
    for rec in result.records:
        if rec.id in seen:
            result.skip(f"{rec.details.get('metric', 'record')}: same day in another file (counted once)")
            continue
        seen.add(rec.id)
        kept.append(rec)
    result.records = kept
    return result


def load_any(path: Path | str, user_id: str, limits: ReadBudget | int, tz: str | None = None,
             known: dict[str, str] | None = None, person_id: int | None = None,
             max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[AdapterResult, list[str]]:
    """Load a file, folder or OMOP database URL with the source that fits it; returns the result and the
    files read. `person_id` chooses one person of an OMOP CDM.

    Wearable exports are streamed (an Apple Health export.xml can be gigabytes), so the byte limits apply
    to FHIR JSON and C-CDA XML, which are read whole. Any failure is an IngestError naming the file."""
    req = Request(user_id=user_id, limits=limits, tz=tz, known=known, person_id=person_id, max_depth=max_depth)
    name = path if isinstance(path, str) else path.name
    try:
        return _load(path, req)
    except HealthCoachError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError) as exc:
        # Last line of defence (the fuzz tests check that no known input ends here): one clear error,
        # the type only in the log (the message could quote record content).
        log.warning("could not read an export: %s", type(exc).__name__)
        raise IngestError(f"{name}: {UNREADABLE} ({type(exc).__name__}); nothing was stored") from exc


def _load(path: Path | str, req: Request) -> tuple[AdapterResult, list[str]]:
    if isinstance(path, str) and is_url(path):
        return load_omop(path, req.user_id, req.person_id)
    path = Path(path)
    folder = next((s for s in SOURCES if s.folder and s.sniff(path, "")), None)
    if folder is not None:
        return folder.load(path, req)
    if req.person_id is not None:
        raise IngestError(f"{path.name}: --person-id applies to an OMOP CDM (a folder with person.csv, or a "
                          "database URL)")
    if detect(path) is not None:
        result = load_wearables(path, req.user_id, req.tz)
        files = [path.name] if path.is_file() else sorted({r.source.file or "" for r in result.records} - {""})
        return result, files
    if path.is_file() and path.suffix.lower() == ".xml":
        if source_of(path).name != "ccda":
            raise IngestError(f"{path.name}: an XML file that is neither a C-CDA document nor an Apple Health export")
        return load_ccda_file(path, req)
    if path.is_dir() and any(source_of(p).name == "ccda" for p in sorted(path.rglob("*.xml"))):
        return _mixed_folder(path, req)
    return load_fhir(path, req)


def _mixed_folder(path: Path, req: Request) -> tuple[AdapterResult, list[str]]:
    """A folder of C-CDA documents, perhaps beside FHIR files: each read by its own source."""
    result, names = load_ccda_file(path, req)
    if any(p.suffix.lower() in JSON_SUFFIXES for p in path.rglob("*") if p.is_file()):
        more, files = load_fhir(path, req)
        result.extend(more)
        names += files
    return result, names
