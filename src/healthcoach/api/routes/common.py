"""Shared route helpers: documented error responses and server-sent-event framing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from healthcoach.api.schemas import ErrorBody
from healthcoach.errors import HealthCoachError

log = logging.getLogger(__name__)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_DESCRIPTIONS = {401: "Missing or invalid bearer token.", 403: "Refused (another person's or a minor's records).", 404: "Not found (or not yours).",
                 409: "An ingest for this user is already running; retry when it has finished.",
                 413: "Request body over the size limit.", 422: "Invalid request.",
                 500: "Internal error (no details are leaked).", 504: "The answer took too long."}


def sse_schema(description: str, events: list[str] | None = None) -> dict[str, Any]:
    """The schema of one server-sent event (schemathesis checks each event against it)."""
    event: dict[str, Any] = {"type": "string", "enum": events} if events else {"type": "string"}
    return {"type": "object", "description": description, "required": ["data"],
            "properties": {"event": event, "data": {"type": "string", "description": "JSON (or [DONE])."}}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses, all with the one error shape."""
    return {c: {"model": ErrorBody, "description": _DESCRIPTIONS[c]} for c in (401, 422, 500, *codes)}


def sse(event: str | None, data: object) -> str:
    """One server-sent event."""
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {body}\n\n"


def guarded(events: Iterable[str]) -> Iterator[str]:
    """Pass events through; an error mid-stream becomes a final `error` event in the one error shape."""
    try:
        yield from events
    except HealthCoachError as exc:
        yield sse("error", {"ok": False, "error": exc.public_message, "status": exc.status})
    except Exception as exc:  # never leak a trace into the stream
        log.exception("error while streaming: %s", type(exc).__name__)
        yield sse("error", {"ok": False, "error": "internal error", "status": 500})
