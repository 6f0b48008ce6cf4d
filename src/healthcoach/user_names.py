"""The one rule for user names, applied wherever a user comes into being (users add, ingest, the API,
the UI), so no path creates a user that another path would refuse."""

from __future__ import annotations

import re

from healthcoach.errors import InvalidInput

USER_NAME_RULE = "a user name may use letters, digits, '.', '_' and '-' (at most 64 characters)"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_user_name(name: str) -> str:
    """The name itself when it follows the rule; InvalidInput naming the rule otherwise."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"{name!r}: {USER_NAME_RULE}")
    return name
