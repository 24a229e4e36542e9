"""Load a TOML file a manager edited and validate it, with errors that teach.

Shared by config.toml and the protocol files so both speak the same way:
``FILE: KEY.PATH: what is wrong. Hint: what to write instead``.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from followup.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found. Hint: pass --config PATH or set FOLLOWUP_CONFIG"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def validate(model: type[M], data: dict[str, Any], path: Path, **context: Any) -> M:
    try:
        return model.model_validate(data, context={"path": path, **context})
    except ValidationError as exc:
        problems = [_describe(model, error, path) for error in exc.errors()]
        raise ConfigError("\n".join(problems)) from None


def key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _describe(model: type[BaseModel], error: Any, path: Path) -> str:
    loc = tuple(error["loc"])
    where = f"{path}: {key_path(loc)}"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (
            f'did you mean "{close[0]}"?' if close else f"allowed keys here: {', '.join(allowed)}"
        )
        return f"{where}: unknown key. Hint: {hint}"
    if kind == "missing":
        return f"{where}: required key is missing. Hint: {_field_help(model, loc)}"
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    got = error.get("input")
    shown = ""
    if not (isinstance(got, dict | list) or got is None or repr(got) in message):
        shown = f" (got {got!r})"
    return f"{where}: {message}{shown}. Hint: {_field_help(model, loc)}"


def _field_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """Walk the model along a key path; None where the path leaves the model."""
    current: Any = model
    field = None
    skip_next = False  # the part after a dict or list field is a key or an index
    for part in loc:
        if skip_next:
            skip_next = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return field
        if part not in current.model_fields:
            return None
        field = current.model_fields[part]
        origin = getattr(field.annotation, "__origin__", None)
        skip_next = origin in (dict, list)
        current = _inner(field.annotation)
    return field


def _inner(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking through dict[str, X], list[X] and X | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        nested = _inner(arg)
        if nested is not None:
            return nested
    return None


def _field_help(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    field = _field_at(model, loc)
    if field is not None and field.description:
        return field.description
    return "see docs/configuration.md"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    if not loc:
        return list(model.model_fields)
    field = _field_at(model, loc)
    inner = _inner(field.annotation) if field is not None else None
    return list(inner.model_fields) if inner is not None else []
