"""Errors that carry their HTTP status, so the CLI, API and UI report them the same way."""


class HealthCoachError(Exception):
    """Base error: a message safe to show a user (never record contents) and an HTTP status."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def public_message(self) -> str:
        """What an API client is told (the message, unless it names something only the operator should see)."""
        return self.message


class ConfigError(HealthCoachError):
    """Settings, a policy, a prompt or a catalog file is invalid; startup stops."""

    status = 500


class IngestError(HealthCoachError):
    """An export could not be ingested; nothing from it was stored."""

    status = 422


class TooLarge(IngestError):
    """An upload or file is over the configured size limit."""

    status = 413


class NotFound(HealthCoachError):
    """The thing asked for does not exist for this user (also used for other users' things)."""

    status = 404


class Forbidden(HealthCoachError):
    """The caller may not do this (consent off, wrong owner, minor's records)."""

    status = 403


class Conflict(HealthCoachError):
    """The request clashes with work already running (an ingest for the same user)."""

    status = 409


class Unauthorized(HealthCoachError):
    """No valid bearer token."""

    status = 401


class StoreDamaged(HealthCoachError):
    """The record store's file is damaged or is not a healthcoach database; nothing can be read or written."""

    status = 503

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(
            f"the record store {path} is damaged or is not a healthcoach database ({detail}). Nothing was "
            f"changed. Restore it from a backup, or move it aside (mv '{path}' '{path}.damaged') and import your "
            "exports again; healthcoach then starts a new, empty store."
        )

    @property
    def public_message(self) -> str:
        """The file's name only: its full path is for the operator (it is in the server log)."""
        name = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return (f"the record store ({name}) is damaged; nothing was changed. The server's operator must restore "
                "it from a backup (the server log says where it is).")
