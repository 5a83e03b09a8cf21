"""One interface for stored files, whatever holds them (MinIO/S3 in production, a folder in embedded mode).

Every upload is checked before a byte is stored (size, sniffed type, agreement with the declared type), lands
under its tenant's prefix ``t/{tenant_code}/{folder}/{yyyy}/{mm}/{uuid}{.ext}``, and is served only through
short-lived signed links. Keys are generated here and validated on every use, so no caller can reach outside
the key space (``..``, absolute paths, other prefixes).
"""

from __future__ import annotations

import abc
import asyncio
import datetime
import hashlib
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from core.errors import AppError, ErrorSpec
from core.storage.sniff import (
    LEGACY_OFFICE,
    declared_matches,
    describe_allowed,
    describe_type,
    normalise_declared,
    sniff,
)

logger = logging.getLogger(__name__)

FILE_EMPTY = ErrorSpec(
    "file.empty",
    422,
    "文件是空的（0 字节），请重新选择要上传的文件",
    "The file is empty (0 bytes); choose the file to upload again",
)
FILE_TOO_LARGE = ErrorSpec(
    "file.too_large",
    413,
    "文件太大：这个文件有 {size_mb} MB，单个文件不能超过 {limit_mb} MB。请压缩图片或拆分文档后再上传",
    "The file is too large: it is {size_mb} MB and a single file may be at most {limit_mb} MB. "
    "Compress the image or split the document, then upload again",
)
FILE_TYPE_NOT_ALLOWED = ErrorSpec(
    "file.type_not_allowed",
    415,
    "不支持这种文件：系统检测到它是{detected_zh}。可以上传的文件：{allowed_zh}{hint_zh}",
    "This kind of file is not accepted: it is {detected_en}. Accepted: {allowed_en}{hint_en}",
)
FILE_TYPE_MISMATCH = ErrorSpec(
    "file.type_mismatch",
    415,
    "文件内容与声明的类型不符：声明的是{declared_zh}，实际内容是{detected_zh}。请确认文件没有被改过扩展名，再重新上传",
    "The file's content does not match its declared type: declared as {declared_en}, "
    "but it is {detected_en}. "
    "Check that the file was not renamed to another extension, then upload again",
)
FILE_INVALID_LOCATION = ErrorSpec(
    "file.invalid_location",
    400,
    "文件存放位置无效：{reason_zh}",
    "Invalid storage location: {reason_en}",
)
FILE_INVALID_KEY = ErrorSpec(
    "file.invalid_key",
    400,
    "文件标识无效，请从页面上的链接重新打开文件",
    "Invalid file reference; open the file again from the link on the page",
)
FILE_NOT_FOUND = ErrorSpec(
    "file.not_found",
    404,
    "文件不存在或已被删除",
    "The file does not exist or has been deleted",
)
STORAGE_UNAVAILABLE = ErrorSpec(
    "storage.unavailable",
    503,
    "文件存储服务暂时不可用，请稍后重试；已提交的内容没有丢失",
    "File storage is temporarily unavailable; please try again shortly. Nothing you submitted has been lost",
)

TENANT_CODE_RE = re.compile(r"[0-9]{6}")
#: One or more lower-case slug segments separated by "/" (e.g. "files", "mediation/cases"); no dots at all.
FOLDER_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}(?:/[a-z0-9][a-z0-9_-]{0,39}){0,3}")
KEY_RE = re.compile(
    r"t/(?P<tenant>[0-9]{6})/(?P<folder>[a-z0-9][a-z0-9_-]{0,39}(?:/[a-z0-9][a-z0-9_-]{0,39}){0,3})"
    r"/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/(?P<name>[0-9a-f]{32})(?P<ext>\.[a-z0-9]{1,8})?"
)
_MAX_NAME_CHARS = 200
_MB = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    """What :meth:`ObjectStore.put` stored: keep ``key`` (and whatever else you show) in your row."""

    key: str
    size: int
    sha256: str
    content_type: str
    original_name: str


def tenant_code_of(key: str) -> str:
    """The tenant code a key belongs to (raise ``file.invalid_key`` if it is not a key this module made).

    Routes that serve a key taken from a request must check it against the acting tenant's scope.
    """
    return validate_key(key).group("tenant")


def validate_key(key: str) -> re.Match[str]:
    match = KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise FILE_INVALID_KEY.error(field="key")
    return match


def safe_original_name(filename: str, extension: str) -> str:
    """The client's file name, reduced to a harmless display name (no directories, control characters)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        name = f"file.{extension}" if extension else "file"
    if len(name) > _MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: _MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_NAME_CHARS]
    return name


def content_disposition(download_name: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value that carries any name (RFC 6266 / RFC 5987 ``filename*=UTF-8''...``).

    The plain ``filename=`` is an ASCII fallback for old clients; modern browsers use ``filename*``.
    """
    name = safe_original_name(download_name, "")
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _format_mb(size: int) -> str:
    value = size / _MB
    if 0 < value < 0.01:
        return "<0.01"
    return f"{value:.2f}".rstrip("0").rstrip(".")


class ObjectStore(abc.ABC):
    """Stored files behind one interface. Subclasses implement the ``_``-prefixed primitives.

    ``put`` does all validation here, before the subclass writes anything.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        allowed_types: list[str],
        signed_url_seconds: int = 300,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if signed_url_seconds <= 0:
            raise ValueError("signed_url_seconds must be positive")
        self.max_bytes = max_bytes
        self.allowed_types = [t.lower() for t in allowed_types]
        self.signed_url_seconds = signed_url_seconds

    # --- the interface ---------------------------------------------------------------------------

    async def put(
        self,
        tenant_code: str,
        data: bytes,
        *,
        filename: str,
        declared_type: str | None = None,
        folder: str = "files",
    ) -> StoredObject:
        """Validate and store one file under the tenant's prefix; nothing is stored when validation fails."""
        # Hashing and sniffing 20 MB takes tens of milliseconds: keep it off the event loop.
        prepared = await asyncio.to_thread(
            self.prepare, tenant_code, data, filename=filename, declared_type=declared_type, folder=folder
        )
        await self._put(prepared, data)
        return prepared

    async def get(self, key: str) -> bytes:
        """The file's bytes (``file.not_found`` if missing, ``storage.unavailable`` if the store is down)."""
        validate_key(key)
        return await self._get(key)

    async def delete(self, key: str) -> None:
        """Remove the file; deleting a missing file is not an error."""
        validate_key(key)
        await self._delete(key)

    async def signed_url(
        self, key: str, *, expires_seconds: int | None = None, download_name: str | None = None
    ) -> str:
        """A short-lived link to the file; with ``download_name`` the browser saves it under that name."""
        validate_key(key)
        seconds = self.signed_url_seconds if expires_seconds is None else expires_seconds
        if seconds <= 0:
            raise ValueError("expires_seconds must be positive")
        name = safe_original_name(download_name, "") if download_name else None
        return await self._signed_url(key, seconds, name)

    @abc.abstractmethod
    async def check(self) -> None:
        """Readiness: return if the store is usable, raise ``storage.unavailable`` otherwise."""

    async def close(self) -> None:  # noqa: B027 - optional hook, stores without resources need not override
        """Release connections and other resources."""

    # --- validation ------------------------------------------------------------------------------

    def prepare(
        self,
        tenant_code: str,
        data: bytes,
        *,
        filename: str,
        declared_type: str | None = None,
        folder: str = "files",
    ) -> StoredObject:
        """Check an upload and compute what :meth:`put` would store, without storing it."""
        if not isinstance(tenant_code, str) or not TENANT_CODE_RE.fullmatch(tenant_code):
            raise FILE_INVALID_LOCATION.error(
                field="tenant_code",
                reason_zh="单位代码应为 6 位数字的行政区划代码",
                reason_en="the tenant code must be a 6-digit division code",
            )
        if not isinstance(folder, str) or not FOLDER_RE.fullmatch(folder):
            raise FILE_INVALID_LOCATION.error(
                field="folder",
                reason_zh="目录名只能由小写字母、数字、“-”和“_”组成，用“/”分隔，最多 4 层",
                reason_en="a folder is 1-4 '/'-separated segments of lower-case letters, digits, '-', '_'",
            )
        size = len(data)
        if size == 0:
            raise FILE_EMPTY.error(field="file")
        if size > self.max_bytes:
            raise FILE_TOO_LARGE.error(
                field="file",
                size_mb=_format_mb(size),
                limit_mb=_format_mb(self.max_bytes),
                size_bytes=size,
                limit_bytes=self.max_bytes,
            )
        detected = sniff(data)
        if detected.mime is None or detected.mime not in self.allowed_types:
            detected_zh, detected_en = describe_type(detected.mime)
            allowed_zh, allowed_en = describe_allowed(self.allowed_types)
            hint_zh = hint_en = ""
            if detected.mime in LEGACY_OFFICE:
                hint_zh = "。旧版 Office 文件请在 Word/Excel 中“另存为”新格式（.docx/.xlsx）后再上传"
                hint_en = ". Save legacy Office files in the new format (.docx/.xlsx) and upload again"
            raise FILE_TYPE_NOT_ALLOWED.error(
                field="file",
                detected=detected.mime,
                detected_zh=detected_zh,
                detected_en=detected_en,
                allowed_zh=allowed_zh,
                allowed_en=allowed_en,
                hint_zh=hint_zh,
                hint_en=hint_en,
            )
        declared = normalise_declared(declared_type)
        if declared is not None and not declared_matches(declared, detected.mime):
            detected_zh, detected_en = describe_type(detected.mime)
            declared_zh, declared_en = describe_type(declared)
            raise FILE_TYPE_MISMATCH.error(
                field="file",
                declared=declared,
                declared_zh=declared_zh,
                declared_en=declared_en,
                detected_zh=detected_zh,
                detected_en=detected_en,
            )
        extension = detected.extension or "bin"
        now = datetime.datetime.now(datetime.UTC)
        key = f"t/{tenant_code}/{folder}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"
        validate_key(key)  # belt and braces: whatever we generate must be a key we accept later
        return StoredObject(
            key=key,
            size=size,
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=detected.mime,
            original_name=safe_original_name(filename, extension),
        )

    # --- what a backend implements ---------------------------------------------------------------

    @abc.abstractmethod
    async def _put(self, obj: StoredObject, data: bytes) -> None:
        """Store ``data`` under ``obj.key`` atomically (all or nothing)."""

    @abc.abstractmethod
    async def _get(self, key: str) -> bytes: ...

    @abc.abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def _signed_url(self, key: str, expires_seconds: int, download_name: str | None) -> str: ...


def unavailable(backend: str, operation: str, exc: BaseException) -> AppError:
    """Log why a backend failed (no traceback) and return the ``storage.unavailable`` error to raise."""
    logger.warning("file storage (%s) failed during %s: %s: %s", backend, operation, type(exc).__name__, exc)
    return STORAGE_UNAVAILABLE.error()
