"""Web-UI sign-in: sessions bound to the API token they signed in with, checked on every request.

A session is valid while its token exists, its user exists and it has not expired; so revoking the
token (`healthcoach users revoke NAME`, DELETE /v1/me/tokens) or deleting the user (DELETE /v1/data, the
Privacy tab, `healthcoach delete`) ends it at once, in this process or any other sharing the store. The
cookie holds a random id; only its sha256 is stored. Local single-user mode has no sign-in: the
per-launch key (api.auth.LaunchKey) stands in for it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, select

from healthcoach.api.auth import LaunchKey, hash_token, user_for_token
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import TokenRow, UISessionRow


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """UI sessions in the record store (so every API worker sees the same ones)."""

    def __init__(self, store: RecordStore, ttl_s: float, port: int) -> None:
        self.store, self.ttl = store, timedelta(seconds=ttl_s)
        self.cookie = f"healthcoach_session_{port}"  # cookies are not kept apart by port

    def sign_in(self, user_id: str, token: str) -> str | None:
        """A new session id when `token` is one of `user_id`'s tokens, else None."""
        if not user_id or user_for_token(self.store, token) != user_id:
            return None
        session_id, now = secrets.token_urlsafe(32), datetime.now(UTC)
        with self.store.session() as s:
            s.execute(delete(UISessionRow).where(UISessionRow.expires_at < now))
            s.add(UISessionRow(id_hash=_digest(session_id), user_id=user_id, token_hash=hash_token(token),
                               created_at=now, expires_at=now + self.ttl))
        return session_id

    def user_of(self, session_id: str | None) -> str | None:
        """The user of a live session (its token still exists and belongs to that user), else None."""
        if not session_id or len(session_id) > 100:
            return None
        with self.store.session() as s:
            row = s.execute(select(UISessionRow.user_id, UISessionRow.expires_at)
                            .join(TokenRow, TokenRow.token_hash == UISessionRow.token_hash)
                            .where(UISessionRow.id_hash == _digest(session_id),
                                   TokenRow.user_id == UISessionRow.user_id)).first()
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        return str(row.user_id)

    def sign_out(self, session_id: str | None) -> None:
        """End one session."""
        if session_id:
            with self.store.session() as s:
                s.execute(delete(UISessionRow).where(UISessionRow.id_hash == _digest(session_id)))


class UIAuth:
    """Who is using the web UI: the local user with this launch's key, or a signed-in session's user."""

    def __init__(self, sessions: SessionStore, local_user: str | None, launch: LaunchKey | None) -> None:
        self.sessions, self.local_user, self.launch = sessions, local_user, launch

    def user(self, cookies: dict[str, str]) -> str | None:
        """The UI user of a request's cookies, or None."""
        if self.local_user:
            ok = self.launch is not None and self.launch.matches(cookies.get(self.launch.cookie))
            return self.local_user if ok else None
        return self.sessions.user_of(cookies.get(self.sessions.cookie))

    def __call__(self, request: Request) -> str | None:
        """Gradio's auth_dependency: None means 401."""
        return self.user(dict(request.cookies))
