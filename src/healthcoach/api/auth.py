"""Who is calling: bearer tokens (created once, stored only as sha256 hashes, each bound to one user), and
in local single-user mode a per-launch key.

Local single-user mode (settings.api.local_user) needs no account, but it is not open: the server makes a
new random key at every launch and prints a link that carries it (`healthcoach serve`, `make demo`). The
link sets the key as an HttpOnly, SameSite=Strict cookie; every request must carry that cookie (or the key
as a bearer token), so no other web page or local program that did not see the printed link can act.
Local mode is also refused unless the server binds to a loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import delete, select

from healthcoach.errors import ConfigError, Unauthorized
from healthcoach.store.records import RecordStore
from healthcoach.store.schema import TokenRow, UISessionRow

TOKEN_PREFIX = "hc_"
LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
USER_STATE = "healthcoach_user"  # where the security middleware leaves the caller in scope["state"]


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


def revoke_tokens(store: RecordStore, user_id: str, token: str | None = None) -> tuple[int, int]:
    """Revoke one token of a user (or all of them when `token` is None) and end the web sessions signed in
    with them. Returns (tokens revoked, sessions ended)."""
    with store.session() as s:
        match = select(TokenRow.token_hash).where(TokenRow.user_id == user_id)
        if token is not None:
            match = match.where(TokenRow.token_hash == hash_token(token))
        hashes = list(s.scalars(match))
        if not hashes:
            return 0, 0
        ended = s.execute(delete(UISessionRow).where(UISessionRow.token_hash.in_(hashes)))
        s.execute(delete(TokenRow).where(TokenRow.token_hash.in_(hashes)))
        return len(hashes), int(getattr(ended, "rowcount", 0) or 0)


def check_local_mode(local_user: str | None, host: str) -> None:
    """Refuse local single-user mode on any address but a loopback one."""
    if local_user and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"local single-user mode (api.local_user={local_user!r}) needs the server bound to {LOOPBACK}, "
            f"not {host!r}: without tokens anyone who can reach the server could read the records. "
            "Unset HEALTHCOACH_API__LOCAL_USER and create tokens with `healthcoach users add NAME`."
        )


@dataclass(frozen=True)
class LaunchKey:
    """The per-launch secret of local mode and the name of the cookie that carries it."""

    port: int
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def cookie(self) -> str:
        # Cookies are not kept apart by port: two servers on one machine must not overwrite each other's.
        return f"healthcoach_launch_{self.port}"

    def matches(self, value: str | None) -> bool:
        """True for this launch's key (constant time)."""
        return bool(value) and hmac.compare_digest(str(value).encode(), self.secret.encode())


class Authenticator:
    """Resolves the caller of an API request to a user id (FastAPI dependency and security middleware)."""

    def __init__(self, store: RecordStore, local_user: str | None = None, launch: LaunchKey | None = None) -> None:
        self.store, self.local_user, self.launch = store, local_user, launch

    def resolve(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> str:
        """The user of a bearer token, or in local mode the local user for this launch's key; else Unauthorized."""
        header = headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if header:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("the Authorization header must be 'Bearer <token>'")
            if self.local_user and self.launch and self.launch.matches(token.strip()):
                return self.local_user
            user = user_for_token(self.store, token.strip())
            if user is None:
                raise Unauthorized("invalid or revoked token")
            return user
        if self.local_user:
            if self.launch is None or self.launch.matches(cookies.get(self.launch.cookie)):
                return self.local_user
            raise Unauthorized("local mode needs this launch's key: open the link `healthcoach serve` printed, "
                               "or send 'Authorization: Bearer <key>'")
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>' "
                           "(create one with `healthcoach users add NAME`)")

    def __call__(self, request: Request) -> str:
        known = request.scope.get("state", {}).get(USER_STATE)
        return str(known) if known else self.resolve(request.headers, request.cookies)
