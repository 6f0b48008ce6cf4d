"""The gate every request passes first (API and the mounted web UI alike), before any body is read:

1. headers no larger than api.max_header_bytes (431);
2. a Host this server is (loopback with its port in local mode; api.allowed_hosts when set) — a web page
   that rebinds its own name to 127.0.0.1 (DNS rebinding) is turned away (400);
3. local mode's per-launch key: the printed link `/ui/?key=...` sets it as a cookie and redirects;
4. state-changing requests only from this server's own pages: an Origin or Referer of another origin,
   or Sec-Fetch-Site: cross-site, is refused (403) — a form on another site cannot upload or delete;
5. who is calling, checked before the route reads a byte of the body: /v1 needs a bearer token (or the
   launch key), /ui a live sign-in (or the launch key) (401);
6. files under the server's private temp folder are never served by Gradio's file route (403);
7. no CORS grant to another origin (Gradio would echo any http://localhost:* origin with credentials).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, RedirectResponse, Response

from healthcoach.api.auth import USER_STATE, Authenticator, LaunchKey
from healthcoach.api.errors import error_response
from healthcoach.api.pages import open_the_link_page
from healthcoach.api.sessions import UIAuth
from healthcoach.errors import HealthCoachError, Unauthorized
from healthcoach.privacy.tempfiles import UserFiles

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
LOGIN_BODY_LIMIT = 16 * 1024
_CORS = (b"access-control-allow-origin", b"access-control-allow-credentials")


def split_host(host: str) -> tuple[str, int | None]:
    """('name', port) of a Host header value; IPv6 brackets removed, name lower-cased."""
    parts = urlsplit("//" + host.strip())
    try:
        return (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return "", None


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


def same_origin(url: str, host: str) -> bool:
    """True when an Origin or Referer URL names the host (and port) this request was sent to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    try:
        port = parts.port or _default_port(parts.scheme)
    except ValueError:
        return False
    name, host_port = split_host(host)
    return parts.hostname.lower() == name and port == (host_port or _default_port(parts.scheme))


@dataclass(frozen=True)
class Policy:
    """What the gate enforces, from settings."""

    port: int
    local_user: str | None
    allowed_hosts: tuple[str, ...]
    max_header_bytes: int
    public_paths: frozenset[str]
    ui_prefix: str = "/ui"

    def host_ok(self, host: str) -> bool:
        """Local mode: loopback with this port only. Token mode: anything, unless allowed_hosts is set."""
        if not self.local_user and not self.allowed_hosts:
            return True
        name, port = split_host(host)
        if name in LOOPBACK_NAMES and (port or 80) == self.port:
            return True
        if self.local_user:
            return False
        for entry in self.allowed_hosts:
            allowed, allowed_port = split_host(entry)
            if name == allowed and (allowed_port is None or allowed_port == port):
                return True
        return False


class Gate:
    """ASGI middleware applying the Policy (see the module docstring)."""

    def __init__(self, app: ASGIApp, policy: Policy, auth: Authenticator, ui: UIAuth | None,
                 launch: LaunchKey | None, files: UserFiles) -> None:
        self.app, self.policy, self.auth, self.ui, self.launch, self.files = app, policy, auth, ui, launch, files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._check_request(scope, headers) or await self._check_caller(scope, headers)
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        await self.app(scope, receive, self._wrap_send(scope, headers, send))

    # checks --------------------------------------------------------------------------------------------
    def _check_request(self, scope: Scope, headers: Headers) -> Response | None:
        size = sum(len(k) + len(v) for k, v in scope.get("headers") or [])
        if size > self.policy.max_header_bytes:
            return error_response(431, f"request headers are {size:,} bytes; the limit is "
                                       f"{self.policy.max_header_bytes:,} (HEALTHCOACH_API__MAX_HEADER_BYTES)")
        if not self.policy.host_ok(headers.get("host", "")):
            return error_response(400, "this server does not answer to that Host name (in local mode only to "
                                       f"127.0.0.1, localhost or [::1] on port {self.policy.port})")
        method = scope.get("method", "GET")
        if scope["type"] == "websocket" or method not in SAFE_METHODS:
            refusal = self._check_origin(headers)
            if refusal is not None:
                return refusal
        if self.launch is not None and method == "GET" and b"key=" in scope.get("query_string", b""):
            return self._launch_link(scope)
        if scope["path"] == f"{self.policy.ui_prefix}/login" and method == "POST":
            length = headers.get("content-length", "")
            if not length.isdigit() or int(length) > LOGIN_BODY_LIMIT:
                return error_response(413, "a sign-in form is small; this one is too large or has no length")
        return self._check_file_route(scope)

    def _check_origin(self, headers: Headers) -> Response | None:
        host = headers.get("host", "")
        origin, referer = headers.get("origin"), headers.get("referer")
        foreign = (headers.get("sec-fetch-site") == "cross-site"
                   or (origin is not None and not same_origin(origin, host))
                   or (origin is None and referer is not None and not same_origin(referer, host)))
        if foreign:
            return error_response(403, "refused: this request came from another web site's page; only this "
                                       "server's own pages may change anything")
        return None

    def _launch_link(self, scope: Scope) -> Response | None:
        assert self.launch is not None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        keys = [v for k, v in query if k == "key"]
        if not keys:
            return None
        if not self.launch.matches(keys[0]):
            return error_response(403, "that link is from another launch of the server: open the link "
                                       "`healthcoach serve` printed this time")
        rest = urlencode([(k, v) for k, v in query if k != "key"])
        response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
        response.set_cookie(self.launch.cookie, self.launch.secret, httponly=True, samesite="strict", path="/",
                            secure=scope.get("scheme") == "https")
        return response

    def _check_file_route(self, scope: Scope) -> Response | None:
        path = scope["path"]
        if not path.startswith(self.policy.ui_prefix + "/"):
            return None
        _, marker, target = path.partition("/file=")
        if not marker:
            _, marker, target = path.partition("/gradio_api/file/")
        if not marker:
            return None
        real = os.path.realpath(unquote(target))
        gradio = os.environ.get("GRADIO_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "gradio")
        for base in (os.path.realpath(self.files.base), os.path.realpath(gradio)):
            if real == base or real.startswith(base + os.sep):
                return error_response(403, "uploads and exports are not served from here; download your export "
                                           "from the Privacy tab")
        return None

    async def _check_caller(self, scope: Scope, headers: Headers) -> Response | None:
        path, ui = scope["path"], self.policy.ui_prefix
        if path in self.policy.public_paths or path in (f"{ui}/login", f"{ui}/logout"):
            return None
        cookies = cookie_parser(headers.get("cookie", ""))
        if path == "/v1" or path.startswith("/v1/"):
            try:
                user = await run_in_threadpool(self.auth.resolve, headers, cookies)
            except Unauthorized as exc:
                return error_response(401, exc.message, {"WWW-Authenticate": "Bearer"})
            except HealthCoachError as exc:  # e.g. the record store is damaged: one clear answer
                return error_response(exc.status, exc.public_message)
        elif self.ui is not None and (path == ui or path.startswith(ui + "/")):
            try:
                found = await run_in_threadpool(self.ui.user, cookies)
            except HealthCoachError as exc:
                return error_response(exc.status, exc.public_message)
            if found is None:
                return self._ui_sign_in(scope)
            user = found
        else:
            return None
        scope.setdefault("state", {})[USER_STATE] = user
        return None

    def _ui_sign_in(self, scope: Scope) -> Response:
        ui = self.policy.ui_prefix
        page = scope["path"] in (ui, ui + "/") and scope.get("method") == "GET"
        if self.policy.local_user:
            if page:
                return HTMLResponse(open_the_link_page(), status_code=401)
            return error_response(401, "local mode needs this launch's key: open the link `healthcoach serve` "
                                       "printed")
        if page:
            return RedirectResponse(f"{ui}/login", status_code=303)
        return error_response(401, f"please sign in ({ui}/login)")

    # responses -----------------------------------------------------------------------------------------
    async def _refuse(self, scope: Scope, receive: Receive, send: Send, response: Response) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await response(scope, receive, send)

    def _wrap_send(self, scope: Scope, headers: Headers, send: Send) -> Send:
        origin = headers.get("origin")
        foreign = origin is not None and not same_origin(origin, headers.get("host", ""))
        user = scope.get("state", {}).get(USER_STATE)
        claim = (scope.get("method") == "POST" and user is not None
                 and scope["path"] == f"{self.policy.ui_prefix}/gradio_api/upload")
        if not foreign and not claim:
            return send
        body = bytearray()

        async def guarded_send(message: Any) -> None:
            if message["type"] == "http.response.start" and foreign:
                message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                  if k.lower() not in _CORS]}
            elif message["type"] == "http.response.body" and claim:
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    self._claim_uploads(str(user), bytes(body))
            await send(message)

        return guarded_send

    def _claim_uploads(self, user: str, body: bytes) -> None:
        """Remember which user uploaded each file Gradio stored (the upload handler checks it)."""
        try:
            loaded = json.loads(body)
        except ValueError:
            return
        if isinstance(loaded, list):
            self.files.claim(user, [p for p in loaded if isinstance(p, str)])
