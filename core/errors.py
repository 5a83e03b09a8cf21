"""Errors a person can act on: a stable machine-readable code and a message in Chinese (default) or English.

Each concern declares its errors as :class:`ErrorSpec` constants next to the code that raises them and raises
``SPEC.error(field=..., **params)``. The exception handlers installed by the app factory turn an
:class:`AppError` (and Litestar's own validation and HTTP errors) into one body shape::

    {"error": {"code": "tenant.not_found", "message": "...", "field": "code", "details": [...]}}
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorSpec:
    """One kind of error: code, HTTP status and message templates (``str.format`` placeholders)."""

    code: str
    status: int
    zh: str
    en: str

    def error(
        self, *, field: str | None = None, details: list[dict[str, Any]] | None = None, **params: Any
    ) -> AppError:
        return AppError(self, field=field, details=details or [], params=params)


class AppError(Exception):
    """An error with a stable code, raised anywhere below a request and rendered by :func:`app_error_handler`."""

    def __init__(
        self,
        spec: ErrorSpec,
        *,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.field = field
        self.details = details or []
        self.params = params or {}
        super().__init__(self.message("en"))

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def status(self) -> int:
        return self.spec.status

    def message(self, lang: str = "zh") -> str:
        template = self.spec.en if lang == "en" else self.spec.zh
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def body(self, lang: str = "zh") -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        if self.field:
            err["field"] = self.field
        if self.details:
            err["details"] = self.details
        return {"error": err}


# Errors that belong to no single concern.
VALIDATION_FAILED = ErrorSpec(
    "validation.failed", 422, "提交的内容有误：{summary}", "The request is invalid: {summary}"
)
NOT_FOUND = ErrorSpec("http.not_found", 404, "找不到所请求的地址", "The requested address was not found")
METHOD_NOT_ALLOWED = ErrorSpec("http.method_not_allowed", 405, "该地址不支持此操作", "Method not allowed here")
UNAUTHENTICATED = ErrorSpec("auth.unauthenticated", 401, "请先登录", "Please sign in first")
FORBIDDEN = ErrorSpec("auth.forbidden", 403, "您没有执行此操作的权限", "You are not allowed to do this")
RATE_LIMITED = ErrorSpec("http.rate_limited", 429, "请求过于频繁，请稍后再试", "Too many requests; try again shortly")
PAYLOAD_TOO_LARGE = ErrorSpec("http.payload_too_large", 413, "提交的内容过大", "The request body is too large")
BAD_REQUEST = ErrorSpec("http.bad_request", 400, "请求格式有误：{detail}", "Bad request: {detail}")
INTERNAL = ErrorSpec(
    "server.internal",
    500,
    "系统内部错误，请稍后重试；如持续出现请联系管理员（请求编号 {request_id}）",
    "Internal error; try again, and report request id {request_id} if it persists",
)

_STATUS_SPECS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: PAYLOAD_TOO_LARGE,
    429: RATE_LIMITED,
}

# Chinese wording for the validation error types pydantic and msgspec produce most often (types whose
# English message carries a limit, like "at least 3 characters", are translated from the text below).
_ZH_VALIDATION = {
    "missing": "必填",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为是或否",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "date_from_datetime_parsing": "日期格式不正确（应为 YYYY-MM-DD）",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
    "json_invalid": "不是有效的 JSON",
    "model_type": "应为对象",
    "list_type": "应为列表",
}


def request_language(request: Request[Any, Any, Any]) -> str:
    """The language of every answer, pages and API alike: ``?lang=``, then the console's ``lang`` cookie, then an
    ``Accept-Language`` that prefers English; Chinese otherwise."""
    lang = request.query_params.get("lang") or request.cookies.get("lang")
    if lang:
        return "en" if lang.lower().startswith("en") else "zh"
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


# Litestar passes pydantic's English message without its type, so the common ones are matched here.
_ZH_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Field required"), "必填"),
    (re.compile(r"^String should match pattern"), "格式不正确"),
    (re.compile(r"^String should have at least (\d+) characters?"), "至少需要 {0} 个字符"),
    (re.compile(r"^String should have at most (\d+) characters?"), "最多 {0} 个字符"),
    (re.compile(r"^Input should be a valid integer"), "应为整数"),
    (re.compile(r"^Input should be a valid string"), "应为文字"),
    (re.compile(r"^Input should be a valid boolean"), "应为是或否"),
    (re.compile(r"^Input should be a valid date"), "日期格式不正确（应为 YYYY-MM-DD）"),
    (re.compile(r"^Input should be greater than or equal to (\S+)"), "不能小于 {0}"),
    (re.compile(r"^Input should be less than or equal to (\S+)"), "不能大于 {0}"),
    (re.compile(r"^Input should be (.+)$"), "取值只能是 {0}"),
    (re.compile(r"^Extra inputs are not permitted"), "不允许的字段"),
    (re.compile(r"^Value error, (.+)$"), "{0}"),
)


def zh_validation_message(kind: str, fallback: str) -> str:
    """Chinese for a validation problem, by pydantic error type or, failing that, by its English text.

    A validator of our own that raises ``ValueError("…")`` wrote its message for a person: that message is kept
    (pydantic only prefixes it with "Value error, ") rather than replaced by the generic "取值不正确" — when it is
    Chinese; a library's English one still gets the generic words.
    """
    own = fallback.removeprefix("Value error, ")
    if kind == "value_error" and own != fallback and any("\u4e00" <= ch <= "\u9fff" for ch in own):
        return own
    if kind in _ZH_VALIDATION:
        return _ZH_VALIDATION[kind]
    for pattern, template in _ZH_PATTERNS:
        match = pattern.match(fallback)
        if match:
            return template.format(*match.groups())
    return fallback


def _response(error: AppError, request: Request[Any, Any, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=error.body(request_language(request)), status_code=error.status, headers=headers)


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating to a console page (not an API or HTMX call)."""
    return (
        not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
        and "hx-request" not in request.headers
    )


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    if exc.status == 401 and wants_page(request):
        from urllib.parse import quote

        from litestar.response import Redirect

        return Redirect(f"/auth/login?next={quote(request.url.path)}", status_code=303)
    return _response(exc, request)


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    lang = request_language(request)
    details: list[dict[str, Any]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        raw = str(item.get("message") or "")
        kind = str(item.get("type") or "")
        message = raw if lang == "en" else zh_validation_message(kind, raw)
        details.append({"field": key, "message": message})
    summary = "；".join(f"{d['field']}：{d['message']}" for d in details) if details else str(exc.detail)
    error = VALIDATION_FAILED.error(details=details, field=details[0]["field"] if details else None, summary=summary)
    return _response(error, request)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    spec = _STATUS_SPECS.get(exc.status_code)
    if spec is None:
        spec = ErrorSpec(f"http.{exc.status_code}", exc.status_code, str(exc.detail), str(exc.detail))
    headers = dict(exc.headers or {})
    return _response(spec.error(detail=exc.detail), request, headers=headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    logger.exception("unhandled error (request id %s)", request_id, exc_info=exc)
    error = INTERNAL.error(request_id=request_id)
    return Response(content=error.body(request_language(request)), status_code=HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
