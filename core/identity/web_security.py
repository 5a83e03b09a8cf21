"""Browser-facing defences: CSRF for cookie-authenticated requests and security headers on every response.

CSRF, and why bearer calls are exempt: a forged cross-site request carries the victim's cookies but can never
carry an ``Authorization`` header (a browser sends one cross-site only after a CORS preflight this app does
not allow), and the authentication middleware never falls back to the session cookie when that header is
present. So the double-submit check (Litestar's :class:`CSRFMiddleware`: ``csrftoken`` cookie echoed in the
``X-CSRFToken`` header or the ``_csrf_token`` form field) applies to every unsafe request *without* an
``Authorization`` header, except ``/api/`` calls that carry no session cookie (nothing to abuse) or go to a
public API route (``POST /api/v1/auth/token`` acts as nobody). Pages and HTMX calls to ``/api/`` with the session
cookie therefore send the token; API clients with bearer tokens change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import ErrorSpec
from core.identity.sessions import is_https, session_cookie_name
from core.settings import Settings

CSRF_FAILED = ErrorSpec(
    "auth.csrf_failed",
    403,
    "页面已过期或请求来源不明（CSRF 校验未通过），请刷新页面后重试",
    "The page is stale or the request's origin is unknown (CSRF check failed); reload the page and try again",
)
CSRF_COOKIE = "csrftoken"

#: Self only: no inline script or style, no framing, forms post back here only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'"
)
#: The API reference page (``/schema``) loads Scalar from its CDN with inline bootstrap code.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' "
    "https://cdn.jsdelivr.net https://fonts.googleapis.com; font-src 'self' data: https://cdn.jsdelivr.net "
    "https://fonts.scalar.com https://fonts.gstatic.com; img-src 'self' data: https://cdn.jsdelivr.net"
)


class CookieCsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped for bearer-token calls and anonymous API calls (see the module doc)."""

    def __init__(self, app: ASGIApp, config: CSRFConfig, session_cookie: str) -> None:
        super().__init__(app, config)
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._exempt(scope):
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException as exc:
            if exc.detail != "CSRF token verification failed":
                raise
            raise CSRF_FAILED.error() from exc

    def _exempt(self, scope: Scope) -> bool:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        if "authorization" in connection.headers:
            return True
        if not scope["path"].startswith("/api/"):
            return False
        # Public API routes (``POST /api/v1/auth/token``) never act as the cookie's user.
        handler = scope.get("route_handler")
        return self.session_cookie not in connection.cookies or bool(handler and handler.opt.get("public"))


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    config = CSRFConfig(
        secret=settings.secret_key.get_secret_value(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=is_https(settings),
        cookie_httponly=False,  # pages read it to send the X-CSRFToken header
        cookie_samesite="lax",
        exclude=["^/health", "^/ready", "^/metrics", "^/schema", "^/files/local", "^/static"],
    )
    return DefineMiddleware(CookieCsrfMiddleware, config=config, session_cookie=session_cookie_name(settings))


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook (not a middleware, so that errors raised by middleware get the headers too).

    A header a route sets itself is left alone.
    """
    common = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
    }
    if is_https(settings):
        common["strict-transport-security"] = "max-age=31536000; includeSubDomains"

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path = str(scope.get("path", ""))
        policy = DOCS_CONTENT_SECURITY_POLICY if path.startswith("/schema") else CONTENT_SECURITY_POLICY
        for name, value in (*common.items(), ("content-security-policy", policy)):
            if name not in headers:
                headers[name] = value

    return add_security_headers
