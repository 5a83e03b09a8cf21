"""Bearer tokens the platform issues itself for local accounts (embedded mode): HS256 JWTs."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import jwt

LOCAL_ISSUER = "yinling-local"
LOCAL_AUDIENCE = "yinling-api"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_local_token(secret: str, user_id: uuid.UUID, username: str, ttl_seconds: int) -> IssuedToken:
    now = datetime.datetime.now(datetime.UTC)
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": str(user_id),
        "preferred_username": username,
        "iat": now,
        "exp": now + datetime.timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm="HS256"), ttl_seconds)


def decode_local_token(secret: str, token: str) -> dict[str, object]:
    """Raise :class:`jwt.InvalidTokenError` for a bad signature, audience, issuer or an expired token."""
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=LOCAL_AUDIENCE,
        issuer=LOCAL_ISSUER,
        options={"require": ["exp", "sub", "iss", "aud"]},
    )
