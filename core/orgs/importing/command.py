"""``yinling members import FILE --tenant CODE``: the same import as the API, run from a shell."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from core.audit.recorder import AuditContext
from core.db.scope import TenantScope
from core.errors import AppError
from core.orgs.import_models import ImportMode, ImportStatus, MemberImportJob, OnDuplicate
from core.orgs.importing.jobs import MemberImports, Upload
from core.settings import Settings
from core.tenancy.tree import load_tree

MAX_SHOWN_ERRORS = 200


async def import_file(
    settings: Settings, path: Path, tenant_code: str, *, good_rows: bool, update_existing: bool
) -> tuple[MemberImportJob | None, AppError | None]:
    """Run the import in this process (whatever its size); the job, or the file-level error."""
    data = await asyncio.to_thread(path.read_bytes)
    from core.platform import Platform

    platform = Platform.from_settings(settings)
    try:
        async with platform.database.session(TenantScope.system()) as session:
            tenant = (await load_tree(session)).get(tenant_code)
        imports = MemberImports(platform)
        try:
            outcome = await imports.submit(
                tenant_id=tenant.id,
                tenant_code=tenant.code,
                audit=AuditContext(actor_id=None, actor_name="cli:members-import", acting_tenant_id=tenant.id),
                upload=Upload(data, path.name),
                mode=ImportMode.GOOD_ROWS if good_rows else ImportMode.STRICT,
                on_duplicate=OnDuplicate.UPDATE if update_existing else OnDuplicate.ERROR,
                background=False,
            )
        except AppError as exc:
            return None, exc
        return outcome.job, outcome.error
    finally:
        await platform.close()


def report(job: MemberImportJob | None, error: AppError | None) -> bool:
    """Print what happened; True when the import succeeded."""
    if job is None:
        assert error is not None
        click.secho(error.message("zh"), fg="red", err=True)
        return False
    for entry in job.errors[:MAX_SHOWN_ERRORS]:
        where = f"第 {entry['row']} 行 {entry['column']}" if entry.get("row") else "文件"
        click.echo(f"{where}：{entry['message']}", err=True)
    if len(job.errors) > MAX_SHOWN_ERRORS:
        click.echo(f"……另有 {len(job.errors) - MAX_SHOWN_ERRORS} 处错误（见导入记录 {job.id}）", err=True)
    ok = job.status == ImportStatus.DONE.value
    click.secho(job.message, fg="green" if ok else "red")
    return ok
