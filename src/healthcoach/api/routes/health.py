"""GET /healthz: liveness, no auth, no data."""

from __future__ import annotations

from fastapi import APIRouter

from healthcoach.api.deps import Deps
from healthcoach.api.schemas import Health


def router(_deps: Deps) -> APIRouter:
    r = APIRouter(tags=["meta"])

    @r.get("/healthz", response_model=Health)
    def healthz() -> Health:
        """Liveness check. Needs no token and returns no data."""
        return Health()

    return r
