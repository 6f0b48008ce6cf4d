"""The server: FastAPI app (API v1) with the Gradio UI mounted at /ui, built by create_app(settings)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from healthcoach.api import pages
from healthcoach.api.auth import Authenticator, LaunchKey, check_local_mode
from healthcoach.api.deps import Deps
from healthcoach.api.errors import error_response, install_error_handlers
from healthcoach.api.routes import chat, health, ingest, log, me, openai, privacy, records
from healthcoach.api.security import Gate, Policy
from healthcoach.api.sessions import SessionStore, UIAuth
from healthcoach.container import CoachBundle
from healthcoach.errors import TooLarge
from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.settings import Settings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
DESCRIPTION = """A local-first health coach over your own medical records. **A wellness coach, not a doctor:**
in an emergency call 911 (or your local emergency number); for a mental-health crisis call or text 988.

Every route except `/healthz` (and these docs, which hold no data) needs `Authorization: Bearer <token>`
(create one with `healthcoach users add NAME`). A token sees only its own user's records and conversations.
In local single-user mode the key in the link `healthcoach serve` printed stands in for a token.
Requests that change anything are refused when they come from another web site's page.
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
               request_timeout_s: float | None = None, launch: LaunchKey | None = None) -> FastAPI:
    """Build the server for these settings; pass a pre-built CoachBundle to share one coach.

    In local single-user mode a new LaunchKey is made unless one is passed (app.state.launch holds it: the
    link to print is /ui/?key=<its secret>)."""
    api = settings.api
    check_local_mode(api.local_user, api.host)
    bundle = coach_bundle or CoachBundle.build(settings)
    store = bundle.stores.records
    launch = (launch or LaunchKey(api.port)) if api.local_user else None
    files = UserFiles(api.temp_dir, api.ui_file_ttl_s)
    auth = Authenticator(store, api.local_user, launch)
    ui_auth = UIAuth(SessionStore(store, api.ui_session_ttl_s, api.port), api.local_user, launch) if ui else None
    deps = Deps(settings, bundle, auth, request_timeout_s or api.request_timeout_s, files, ui_auth, launch)
    app = FastAPI(title="healthcoach", version="1", description=DESCRIPTION, lifespan=_sweeping(files),
                  openapi_tags=[{"name": "chat", "description": "Ask the coach."},
                                {"name": "records", "description": "Your stored records."},
                                {"name": "ingest", "description": "Add exports."},
                                {"name": "meta", "description": "Liveness and your profile."},
                                {"name": "privacy", "description": "Consent, export, sources, audit, delete."}])
    install_error_handlers(app)
    for module in (health, chat, openai, records, ingest, me, log, privacy):
        app.include_router(module.router(deps))
    if ui:
        app.include_router(pages.router(deps))  # before the Gradio mount: these paths take precedence
    app.add_middleware(BodyLimit, limit=api.max_upload_bytes)
    policy = Policy(port=api.port, local_user=api.local_user, allowed_hosts=tuple(api.allowed_hosts),
                    max_header_bytes=api.max_header_bytes, public_paths=PUBLIC_PATHS)
    app.add_middleware(Gate, policy=policy, auth=auth, ui=ui_auth, launch=launch, files=files)  # outermost
    _document_limits(app, settings)
    app.state.deps, app.state.launch = deps, launch
    if ui:
        _mount_ui(app, deps)
    return app


def _sweeping(files: UserFiles) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Lifespan: remove expired web temp files at start-up and then every minute (or half the time to live)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(files.sweep)

        async def sweep_forever() -> None:
            while True:
                await asyncio.sleep(min(60.0, files.ttl_s / 2))
                await run_in_threadpool(files.sweep)

        task = asyncio.create_task(sweep_forever())
        try:
            yield
        finally:
            task.cancel()

    return lifespan


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

    from healthcoach.ui.app import build_ui  # optional dependency: the ui extra (gradio)

    # Gradio keeps uploads in GRADIO_TEMP_DIR (default /tmp/gradio, readable by other accounts): put them in
    # the server's private temp folder, where the gate never lets Gradio's file route serve them.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(deps.files.base / "gradio"))
    blocks = build_ui(deps.bundle, local_user=deps.settings.api.local_user, files=deps.files)
    gr.mount_gradio_app(
        app, blocks, path="/ui", ssr_mode=False, max_file_size=deps.settings.api.max_upload_bytes,
        auth_dependency=deps.ui, footer_links=[],
    )
