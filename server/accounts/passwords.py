"""Password hashing with Argon2id (argon2-cffi defaults, RFC 9106's second choice)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username does not exist, so both paths take the same time.

    Made on first need, not at import: one Argon2 hash is ~0.2 s of every start-up.
    """
    return _hasher.hash("not a real password: equalises timing")


MIN_PASSWORD_LENGTH = 8
#: The hash of an account that has no password yet (made by a staff import): nothing
#: verifies against it; its owner sets a password through a one-time reset link.
NO_PASSWORD = "!no-password"


def hash_password(password: str) -> str:
    """Return an Argon2id hash string for `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one Argon2 verification."""
    usable = bool(password_hash) and password_hash != NO_PASSWORD
    try:
        return _hasher.verify(password_hash if usable else _dummy_hash(), password) and usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
