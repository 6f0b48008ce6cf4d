"""The web UI's own pages outside Gradio: sign-in and sign-out (token mode), the page local mode shows
without its launch key, and downloads of exports from the per-user temp folder.

Kept plain and small on purpose (no scripts, no external assets); the look belongs to the UI."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from healthcoach.api.auth import USER_STATE
from healthcoach.api.deps import Deps
from healthcoach.api.errors import error_response

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2937}"
          "label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;margin-top:.25rem;"
          "box-sizing:border-box}button{margin-top:1.25rem;padding:.6rem 1.2rem;font-weight:600}"
          ".error{color:#b91c1c}.note{color:#4b5563;font-size:.9rem}")
BANNER = ("healthcoach is a wellness coach, not a doctor. In an emergency call 911 (or your local emergency "
          "number); in a mental-health crisis call or text 988.")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
            f"<p class=note>{html.escape(BANNER)}</p></body></html>")


def login_page(error: str | None = None, user: str = "") -> str:
    """The sign-in form: a user name and the API token `healthcoach users add NAME` printed."""
    message = f"<p class=error role=alert>{html.escape(error)}</p>" if error else ""
    return _page("Sign in to healthcoach", (
        f"{message}<form method=post action=login>"
        f"<label for=username>User name</label><input id=username name=username autocomplete=username required "
        f"value='{html.escape(user, quote=True)}'>"
        "<label for=token>Token</label><input id=token name=token type=password autocomplete=current-password "
        "required><button type=submit>Sign in</button></form>"
        "<p class=note>Your token was printed once by <code>healthcoach users add NAME</code> on the computer "
        "that runs healthcoach. Lost it? Run that command again for a new one, and "
        "<code>healthcoach users revoke NAME</code> to end every old one.</p>"))


def open_the_link_page() -> str:
    """What local mode shows without this launch's key."""
    return _page("Open the link healthcoach printed", (
        "<p>This healthcoach runs in local single-user mode. To keep other web pages and programs out, it only "
        "answers a browser that opened the link <code>healthcoach serve</code> (or <code>make demo</code>) "
        "printed when it started: <code>http://127.0.0.1:PORT/ui/?key=…</code>. Open that link (copy it from "
        "the terminal); each start of the server prints a new one.</p>"))


def router(deps: Deps) -> APIRouter:
    """/ui/login, /ui/logout and /ui/files/... (registered before the Gradio mount, so they take precedence)."""
    r = APIRouter(include_in_schema=False)
    ui = deps.ui

    @r.get("/ui/login")
    def show_login() -> Response:
        if deps.settings.api.local_user:
            return RedirectResponse("/ui/", status_code=303)
        return HTMLResponse(login_page())

    @r.post("/ui/login")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        user, token = str(form.get("username") or "").strip(), str(form.get("token") or "").strip()
        if ui is None or deps.settings.api.local_user:
            return RedirectResponse("/ui/", status_code=303)
        session = await deps.run(lambda: ui.sessions.sign_in(user, token))
        if session is None:
            return HTMLResponse(login_page("That user name and token do not match.", user), status_code=401)
        response = RedirectResponse("/ui/", status_code=303)
        response.set_cookie(ui.sessions.cookie, session, httponly=True, samesite="strict", path="/",
                            max_age=int(deps.settings.api.ui_session_ttl_s),
                            secure=request.url.scheme == "https")
        return response

    @r.get("/ui/logout")
    def sign_out(request: Request) -> Response:
        if ui is None or deps.settings.api.local_user:
            return RedirectResponse("/ui/", status_code=303)
        ui.sessions.sign_out(request.cookies.get(ui.sessions.cookie))
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(ui.sessions.cookie, path="/")
        return response

    @r.get("/ui/files/{file_id:path}")
    def download(file_id: str, request: Request) -> Response:
        user = request.scope.get("state", {}).get(USER_STATE)
        path = deps.files.download(str(user), file_id) if user else None
        if path is None:
            return error_response(404, "no such download (it is removed once downloaded, or after "
                                       f"{deps.settings.api.ui_file_ttl_s:g} s)")
        return FileResponse(path, media_type="application/zip" if path.suffix == ".zip" else None,
                            filename=path.name, background=BackgroundTask(deps.files.discard, path))

    return r
