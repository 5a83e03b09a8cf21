"""Files in MinIO or any S3-compatible store, through the ``minio`` SDK.

The SDK is synchronous: every call runs in a worker thread. Whatever goes wrong below (connection refused,
timeouts, bad credentials, a missing bucket that cannot be created) reaches callers as ``storage.unavailable``
(503) with a message a person can act on; the cause is logged, never shown.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import os
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote, urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from core.errors import AppError
from core.storage.base import FILE_NOT_FOUND, ObjectStore, StoredObject, content_disposition, unavailable
from core.storage.local import DEFAULT_ALLOWED_TYPES, DEFAULT_MAX_BYTES

T = TypeVar("T")

#: What the SDK and its HTTP stack raise when the store is unreachable or refuses us.
_BACKEND_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError)
_MISSING_OBJECT_CODES = {"NoSuchKey", "NoSuchObject"}
_MAX_PRESIGN = datetime.timedelta(days=7)


def parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """``host:port`` and whether to use TLS, from ``host:port`` or a URL (whose scheme then decides TLS)."""
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        return endpoint.rstrip("/"), secure
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise ValueError(f"S3 endpoint must be host:port or http(s)://host:port, got {endpoint!r}")
    return parts.netloc, parts.scheme == "https"


class S3Store(ObjectStore):
    """Objects in one bucket, keyed ``t/{tenant}/...``; the bucket is created on first use if missing.

    ``public_endpoint`` (optional) is the address browsers reach the store at, when it differs from the one
    the application uses (e.g. an in-cluster service name): signed links are then made for that address.
    """

    backend = "s3"

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = True,
        region: str | None = None,
        public_endpoint: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allowed_types: list[str] | None = None,
        signed_url_seconds: int = 300,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        retries: int = 2,
    ) -> None:
        super().__init__(
            max_bytes=max_bytes,
            allowed_types=list(DEFAULT_ALLOWED_TYPES if allowed_types is None else allowed_types),
            signed_url_seconds=signed_url_seconds,
        )
        host, use_tls = parse_endpoint(endpoint, secure)
        self.bucket = bucket
        self.region = region or None
        # The SDK's default client waits 5 minutes per attempt and retries 5 times: far too long for a web
        # request when the store is down. Fail fast instead; the caller reports storage.unavailable.
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or None,
            retries=urllib3.Retry(
                total=retries,
                backoff_factor=0.2,
                status_forcelist=[500, 502, 503, 504],
                raise_on_status=False,
            ),
        )
        self._client = Minio(
            host,
            access_key=access_key,
            secret_key=secret_key,
            secure=use_tls,
            region=self.region,
            http_client=self._http,
        )
        if public_endpoint:
            public_host, public_tls = parse_endpoint(public_endpoint, use_tls)
            # Presigning is local computation once the region is known; give it one so it never calls out.
            self._presigner = Minio(
                public_host,
                access_key=access_key,
                secret_key=secret_key,
                secure=public_tls,
                region=self.region or "us-east-1",
                http_client=self._http,
            )
        else:
            self._presigner = self._client
        self._bucket_ready = False
        self._bucket_lock = asyncio.Lock()

    async def _call(self, operation: str, func: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(func)
        except AppError:
            raise
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                self._bucket_ready = False  # removed behind our back: try to create it again next time
            raise unavailable(self.backend, operation, exc) from exc
        except _BACKEND_ERRORS as exc:
            raise unavailable(self.backend, operation, exc) from exc

    # --- bucket ----------------------------------------------------------------------------------

    def _ensure_bucket_sync(self) -> None:
        if self._client.bucket_exists(self.bucket):
            return
        try:
            self._client.make_bucket(self.bucket, location=self.region)
        except S3Error as exc:
            # Another process may have created it a moment ago.
            if exc.code != "BucketAlreadyOwnedByYou" and not self._client.bucket_exists(self.bucket):
                raise

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        async with self._bucket_lock:
            if not self._bucket_ready:
                await self._call("create bucket", self._ensure_bucket_sync)
                self._bucket_ready = True

    async def check(self) -> None:
        """The store answers and the bucket exists (it is created if missing)."""
        await self._call("check", self._ensure_bucket_sync)
        self._bucket_ready = True

    # --- objects ---------------------------------------------------------------------------------

    async def _put(self, obj: StoredObject, data: bytes) -> None:
        await self._ensure_bucket()
        metadata = {
            "x-amz-meta-sha256": obj.sha256,
            # Header values must be ASCII: the (often Chinese) name is percent-encoded.
            "x-amz-meta-original-name": quote(obj.original_name, safe=""),
        }

        def put_once() -> None:
            self._client.put_object(
                self.bucket,
                obj.key,
                io.BytesIO(data),
                len(data),
                content_type=obj.content_type,
                metadata=metadata,  # type: ignore[arg-type]
            )

        def upload() -> None:
            try:
                put_once()
            except S3Error as exc:
                if exc.code != "NoSuchBucket":
                    raise
                # The bucket was removed since we last saw it: create it again and retry once.
                self._ensure_bucket_sync()
                put_once()

        await self._call("put", upload)

    async def _get(self, key: str) -> bytes:
        def download() -> bytes:
            response = self._client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        try:
            return await asyncio.to_thread(download)
        except S3Error as exc:
            if exc.code in _MISSING_OBJECT_CODES:
                raise FILE_NOT_FOUND.error(field="key") from None
            raise unavailable(self.backend, "get", exc) from exc
        except _BACKEND_ERRORS as exc:
            raise unavailable(self.backend, "get", exc) from exc

    async def _delete(self, key: str) -> None:
        # S3 answers 204 for a missing key as well: idempotent by nature.
        await self._call("delete", lambda: self._client.remove_object(self.bucket, key))

    async def _signed_url(self, key: str, expires_seconds: int, download_name: str | None) -> str:
        expires = min(datetime.timedelta(seconds=expires_seconds), _MAX_PRESIGN)
        response_headers = (
            {"response-content-disposition": content_disposition(download_name)} if download_name else None
        )
        return await self._call(
            "sign",
            lambda: str(
                self._presigner.presigned_get_object(
                    self.bucket,
                    key,
                    expires=expires,
                    response_headers=response_headers,  # type: ignore[arg-type]
                )
            ),
        )

    async def close(self) -> None:
        self._http.clear()
