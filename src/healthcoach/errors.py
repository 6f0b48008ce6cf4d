"""Errors that carry their HTTP status, so the CLI, API and UI report them the same way."""


class HealthCoachError(Exception):
    """Base error: a message safe to show a user (never record contents) and an HTTP status."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(HealthCoachError):
    """Settings, a policy, a prompt or a catalog file is invalid; startup stops."""

    status = 500


class IngestError(HealthCoachError):
    """An export could not be ingested; nothing from it was stored."""

    status = 422


class TooLarge(IngestError):
    """An upload or file is over the configured size limit."""

    status = 413


class InvalidInput(HealthCoachError):
    """A request the coach cannot act on as given (an empty question, a user name outside the rule)."""

    status = 422


class NotFound(HealthCoachError):
    """The thing asked for does not exist for this user (also used for other users' things)."""

    status = 404


class Forbidden(HealthCoachError):
    """The caller may not do this (consent off, wrong owner, minor's records)."""

    status = 403


class Unauthorized(HealthCoachError):
    """No valid bearer token."""

    status = 401
