"""Settings helpers shared by the channels: environment first, then the config defaults.

They refuse nonsense with a message naming the variable (or config key) and the fix,
and never echo a secret back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class NotSetUp(ValueError):
    """A required setting is absent and none of the channel's environment variables is
    set: the deployment does not use this channel (its messages go by the next one). Any
    other ValueError from a channel's settings means they are given but wrong, and stops
    the service at start."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class Reader:
    """Reads one channel's settings: an environment variable wins over a config key."""

    def __init__(
        self,
        kind: str,
        defaults: Mapping[str, object] | None,
        environ: Mapping[str, str] | None,
        allowed_keys: frozenset[str],
        variables: tuple[str, ...] = (),
    ) -> None:
        self.kind = kind
        self.defaults = dict(defaults or {})
        self.environ = os.environ if environ is None else environ
        # The channel's environment variables that are set: once one is, the channel is
        # meant to be used, and a required setting that is missing is a mistake.
        self.given = [
            var
            for var in variables
            for name in (var, f"{var}_FILE")
            if (self.environ.get(name) or "").strip()
        ]
        unknown = sorted(set(self.defaults) - allowed_keys)
        if unknown:
            raise ValueError(
                f"Unknown setting(s) for the {kind} channel: {', '.join(unknown)}. "
                f"Known settings: {', '.join(sorted(allowed_keys))}."
            )

    def _raw(self, var: str, key: str) -> tuple[object | None, str]:
        """The value and where it came from (for error messages)."""
        value = self.environ.get(var)
        if value is not None and value.strip() != "":
            return value.strip(), f"environment variable {var}"
        value = self.defaults.get(key)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None, f"environment variable {var}"
        return value, f"setting {self.kind}.{key}"

    def text(self, var: str, key: str, *, required: bool = False, what: str = "") -> str | None:
        value, source = self._raw(var, key)
        if value is None:
            if required:
                raise self.missing(
                    var,
                    what or key,
                    f"Set {var} in the environment (or {key} in the {self.kind} settings).",
                )
            return None
        if not isinstance(value, str):
            raise ValueError(f"{source} must be text, got {type(value).__name__}")
        return value.strip()

    def missing(self, var: str, what: str, fix: str) -> ValueError:
        """The error for a required setting that is absent: NotSetUp when none of the
        channel's variables is set, else a mistake naming what is set."""
        message = f"{var} is not set: the {self.kind} channel needs {what}. {fix}"
        if not self.given:
            return NotSetUp(message)
        given = list(dict.fromkeys(self.given))
        verb = "is" if len(given) == 1 else "are"
        return ValueError(f"{message} ({', '.join(given)} {verb} set)")

    def integer(self, var: str, key: str, *, default: int, low: int, high: int) -> int:
        value, source = self._raw(var, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{source} must be a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{source} must be a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"{source} must be between {low} and {high}, got {number}")
        return number

    def number(self, var: str, key: str, *, default: float) -> float:
        value, source = self._raw(var, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{source} must be a number of seconds, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{source} must be a number of seconds, got {value!r}") from None
        if not number > 0:
            raise ValueError(f"{source} must be more than 0 seconds, got {value!r}")
        return number

    def boolean(self, var: str, key: str, *, default: bool) -> bool:
        value, source = self._raw(var, key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise ValueError(f"{source} must be true or false, got {value!r}")

    def secret(self, var: str) -> str | None:
        """A secret from VAR, or from the file named by VAR_FILE (never both).

        Never from the config defaults: secrets live in the environment, not in a file
        that might be committed.
        """
        direct = self.environ.get(var)
        path = self.environ.get(f"{var}_FILE")
        if direct and path:
            raise ValueError(f"Set {var} or {var}_FILE, not both")
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    # A trailing newline is the editor's, not the secret's.
                    value = f.read().rstrip("\r\n")
            except OSError as e:
                raise ValueError(
                    f"{var}_FILE names {path!r}, which cannot be read: {e.strerror}"
                ) from None
            if not value:
                raise ValueError(f"{var}_FILE names {path!r}, which is empty")
            return value
        return direct or None
