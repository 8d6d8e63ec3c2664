"""Identity numbers at rest: AES-GCM encrypted with a configured key, plus keyed hashes.

A database dump alone reveals no identity number: the column holds ``kid$base64(nonce|ct)``
sealed with AES-256-GCM (``cryptography``), and matching (is this person already on the
register?) and last-digits search use HMAC-SHA256 digests under a second key. Keys come
from configuration (docs/register.md §Keys):

- ``ID_NUMBER_KEYS``: ``["k2:<base64 32 bytes>", "k1:<…>"]``, the first one seals, every one
  opens. Rotation: put a new key first, run ``flask register rekey``, then drop the old one.
- ``ID_NUMBER_HMAC_KEY``: base64; it must stay the same while digests are stored
  (``flask register rehash`` recomputes them all after a change, opening every number).

Neither set: each is generated once into the instance folder (mode 0600, like the session
secret) and a warning is logged; fine for a demo, not for production, where the keys belong
in the deployment's secret store and never beside the database backups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
NONCE_BYTES = 12
AAD = b"wangge:resident:id_number"  # binds a sealed value to its purpose


class IdentityKeyError(ValueError):
    """A key is missing or malformed, or a sealed value cannot be opened with any key."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise IdentityKeyError(f"{what} is not base64") from None
    if len(key) != 32:
        raise IdentityKeyError(f"{what} must be 32 bytes (base64 of 32 random bytes)")
    return key


class IdVault:
    """Seal, open and digest identity numbers with one keyring."""

    def __init__(self, keys: list[tuple[str, bytes]], hmac_key: bytes) -> None:
        if not keys:
            raise IdentityKeyError("no identity-number key")
        self.current = keys[0][0]
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self._hmac_key = hmac_key

    def seal(self, number: str) -> str:
        """Encrypt with the current key: ``kid$base64(nonce + ciphertext)``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, number.encode("ascii"), AAD)
        return f"{self.current}${base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str) -> str:
        """Decrypt a sealed value; IdentityKeyError when its key is gone or it was altered."""
        kid, _, body = token.partition("$")
        cipher = self._keys.get(kid)
        if cipher is None:
            raise IdentityKeyError(f"no key {kid!r} in ID_NUMBER_KEYS")
        raw = base64.b64decode(body)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], AAD).decode("ascii")
        except InvalidTag:
            raise IdentityKeyError("a sealed identity number does not open (altered?)") from None

    def is_current(self, token: str) -> bool:
        return token.partition("$")[0] == self.current

    def digest(self, number: str) -> str:
        """The keyed hash a number is matched by (same number, same digest)."""
        return hmac.new(self._hmac_key, b"id:" + number.encode("ascii"), hashlib.sha256).hexdigest()

    def tail_digest(self, tail: str) -> str:
        """The keyed hash of the last characters, for the office's "…123X" search."""
        return hmac.new(self._hmac_key, b"tail:" + tail.encode("ascii"), hashlib.sha256).hexdigest()


def _instance_key(path: Path) -> str:
    """A random key kept in the instance folder, created once (demo and development only)."""
    from server.config import instance_secret

    key, made = instance_secret(path, lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    if made:
        log.warning("key generated in %s: configure identity-number keys in production", path)
    return key


def vault_from_config(config: Mapping[str, Any], instance_path: str) -> IdVault:
    """The keyring a deployment configured (or the instance folder's generated keys)."""
    entries = config.get("ID_NUMBER_KEYS") or []
    if isinstance(entries, str):
        entries = [e for e in entries.split(",") if e.strip()]
    keys = []
    for entry in entries:
        kid, sep, text = str(entry).partition(":")
        if not sep or not kid.strip() or "$" in kid:
            raise IdentityKeyError("ID_NUMBER_KEYS entries are written 'kid:base64key'")
        keys.append((kid.strip(), _decode_key(text, f"ID_NUMBER_KEYS[{kid.strip()}]")))
    folder = Path(instance_path)
    if not keys:
        keys = [("local", _decode_key(_instance_key(folder / "id_number_key"), "instance key"))]
    hmac_text = config.get("ID_NUMBER_HMAC_KEY") or _instance_key(folder / "id_number_hmac_key")
    return IdVault(keys, _decode_key(hmac_text, "ID_NUMBER_HMAC_KEY"))


def app_vault(app: Any) -> IdVault:
    """The app's keyring, built once per app from its configuration (a Flask app is passed)."""
    vault = app.extensions.get("wangge.id_vault")
    if vault is None:
        vault = vault_from_config(app.config, app.instance_path)
        app.extensions["wangge.id_vault"] = vault
    return vault  # type: ignore[no-any-return]
