"""One Excel import of the member ledger: its file, its progress and its outcome.

The row is the queue as well: a background import is a row in ``queued`` that a runner claims (see
:mod:`core.orgs.importing.jobs`), so nothing is lost when Redis is down or a process restarts.
"""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any, ClassVar

from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned


class ImportStatus(StrEnum):
    QUEUED = "queued"  # 排队中
    VALIDATING = "validating"  # 校验中
    IMPORTING = "importing"  # 导入中
    DONE = "done"  # 已完成
    FAILED = "failed"  # 未导入（文件有错误或处理失败）

    @property
    def zh(self) -> str:
        return {
            "queued": "排队中",
            "validating": "校验中",
            "importing": "导入中",
            "done": "已完成",
            "failed": "未导入",
        }[self.value]


class ImportMode(StrEnum):
    STRICT = "strict"  # all rows or nothing (default)
    GOOD_ROWS = "good_rows"  # import the rows without errors, report the others


class OnDuplicate(StrEnum):
    ERROR = "error"  # an ID number already in the ledger is an error of that row (default)
    UPDATE = "update"  # the row updates that record


RUNNING = (ImportStatus.VALIDATING.value, ImportStatus.IMPORTING.value)
FINISHED = (ImportStatus.DONE.value, ImportStatus.FAILED.value)


class MemberImportJob(Entity, TenantOwned, Base):
    """An upload of the member ledger; ``errors`` lists every problem as ``{row, column, field, code, message}``."""

    __tablename__ = "member_import_job"
    # The error list may be long (and names people): the audit trail keeps the counts, not the list.
    __audit_redact__: ClassVar[frozenset[str]] = frozenset({"errors"})
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'validating', 'importing', 'done', 'failed')", name="import_status_known"
        ),
        CheckConstraint("mode IN ('strict', 'good_rows')", name="import_mode_known"),
        CheckConstraint("on_duplicate IN ('error', 'update')", name="import_on_duplicate_known"),
        Index("ix_member_import_job_status", "status", "created_at"),
        Index("ix_member_import_job_tenant_created", "tenant_id", "created_at"),
    )

    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ImportStatus.QUEUED.value)
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default=ImportMode.STRICT.value)
    on_duplicate: Mapped[str] = mapped_column(String(16), nullable=False, default=OnDuplicate.ERROR.value)
    background: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    file_key: Mapped[str] = mapped_column(String(255), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_size: Mapped[int] = mapped_column(Integer, nullable=False)
    file_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, nullable=False, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JsonB, nullable=False, default=dict)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    heartbeat_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
