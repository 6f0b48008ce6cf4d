"""GET /v1/me and PUT /v1/me/consent: who the token is, what is stored, and the records-in-chat opt-in."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from healthcoach.api.auth import revoke_tokens
from healthcoach.api.deps import Deps
from healthcoach.api.errors import InvalidRequest
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


class Revoked(BaseModel):
    """What revoking removed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"tokens_revoked": 1, "sessions_ended": 2}]})
    tokens_revoked: int = Field(description="API tokens that no longer work.")
    sessions_ended: int = Field(description="Web-UI sign-ins made with them, now signed out.")


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

    @r.delete("/me/tokens", response_model=Revoked, responses=errors())
    def revoke(request: Request, user: str = Depends(deps.auth),
               every: bool = Query(False, alias="all", description="Revoke all your tokens, not just this one.")
               ) -> Revoked:
        """Revoke the token this request carries (or, with `all=true`, every token of yours) and sign out the
        web-UI sessions made with them. The next request with a revoked token gets 401."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if not every and (scheme.lower() != "bearer" or not token or
                          (deps.launch is not None and deps.launch.matches(token))):
            raise InvalidRequest("this request carries no API token to revoke (local mode); use all=true to "
                                 "revoke every token of yours")
        tokens, sessions = revoke_tokens(store, user, None if every else token)
        return Revoked(tokens_revoked=tokens, sessions_ended=sessions)

    return r
