"""The storage interface on the local-disk backend: validation, keys, atomic writes and signed links."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import filetype
import pytest

from core.errors import AppError
from core.settings import Settings
from core.storage import (
    LocalDiskStore,
    ObjectStore,
    S3Store,
    StoredObject,
    content_disposition,
    create_store,
    tenant_code_of,
)
from core.storage.sniff import DOCM, DOCX, XLSX, describe_allowed, sniff

TENANT = "320102"
SECRET = "unit-test-secret-0123456789abcdef"
BASE_URL = "http://files.test"
KEY_RE = re.compile(r"t/320102/files/\d{4}/\d{2}/[0-9a-f]{32}\.[a-z]+")

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
TEXT = "会议纪要：今天下午三点在活动室开会。\n".encode() * 10


def _content_types(main: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{main}</Types>"
    )


def _zip(entries: list[tuple[str, str | bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def make_docx(*, bulky_first: bool = False, macro: bool = False) -> bytes:
    main_type = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    entries: list[tuple[str, str | bytes]] = [
        (
            "[Content_Types].xml",
            _content_types(f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'),
        ),
        ("_rels/.rels", '<?xml version="1.0"?><Relationships/>'),
        ("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="w"><w:body/></w:document>'),
    ]
    if bulky_first:
        # Several parts (one large and incompressible) before word/: filetype 1.2 then only sees a zip.
        bulky: list[tuple[str, str | bytes]] = [
            ("docProps/thumbnail.jpeg", os.urandom(20_000)),
            ("docProps/core.xml", "<cp/>"),
            ("docProps/app.xml", "<app/>"),
            ("customXml/item1.xml", "<c/>"),
            ("customXml/item2.xml", "<c/>"),
        ]
        entries = [entries[0], entries[1], *bulky, entries[2]]
    return _zip(entries)


def make_xlsx() -> bytes:
    main = (
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    )
    return _zip(
        [
            ("[Content_Types].xml", _content_types(main)),
            ("_rels/.rels", '<?xml version="1.0"?><Relationships/>'),
            ("xl/workbook.xml", '<?xml version="1.0"?><workbook/>'),
            ("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>'),
        ]
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path / "files", SECRET, BASE_URL + "/")


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def refused(coro: object, code: str, status: int) -> AppError:
    with pytest.raises(AppError) as caught:
        await coro  # type: ignore[misc]
    assert caught.value.code == code, caught.value.message("en")
    assert caught.value.status == status
    assert "{" not in caught.value.message("zh") and "{" not in caught.value.message("en")
    return caught.value


# --- round trip --------------------------------------------------------------------------------------------


async def test_round_trip(store: LocalDiskStore) -> None:
    obj = await store.put(TENANT, JPEG, filename="合影.jpg", declared_type="image/jpeg")

    assert isinstance(obj, StoredObject)
    assert KEY_RE.fullmatch(obj.key), obj.key
    assert obj.key.startswith(f"t/{TENANT}/files/") and obj.key.endswith(".jpg")
    assert obj.size == len(JPEG)
    assert obj.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert obj.content_type == "image/jpeg"
    assert obj.original_name == "合影.jpg"
    assert tenant_code_of(obj.key) == TENANT
    assert (store.root / obj.key).read_bytes() == JPEG
    assert stored_files(store.root) == [store.root / obj.key]  # no temp file left behind

    assert await store.get(obj.key) == JPEG
    await store.delete(obj.key)
    assert not (store.root / obj.key).exists()
    await refused(store.get(obj.key), "file.not_found", 404)
    await store.delete(obj.key)  # idempotent


async def test_each_upload_gets_its_own_key_and_folder(store: LocalDiskStore) -> None:
    first = await store.put(TENANT, PNG, filename="a.png")
    second = await store.put(TENANT, PNG, filename="a.png")
    receipt = await store.put("110101", PDF, filename="收据.pdf", folder="points/receipts")

    assert first.key != second.key
    assert receipt.key.startswith("t/110101/points/receipts/") and receipt.key.endswith(".pdf")
    assert await store.get(receipt.key) == PDF


async def test_extension_comes_from_content_not_from_name(store: LocalDiskStore) -> None:
    obj = await store.put(TENANT, PNG, filename="photo.jpg")
    assert obj.content_type == "image/png"
    assert obj.key.endswith(".png")
    assert obj.original_name == "photo.jpg"
    assert store.content_type_for(obj.key) == "image/png"


async def test_original_name_is_reduced_to_a_plain_name(store: LocalDiskStore) -> None:
    obj = await store.put(TENANT, PDF, filename="..\\..\\etc/pass\x00wd\n.pdf")
    assert obj.original_name == "passwd.pdf"
    assert "etc" not in obj.key
    blank = await store.put(TENANT, PDF, filename="  ")
    assert blank.original_name == "file.pdf"


async def test_failed_write_leaves_nothing_behind(store: LocalDiskStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.storage.local.os.replace", broken_replace)
    error = await refused(store.put(TENANT, JPEG, filename="a.jpg"), "storage.unavailable", 503)
    assert "稍后重试" in error.message("zh")
    assert stored_files(store.root) == []


async def test_check(store: LocalDiskStore, tmp_path: Path) -> None:
    await store.check()
    assert stored_files(store.root) == []  # the probe is removed

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    await refused(LocalDiskStore(blocker, SECRET, BASE_URL).check(), "storage.unavailable", 503)
    await store.close()


# --- validation: size and type -----------------------------------------------------------------------------


async def test_oversize_refused_and_nothing_written(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path / "files", SECRET, BASE_URL, max_bytes=1024 * 1024)
    big = JPEG + b"\x00" * (3 * 1024 * 1024)

    error = await refused(store.put(TENANT, big, filename="big.jpg"), "file.too_large", 413)

    assert "1 MB" in error.message("zh")
    assert "3 MB" in error.message("zh")
    assert "at most 1 MB" in error.message("en")
    assert error.field == "file"
    assert stored_files(store.root) == []
    exact = JPEG + b"\x00" * (1024 * 1024 - len(JPEG))
    assert (await store.put(TENANT, exact, filename="exact.jpg")).size == 1024 * 1024


async def test_empty_refused(store: LocalDiskStore) -> None:
    await refused(store.put(TENANT, b"", filename="a.jpg"), "file.empty", 422)
    assert stored_files(store.root) == []


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (ELF, "photo.jpg", "image/jpeg"),
        (EXE, "setup.pdf", None),
        (TEXT, "notes.jpg", "image/jpeg"),
        (TEXT, "notes.txt", "text/plain"),
        (_zip([("a.txt", "hello")]), "archive.docx", DOCX),
        (make_docx(macro=True), "macro.docx", DOCX),
        (b"PK\x03\x04" + b"\x00" * 60, "broken.xlsx", None),
        (b"GIF89a" + b"\x00" * 40, "anim.gif", None),
    ],
    ids=["elf-as-jpg", "exe-as-pdf", "text-as-jpg", "text", "plain-zip-as-docx", "docm", "broken-zip", "gif"],
)
async def test_disallowed_types_refused(
    store: LocalDiskStore, data: bytes, filename: str, declared: str | None
) -> None:
    error = await refused(
        store.put(TENANT, data, filename=filename, declared_type=declared), "file.type_not_allowed", 415
    )
    assert "JPEG/PNG/WebP 图片、PDF、Word（.docx）、Excel（.xlsx）" in error.message("zh")
    assert "JPEG/PNG/WebP images, PDF, Word (.docx), Excel (.xlsx)" in error.message("en")
    assert stored_files(store.root) == []


async def test_refusal_names_the_detected_type(store: LocalDiskStore) -> None:
    exe = await refused(store.put(TENANT, EXE, filename="a.jpg"), "file.type_not_allowed", 415)
    assert "Windows 程序（.exe）" in exe.message("zh")
    text = await refused(store.put(TENANT, TEXT, filename="a.jpg"), "file.type_not_allowed", 415)
    assert "无法识别" in text.message("zh")
    docm = await refused(store.put(TENANT, make_docx(macro=True), filename="a.docx"), "file.type_not_allowed", 415)
    assert "含宏" in docm.message("zh")


@pytest.mark.parametrize(
    ("data", "declared", "words"),
    [
        (PNG, "image/jpeg", "声明的是JPEG 图片，实际内容是PNG 图片"),
        (JPEG, "application/pdf", "声明的是PDF 文档，实际内容是JPEG 图片"),
        (PDF, DOCX, "声明的是Word（.docx），实际内容是PDF 文档"),
        (make_docx(), XLSX, "声明的是Excel（.xlsx），实际内容是Word（.docx）"),
    ],
    ids=["png-declared-jpeg", "jpeg-declared-pdf", "pdf-declared-docx", "docx-declared-xlsx"],
)
async def test_declared_type_contradicting_content_refused(
    store: LocalDiskStore, data: bytes, declared: str, words: str
) -> None:
    error = await refused(store.put(TENANT, data, filename="x", declared_type=declared), "file.type_mismatch", 415)
    assert words in error.message("zh")
    assert "renamed" in error.message("en")
    assert stored_files(store.root) == []


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (JPEG, "image/jpg", "image/jpeg"),
        (JPEG, "IMAGE/JPEG; charset=binary", "image/jpeg"),
        (PNG, "application/octet-stream", "image/png"),
        (WEBP, "", "image/webp"),
        (PDF, None, "application/pdf"),
        (make_docx(), "application/zip", DOCX),
    ],
)
async def test_declared_types_that_agree_are_accepted(
    store: LocalDiskStore, data: bytes, declared: str | None, expected: str
) -> None:
    obj = await store.put(TENANT, data, filename="x", declared_type=declared)
    assert obj.content_type == expected


# --- sniffing Office documents -----------------------------------------------------------------------------


def test_filetype_alone_misses_a_docx_with_parts_before_word() -> None:
    """Why sniff.py reads [Content_Types].xml itself (documents the filetype 1.2 behaviour relied upon)."""
    assert filetype.guess_mime(make_docx()) == DOCX
    assert filetype.guess_mime(make_docx(bulky_first=True)) == "application/zip"
    assert filetype.guess_mime(make_docx(macro=True)) == DOCX  # cannot see the macros


@pytest.mark.parametrize(
    ("data", "mime", "extension"),
    [
        (make_docx(), DOCX, "docx"),
        (make_docx(bulky_first=True), DOCX, "docx"),
        (make_xlsx(), XLSX, "xlsx"),
        (make_docx(macro=True), DOCM, "docm"),
        (_zip([("a.txt", "x")]), "application/zip", "zip"),
        (JPEG, "image/jpeg", "jpg"),
        (PDF, "application/pdf", "pdf"),
        (TEXT, None, None),
    ],
    ids=["docx", "docx-late-word", "xlsx", "docm", "zip", "jpeg", "pdf", "text"],
)
def test_sniff(data: bytes, mime: str | None, extension: str | None) -> None:
    detected = sniff(data)
    assert (detected.mime, detected.extension) == (mime, extension)


async def test_office_documents_round_trip(store: LocalDiskStore) -> None:
    docx = await store.put(TENANT, make_docx(bulky_first=True), filename="工作总结.docx", declared_type=DOCX)
    xlsx = await store.put(TENANT, make_xlsx(), filename="积分表.xlsx", declared_type=XLSX)
    assert (docx.content_type, docx.key[-5:]) == (DOCX, ".docx")
    assert (xlsx.content_type, xlsx.key[-5:]) == (XLSX, ".xlsx")
    assert store.content_type_for(xlsx.key) == XLSX


def test_allowed_kinds_in_plain_words() -> None:
    zh, en = describe_allowed(["image/jpeg", "application/pdf", "image/png"])
    assert zh == "JPEG/PNG 图片、PDF"
    assert en == "JPEG/PNG images, PDF"


# --- keys, tenants and traversal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tenant_code",
    ["../320102", "32010", "3201021", "32010a", "/320102", "320102/..", "", "３２０１０２"],
)
async def test_bad_tenant_code_refused(store: LocalDiskStore, tenant_code: str) -> None:
    error = await refused(store.put(tenant_code, JPEG, filename="a.jpg"), "file.invalid_location", 400)
    assert error.field == "tenant_code"
    assert stored_files(store.root) == []


@pytest.mark.parametrize(
    "folder",
    ["..", "../x", "a/../b", "/abs", "a//b", "files/", "Files", "a.b", "a\\b", "", "a/b/c/d/e", "x" * 41],
)
async def test_bad_folder_refused(store: LocalDiskStore, folder: str) -> None:
    error = await refused(store.put(TENANT, JPEG, filename="a.jpg", folder=folder), "file.invalid_location", 400)
    assert error.field == "folder"
    assert stored_files(store.root) == []


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "t/320102/files/2025/01/../../../../etc/passwd",
        "t/320102/../../x/2025/01/" + "a" * 32 + ".jpg",
        "t/320102/files/2025/01/" + "a" * 32 + ".jpg/..",
        "t/32010/files/2025/01/" + "a" * 32 + ".jpg",
        "x/320102/files/2025/01/" + "a" * 32 + ".jpg",
        "",
    ],
)
async def test_bad_keys_refused_everywhere(store: LocalDiskStore, key: str) -> None:
    await refused(store.get(key), "file.invalid_key", 400)
    await refused(store.delete(key), "file.invalid_key", 400)
    await refused(store.signed_url(key), "file.invalid_key", 400)
    with pytest.raises(AppError):
        tenant_code_of(key)
    with pytest.raises(AppError):
        store.path_for(key)
    assert not store.verify_signature(key, 2**40, "0" * 64)


async def test_symlink_inside_root_cannot_lead_outside(store: LocalDiskStore, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"not yours")
    key = f"t/{TENANT}/files/2025/01/{'b' * 32}.jpg"
    link = store.root / key
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)

    await refused(store.get(key), "file.invalid_key", 400)
    await refused(store.delete(key), "file.invalid_key", 400)
    assert outside.read_bytes() == b"not yours"


# --- signed links ------------------------------------------------------------------------------------------


def _link_parts(url: str) -> tuple[str, str, str, str | None]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = unquote(parts.path.removeprefix("/files/local/"))
    name = query["name"][0] if "name" in query else None
    return key, query["expires"][0], query["sig"][0], name


async def test_signed_url_verifies(store: LocalDiskStore) -> None:
    obj = await store.put(TENANT, PDF, filename="通知.pdf")
    url = await store.signed_url(obj.key, download_name="关于召开支部大会的通知.pdf")

    assert url.startswith(f"{BASE_URL}/files/local/t/{TENANT}/")
    key, expires, sig, name = _link_parts(url)
    assert key == obj.key
    assert name == "关于召开支部大会的通知.pdf"
    assert len(sig) == 64
    assert store.verify_signature(key, expires, sig, name)
    assert store.path_for(key).read_bytes() == PDF

    plain = await store.signed_url(obj.key)
    key2, expires2, sig2, name2 = _link_parts(plain)
    assert name2 is None
    assert store.verify_signature(key2, expires2, sig2, None)
    assert store.verify_signature(key2, int(expires2), sig2, "")


async def test_signed_url_rejects_tampering(store: LocalDiskStore, tmp_path: Path) -> None:
    obj = await store.put(TENANT, PDF, filename="a.pdf")
    other = await store.put("110101", PDF, filename="b.pdf")
    key, expires, sig, name = _link_parts(await store.signed_url(obj.key, download_name="a.pdf"))

    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not store.verify_signature(key, expires, flipped, name)
    assert not store.verify_signature(other.key, expires, sig, name)  # another tenant's file
    assert not store.verify_signature(key, str(int(expires) + 3600), sig, name)  # longer life
    assert not store.verify_signature(key, expires, sig, "other.pdf")  # another name
    assert not store.verify_signature(key, expires, sig, None)
    assert not store.verify_signature(key, "soon", sig, name)
    assert not store.verify_signature(key, expires, "", name)
    assert not store.verify_signature(key, expires, "签名" * 32, name)
    assert not store.verify_signature(key, expires, sig.upper(), name)
    stranger = LocalDiskStore(tmp_path / "files", "another-secret-0123456789abcdef", BASE_URL)
    assert not stranger.verify_signature(key, expires, sig, name)


async def test_signed_url_expires(store: LocalDiskStore, monkeypatch: pytest.MonkeyPatch) -> None:
    obj = await store.put(TENANT, PNG, filename="a.png")
    key, expires, sig, name = _link_parts(await store.signed_url(obj.key, expires_seconds=60))
    assert store.verify_signature(key, expires, sig, name)

    import core.storage.local as local_module

    now = int(expires)
    monkeypatch.setattr(local_module.time, "time", lambda: now + 1)
    assert not store.verify_signature(key, expires, sig, name)
    monkeypatch.setattr(local_module.time, "time", lambda: now)
    assert store.verify_signature(key, expires, sig, name)


async def test_signed_url_default_lifetime(store: LocalDiskStore) -> None:
    import time

    obj = await store.put(TENANT, PNG, filename="a.png")
    _, expires, _, _ = _link_parts(await store.signed_url(obj.key))
    assert abs(int(expires) - (int(time.time()) + store.signed_url_seconds)) <= 2
    with pytest.raises(ValueError):
        await store.signed_url(obj.key, expires_seconds=0)


def test_content_disposition_carries_any_name() -> None:
    value = content_disposition('2025年度 "积分" 表.xlsx')
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''2025%E5%B9%B4%E5%BA%A6%20%22%E7%A7%AF%E5%88%86%22%20%E8%A1%A8.xlsx" in value
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback
    assert content_disposition("../../a\r\nb.pdf") == "attachment; filename=\"ab.pdf\"; filename*=UTF-8''ab.pdf"


# --- factory -----------------------------------------------------------------------------------------------


def test_factory_picks_local_disk_without_s3(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, s3_endpoint="", upload_max_bytes=1234, signed_url_seconds=60)
    store = create_store(settings)
    assert isinstance(store, LocalDiskStore) and isinstance(store, ObjectStore)
    assert store.root == tmp_path / "files"
    assert store.base_url == settings.public_url.rstrip("/")
    assert (store.max_bytes, store.signed_url_seconds) == (1234, 60)
    assert store.allowed_types == settings.upload_allowed_types


async def test_factory_picks_s3_with_an_endpoint(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        s3_endpoint="http://127.0.0.1:9",
        s3_access_key="k",
        s3_secret_key="s" * 16,  # type: ignore[arg-type]
        s3_bucket="yinling-unit",
    )
    store = create_store(settings)
    assert isinstance(store, S3Store)
    assert store.bucket == "yinling-unit"
    await store.close()
