"""Files of a tenant: upload, list, read (with a short-lived signed link), delete; and the signed-link
endpoint that serves local-disk files in embedded mode."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.access import Acting, platform_of, provide_acting
from core.identity.principal import Principal
from core.identity.roles import FILE_READ, FILE_WRITE
from core.storage.base import FILE_NOT_FOUND, content_disposition
from core.storage.local import LocalDiskStore
from core.storage.models import StoredFile


class FileOut(BaseModel):
    id: str
    name: str
    size: int
    sha256: str
    content_type: str
    folder: str
    uploaded_by: str
    download_url: str | None = None


class FilePage(BaseModel):
    items: list[FileOut]
    total: int


def _out(row: StoredFile, url: str | None = None) -> FileOut:
    return FileOut(
        id=str(row.id),
        name=row.original_name,
        size=row.size,
        sha256=row.sha256,
        content_type=row.content_type,
        folder=row.folder,
        uploaded_by=row.uploaded_by,
        download_url=url,
    )


async def _row(session: AsyncSession, file_id: uuid.UUID) -> StoredFile:
    row = (await session.execute(select(StoredFile).where(StoredFile.id == file_id))).scalar_one_or_none()
    if row is None:
        raise FILE_NOT_FOUND.error(field="file_id")
    return row


class FileController(Controller):
    path = "/api/v1/t/{tenant_code:str}/files"
    tags = ["files"]
    dependencies = {"acting": Provide(provide_acting, sync_to_thread=False)}

    @post("/", opt={"permission": FILE_WRITE}, summary="Upload a file (multipart field 'file')", status_code=201)
    async def upload(
        self,
        request: Request[Principal, Any, Any],
        acting: NamedDependency[Acting],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> FileOut:
        storage = platform_of(request).storage
        content = await data.read()
        stored = await storage.put(
            acting.tenant.code,
            content,
            filename=data.filename or "file",
            declared_type=data.content_type or None,
        )
        row = StoredFile(
            tenant_id=acting.tenant.id,
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=stored.content_type,
            original_name=stored.original_name,
            folder="files",
            uploaded_by=request.user.username,
        )
        db_session.add(row)
        try:
            await db_session.flush()
        except Exception:
            # The record could not be written: do not leave an orphaned object behind.
            with contextlib.suppress(Exception):
                await storage.delete(stored.key)
            raise
        return _out(row, await storage.signed_url(stored.key, download_name=stored.original_name))

    @get("/", opt={"permission": FILE_READ}, summary="Files of the tenant's subtree, newest first")
    async def list_files(
        self,
        db_session: NamedDependency[AsyncSession],
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> FilePage:
        total = (await db_session.execute(select(func.count()).select_from(StoredFile))).scalar_one()
        rows = (
            await db_session.execute(
                select(StoredFile)
                .order_by(StoredFile.created_at.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        ).scalars()
        return FilePage(items=[_out(r) for r in rows], total=total)

    @get(
        "/{file_id:uuid}",
        opt={"permission": FILE_READ},
        summary="One file with a fresh short-lived download link",
    )
    async def get_file(
        self, request: Request[Any, Any, Any], file_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]
    ) -> FileOut:
        row = await _row(db_session, file_id)
        url = await platform_of(request).storage.signed_url(row.key, download_name=row.original_name)
        return _out(row, url)

    @delete("/{file_id:uuid}", opt={"permission": FILE_WRITE}, summary="Delete a file", status_code=204)
    async def delete_file(
        self, request: Request[Any, Any, Any], file_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]
    ) -> None:
        row = await _row(db_session, file_id)
        await db_session.delete(row)
        await db_session.flush()
        await platform_of(request).storage.delete(row.key)


@get(
    "/files/local/{key:path}",
    opt={"public": True},
    tags=["files"],
    summary="Serve a local-disk file by signed link",
)
async def serve_local_file(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    expires: FromQuery[str] = "",
    sig: FromQuery[str] = "",
    name: FromQuery[str | None] = None,
) -> Response[bytes]:
    storage = platform_of(request).storage
    key = key.lstrip("/")
    if not isinstance(storage, LocalDiskStore) or not storage.verify_signature(key, expires, sig, name):
        raise FILE_NOT_FOUND.error(field="key")
    content = await storage.get(key)
    headers = {
        "Content-Disposition": content_disposition(name or key.rsplit("/", 1)[-1]),
        "Cache-Control": "private, max-age=60",
    }
    return Response(content, media_type=LocalDiskStore.content_type_for(key), headers=headers)
