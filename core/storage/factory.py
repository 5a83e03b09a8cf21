"""The store the settings ask for: MinIO/S3 when ``YINLING_S3_ENDPOINT`` is set, a local folder otherwise."""

from __future__ import annotations

from core.settings import Settings
from core.storage.base import ObjectStore
from core.storage.local import LocalDiskStore
from core.storage.s3 import S3Store


def create_store(settings: Settings) -> ObjectStore:
    if settings.s3_endpoint:
        return S3Store(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key.get_secret_value(),
            settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region or None,
            max_bytes=settings.upload_max_bytes,
            allowed_types=list(settings.upload_allowed_types),
            signed_url_seconds=settings.signed_url_seconds,
        )
    return LocalDiskStore(
        settings.effective_storage_dir,
        settings.secret_key.get_secret_value(),
        settings.public_url,
        max_bytes=settings.upload_max_bytes,
        allowed_types=list(settings.upload_allowed_types),
        signed_url_seconds=settings.signed_url_seconds,
    )
