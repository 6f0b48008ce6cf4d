"""One error shape for every failure: {"ok": false, "error": "...", "status": N}.

Messages are safe to show: HealthCoachError messages never carry record contents, validation errors name
the field but never echo the input, and a 500 says only "internal error" (the trace goes to the server log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from healthcoach.errors import HealthCoachError

log = logging.getLogger(__name__)


class InvalidRequest(HealthCoachError):
    """The request is well-formed JSON but asks for something invalid (too long, no user message)."""

    status = 422


class Timeout(HealthCoachError):
    """The answer took longer than the server allows."""

    status = 504


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body."""
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception through the one error shape."""

    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HealthCoachError)
        if exc.status >= 500:
            log.error("server error %s: %s", type(exc).__name__, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.public_message, headers)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, detail, dict(exc.headers) if exc.headers else None)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, _validation_message(exc))

    async def on_crash(_request: Request, exc: Exception) -> JSONResponse:
        # Never leak a trace or record contents to the client; the log keeps the type for debugging.
        log.exception("unhandled error: %s", type(exc).__name__)
        return error_response(500, "internal error")

    app.add_exception_handler(HealthCoachError, on_app_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_crash)
