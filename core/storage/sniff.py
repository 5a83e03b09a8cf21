"""What a file really is, judged from its bytes (never from the client's word or the file name).

``filetype`` 1.2 reads the first 8 KiB. It recognises Office Open XML (docx/xlsx/pptx) only when a
``word/``, ``xl/`` or ``ppt/`` entry is among the first few zip entries, and otherwise answers
``application/zip``; it also cannot tell a macro-enabled ``.docm``/``.xlsm`` from a ``.docx``/``.xlsx``. So
every zip-based answer is settled here by reading the package's ``[Content_Types].xml`` (bounded, nothing else
is decompressed), which names the main part's content type exactly.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import filetype

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCM = "application/vnd.ms-word.document.macroenabled.12"
XLSM = "application/vnd.ms-excel.sheet.macroenabled.12"
PPTM = "application/vnd.ms-powerpoint.presentation.macroenabled.12"
ZIP = "application/zip"

#: Main-part content types in ``[Content_Types].xml`` -> (MIME type, extension). Macro-enabled first: their
#: names are not substrings of the plain ones, but order keeps the intent obvious.
_OOXML_MAIN_PARTS: tuple[tuple[bytes, str, str], ...] = (
    (b"application/vnd.ms-word.document.macroenabled.main+xml", DOCM, "docm"),
    (b"application/vnd.ms-excel.sheet.macroenabled.main+xml", XLSM, "xlsm"),
    (b"application/vnd.ms-powerpoint.presentation.macroenabled.main+xml", PPTM, "pptm"),
    (b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", DOCX, "docx"),
    (b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", XLSX, "xlsx"),
    (b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", PPTX, "pptx"),
)
_ZIP_FAMILY = {ZIP, DOCX, XLSX, PPTX, "application/x-zip-compressed", "application/epub+zip"}
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024

#: Canonical extension of each MIME type this module may return (used for keys and for serving local files).
EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "application/pdf": "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    DOCM: "docm",
    XLSM: "xlsm",
    PPTM: "pptm",
    ZIP: "zip",
}
MIME_BY_EXTENSION: dict[str, str] = {ext: mime for mime, ext in EXTENSIONS.items()}

#: Aliases clients send for the same type.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
}
#: Declared types that say nothing (browsers send them for anything they do not know).
_UNINFORMATIVE = {
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "application/unknown",
    "application/binary",
}


@dataclass(frozen=True)
class Sniffed:
    """The detected type: ``mime`` is None when the bytes match no known signature (text, random data)."""

    mime: str | None
    extension: str | None


def sniff(data: bytes) -> Sniffed:
    """Detect the type of ``data`` from its content."""
    kind = filetype.guess(data)
    if kind is None:
        return Sniffed(None, None)
    mime = str(kind.mime).lower()
    if mime in _ZIP_FAMILY:
        return _sniff_zip(data)
    return Sniffed(mime, EXTENSIONS.get(mime, str(kind.extension)))


def _sniff_zip(data: bytes) -> Sniffed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                return Sniffed(ZIP, "zip")
            if info.file_size > _CONTENT_TYPES_MAX_BYTES:
                return Sniffed(ZIP, "zip")
            with archive.open(info) as handle:
                content_types = handle.read(_CONTENT_TYPES_MAX_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, ValueError):
        # Damaged, encrypted or otherwise unreadable: it is at best an opaque zip.
        return Sniffed(ZIP, "zip")
    lowered = content_types.lower()
    for marker, mime, extension in _OOXML_MAIN_PARTS:
        if marker in lowered:
            return Sniffed(mime, extension)
    return Sniffed(ZIP, "zip")


def normalise_declared(declared: str | None) -> str | None:
    """The client's declared type without parameters, lower-cased and de-aliased; None if it says nothing."""
    if declared is None:
        return None
    mime = declared.split(";", 1)[0].strip().lower()
    if mime in _UNINFORMATIVE:
        return None
    return _ALIASES.get(mime, mime)


def declared_matches(declared: str, detected: str | None) -> bool:
    """Whether a (normalised) declared type agrees with the detected one.

    A zip-based Office document declared as a plain zip is not a contradiction (some clients say so).
    """
    if detected is None:
        return False
    if declared == detected:
        return True
    return declared in {ZIP, "application/x-zip-compressed"} and detected in _ZIP_FAMILY | {DOCM, XLSM, PPTM}


# --- names people read --------------------------------------------------------------------------

_IMAGE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/gif": "GIF",
    "image/heic": "HEIC",
}
_KIND_NAMES: dict[str, tuple[str, str]] = {
    "application/pdf": ("PDF 文档", "a PDF document"),
    DOCX: ("Word（.docx）", "Word (.docx)"),
    XLSX: ("Excel（.xlsx）", "Excel (.xlsx)"),
    PPTX: ("PowerPoint（.pptx）", "PowerPoint (.pptx)"),
    DOCM: ("含宏的 Word 文档（.docm）", "macro-enabled Word (.docm)"),
    XLSM: ("含宏的 Excel 表格（.xlsm）", "macro-enabled Excel (.xlsm)"),
    PPTM: ("含宏的 PowerPoint 演示文稿（.pptm）", "macro-enabled PowerPoint (.pptm)"),
    "application/msword": ("旧版 Word 文档（.doc）", "legacy Word (.doc)"),
    "application/vnd.ms-excel": ("旧版 Excel 表格（.xls）", "legacy Excel (.xls)"),
    "application/vnd.ms-powerpoint": ("旧版 PowerPoint 演示文稿（.ppt）", "legacy PowerPoint (.ppt)"),
    ZIP: ("ZIP 压缩包", "a ZIP archive"),
    "application/x-rar-compressed": ("RAR 压缩包", "a RAR archive"),
    "application/x-7z-compressed": ("7z 压缩包", "a 7z archive"),
    "application/x-msdownload": ("Windows 程序（.exe）", "a Windows program (.exe)"),
    "application/x-executable": ("可执行程序", "an executable program"),
    "application/x-sh": ("脚本程序", "a script"),
}
_SHORT_NAMES = {"application/pdf": ("PDF", "PDF")}
LEGACY_OFFICE = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}


def describe_type(mime: str | None) -> tuple[str, str]:
    """(Chinese, English) name of one type, for messages."""
    if mime is None:
        return (
            "无法识别的格式（可能是文本文件或已损坏的文件）",
            "an unrecognised format (text or a damaged file)",
        )
    if mime in _IMAGE_NAMES:
        return (f"{_IMAGE_NAMES[mime]} 图片", f"a {_IMAGE_NAMES[mime]} image")
    if mime in _KIND_NAMES:
        return _KIND_NAMES[mime]
    extension = EXTENSIONS.get(mime)
    suffix_zh = f"（.{extension}）" if extension else ""
    suffix_en = f" (.{extension})" if extension else ""
    return (f"{mime}{suffix_zh}", f"{mime}{suffix_en}")


def describe_allowed(allowed: list[str]) -> tuple[str, str]:
    """(Chinese, English) list of allowed kinds.

    E.g. "JPEG/PNG/WebP 图片、PDF、Word（.docx）、Excel（.xlsx）".
    """
    images = [_IMAGE_NAMES[m] for m in allowed if m in _IMAGE_NAMES]
    zh: list[str] = []
    en: list[str] = []
    if images:
        zh.append("/".join(images) + " 图片")
        en.append("/".join(images) + " images")
    for mime in allowed:
        if mime in _IMAGE_NAMES:
            continue
        name_zh, name_en = _SHORT_NAMES.get(mime) or describe_type(mime)
        zh.append(name_zh)
        en.append(name_en.removeprefix("a "))
    return ("、".join(zh), ", ".join(en))
