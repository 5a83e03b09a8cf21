"""Files in a folder on disk (embedded mode), served through HMAC-signed, expiring links.

The web layer mounts ``GET /files/local/{key:path}`` and, for each request::

    if not store.verify_signature(key, expires, sig, name):   # query parameters, name may be absent
        -> 403 (or 404)
    path = store.path_for(key)                                 # raises file.invalid_key / never leaves root
    -> send path with Content-Type store.content_type_for(key), X-Content-Type-Options: nosniff and,
       when a name was given, Content-Disposition content_disposition(name)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

from core.storage.base import (
    FILE_INVALID_KEY,
    FILE_NOT_FOUND,
    KEY_RE,
    ObjectStore,
    StoredObject,
    unavailable,
    validate_key,
)
from core.storage.sniff import MIME_BY_EXTENSION

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_ALLOWED_TYPES = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
_SIGNING_CONTEXT = b"yinling.storage.local.signed-url.v1"


class LocalDiskStore(ObjectStore):
    """Objects as files under ``root`` (``root/t/{tenant}/...``), written atomically (temp file + rename)."""

    backend = "local"

    def __init__(
        self,
        root: Path,
        secret: str,
        base_url: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allowed_types: list[str] | None = None,
        signed_url_seconds: int = 300,
    ) -> None:
        super().__init__(
            max_bytes=max_bytes,
            allowed_types=list(DEFAULT_ALLOWED_TYPES if allowed_types is None else allowed_types),
            signed_url_seconds=signed_url_seconds,
        )
        if not secret:
            raise ValueError("a signing secret is required")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        # A key of its own, derived from the application secret, so these signatures cannot be confused with
        # any other use of that secret (tokens, sessions).
        self._signing_key = hmac.new(secret.encode(), _SIGNING_CONTEXT, hashlib.sha256).digest()

    # --- paths -----------------------------------------------------------------------------------

    def _root_resolved(self) -> Path:
        return Path(os.path.realpath(self.root))

    def path_for(self, key: str) -> Path:
        """The file of ``key``; raises ``file.invalid_key`` for anything that is not a key inside ``root``.

        Symbolic links are resolved first, so a link planted under ``root`` cannot lead outside it.
        """
        validate_key(key)
        root = self._root_resolved()
        path = Path(os.path.realpath(root / key))
        if not path.is_relative_to(root) or path == root:
            raise FILE_INVALID_KEY.error(field="key")
        return path

    @staticmethod
    def content_type_for(key: str) -> str:
        """The MIME type to serve ``key`` with (from the canonical extension the key was given on upload)."""
        extension = key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else ""
        return MIME_BY_EXTENSION.get(extension, "application/octet-stream")

    # --- signed links ----------------------------------------------------------------------------

    def _signature(self, key: str, expires: int, name: str) -> str:
        message = f"{key}\n{expires}\n{name}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def verify_signature(self, key: str, expires: int | str, sig: str, name: str | None = None) -> bool:
        """Whether a link's parameters are authentic and not yet expired (constant-time comparison)."""
        if not isinstance(key, str) or KEY_RE.fullmatch(key) is None:
            return False
        try:
            expires_at = int(expires)
        except (TypeError, ValueError):
            return False
        if expires_at < int(time.time()):
            return False
        expected = self._signature(key, expires_at, name or "")
        try:
            given = sig.encode("ascii")
        except (AttributeError, UnicodeEncodeError):
            return False
        return hmac.compare_digest(expected.encode("ascii"), given)

    async def _signed_url(self, key: str, expires_seconds: int, download_name: str | None) -> str:
        expires = int(time.time()) + expires_seconds
        params = {"expires": str(expires), "sig": self._signature(key, expires, download_name or "")}
        if download_name:
            params["name"] = download_name
        return f"{self.base_url}/files/local/{quote(key, safe='/')}?{urlencode(params, quote_via=quote)}"

    # --- storage ---------------------------------------------------------------------------------

    async def _put(self, obj: StoredObject, data: bytes) -> None:
        try:
            await asyncio.to_thread(self._write, obj.key, data)
        except OSError as exc:
            raise unavailable(self.backend, "put", exc) from exc

    def _write(self, key: str, data: bytes) -> None:
        root = self._root_resolved()
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        directory = Path(os.path.realpath(target.parent))
        if not directory.is_relative_to(root):
            raise FILE_INVALID_KEY.error(field="key")
        fd, temp_name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, directory / target.name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    async def _get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FILE_NOT_FOUND.error(field="key") from None
        except OSError as exc:
            raise unavailable(self.backend, "get", exc) from exc

    async def _delete(self, key: str) -> None:
        path = self.path_for(key)
        try:
            await asyncio.to_thread(path.unlink, True)
        except (IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise unavailable(self.backend, "delete", exc) from exc

    async def check(self) -> None:
        """The folder exists (or can be made) and a file can be written to and removed from it."""
        try:
            await asyncio.to_thread(self._probe)
        except OSError as exc:
            raise unavailable(self.backend, "check", exc) from exc

    def _probe(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
