"""S3Store against a real MinIO (``bash scripts/services.sh up minio``, then ``source .services/env``).

Reads YINLING_TEST_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY (and _SECURE, default false). Missing variables
fail the tests: a skipped storage suite would hide a broken setup. Each run works in a bucket of its own,
removed at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from minio import Minio
from minio.error import S3Error

from core.errors import AppError
from core.storage import S3Store, StoredObject

TENANT = "320102"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(4096) + b"\xff\xd9"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100


@dataclass(frozen=True)
class MinioEnv:
    endpoint: str
    access_key: str
    secret_key: str
    secure: bool


@pytest.fixture(scope="module")
def minio_env() -> MinioEnv:
    names = ["YINLING_TEST_S3_ENDPOINT", "YINLING_TEST_S3_ACCESS_KEY", "YINLING_TEST_S3_SECRET_KEY"]
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"MinIO tests need {', '.join(missing)}. Start MinIO with `bash scripts/services.sh up minio` "
            "and load its settings with `source .services/env` "
            '(or `eval "$(bash scripts/services.sh env)"`).',
            pytrace=False,
        )
    return MinioEnv(
        endpoint=os.environ["YINLING_TEST_S3_ENDPOINT"],
        access_key=os.environ["YINLING_TEST_S3_ACCESS_KEY"],
        secret_key=os.environ["YINLING_TEST_S3_SECRET_KEY"],
        secure=os.environ.get("YINLING_TEST_S3_SECURE", "false").lower() in {"1", "true", "yes"},
    )


@pytest.fixture(scope="module")
def raw(minio_env: MinioEnv) -> Minio:
    """A plain SDK client, to look at what the store did behind its interface."""
    endpoint = minio_env.endpoint.split("://", 1)[-1]
    return Minio(endpoint, minio_env.access_key, minio_env.secret_key, secure=minio_env.secure)


def _empty_and_remove(raw: Minio, bucket: str) -> None:
    if not raw.bucket_exists(bucket):
        return
    for item in raw.list_objects(bucket, recursive=True):
        raw.remove_object(bucket, item.object_name)
    raw.remove_bucket(bucket)


@pytest.fixture(scope="module")
def bucket(raw: Minio) -> Iterator[str]:
    name = f"yinling-test-{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        _empty_and_remove(raw, name)


def make_store(env: MinioEnv, bucket: str, **kwargs: object) -> S3Store:
    return S3Store(env.endpoint, env.access_key, env.secret_key, bucket, secure=env.secure, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def store(minio_env: MinioEnv, bucket: str) -> AsyncIterator[S3Store]:
    s3 = make_store(minio_env, bucket)
    try:
        yield s3
    finally:
        await s3.close()


def keys_in(raw: Minio, bucket: str) -> list[str]:
    if not raw.bucket_exists(bucket):
        return []
    return [str(item.object_name) for item in raw.list_objects(bucket, recursive=True)]


async def refused(coro: object, code: str, status: int) -> AppError:
    with pytest.raises(AppError) as caught:
        await coro  # type: ignore[misc]
    assert caught.value.code == code, caught.value.message("en")
    assert caught.value.status == status
    return caught.value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- tests -------------------------------------------------------------------------------------------------


async def test_check_creates_the_bucket(minio_env: MinioEnv, raw: Minio) -> None:
    name = f"yinling-test-check-{uuid.uuid4().hex[:12]}"
    s3 = make_store(minio_env, name)
    try:
        assert not raw.bucket_exists(name)
        await s3.check()
        assert raw.bucket_exists(name)
        await s3.check()  # and again, now that it exists
    finally:
        await s3.close()
        _empty_and_remove(raw, name)


async def test_round_trip_with_sha256_metadata(store: S3Store, raw: Minio, bucket: str) -> None:
    obj = await store.put(TENANT, JPEG, filename="支部活动合影.jpg", declared_type="image/jpeg", folder="photos")

    assert isinstance(obj, StoredObject)
    assert obj.key.startswith(f"t/{TENANT}/photos/") and obj.key.endswith(".jpg")
    assert obj.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert (obj.size, obj.content_type, obj.original_name) == (len(JPEG), "image/jpeg", "支部活动合影.jpg")

    stat = raw.stat_object(bucket, obj.key)
    assert stat.size == len(JPEG)
    assert stat.content_type == "image/jpeg"
    assert stat.metadata["x-amz-meta-sha256"] == obj.sha256
    assert unquote(stat.metadata["x-amz-meta-original-name"]) == "支部活动合影.jpg"

    assert await store.get(obj.key) == JPEG


async def test_oversize_refused_and_nothing_stored(minio_env: MinioEnv, raw: Minio, bucket: str) -> None:
    s3 = make_store(minio_env, bucket, max_bytes=1024 * 1024)
    before = keys_in(raw, bucket)
    try:
        error = await refused(
            s3.put(TENANT, JPEG + b"\x00" * (2 * 1024 * 1024), filename="big.jpg"), "file.too_large", 413
        )
        assert "不能超过 1 MB" in error.message("zh")
    finally:
        await s3.close()
    assert keys_in(raw, bucket) == before


async def test_wrong_type_refused_and_nothing_stored(store: S3Store, raw: Minio, bucket: str) -> None:
    before = keys_in(raw, bucket)
    await refused(store.put(TENANT, ELF, filename="photo.jpg"), "file.type_not_allowed", 415)
    await refused(store.put(TENANT, PDF, filename="a.jpg", declared_type="image/jpeg"), "file.type_mismatch", 415)
    assert keys_in(raw, bucket) == before


async def test_signed_url_downloads_under_the_chinese_name(store: S3Store) -> None:
    obj = await store.put(TENANT, PDF, filename="notice.pdf")
    name = "关于召开2025年度组织生活会的通知.pdf"
    url = await store.signed_url(obj.key, download_name=name)

    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        sig = query["X-Amz-Signature"]
        query["X-Amz-Signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        tampered = urlunsplit(parts._replace(query=urlencode(query)))
        assert (await client.get(tampered)).status_code == 403

        query["X-Amz-Signature"] = sig
        query["response-content-disposition"] = 'attachment; filename="evil.exe"'
        assert (await client.get(urlunsplit(parts._replace(query=urlencode(query))))).status_code == 403


async def test_signed_url_expires(store: S3Store) -> None:
    obj = await store.put(TENANT, PDF, filename="a.pdf")
    url = await store.signed_url(obj.key, expires_seconds=1)
    await asyncio.sleep(2.1)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url)).status_code == 403


async def test_delete(store: S3Store, raw: Minio, bucket: str) -> None:
    obj = await store.put(TENANT, JPEG, filename="a.jpg")
    await store.delete(obj.key)
    with pytest.raises(S3Error):
        raw.stat_object(bucket, obj.key)
    await refused(store.get(obj.key), "file.not_found", 404)
    await store.delete(obj.key)  # idempotent


async def test_bucket_removed_behind_our_back_is_recreated(minio_env: MinioEnv, raw: Minio) -> None:
    name = f"yinling-test-gone-{uuid.uuid4().hex[:12]}"
    s3 = make_store(minio_env, name)
    try:
        await s3.put(TENANT, PDF, filename="a.pdf")
        _empty_and_remove(raw, name)
        obj = await s3.put(TENANT, PDF, filename="b.pdf")
        assert await s3.get(obj.key) == PDF
    finally:
        await s3.close()
        _empty_and_remove(raw, name)


async def test_check_ok(store: S3Store) -> None:
    await store.check()


async def test_closed_port_is_storage_unavailable(minio_env: MinioEnv) -> None:
    down = S3Store(f"127.0.0.1:{closed_port()}", minio_env.access_key, minio_env.secret_key, "yinling-x", secure=False)
    started = time.monotonic()
    try:
        error = await refused(down.check(), "storage.unavailable", 503)
        assert error.message("zh") == "文件存储服务暂时不可用，请稍后重试；已提交的内容没有丢失"
        assert "Traceback" not in error.message("en") and "127.0.0.1" not in error.message("en")
        await refused(down.put(TENANT, PDF, filename="a.pdf"), "storage.unavailable", 503)
        await refused(down.get(f"t/{TENANT}/files/2025/01/{'a' * 32}.pdf"), "storage.unavailable", 503)
        await refused(down.delete(f"t/{TENANT}/files/2025/01/{'a' * 32}.pdf"), "storage.unavailable", 503)
    finally:
        await down.close()
    assert time.monotonic() - started < 20, "a store that is down must fail fast, not hang the request"


async def test_wrong_credentials_are_storage_unavailable(minio_env: MinioEnv, bucket: str) -> None:
    s3 = S3Store(minio_env.endpoint, minio_env.access_key, "not-the-secret", bucket, secure=minio_env.secure)
    try:
        await refused(s3.check(), "storage.unavailable", 503)
        await refused(s3.put(TENANT, PDF, filename="a.pdf"), "storage.unavailable", 503)
    finally:
        await s3.close()
