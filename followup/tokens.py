"""Random tokens for cookies, invite links and calendar feeds, stored only as digests.

A token is 32 random bytes (URL-safe text); the database keeps its SHA-256, so a copied
database or backup holds no cookie, link or feed address that works. SHA-256 without a
salt is enough here (unlike for passwords): the tokens are random, not guessable words.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
