"""Reading the knowledge package's YAML files: duplicate keys rejected, unknown top-level keys rejected,
every item validated, and any problem a ConfigError naming the file and the item."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from healthcoach.datafile import read_yaml
from healthcoach.errors import ConfigError


def packaged(name: str) -> Path:
    """The path of a data file shipped in the healthcoach.knowledge package."""
    return Path(str(resources.files("healthcoach.knowledge").joinpath(name)))


def read_mapping(path: Path, keys: set[str]) -> dict[str, Any]:
    """A YAML file's top-level mapping; only `keys` (and 'version') allowed, no duplicate keys anywhere."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with {', '.join(repr(k) for k in sorted(keys))}")
    unknown = set(data) - {"version", *keys}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level keys {sorted(map(str, unknown))}")
    return data


def read_items(path: Path, list_key: str) -> list[Any]:
    """The non-empty list under `list_key` of a YAML mapping (only it and 'version' allowed; no duplicate keys)."""
    items = read_mapping(path, {list_key}).get(list_key)
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: '{list_key}' must be a non-empty list")
    return items


def reason(err: ValidationError) -> str:
    """A pydantic error as one line: 'field: message; field: message'."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_items(path: Path, items: list[Any], model: type[BaseModel], what: str) -> list[Any]:
    """Each item validated by `model`; the first invalid one raises ConfigError naming the file and item."""
    out = []
    for i, raw in enumerate(items):
        ident = raw.get("id") if isinstance(raw, dict) else None
        label = f"{what} '{ident}'" if isinstance(ident, str) else f"{what} #{i + 1}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: {label}: expected a mapping")
        try:
            out.append(model.model_validate(raw))
        except ValidationError as e:
            raise ConfigError(f"{path}: {label}: {reason(e)}") from e
    return out
