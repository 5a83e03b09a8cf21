"""What console forms share: a plain form post turned into field errors in the page's language (next to the
field, nothing typed lost), and "may this person do X here" for showing or hiding a control."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from pydantic import BaseModel, ValidationError

from core.errors import AppError, zh_validation_message
from core.identity.access import Acting, current_principal, platform_of

M = TypeVar("M", bound=BaseModel)


def can(request: Request[Any, Any, Any], acting: Acting, permission: str) -> bool:
    principal = current_principal(request)
    return principal is not None and principal.can(
        acting.tree, platform_of(request).roles, acting.tenant.id, permission
    )


def typed(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    """The values the person typed, trimmed, for the fields the form has (kept to show again on an error)."""
    return {k: str(v).strip() for k, v in data.items() if k in fields}


def validation_errors(exc: ValidationError, lang: str, default: str) -> dict[str, str]:
    """One message per field, in plain Chinese (or English), keyed by the form field's name."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else default
        errors.setdefault(key, err["msg"] if lang == "en" else zh_validation_message(err["type"], err["msg"]))
    return errors


def app_error(exc: AppError, lang: str, default: str, fields: tuple[str, ...] = ()) -> dict[str, str]:
    """A service's refusal placed next to its field (or the form's first field when it names none we show)."""
    field = exc.field if exc.field in fields or not fields else default
    return {field or default: exc.message(lang)}


def parse(model: type[M], values: dict[str, str], lang: str, default: str) -> tuple[M | None, dict[str, str]]:
    """Validate the non-empty typed values with the API's own schema."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v != ""}), {}
    except ValidationError as exc:
        return None, validation_errors(exc, lang, default)
