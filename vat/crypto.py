"""Field encryption (AES-256-GCM with a key ring) and blind indexes for exact-match search.

A stored value reads `v1:<key id>:<base64(nonce | ciphertext | tag)>`. The associated data binds
each ciphertext to its table and column, so a value copied into another column fails to decrypt.
The key ring comes from VAT_DATA_KEY, `id:base64key` entries separated by commas, the first
being the one that encrypts; the others only decrypt, until `flask keys rotate` has moved every
value to the first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

PREFIX = "v1"


class DecryptionError(Exception):
    """A ciphertext cannot be decrypted with the key ring (unknown key, wrong key, or tampering)."""


def generate_key_entry() -> str:
    key_id = secrets.token_hex(4)
    return f"{key_id}:{base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active_id: str

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for entry in filter(None, (e.strip() for e in spec.split(","))):
            key_id, _, encoded = entry.partition(":")
            key = base64.urlsafe_b64decode(encoded)
            if not key_id or len(key) != 32:
                raise ValueError("VAT_DATA_KEY entries must be id:base64(32 bytes)")
            keys[key_id] = key
            order.append(key_id)
        if not order:
            raise ValueError("VAT_DATA_KEY holds no key")
        return cls(keys=keys, active_id=order[0])

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self.active_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        version, key_id, payload = _split(stored)
        if version != PREFIX or key_id not in self.keys:
            raise DecryptionError(f"no key {key_id!r} in the key ring")
        raw = base64.b64decode(payload)
        try:
            plain = AESGCM(self.keys[key_id]).decrypt(raw[:12], raw[12:], context.encode())
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not verify (wrong key, column or tampering)") from exc
        return plain.decode()


def key_id_of(stored: str) -> str:
    return _split(stored)[1]


def _split(stored: str) -> tuple[str, str, str]:
    parts = stored.split(":", 2)
    if len(parts) != 3:
        raise DecryptionError("not an encrypted value")
    return parts[0], parts[1], parts[2]


def keyring() -> KeyRing:
    return current_app.extensions["vat_keyring"]


class Sealed(str):
    """A value encrypted before its statement (`seal`): the column types store it as it is. The
    importer encrypts in its job, so that its one write transaction does no cryptography."""


def seal(value: str | date | None, context: str) -> Sealed | None:
    if value is None:
        return None
    plain = value.isoformat() if isinstance(value, date) else value
    return Sealed(keyring().encrypt(plain, context))


class Encrypted(TypeDecorator[T]):
    """A column stored encrypted, as text; `context` (e.g. "vat_victim.name") is its associated data."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context


class EncryptedText(Encrypted[str]):
    """A text column encrypted at rest."""

    cache_ok = True  # SQLAlchemy reads it from each class itself, not from its bases

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None or isinstance(value, Sealed):
            return value
        return keyring().encrypt(value, self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().decrypt(value, self.context)


class EncryptedDate(Encrypted[date]):
    """A date encrypted at rest (its ISO form, as `EncryptedText` keeps text): for dates that
    could help identify someone, such as a child's birth date. Never compared in SQL."""

    cache_ok = True

    def process_bind_param(self, value: date | Sealed | None, dialect: Any) -> str | None:
        if value is None or isinstance(value, Sealed):
            return value
        return keyring().encrypt(value.isoformat(), self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> date | None:
        return None if value is None else date.fromisoformat(keyring().decrypt(value, self.context))


ENCRYPTED_TYPES = (EncryptedText, EncryptedDate)


def identity_column(context: str) -> MappedColumn[Any]:
    """A field that identifies someone: encrypted, and deferred in the "identity" group, so a
    list never loads (or decrypts) it; only the service that audits the read asks for it."""
    return mapped_column(EncryptedText(context), deferred=True, deferred_group="identity")


def normalise(value: str) -> str:
    """The form a name is compared in: NFC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def blind_index(value: str, purpose: str) -> str:
    """HMAC-SHA256 of the normalised value under VAT_MAC_KEY: equal inputs give equal indexes."""
    return mac(normalise(value), purpose)


def mac(value: str, purpose: str) -> str:
    """HMAC-SHA256 of the value exactly as given, under VAT_MAC_KEY."""
    key = current_app.config["VAT_MAC_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
