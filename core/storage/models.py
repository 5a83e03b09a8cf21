"""The record kept for every stored file: where it is, what it is, its checksum and who uploaded it."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Entity, TenantOwned


class StoredFile(Entity, TenantOwned, Base):
    __tablename__ = "stored_file"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_stored_file_tenant_key"),)

    key: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(128), nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    folder: Mapped[str] = mapped_column(String(64), nullable=False, default="files")
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
