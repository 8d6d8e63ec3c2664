"""Password hashing with Argon2id, parameters from OWASP's Password Storage Cheat Sheet.

OWASP lists five equally strong Argon2id configurations (m=47104 KiB t=1, m=19456 t=2,
m=12288 t=3, m=9216 t=4, m=7168 t=5, all p=1). We use m=19456 KiB (19 MiB), t=2, p=1: the
cheat sheet's headline minimum. Why not more, and the cost measured on our 2-CPU machine:
docs/security.md ("Password hashing"). The parameters are settings (PASSWORD_ARGON2_*);
a hash made under other parameters is rehashed at the user's next successful sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Parameters:
    """Argon2id cost: memory in KiB, passes over it, lanes."""

    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Argon2Parameters:
        defaults = cls()
        values = {
            "memory_kib": config.get("PASSWORD_ARGON2_MEMORY_KIB", defaults.memory_kib),
            "time_cost": config.get("PASSWORD_ARGON2_TIME_COST", defaults.time_cost),
            "parallelism": config.get("PASSWORD_ARGON2_PARALLELISM", defaults.parallelism),
        }
        try:
            chosen = cls(**{k: int(v) for k, v in values.items()})
        except (TypeError, ValueError):
            raise ValueError(f"PASSWORD_ARGON2_* must be whole numbers, not {values}") from None
        # Below OWASP's weakest listed configuration is refused, not silently accepted.
        if chosen.memory_kib < 7168 or chosen.time_cost < 1 or chosen.parallelism < 1:
            raise ValueError(
                "PASSWORD_ARGON2_*: at least 7168 KiB, 1 pass and 1 lane (OWASP's weakest "
                f"recommended configuration); got {chosen}"
            )
        return chosen


def _make(parameters: Argon2Parameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_kib,
        parallelism=parameters.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


_parameters = Argon2Parameters()
_hasher = _make(_parameters)
_dummy: dict[Argon2Parameters, str] = {}


def configure(parameters: Argon2Parameters) -> None:
    """Hash new passwords with `parameters` (the app factory calls this with its settings)."""
    global _parameters, _hasher
    if parameters != _parameters:
        _parameters, _hasher = parameters, _make(parameters)


def current_parameters() -> Argon2Parameters:
    return _parameters


def _dummy_hash() -> str:
    """Verified against when the username does not exist, so both paths take the same time.

    Made on first need (per parameters), not at import: a hash is time at every start-up.
    """
    if _parameters not in _dummy:
        _dummy[_parameters] = _hasher.hash("not a real password: equalises timing")
    return _dummy[_parameters]


MIN_PASSWORD_LENGTH = 8
#: The hash of an account that has no password yet (made by a staff import): nothing
#: verifies against it; its owner sets a password through a one-time reset link.
NO_PASSWORD = "!no-password"


def hash_password(password: str) -> str:
    """Return an Argon2id hash string for `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one Argon2 verification.

    A hash made with other parameters verifies with its own (they are in the hash string).
    """
    usable = bool(password_hash) and password_hash != NO_PASSWORD
    try:
        return _hasher.verify(password_hash if usable else _dummy_hash(), password) and usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    if not password_hash or password_hash == NO_PASSWORD:
        return False
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return False
