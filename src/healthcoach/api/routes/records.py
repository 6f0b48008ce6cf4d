"""GET /v1/records: the caller's stored records, filtered, newest clinical date first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import errors
from healthcoach.api.schemas import RecordList, RecordOut
from healthcoach.errors import NotFound
from healthcoach.records.models import Category
from healthcoach.records.serialize import code_keys, record_json


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["records"], dependencies=[Depends(deps.auth)])

    @r.get("/records", response_model=RecordList, responses=errors())
    def records(
        user: str = Depends(deps.auth),
        category: Category | None = Query(None, description="Only this category (lab, vital, immunization ...)."),
        code: list[str] = Query([], max_length=50, description="Only records with this code: 4548-4 or "
                                "LOINC:4548-4 (repeatable)."),
        since: date | None = Query(None, description="Clinical date on or after (YYYY-MM-DD)."),
        until: date | None = Query(None, description="Clinical date on or before (YYYY-MM-DD)."),
        limit: int | None = Query(None, ge=1, le=100_000, description="At most this many (default: all)."),
    ) -> RecordList:
        """Your records, newest clinical date first (undated last). Complete unless `limit` is given."""
        found = deps.bundle.stores.records.query(
            user, categories=[category] if category else None, code_keys=code_keys(code),
            since=datetime.combine(since, time(), UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), UTC) if until and until < date.max else None,
            limit=limit)
        items = [RecordOut.model_validate(record_json(rec)) for rec in found]
        return RecordList(count=len(items), records=items)

    @r.get("/records/{record_id}", response_model=RecordOut, responses=errors(404))
    def record(record_id: str, user: str = Depends(deps.auth)) -> RecordOut:
        """One of your records by id (what a citation points at); 404 for any other id."""
        found = deps.bundle.stores.records.get_records(user, [record_id])
        if record_id not in found:
            raise NotFound(f"no record {record_id!r}")
        return RecordOut.model_validate(record_json(found[record_id]))

    return r
