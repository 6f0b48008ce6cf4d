"""The server: FastAPI app (API v1) with the Gradio UI mounted at /ui, built by create_app(settings)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from healthcoach.api.auth import Authenticator, check_local_mode
from healthcoach.api.deps import Deps
from healthcoach.api.errors import error_response, install_error_handlers
from healthcoach.api.routes import chat, health, ingest, log, me, openai, privacy, records, summary
from healthcoach.api.routes.openai_compat import install_offline_docs, models_router
from healthcoach.container import CoachBundle
from healthcoach.errors import TooLarge
from healthcoach.settings import Settings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
DESCRIPTION = """A local-first health coach over your own medical records. **A wellness coach, not a doctor:**
in an emergency call 911 (or your local emergency number); for a mental-health crisis call or text 988.

Every route except `/healthz` (and these docs, which hold no data) needs `Authorization: Bearer <token>`
(create one with `healthcoach users add NAME`). A token sees only its own user's records and conversations.
Every error has one shape: `{"ok": false, "error": "...", "status": N}`."""


class BodyLimit:
    """Refuse request bodies over the limit with 413, before they are read (or while they stream in)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            response = error_response(413, self.message(int(length)))
            await response(scope, receive, send)
            return
        seen, over = 0, False

        async def counting_receive() -> Any:
            nonlocal seen, over
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                over = True
                raise TooLarge(self.message(seen))
            return msg

        async def checked_send(msg: Any) -> None:
            # Body parsers turn any read error into a 400; once the limit is hit, answer 413 instead.
            if not over:
                await send(msg)
            elif msg["type"] == "http.response.start":
                await error_response(413, self.message(seen))(scope, receive, send)

        await self.app(scope, counting_receive, checked_send)

    def message(self, size: int) -> str:
        return (f"request body is {size:,} bytes; the limit is {self.limit:,} bytes "
                "(HEALTHCOACH_API__MAX_UPLOAD_BYTES). Split the export into smaller files.")


def create_app(settings: Settings, coach_bundle: CoachBundle | None = None, *, ui: bool = True,
               request_timeout_s: float | None = None) -> FastAPI:
    """Build the server for these settings; pass a pre-built CoachBundle to share one coach."""
    check_local_mode(settings.api.local_user, settings.api.host)
    bundle = coach_bundle or CoachBundle.build(settings)
    auth = Authenticator(bundle.stores.records, settings.api.local_user)
    deps = Deps(settings, bundle, auth, request_timeout_s or settings.api.request_timeout_s)
    app = FastAPI(title="healthcoach", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_tags=[{"name": "chat", "description": "Ask the coach."},
                                {"name": "records", "description": "Your stored records."},
                                {"name": "ingest", "description": "Add exports."},
                                {"name": "meta", "description": "Liveness and your profile."},
                                {"name": "privacy", "description": "Consent, export, sources, audit, delete."}])
    install_error_handlers(app)
    for module in (health, chat, openai, records, summary, ingest, me, log, privacy):
        app.include_router(module.router(deps))
    app.include_router(models_router(deps))
    install_offline_docs(app)
    app.add_middleware(BodyLimit, limit=settings.api.max_upload_bytes)
    _document_limits(app, settings)
    app.state.deps = deps
    if ui:
        _mount_ui(app, deps)
    return app


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """Put the configured message length into the OpenAPI schema (it is a setting, not a constant)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            props = schema.get("components", {}).get("schemas", {}).get("ChatRequest", {}).get("properties", {})
            if "message" in props:
                props["message"]["maxLength"] = settings.api.max_message_chars
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_ui(app: FastAPI, deps: Deps) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr  # optional dependency: the ui extra

    from healthcoach.ui.app import build_ui, mount_options  # optional dependency: the ui extra (gradio)

    local = deps.settings.api.local_user
    blocks = build_ui(deps.bundle, local_user=local)
    gr.mount_gradio_app(
        app, blocks, path="/ui", ssr_mode=False, max_file_size=deps.settings.api.max_upload_bytes,
        auth=None if local else deps.auth.check_login, footer_links=[],
        **mount_options(),  # theme, stylesheet, and a sign-in page that asks for the token
    )
