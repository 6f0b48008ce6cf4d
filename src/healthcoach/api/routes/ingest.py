"""POST /v1/ingest: upload exports; they are saved under safe names in a private temp folder of the
uploader's (removed as soon as the ingest ends) and ingested."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, File, UploadFile

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import errors
from healthcoach.errors import IngestError, TooLarge
from healthcoach.ingest.pipeline import IngestReport

CHUNK = 1024 * 1024


def safe_name(index: int, filename: str | None) -> str:
    """A file name with no directories, no leading dots and only plain characters; index keeps it unique."""
    base = Path((filename or "upload").replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:100] or "upload"
    return f"{index:03d}_{base}"


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["ingest"], dependencies=[Depends(deps.auth)])
    limit = deps.settings.api.max_upload_bytes

    @r.post("/ingest", response_model=IngestReport, responses=errors(403, 409, 413))
    async def ingest(files: list[UploadFile] = File(description="Export files: FHIR R4 JSON/NDJSON bundles, C-CDA XML, "
                                                    "zip files of them, and the other formats the CLI reads."),
                     user: str = Depends(deps.auth)) -> IngestReport:
        """Add exports to your records (all or nothing). Returns what was stored, by category, and what was
        skipped and why. Another person's records (or a minor's, or files without their Patient for a new
        profile) are refused with 403; a second upload while one is still being ingested for you gets 409."""
        if not files:
            raise IngestError("no files uploaded")
        tmp = deps.files.new_dir(user)
        try:
            total, paths = 0, []
            for i, upload in enumerate(files):
                path = tmp / safe_name(i, upload.filename)
                with path.open("wb") as out:
                    while chunk := await upload.read(CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise TooLarge(f"uploads total more than {limit:,} bytes, the limit "
                                           "(HEALTHCOACH_API__MAX_UPLOAD_BYTES); send smaller files")
                        out.write(chunk)
                paths.append(path)
        except BaseException:
            deps.files.discard(tmp)
            raise

        def run() -> IngestReport:
            try:
                return deps.bundle.stores.ingestor.ingest(user, paths)
            finally:
                deps.files.discard(tmp)

        return await deps.run(run)

    return r
