"""Your data, your rules over HTTP: consent history, export, delete everything, sources, the audit log.

Each route calls the privacy service (healthcoach.privacy) the CLI and the UI use; no logic of its own.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from healthcoach.api.deps import Deps
from healthcoach.api.errors import InvalidRequest
from healthcoach.api.routes.common import errors
from healthcoach.privacy import (
    AuditEntry,
    ConsentState,
    DeleteReport,
    DisconnectReport,
    delete_user,
    disconnect_source,
    export_user,
    get_consent,
    list_audit,
)

EXPORT_NAME = "healthcoach-export.zip"


class ConsentOut(ConsentState):
    """Your consent flags now, and every change with its time (oldest first)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user_id": "maria", "use_records_in_chat": True, "remote_llm": False,
        "history": [{"at": "2026-11-20T09:12:03Z", "flag": "use_records_in_chat", "value": True}]}]})


class DeleteConfirm(BaseModel):
    """Deleting everything is permanent: type your own user id to confirm."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"confirm": "maria"}]})
    confirm: str = Field(max_length=200, description="Your user id, exactly as you sign in with it.")


class DeleteOut(DeleteReport):
    """What was removed. Your tokens are gone too: sign out; the next request with the old token gets 401."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user_id": "maria", "removed": {"records": 412, "vectors": 380, "embedding_cache": 380, "messages": 6,
                                        "conversations": 2, "api_tokens": 1, "audit_log": 9, "profile": 1},
        "scrubbed": ["record store", "vector store"]}]})


class SourceOut(BaseModel):
    """One place your records came from."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "fhir", "file": "maria-export.json", "records": 412}]})
    kind: str = Field(description="fhir, ccda, apple_health, fitbit, manual ...")
    file: str | None = Field(None, description="The uploaded file's name (none for manual entries).")
    records: int = Field(description="Records stored from this source.")


class DisconnectOut(DisconnectReport):
    """What disconnecting a source removed; the search index was rebuilt from the records left."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user_id": "maria", "source_kind": "manual", "source_file": None, "records_removed": 3,
        "records_left": 412, "chunks": 380, "cache_removed": 3}]})


class AuditOut(AuditEntry):
    """One audit event: record ids only, never record content."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "at": "2026-11-20T09:15:40Z", "action": "ask",
        "detail": {"conversation_id": "c_1", "question": "What's my A1c?", "intent": "latest_value",
                   "blocked": False, "category": None, "records_read": ["r_5f2c", "r_91ab"]}}]})


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["privacy"], dependencies=[Depends(deps.auth)])
    stores = deps.bundle.stores

    @r.get("/me/consent", response_model=ConsentOut, responses=errors(404))
    def consent(user: str = Depends(deps.auth)) -> ConsentOut:
        """Your consent flags (records in chat, remote LLM) and every change to them, with its time."""
        return ConsentOut.model_validate(get_consent(stores.records, user).model_dump())

    @r.get("/export", response_class=FileResponse, responses={
        200: {"description": "A zip: README.md, profile.json, records.json, fhir_bundle.json, conversations.json, "
                             "audit.json.", "content": {"application/zip": {"schema": {"type": "string",
                                                                                         "format": "binary"}}}},
        **errors(404)})
    def export(user: str = Depends(deps.auth)) -> FileResponse:
        """Download everything held about you as a zip, readable without this software (a README explains each
        file; records also come as a FHIR R4 Bundle). The export is logged in your audit trail."""
        tmp = deps.files.new_dir(user)  # 0700, this user's; removed after sending or by the sweep
        try:
            path = export_user(stores, user, tmp / EXPORT_NAME)
        except BaseException:
            deps.files.discard(tmp)
            raise
        # The zip holds health data: remove it as soon as it has been sent.
        return FileResponse(path, media_type="application/zip", filename=EXPORT_NAME,
                            background=BackgroundTask(deps.files.discard, tmp))

    @r.delete("/data", response_model=DeleteOut, responses=errors(404))
    def delete_everything(body: DeleteConfirm, user: str = Depends(deps.auth)) -> DeleteOut:
        """Delete everything held about you from every store (records, search index, embedding cache,
        conversations, profile, tokens, audit log), then compact the files so the bytes are gone. Permanent:
        `confirm` must be your user id. One audit entry with counts only remains. Your token stops working."""
        if body.confirm != user:
            raise InvalidRequest(f"nothing was deleted: to delete everything, send confirm equal to your user id "
                                 f"({user!r})")
        report = delete_user(stores, user)
        deps.files.remove_user(user)
        return DeleteOut.model_validate(report.model_dump())

    @r.get("/sources", response_model=list[SourceOut], responses=errors())
    def sources(user: str = Depends(deps.auth)) -> list[SourceOut]:
        """Where your records came from: each source (kind and file) with its record count."""
        return [SourceOut(kind=kind, file=file, records=n) for kind, file, n in stores.records.sources(user)]

    @r.delete("/sources", response_model=DisconnectOut, responses=errors(404))
    def disconnect(
        user: str = Depends(deps.auth),
        kind: str = Query(..., max_length=100, description="Source kind, as GET /v1/sources lists it."),
        file: str | None = Query(None, max_length=500, description="Only this file of that kind (default: all)."),
    ) -> DisconnectOut:
        """Disconnect a source: delete the records from it (one file, or every file of that kind) and rebuild
        the search index from what is left. 404 when none of your records came from it."""
        return DisconnectOut.model_validate(disconnect_source(stores, user, kind, file).model_dump())

    @r.get("/audit", response_model=list[AuditOut], responses=errors())
    def audit(user: str = Depends(deps.auth),
              limit: int | None = Query(None, ge=1, le=100_000, description="Only the latest N entries.")
              ) -> list[AuditOut]:
        """Your audit log, oldest first: each question and the ids of the records read to answer it (never
        their content), consent changes, exports, disconnects and deletions."""
        return [AuditOut.model_validate(e.model_dump()) for e in list_audit(stores.records, user, limit)]

    return r
