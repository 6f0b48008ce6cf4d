"""GET /v1/summary: the 'share with my doctor' page of the caller's records, as HTML or PDF."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import errors
from healthcoach.share import build_summary
from healthcoach.share.html import summary_html
from healthcoach.share.pdf import summary_pdf


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["records"], dependencies=[Depends(deps.auth)])

    @r.get("/summary", response_class=Response, responses={
        **errors(404),
        200: {"description": "The summary page.", "content": {"text/html": {}, "application/pdf": {}}}})
    async def summary(user: str = Depends(deps.auth),
                      format: Literal["html", "pdf"] = Query("html", description="html (default) or pdf."),
                      ) -> Response:
        """A one-page summary to share with a doctor: active problems, current medications with their
        instructions, allergies, recent key labs with ranges, vaccines and recent visits, each line dated and
        sourced. It restates your records and holds no advice."""
        page = await deps.run(lambda: build_summary(deps.bundle.stores.records, user))
        if format == "pdf":
            body = await deps.run(lambda: summary_pdf(page))
            return Response(body, media_type="application/pdf",
                            headers={"Content-Disposition": 'attachment; filename="health-summary.pdf"'})
        return HTMLResponse(summary_html(page))

    return r
