"""GET /v1/me and PUT /v1/me/consent: who the token is, what is stored, and the records-in-chat opt-in."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import errors
from healthcoach.privacy import set_consent


class Profile(BaseModel):
    """The caller's profile (no record contents)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user_id": "maria", "use_records_in_chat": True, "remote_llm": False,
        "record_counts": {"lab": 42, "vital": 30}}]})
    user_id: str
    use_records_in_chat: bool = Field(description="Opt-in: answers may read your records.")
    remote_llm: bool = Field(description="Opt-in: a remote language model may see your question and evidence.")
    record_counts: dict[str, int] = Field(description="Stored records by category.")


class ConsentChange(BaseModel):
    """Consent flags to change; omitted flags stay as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"use_records_in_chat": True}]})
    use_records_in_chat: bool | None = None
    remote_llm: bool | None = None


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["meta"], dependencies=[Depends(deps.auth)])
    store = deps.bundle.stores.records

    def profile(user: str) -> Profile:
        row = store.ensure_user(user)
        return Profile(user_id=user, use_records_in_chat=row.use_records_in_chat, remote_llm=row.remote_llm,
                       record_counts=dict(store.record_counts(user)))

    @r.get("/me", response_model=Profile, responses=errors())
    def me(user: str = Depends(deps.auth)) -> Profile:
        """Your profile: consent flags and how many records are stored, by category."""
        return profile(user)

    @r.put("/me/consent", response_model=Profile, responses=errors())
    def consent(body: ConsentChange, user: str = Depends(deps.auth)) -> Profile:
        """Turn using your records in chat (or a remote model) on or off. Each change is logged with its time."""
        set_consent(store, user, records=body.use_records_in_chat, remote_llm=body.remote_llm)
        return profile(user)

    return r
