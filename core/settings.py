"""Runtime configuration, read from ``YINLING_*`` environment variables.

With nothing set, the embedded defaults apply (SQLite file, files on disk, in-process stores, local
accounts) so that ``yinling demo`` runs on a bare machine. ``YINLING_ENV=production`` refuses those
defaults: see :meth:`Settings.production_problems`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets shipped for the demo and tests; production refuses to start with any of them.
DEMO_SECRET_KEY = "yinling-demo-secret-key-change-me-0000000000"  # noqa: S105 - refused in production
DEMO_PII_KEY = "yinling-demo-pii-key-change-me"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "yinling"


class Settings(BaseSettings):
    """Every setting the platform reads. Each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="YINLING_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)

    database_url: str = ""
    database_migration_url: str = ""
    db_app_role: str = "yinling_app"
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_echo: bool = False

    redis_url: str = ""

    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket: str = "yinling"
    s3_secure: bool = True
    s3_region: str = ""
    storage_dir: Path | None = None
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_allowed_types: list[str] = Field(
        default_factory=lambda: [
            "image/jpeg",
            "image/png",
            "image/webp",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ]
    )
    signed_url_seconds: int = 300

    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)
    pii_keys: SecretStr = SecretStr(DEMO_PII_KEY)
    token_ttl_seconds: int = 3600

    keycloak_url: str = ""
    keycloak_realm: str = ""
    keycloak_client_id: str = ""
    keycloak_client_secret: SecretStr = SecretStr("")
    keycloak_admin_client_id: str = ""
    keycloak_admin_client_secret: SecretStr = SecretStr("")
    keycloak_group_root: str = ""
    session_max_age_seconds: int = 8 * 3600

    public_url: str = "http://127.0.0.1:8000"
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    rate_limit_per_minute: int = 600
    default_locale: Literal["zh", "en"] = "zh"

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'yinling.db'}"

    @cached_property
    def effective_migration_url(self) -> str:
        return self.database_migration_url or self.effective_database_url

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")

    @property
    def effective_storage_dir(self) -> Path:
        return self.storage_dir or (self.data_dir / "files")

    @property
    def keycloak_enabled(self) -> bool:
        return bool(self.keycloak_url and self.keycloak_realm)

    def production_problems(self) -> list[str]:
        """What makes these settings unfit for production (empty when fit)."""
        problems: list[str] = []
        if not self.is_postgres:
            problems.append("YINLING_DATABASE_URL must point at PostgreSQL (embedded SQLite is for the demo)")
        if not self.redis_url:
            problems.append("YINLING_REDIS_URL must be set (in-process stores are for the demo)")
        if not self.s3_endpoint:
            problems.append("YINLING_S3_ENDPOINT must be set (local-disk files are for the demo)")
        if self.secret_key.get_secret_value() == DEMO_SECRET_KEY or len(self.secret_key.get_secret_value()) < 32:
            problems.append("YINLING_SECRET_KEY must be a private value of at least 32 characters")
        if DEMO_PII_KEY in self.pii_keys.get_secret_value().split(","):
            problems.append("YINLING_PII_KEYS must not contain the demo key")
        if not self.keycloak_enabled:
            problems.append(
                "YINLING_KEYCLOAK_URL and YINLING_KEYCLOAK_REALM must be set (local accounts are for the demo)"
            )
        elif not (self.keycloak_client_id and self.keycloak_client_secret.get_secret_value()):
            problems.append("YINLING_KEYCLOAK_CLIENT_ID and _CLIENT_SECRET must be set (the web client's login)")
        return problems
