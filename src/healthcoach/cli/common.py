"""What every command shares: settings built once, stores built lazily, one way to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from healthcoach.settings import Settings

if TYPE_CHECKING:  # the stores, the coach and their libraries load when a command first needs them
    from healthcoach.chat import ChatService
    from healthcoach.coach import Coach
    from healthcoach.container import Stores

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear error line and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@dataclass
class AppContext:
    settings: Settings
    _cache: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, data_dir: Path | None) -> AppContext:
        settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
        return cls(settings)

    @cached_property
    def stores(self) -> Stores:
        from healthcoach.container import build_stores  # lazy: start-up time

        return build_stores(self.settings)

    @cached_property
    def coach(self) -> Coach:
        from healthcoach.container import build_coach  # lazy: start-up time

        return build_coach(self.settings, self.stores)

    @cached_property
    def chat(self) -> ChatService:
        from healthcoach.chat import ChatService  # lazy: start-up time

        return ChatService(self.coach, self.stores.records)


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj
