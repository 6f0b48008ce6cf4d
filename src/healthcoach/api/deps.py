"""What the routes share: the built coach and stores, the authenticator, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from healthcoach.api.auth import Authenticator, LaunchKey
from healthcoach.api.errors import InvalidRequest, Timeout
from healthcoach.api.sessions import UIAuth
from healthcoach.container import CoachBundle
from healthcoach.privacy.tempfiles import UserFiles
from healthcoach.settings import Settings

T = TypeVar("T")


@dataclass
class Deps:
    settings: Settings
    bundle: CoachBundle
    auth: Authenticator
    timeout_s: float
    files: UserFiles = field(default_factory=UserFiles)
    ui: UIAuth | None = None
    launch: LaunchKey | None = None

    def check_message(self, text: str, field: str = "message") -> None:
        """Message length limit, with a clear 422."""
        limit = self.settings.api.max_message_chars
        if len(text) > limit:
            raise InvalidRequest(f"{field} is {len(text)} characters long; the limit is {limit}")
        if not text.strip():
            raise InvalidRequest(f"{field} is empty")

    async def run(self, fn: Callable[[], T]) -> T:
        """Run blocking work in a worker thread, bounded by the request timeout."""
        try:
            return await asyncio.wait_for(run_in_threadpool(fn), self.timeout_s)
        except TimeoutError:
            raise Timeout(f"no answer within {self.timeout_s:g} s; please try again") from None
