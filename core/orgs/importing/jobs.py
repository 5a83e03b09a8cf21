"""Import jobs: a small file is imported in the request, a large one in the background.

Every upload becomes a :class:`MemberImportJob` row. A file of more than :data:`BACKGROUND_ROWS` rows (or any
file, when the client asks) is stored and left ``queued``; a runner claims it with a compare-and-set update
(so several processes never take the same job), validates and imports it, and writes its progress as it goes.

Who runs the runner follows :mod:`core.events.worker`: in embedded mode a task of the web process (woken
in-process), with Redis ``yinling worker`` (woken through a Redis list). Both also poll, so a lost wake-up
only delays a job; the job row is the queue, so nothing is lost when Redis is down or a process dies. A job
whose runner died (no heartbeat for :data:`STALE_AFTER`) is queued again: its import transaction was rolled
back with the process, so running it again cannot import anything twice — the job's final status is written
in the same transaction as the members.

Progress: the import itself is one transaction, so progress goes through short transactions of their own
(PostgreSQL), and into this process's memory (read by ``GET …/imports/{id}`` in embedded mode, where SQLite
allows one writer at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.audit.recorder import AuditContext, arecord
from core.db.scope import TenantScope
from core.errors import AppError, ErrorSpec
from core.events.worker import InProcessWake, RedisWake, Wake
from core.orgs.import_models import FINISHED, RUNNING, ImportMode, ImportStatus, MemberImportJob, OnDuplicate
from core.orgs.importing.columns import MEMBER_COLUMNS
from core.orgs.importing.members import (
    ROWS_INVALID,
    CheckedRow,
    Directory,
    RowError,
    Validation,
    check_rows,
    is_example,
    load_existing,
    mark_duplicates_in_file,
    write_rows,
)
from core.orgs.importing.sheets import Sheet, estimate_rows, read_sheet
from core.orgs.importing.template import EXAMPLE_NAME, EXAMPLE_NOTE
from core.privacy.crypto import ring
from core.storage.base import FILE_EMPTY, FILE_TOO_LARGE
from core.storage.sniff import XLSX, describe_type, sniff

if TYPE_CHECKING:
    from litestar import Litestar

    from core.platform import Platform

logger = logging.getLogger(__name__)

BACKGROUND_ROWS = 2000
MAX_ROWS = 50_000
VALIDATE_CHUNK = 500
STALE_AFTER = datetime.timedelta(minutes=5)
MAX_ATTEMPTS = 3
POLL_SECONDS = 2.0
PROGRESS_SECONDS = 0.5
WAKE_KEY = "yinling:member-imports:wake"
STORAGE_FOLDER = "member-imports"
STATE_KEY = "member_imports"

NOT_XLSX = ErrorSpec(
    "member_import.not_xlsx",
    415,
    "只能导入 Excel 表格（.xlsx）：系统检测到这个文件是{detected_zh}。{hint_zh}",
    "Only Excel workbooks (.xlsx) can be imported; this file is {detected_en}. {hint_en}",
)
IMPORT_ONLY_EXAMPLE = ErrorSpec(
    "member_import.only_example",
    422,
    "文件中只有模板的示例行，没有要导入的数据：请从第 3 行起填写",
    "The file holds only the template's example row; fill in rows from row 3",
)
JOB_NOT_FOUND = ErrorSpec("member_import.not_found", 404, "找不到该导入记录", "No such import")
IMPORT_CONFLICT = ErrorSpec(
    "member_import.conflict",
    409,
    "导入过程中有人录入了相同身份证号的档案，没有导入任何数据，请重新上传",
    "Someone entered a member with one of these ID numbers meanwhile; nothing was imported",
)
IMPORT_CRASHED = ErrorSpec(
    "member_import.crashed",
    500,
    "导入时系统出错，没有导入任何数据；请稍后重新上传，如仍出错请联系管理员（请求编号 {request_id}）",
    "The import failed on a system error; nothing was imported (request id {request_id})",
)
INTERRUPTED = ("导入过程被中断，没有导入任何数据，请重新上传", "The import was interrupted; nothing was imported")

#: Progress of the jobs this process is running: job id -> (status, processed rows, total rows).
_LIVE: dict[uuid.UUID, tuple[str, int, int]] = {}


def live_progress(job_id: uuid.UUID) -> tuple[str, int, int] | None:
    return _LIVE.get(job_id)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --- checking an upload --------------------------------------------------------------------------------


def check_upload(data: bytes, max_bytes: int) -> None:
    """Size and type, judged from the bytes: only a real .xlsx gets further."""
    if not data:
        raise FILE_EMPTY.error(field="file")
    if len(data) > max_bytes:
        mb = 1024 * 1024
        raise FILE_TOO_LARGE.error(
            field="file",
            size_mb=f"{len(data) / mb:.2f}".rstrip("0").rstrip("."),
            limit_mb=f"{max_bytes / mb:.2f}".rstrip("0").rstrip("."),
        )
    detected = sniff(data).mime
    if detected == XLSX:
        return
    detected_zh, detected_en = describe_type(detected)
    hint_zh, hint_en = "请下载导入模板，填好后上传。", "Download the import template and fill it in."
    if detected == "application/vnd.ms-excel":
        hint_zh = "旧版 .xls 表格请在 Excel 中“另存为” .xlsx 后再上传。"
        hint_en = "Save a legacy .xls workbook as .xlsx in Excel, then upload it."
    elif detected == "application/vnd.ms-excel.sheet.macroenabled.12":
        hint_zh = "含宏的表格不能导入，请“另存为”不含宏的 .xlsx 后再上传。"
        hint_en = "Macro-enabled workbooks are refused; save it as a plain .xlsx."
    raise NOT_XLSX.error(
        field="file", detected_zh=detected_zh, detected_en=detected_en, hint_zh=hint_zh, hint_en=hint_en
    )


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    declared_type: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The job as it stands after :meth:`MemberImports.submit` (finished when it ran in the request), and
    for a job that ran and failed, the error to answer with."""

    job: MemberImportJob
    background: bool
    error: AppError | None = None


def _rows_error(errors: Sequence[dict[str, Any]]) -> AppError:
    rows = len({e["row"] for e in errors})
    return ROWS_INVALID.error(field="file", details=list(errors), count=len(errors), rows=rows)


# --- the service ---------------------------------------------------------------------------------------


class MemberImports:
    """Submitting, running and recovering member imports for one process."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        # The same wake-up mechanism as event delivery, on a list of its own (a token wakes one runner).
        self.wake: Wake = RedisWake(platform.redis, key=WAKE_KEY) if platform.redis is not None else InProcessWake()
        self._last_recovery = 0.0

    @property
    def _persist_progress(self) -> bool:
        # SQLite has one writer at a time and the import transaction is it: progress stays in memory there.
        return self.platform.database.dialect == "postgresql"

    # submitting ---------------------------------------------------------------------------------------

    async def submit(
        self,
        *,
        tenant_id: int,
        tenant_code: str,
        audit: AuditContext,
        upload: Upload,
        mode: ImportMode = ImportMode.STRICT,
        on_duplicate: OnDuplicate = OnDuplicate.ERROR,
        background: bool | None = None,
    ) -> Outcome:
        """Check the upload, record the job and run it now (small files) or queue it (large ones).

        File-level problems (not an .xlsx, no header row, …) of a file run now raise before any job is made.
        """
        check_upload(upload.data, self.platform.settings.upload_max_bytes)
        if background is None:
            estimate = await asyncio.to_thread(estimate_rows, upload.data, BACKGROUND_ROWS + 1)
            background = estimate > BACKGROUND_ROWS + 1  # + the header row
        sheet = None
        if not background:
            sheet = await asyncio.to_thread(read_sheet, upload.data, MEMBER_COLUMNS, max_rows=MAX_ROWS)
        stored = await self.platform.storage.put(
            tenant_code,
            upload.data,
            filename=upload.filename or "import.xlsx",
            declared_type=upload.declared_type,
            folder=STORAGE_FOLDER,
        )
        job = MemberImportJob(
            tenant_id=tenant_id,
            status=(ImportStatus.QUEUED if background else ImportStatus.VALIDATING).value,
            mode=mode.value,
            on_duplicate=on_duplicate.value,
            background=background,
            file_key=stored.key,
            file_name=stored.original_name,
            file_size=stored.size,
            file_sha256=stored.sha256,
            total_rows=len(sheet.rows) if sheet is not None else 0,
            errors=[],
            summary={},
            actor_id=audit.actor_id,
            actor_name=audit.actor_name,
            request_id=audit.request_id,
            attempts=0 if background else 1,
            started_at=None if background else _now(),
            heartbeat_at=None if background else _now(),
        )
        try:
            async with self.platform.database.session(TenantScope.of([tenant_id], [tenant_id]), audit) as session:
                session.add(job)
        except Exception:
            with contextlib.suppress(Exception):
                await self.platform.storage.delete(stored.key)
            raise
        if background:
            await self.wake.notify()
            return Outcome(job, True)
        assert sheet is not None
        error = await self.process(job.tenant_id, job.id, sheet=sheet)
        return Outcome(await self.get(tenant_id, job.id), False, error)

    async def get(self, tenant_id: int, job_id: uuid.UUID) -> MemberImportJob:
        async with self.platform.database.session(TenantScope.of([tenant_id])) as session:
            job = await session.get(MemberImportJob, (tenant_id, job_id))
        if job is None:
            raise JOB_NOT_FOUND.error(field="job_id")
        return job

    # running ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run queued jobs until ``stop`` is set (the web process in embedded mode, ``yinling worker``)."""
        logger.info("member import runner started")
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                logger.exception("member import round failed")
                busy = 0
            if not busy:
                waiter = asyncio.create_task(self.wake.wait(POLL_SECONDS))
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (waiter, stopper):
                    task.cancel()
        logger.info("member import runner stopped")

    async def run_once(self) -> int:
        """Recover jobs whose runner died (now and then), then claim and run one queued job; 1 if one ran."""
        if time.monotonic() - self._last_recovery > 60:
            self._last_recovery = time.monotonic()
            await self.recover()
        claimed = await self.claim()
        if claimed is None:
            return 0
        await self.process(*claimed)
        return 1

    async def claim(self) -> tuple[int, uuid.UUID] | None:
        database = self.platform.database
        async with database.session(TenantScope.system()) as session:
            candidates = (
                await session.execute(
                    select(MemberImportJob.tenant_id, MemberImportJob.id)
                    .where(MemberImportJob.status == ImportStatus.QUEUED.value)
                    .order_by(MemberImportJob.created_at)
                    .limit(10)
                )
            ).all()
        for tenant_id, job_id in candidates:
            async with database.session(TenantScope.system()) as session:
                now = _now()
                result = await session.execute(
                    update(MemberImportJob)
                    .where(
                        MemberImportJob.tenant_id == tenant_id,
                        MemberImportJob.id == job_id,
                        MemberImportJob.status == ImportStatus.QUEUED.value,
                    )
                    .values(
                        status=ImportStatus.VALIDATING.value,
                        attempts=MemberImportJob.attempts + 1,
                        started_at=now,
                        heartbeat_at=now,
                        processed_rows=0,
                    )
                    .execution_options(synchronize_session=False)
                )
            if getattr(result, "rowcount", 0) == 1:
                return tenant_id, job_id
        return None

    async def recover(self) -> int:
        """Jobs left running by a process that died: queued again (background) or failed (request)."""
        cutoff = _now() - STALE_AFTER
        stale = (
            MemberImportJob.status.in_(RUNNING),
            MemberImportJob.heartbeat_at < cutoff,
        )
        async with self.platform.database.session(TenantScope.system()) as session:
            requeued = await session.execute(
                update(MemberImportJob)
                .where(*stale, MemberImportJob.background, MemberImportJob.attempts < MAX_ATTEMPTS)
                .values(status=ImportStatus.QUEUED.value, processed_rows=0)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(MemberImportJob)
                .where(*stale)
                .values(
                    status=ImportStatus.FAILED.value,
                    message=INTERRUPTED[0],
                    summary={"message_en": INTERRUPTED[1]},
                    errors=[RowError(None, "", "file", "member_import.interrupted", *INTERRUPTED).as_dict()],
                    error_count=1,
                    finished_at=_now(),
                )
                .execution_options(synchronize_session=False)
            )
        count = int(getattr(requeued, "rowcount", 0) or 0)
        if count:
            logger.warning("requeued %d interrupted member import(s)", count)
        return count

    async def process(self, tenant_id: int, job_id: uuid.UUID, *, sheet: Sheet | None = None) -> AppError | None:
        """Validate and import one claimed job. Every outcome ends in ``done`` or ``failed``; for ``failed``
        the error that says why is returned (the request that ran the job answers with it)."""
        job = await self.get(tenant_id, job_id)
        error: AppError | None = None
        try:
            if sheet is None:
                data = await self.platform.storage.get(job.file_key)
                sheet = await asyncio.to_thread(read_sheet, data, MEMBER_COLUMNS, max_rows=MAX_ROWS)
            return await self._import(job, sheet)
        except AppError as exc:
            error = exc
        except IntegrityError as exc:
            logger.warning("member import %s hit a constraint: %s", job_id, exc.orig)
            error = IMPORT_CONFLICT.error(field="file")
        except Exception:
            logger.exception("member import %s failed", job_id)
            error = IMPORT_CRASHED.error(field="file", request_id=job.request_id or "-")
        finally:
            _LIVE.pop(job_id, None)
        await self._fail(job, error.message("zh"), error.message("en"), error.code)
        return error

    async def _import(self, job: MemberImportJob, sheet: Sheet) -> AppError | None:
        tenant_id = job.tenant_id
        database = self.platform.database
        audit = AuditContext(
            actor_id=job.actor_id, actor_name=job.actor_name, request_id=job.request_id, acting_tenant_id=tenant_id
        )
        progress = _Progress(self, job)
        session = database.open(TenantScope.of([tenant_id], [tenant_id]), audit)
        try:
            async with session.begin():
                validation = Validation(
                    sheet=sheet,
                    directory=await Directory.load(session, tenant_id),
                    existing=await load_existing(session, tenant_id),
                    keys=ring(),
                    update_existing=job.on_duplicate == OnDuplicate.UPDATE.value,
                    example=(EXAMPLE_NAME, EXAMPLE_NOTE),
                )
                rows = [(n, r) for n, r in sheet.rows if not is_example(r, validation)]
                examples = len(sheet.rows) - len(rows)
                await progress.tick(ImportStatus.VALIDATING, 0, len(rows), force=True)
                checked: list[CheckedRow] = []
                started = time.perf_counter()
                for start in range(0, len(rows), VALIDATE_CHUNK):
                    part, _ = await asyncio.to_thread(check_rows, rows[start : start + VALIDATE_CHUNK], validation)
                    checked.extend(part)
                    await progress.tick(ImportStatus.VALIDATING, len(checked), len(rows))
                mark_duplicates_in_file(checked, validation.header("id_number"))
                seconds = {"read": round(sheet.read_seconds, 3), "validate": round(time.perf_counter() - started, 3)}
                errors = [e.as_dict() for row in checked for e in _ordered(row.errors)]
                good = [row for row in checked if not row.errors]
                summary: dict[str, Any] = {"ignored_columns": sheet.ignored, "example_rows_skipped": examples}
                summary["sheet"], summary["header_row"], summary["seconds"] = sheet.title, sheet.header_row, seconds
                failed_rows = len(checked) - len(good)
                if not checked:
                    raise IMPORT_ONLY_EXAMPLE.error(field="file")
                created = updated = 0
                outcome: AppError | None = None
                if failed_rows and job.mode == ImportMode.STRICT.value:
                    status, outcome = ImportStatus.FAILED, _rows_error(errors)
                    text = (outcome.message("zh"), outcome.message("en"))
                else:
                    await progress.tick(ImportStatus.IMPORTING, 0, len(good), force=True)

                    async def written(count: int) -> None:
                        await progress.tick(ImportStatus.IMPORTING, count, len(good))

                    started = time.perf_counter()
                    created, updated = await write_rows(session, tenant_id, good, written)
                    seconds["write"] = round(time.perf_counter() - started, 3)
                    status = ImportStatus.DONE
                    text = _done_message(created, updated, failed_rows)
                    await arecord(
                        session,
                        action="import",
                        entity_type="member",
                        entity_id=f"{tenant_id},import:{job.id}",
                        tenant_id=tenant_id,
                        after={
                            "job_id": str(job.id),
                            "file": job.file_name,
                            "sha256": job.file_sha256,
                            "mode": job.mode,
                            "created": created,
                            "updated": updated,
                            "skipped_rows": failed_rows,
                        },
                    )
                summary["message_en"] = text[1]
                # The outcome is written with the members: a job is never "done" without them, nor vice versa.
                await session.execute(
                    update(MemberImportJob)
                    .where(MemberImportJob.tenant_id == tenant_id, MemberImportJob.id == job.id)
                    .values(
                        status=status.value,
                        total_rows=len(checked),
                        processed_rows=len(checked),
                        created_count=created,
                        updated_count=updated,
                        skipped_count=failed_rows if status is ImportStatus.DONE else len(checked),
                        error_count=len(errors),
                        errors=errors,
                        summary=summary,
                        message=text[0],
                        heartbeat_at=_now(),
                        finished_at=_now(),
                    )
                    .execution_options(synchronize_session=False)
                )
        finally:
            await session.close()
        return outcome

    async def _fail(self, job: MemberImportJob, zh: str, en: str, code: str) -> None:
        errors = [RowError(None, "", "file", code, zh, en).as_dict()]
        async with self.platform.database.session(TenantScope.of([job.tenant_id], [job.tenant_id])) as session:
            await session.execute(
                update(MemberImportJob)
                .where(MemberImportJob.tenant_id == job.tenant_id, MemberImportJob.id == job.id)
                .values(
                    status=ImportStatus.FAILED.value,
                    created_count=0,
                    updated_count=0,
                    error_count=len(errors),
                    errors=errors,
                    summary={"message_en": en},
                    message=zh,
                    finished_at=_now(),
                )
                .execution_options(synchronize_session=False)
            )


def _ordered(errors: list[RowError]) -> list[RowError]:
    order = {c.key: i for i, c in enumerate(MEMBER_COLUMNS)}
    return sorted(errors, key=lambda e: order.get(e.field, len(order)))


def _done_message(created: int, updated: int, skipped: int) -> tuple[str, str]:
    zh = f"导入完成：新建 {created} 份档案"
    en = f"Imported: {created} records created"
    if updated:
        zh += f"，更新 {updated} 份"
        en += f", {updated} updated"
    if skipped:
        zh += f"；{skipped} 行有错误，没有导入"
        en += f"; {skipped} rows with errors were skipped"
    return zh, en


class _Progress:
    """Progress of one job: in this process's memory always, in the job row (throttled) on PostgreSQL."""

    def __init__(self, imports: MemberImports, job: MemberImportJob) -> None:
        self.imports = imports
        self.job = job
        self.last = 0.0
        self.status = ""

    async def tick(self, status: ImportStatus, processed: int, total: int, *, force: bool = False) -> None:
        _LIVE[self.job.id] = (status.value, processed, total)
        now = time.monotonic()
        if not self.imports._persist_progress:
            return
        if not force and status.value == self.status and now - self.last < PROGRESS_SECONDS and processed < total:
            return
        self.last, self.status = now, status.value
        job = self.job
        database = self.imports.platform.database
        async with database.session(TenantScope.of([job.tenant_id], [job.tenant_id])) as session:
            await session.execute(
                update(MemberImportJob)
                .where(
                    MemberImportJob.tenant_id == job.tenant_id,
                    MemberImportJob.id == job.id,
                    MemberImportJob.status.not_in(FINISHED),
                )
                .values(status=status.value, processed_rows=processed, total_rows=total, heartbeat_at=_now())
                .execution_options(synchronize_session=False)
            )


def member_imports(app: Litestar) -> MemberImports:
    """The import service of this app (made on first use, shared by its requests and its runner)."""
    service = app.state.get(STATE_KEY)
    if not isinstance(service, MemberImports):
        service = MemberImports(app.state.platform)
        app.state[STATE_KEY] = service
    return service
