"""POST /v1/log: a measurement the user enters (weight, water), stored like any other record."""

from __future__ import annotations

from datetime import date as Date
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from healthcoach.api.deps import Deps
from healthcoach.api.errors import InvalidRequest
from healthcoach.api.routes.common import errors
from healthcoach.wearables.manual import manual_entry


class LogEntry(BaseModel):
    """A manual entry."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"kind": "weight", "amount": "72.5kg"}]})
    kind: Literal["weight", "water"]
    amount: str = Field(max_length=40, description="A number and a unit: 72.5kg, 160 lb, 500ml, 2 cups.")
    date: Date | None = Field(None, description="Day of the measurement (default today).")


class Logged(BaseModel):
    """What was stored."""

    record_id: str
    label: str
    value: str
    date: str


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["records"], dependencies=[Depends(deps.auth)])

    @r.post("/log", response_model=Logged, responses=errors())
    def log(body: LogEntry, user: str = Depends(deps.auth)) -> Logged:
        """Log your weight or water intake; it becomes a record the coach answers from."""
        try:
            record = manual_entry(user, body.kind, body.amount, body.date)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        deps.bundle.stores.ingestor.add_records(user, [record])
        return Logged(record_id=record.id, label=record.label, value=record.value_display(),
                      date=str(record.date))

    return r
