"""Personal data at rest: phone (and ID) numbers encrypted, and found again by a blind index.

A value is stored as one key-id byte, a random 12-byte nonce and the AES-256-GCM
ciphertext with its tag; "table.column" is the associated data, so a value copied into
another column does not decrypt. The key id lets keys rotate: new values use the current
key, old ones stay readable with theirs until ``yinling keys rotate`` re-encrypts them.
Lookups by phone go through a separate indexed column holding HMAC-SHA256 (its own key,
never rotated with the data keys) of the normalised digits, truncated to 16 bytes.

Keys come from the settings (``YINLING_DATA_KEYS``, ``YINLING_INDEX_KEY``) through
:func:`use_keys` before the database is touched; without them a fixed development key is
used, which ``yinling check`` reports as an error outside the demo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "DEVELOPMENT_KEY_ID",
    "Encrypted",
    "Keyring",
    "blind",
    "keyring",
    "parse_keys",
    "phone_digits",
    "use_keys",
]

NONCE = 12
DEVELOPMENT_KEY_ID = 0  # the public development key: never for real people


@dataclass(frozen=True, slots=True)
class Keyring:
    """The data keys by id (the current one encrypts) and the blind-index key."""

    keys: dict[int, bytes]
    current: int
    index_key: bytes

    def encrypt(self, plain: str, context: str) -> bytes:
        nonce = os.urandom(NONCE)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain.encode(), context.encode())
        return bytes([self.current]) + nonce + sealed

    def decrypt(self, data: bytes, context: str) -> str:
        key = self.keys.get(data[0])
        if key is None:
            raise ValueError(f"data key {data[0]} is not configured (YINLING_DATA_KEYS)")
        try:
            plain = AESGCM(key).decrypt(data[1 : 1 + NONCE], data[1 + NONCE :], context.encode())
        except InvalidTag:
            raise ValueError(f"a value of {context} does not decrypt") from None
        return plain.decode()

    @property
    def development(self) -> bool:
        """Whether data is encrypted with the public development key."""
        return self.current == DEVELOPMENT_KEY_ID


def _development() -> Keyring:
    key = hashlib.sha256(b"yinling development data key - not for real people").digest()
    index = hashlib.sha256(b"yinling development index key - not for real people").digest()
    return Keyring({DEVELOPMENT_KEY_ID: key}, DEVELOPMENT_KEY_ID, index)


_KEYRING = _development()


def parse_keys(data_keys: str, index_key: str) -> Keyring:
    """``"2:<base64 32 bytes>,1:<base64>"`` (the first encrypts; all decrypt) and the
    index key (base64, 32 bytes). The development key stays readable as key 0."""
    keys: dict[int, bytes] = {}
    current = None
    for item in data_keys.split(","):
        number, _, encoded = item.strip().partition(":")
        key = base64.b64decode(encoded)
        if not number.isdigit() or not 1 <= int(number) <= 255 or len(key) != 32:  # noqa: PLR2004
            raise ValueError("YINLING_DATA_KEYS: id:base64 pairs, ids 1-255, 32-byte keys")
        keys[int(number)] = key
        current = int(number) if current is None else current
    index = base64.b64decode(index_key)
    if current is None or len(index) != 32:  # noqa: PLR2004
        raise ValueError("YINLING_INDEX_KEY must be 32 bytes, base64")
    development = _development()
    return Keyring({**development.keys, **keys}, current, index)


def use_keys(ring: Keyring) -> None:
    """Make ``ring`` the keys of this process (before any database access)."""
    global _KEYRING  # noqa: PLW0603 - one set of keys per process, as its settings
    _KEYRING = ring


def keyring() -> Keyring:
    """The keys of this process."""
    return _KEYRING


def phone_digits(phone: str) -> str:
    """A phone number as its digits, without China's +86 ("+86 138-0013-8000" ->
    "13800138000")."""
    found = "".join(ch for ch in phone if ch.isdigit())
    return found[2:] if len(found) == 13 and found.startswith("86") else found  # noqa: PLR2004


def blind(kind: str, value: str) -> str:
    """The blind index of a normalised value (32 hex characters)."""
    mac = hmac.new(_KEYRING.index_key, f"{kind}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


class Encrypted(TypeDecorator[str]):
    """A text column stored encrypted (see the module's docstring)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else _KEYRING.encrypt(value, self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else _KEYRING.decrypt(bytes(value), self.context)
