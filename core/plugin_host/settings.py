"""Per-tenant plugin settings: defaults from the plugin's schema, overrides inherited down the tree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import VALIDATION_FAILED, AppError, zh_validation_message
from core.plugin_host.host import PluginHost


def schema_of(host: PluginHost, plugin: str) -> type[BaseModel] | None:
    schemas = host.settings_schemas()
    schema = schemas.get(plugin)
    return schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None


def plugin_defaults(host: PluginHost, plugin: str) -> dict[str, Any]:
    schema = schema_of(host, plugin)
    return schema().model_dump(mode="json") if schema else {}


def validate_settings(host: PluginHost, plugin: str, merged: dict[str, Any]) -> dict[str, Any]:
    """Validate the effective settings after a change; 422 naming each bad field."""
    schema = schema_of(host, plugin)
    if schema is None:
        if merged:
            raise VALIDATION_FAILED.error(field="settings", summary=f"插件 {plugin} 没有可配置的参数")
        return {}
    try:
        return schema.model_validate(merged).model_dump(mode="json")
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": zh_validation_message(err["type"], err["msg"])}
            for err in exc.errors()
        ]
        summary = "；".join(f"{d['field']}：{d['message']}" for d in details)
        error: AppError = VALIDATION_FAILED.error(
            field=details[0]["field"] if details else None, details=details, summary=summary
        )
        raise error from exc
