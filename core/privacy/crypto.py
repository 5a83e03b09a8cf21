"""Encryption of personal data at rest, with key rotation.

``YINLING_PII_KEYS`` holds one or more keys, newest first. Values are encrypted with the newest key
(Fernet: AES-128-CBC + HMAC-SHA256, via ``cryptography``) and decrypted with whichever key made them, so a
new key can be put in front, the data re-encrypted at leisure (``yinling pii rekey``), and the old key
removed. Any string works as a key: it is stretched to a Fernet key with SHA-256.

Exact-match search and uniqueness use a *blind index*: an HMAC of the normalised value under a key derived
from ``YINLING_SECRET_KEY``, never the value itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from core.errors import ErrorSpec

PII_UNREADABLE = ErrorSpec(
    "privacy.unreadable",
    500,
    "个人信息无法解密：加密密钥配置有误，请联系系统管理员",
    "Personal data cannot be decrypted: the encryption keys are misconfigured",
)


def _fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


class KeyRing:
    """The encryption keys of this process (newest first) and the blind-index key."""

    def __init__(self, pii_keys: str, index_secret: str) -> None:
        secrets = [k.strip() for k in pii_keys.split(",") if k.strip()]
        if not secrets:
            raise ValueError("YINLING_PII_KEYS is empty")
        self._fernet = MultiFernet([Fernet(_fernet_key(s)) for s in secrets])
        self._index_key = hmac.new(index_secret.encode(), b"yinling-blind-index", hashlib.sha256).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise PII_UNREADABLE.error() from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key (a no-op in meaning)."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def blind_index(self, normalised: str) -> str:
        return hmac.new(self._index_key, normalised.encode(), hashlib.sha256).hexdigest()


_ring: KeyRing | None = None


def configure(pii_keys: str, index_secret: str) -> None:
    """Set the process's key ring (the platform does this at start-up, from the settings)."""
    global _ring  # one key ring per process, like the settings it comes from
    _ring = KeyRing(pii_keys, index_secret)


def ring() -> KeyRing:
    if _ring is None:
        from core.settings import Settings

        settings = Settings()
        configure(settings.pii_keys.get_secret_value(), settings.secret_key.get_secret_value())
    assert _ring is not None
    return _ring


class EncryptedText(TypeDecorator[str]):
    """A column holding ciphertext; Python sees the plain text. Audit images never include it."""

    impl = String(512)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else ring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else ring().decrypt(value)


def mask_id_number(value: str | None) -> str | None:
    """``320102194503151234`` → ``3201**********1234``."""
    if not value:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)
