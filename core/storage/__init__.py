"""Stored files: one :class:`ObjectStore` interface over MinIO/S3 (production) and a local folder (embedded).

Uploads are checked before anything is stored (size, type sniffed from the content, agreement with the
declared type), kept under the tenant's prefix ``t/{tenant_code}/...`` and served only through short-lived
signed links.
"""

from core.storage.base import (
    FILE_EMPTY,
    FILE_INVALID_KEY,
    FILE_INVALID_LOCATION,
    FILE_NOT_FOUND,
    FILE_TOO_LARGE,
    FILE_TYPE_MISMATCH,
    FILE_TYPE_NOT_ALLOWED,
    STORAGE_UNAVAILABLE,
    ObjectStore,
    StoredObject,
    content_disposition,
    tenant_code_of,
)
from core.storage.factory import create_store
from core.storage.local import LocalDiskStore
from core.storage.s3 import S3Store

__all__ = [
    "FILE_EMPTY",
    "FILE_INVALID_KEY",
    "FILE_INVALID_LOCATION",
    "FILE_NOT_FOUND",
    "FILE_TOO_LARGE",
    "FILE_TYPE_MISMATCH",
    "FILE_TYPE_NOT_ALLOWED",
    "STORAGE_UNAVAILABLE",
    "LocalDiskStore",
    "ObjectStore",
    "S3Store",
    "StoredObject",
    "content_disposition",
    "create_store",
    "tenant_code_of",
]
