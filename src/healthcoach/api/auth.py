"""Bearer tokens: created once, stored only as sha256 hashes, each bound to one user.

Local single-user mode (settings.api.local_user) answers without a token, and is refused unless the server
binds to 127.0.0.1, so nobody else on the network can reach an unauthenticated health record server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from fastapi import Request

from healthcoach.errors import ConfigError, Unauthorized
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import TokenRow

TOKEN_PREFIX = "hc_"
LOOPBACK = "127.0.0.1"


def hash_token(token: str) -> str:
    """sha256 hex of a token (what the api_tokens table stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: RecordStore, user_id: str) -> str:
    """Create the user if needed and a new token for them; the clear token is returned once, never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as s:
        store.ensure_user(user_id, s)
        s.add(TokenRow(token_hash=hash_token(token), user_id=user_id, created_at=datetime.now(UTC)))
    return token


def user_for_token(store: RecordStore, token: str) -> str | None:
    """The user a token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with store.session() as s:
        row = s.get(TokenRow, digest)
        # The primary-key lookup already matched; compare again in constant time for defence in depth.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row.user_id


def check_local_mode(local_user: str | None, host: str) -> None:
    """Refuse local single-user mode on any address but 127.0.0.1."""
    if local_user and host != LOOPBACK:
        raise ConfigError(
            f"local single-user mode (api.local_user={local_user!r}) needs the server bound to {LOOPBACK}, "
            f"not {host!r}: without tokens anyone who can reach the server could read the records. "
            "Unset HEALTHCOACH_API__LOCAL_USER and create tokens with `healthcoach users add NAME`."
        )


class Authenticator:
    """Resolves the caller of a request to a user id (FastAPI dependency)."""

    def __init__(self, store: RecordStore, local_user: str | None = None) -> None:
        self.store, self.local_user = store, local_user

    def __call__(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if header:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("the Authorization header must be 'Bearer <token>'")
            user = user_for_token(self.store, token.strip())
            if user is None:
                raise Unauthorized("invalid or revoked token")
            return user
        if self.local_user:
            return self.local_user
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>' "
                           "(create one with `healthcoach users add NAME`)")

    def check_login(self, username: str, token: str) -> bool:
        """Gradio login: the user name and one of that user's tokens."""
        return bool(username) and user_for_token(self.store, token) == username
