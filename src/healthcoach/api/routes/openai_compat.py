"""What generic OpenAI clients and a browser without internet need from the server:

- `GET /v1/models` (many clients call it first) and `GET /v1/models/{id}`;
- citations where a generic client shows them: markdown footnotes appended to `content` (setting
  `api.citation_footnotes`, on by default) and OpenAI-style `annotations` pointing at each `[n]` marker;
- `/docs` served from the installed swagger-ui-bundle package (no CDN script).
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from healthcoach.api.deps import Deps
from healthcoach.api.routes.common import errors
from healthcoach.api.schemas import Annotation, UrlCitation
from healthcoach.compose.reply import Reply
from healthcoach.errors import NotFound

MODEL = "healthcoach"
MODEL_CREATED = 1767225600  # 2026-01-01: a fixed date, so the listing is stable
FOOTNOTE_RULE = "\n\n---\n**Sources**"
DOCS_ASSETS = "/docs/assets"


class Model(BaseModel):
    """One entry of `GET /v1/models`, in OpenAI's shape."""

    id: str
    object: str = "model"
    created: int = MODEL_CREATED
    owned_by: str = "healthcoach"


class ModelList(BaseModel):
    object: str = "list"
    data: list[Model]


def models_router(deps: Deps) -> APIRouter:
    """`GET /v1/models` and `GET /v1/models/{model_id}`: the one model this server answers as."""
    r = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(deps.auth)])

    @r.get("/models", response_model=ModelList, responses=errors())
    def models() -> ModelList:
        """The models this server answers as (OpenAI's list shape); clients call it to check the endpoint."""
        return ModelList(data=[Model(id=MODEL)])

    @r.get("/models/{model_id}", response_model=Model, responses=errors(404))
    def model(model_id: str) -> Model:
        """One model by id (404 for any other name)."""
        if model_id != MODEL:
            raise NotFound(f"no model named {model_id!r}; this server answers as {MODEL!r}")
        return Model(id=MODEL)

    return r


def footnotes(reply: Reply) -> str:
    """Markdown appended to the answer: one line per citation with its date, label, value and source."""
    if not reply.citations:
        return ""
    lines = []
    for c in reply.citations:
        value = f" {c.value}{' ' + c.unit if c.unit else ''}" if c.value else ""
        lines.append(f"[{c.n}] {c.date or 'undated'} · {c.label}{value} · {c.source}")
    return FOOTNOTE_RULE + "\n\n" + "  \n".join(lines)


def content_of(reply: Reply, with_footnotes: bool) -> str:
    """The `content` a generic client shows: the answer, and its sources when the setting is on."""
    return reply.text + (footnotes(reply) if with_footnotes else "")


def citation_annotations(content: str, reply: Reply) -> list[Annotation]:
    """One url_citation per `[n]` marker in the answer part of content, pointing at the cited record."""
    by_n = {c.n: c for c in reply.citations}
    answer = content.split(FOOTNOTE_RULE, 1)[0]
    out = []
    for m in re.finditer(r"\[(\d+)\]", answer):
        c = by_n.get(int(m.group(1)))
        if c is not None:
            value = f" {c.value}{' ' + c.unit if c.unit else ''}" if c.value else ""
            out.append(Annotation(url_citation=UrlCitation(
                start_index=m.start(), end_index=m.end(), url=f"/v1/records/{c.record_id}",
                title=f"{c.date or 'undated'} · {c.label}{value} · {c.source}")))
    return out


def swagger_assets() -> Path | None:
    """The folder of swagger-ui's JS and CSS from the installed swagger-ui-bundle package, if any."""
    if find_spec("swagger_ui_bundle") is None:
        return None
    import swagger_ui_bundle  # optional dependency: the api extra

    path = Path(swagger_ui_bundle.swagger_ui_path)
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_offline_docs(app: FastAPI) -> bool:
    """Serve `/docs` with swagger-ui from local files; without the package, no `/docs` at all (never a
    page that fetches scripts from a CDN). Returns whether `/docs` is served."""
    assets = swagger_assets()
    if assets is None:
        return False
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    return True
