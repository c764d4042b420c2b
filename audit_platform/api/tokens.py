"""API token secrets: generated once, shown once, stored only as a SHA-256 digest.

A token is ``<prefix>_<43 url-safe characters>`` (32 random bytes). The prefix makes leaked tokens
recognizable by secret scanners and tells the authentication which table to look in. A fast
unkeyed hash is enough here: the secret has 256 bits of entropy, so there is nothing to brute-force,
and it keeps tokens valid across SECRET_KEY rotations.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PROJECT_TOKEN_PREFIX = "apt"  # noqa: S105 - a public prefix, not a secret
PERSONAL_TOKEN_PREFIX = "apu"  # noqa: S105
_SECRET_BYTES = 32
_SECRET_CHARS = 43  # len(token_urlsafe(32))
DISPLAY_PREFIX_CHARS = 12  # "apt_" + 8 characters: enough to tell tokens apart in a list


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: ``plaintext`` goes to the user once, the rest to the database."""

    plaintext: str
    digest: str
    display_prefix: str


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def token_generate(prefix: str) -> NewToken:
    plaintext = f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return NewToken(
        plaintext=plaintext,
        digest=token_digest(plaintext),
        display_prefix=plaintext[:DISPLAY_PREFIX_CHARS],
    )


def token_kind(plaintext: str) -> str | None:
    """The prefix of a well-formed token (``apt`` / ``apu``), or None for anything else."""
    prefix, sep, secret = plaintext.partition("_")
    if not sep or prefix not in (PROJECT_TOKEN_PREFIX, PERSONAL_TOKEN_PREFIX):
        return None
    if len(secret) != _SECRET_CHARS:
        return None
    return prefix
