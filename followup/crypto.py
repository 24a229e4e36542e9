"""Sealing survivor data at rest.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) seals a partner's contact details
and every free-text note before they reach the database. MultiFernet lets an operator
rotate keys: the first key seals, every listed key opens.

Where the key comes from, first match wins:
  1. $FOLLOWUP_SECRET_KEY          one key, or several separated by commas (newest first)
  2. $FOLLOWUP_SECRET_KEY_FILE     a file holding that text
  3. [security] key_file           created by `followup init` with mode 0600
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from followup.errors import KeyUnavailable


class Vault:
    def __init__(self, keys: list[str], origin: str) -> None:
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError:
            raise KeyUnavailable(
                f"{origin}: not a valid key (expected 32 url-safe base64 bytes). "
                "Hint: create one with `followup init` or "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            ) from None
        self.origin = origin

    def seal(self, value: Any) -> bytes | None:
        """Encrypt a str or a JSON-able dict; None and empty stay None."""
        if value is None or value == "" or value == {}:
            return None
        return self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode())

    def open(self, token: bytes | None) -> Any:
        if token is None:
            return None
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken:
            raise KeyUnavailable(
                f"{self.origin}: this key does not open the stored partner data. "
                "Hint: restore the key the data was sealed with, or list it after the new "
                "one in FOLLOWUP_SECRET_KEY (comma-separated) while rotating"
            ) from None


def load_vault(key_file: Path) -> Vault | None:
    """The vault, or None when no key is configured anywhere."""
    if os.environ.get("FOLLOWUP_SECRET_KEY"):
        return Vault(os.environ["FOLLOWUP_SECRET_KEY"].split(","), "$FOLLOWUP_SECRET_KEY")
    file_name = os.environ.get("FOLLOWUP_SECRET_KEY_FILE")
    path = Path(file_name) if file_name else key_file
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyUnavailable(
            f"{path}: the key file is readable by other users (mode {mode:o}). "
            f"Hint: chmod 600 {path}"
        )
    return Vault(path.read_text().strip().split(","), str(path))


def create_key_file(path: Path) -> bool:
    """Write a new key with mode 0600; never overwrite one (that would orphan the data)."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    return True
