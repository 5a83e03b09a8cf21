"""OpenID Connect with Keycloak: bearer tokens checked against the realm's keys, and the browser login
(authorization code + PKCE) that the session routes drive.

Access tokens are verified locally (signature against the realm's JWKS, issuer, audience = the web client,
expiry, ``typ``); the keys are cached for :data:`JWKS_TTL_SECONDS` and fetched again early only when a token
names a key id the cache does not know (Keycloak rotated its keys), at most every :data:`JWKS_REFETCH_SECONDS`
so that tokens with made-up key ids cannot make the platform hammer Keycloak.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from keycloak.exceptions import KeycloakPostError
from keycloak.pkce_utils import generate_code_challenge, generate_code_verifier
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit.recorder import AuditContext
from core.db.scope import TenantScope
from core.errors import AppError, ErrorSpec
from core.identity.keycloak import IDENTITY_UNAVAILABLE, issuer_of, openid_client
from core.identity.models import User
from core.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar

    from core.db.engine import Database

logger = logging.getLogger(__name__)

JWKS_TTL_SECONDS = 3600
JWKS_REFETCH_SECONDS = 10.0
#: Clock skew tolerated between Keycloak and this host.
LEEWAY_SECONDS = 10
#: Asymmetric algorithms only: a token signed with a shared secret (HS256) is never a Keycloak token.
SIGNING_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
SCOPE = "openid profile email"

EXTERNAL_USERNAME_TAKEN = ErrorSpec(
    "identity.username_conflict",
    403,
    "统一身份认证账号 {username} 与本平台已有的另一个账号同名，未自动关联；请联系系统管理员处理",
    "The Keycloak account {username} clashes with another platform account of that name; ask an administrator",
)


class InvalidToken(Exception):
    """The token is not one this platform accepts (signature, issuer, audience, expiry, type or nonce)."""


class JwksCache:
    """The realm's public signing keys by key id, fetched through ``fetch`` (python-keycloak's ``certs``)."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        *,
        ttl: float = JWKS_TTL_SECONDS,
        refetch_interval: float = JWKS_REFETCH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if self._keys is None or self._clock() - self._fetched_at >= self.ttl:
            await self._refresh(stale_ok=True)
        keys = self._keys or {}
        if kid not in keys and self._clock() - self._fetched_at >= self.refetch_interval:
            await self._refresh(stale_ok=True)
            keys = self._keys or {}
        return keys.get(kid)

    async def _refresh(self, *, stale_ok: bool) -> None:
        seen = self._fetched_at
        async with self._lock:
            if self._fetched_at != seen:
                return  # another request fetched while this one waited
            try:
                document = await self._fetch()
            except AppError:
                if self._keys is None or not stale_ok:
                    raise
                # Keycloak is down but the keys it published are still good: keep verifying with them,
                # and try again after the short interval rather than a whole TTL later.
                logger.warning("Keycloak keys could not be fetched; using the cached ones")
                self._fetched_at = self._clock() - self.ttl + self.refetch_interval
                return
            self.fetches += 1
            self._keys = _signing_keys(document)
            self._fetched_at = self._clock()


def _signing_keys(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if entry.get("use", "sig") != "sig" or entry.get("alg") not in SIGNING_ALGORITHMS or "kid" not in entry:
            continue  # Keycloak also publishes an encryption key (RSA-OAEP)
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except jwt.PyJWKError:
            logger.warning("ignoring unusable key %s in the realm's JWKS", entry.get("kid"))
    return keys


@dataclass(frozen=True)
class LoginAttempt:
    """What the session keeps between ``/auth/login`` and ``/auth/callback`` (never sent to the browser)."""

    state: str
    nonce: str
    verifier: str
    next: str

    @classmethod
    def new(cls, next_path: str) -> LoginAttempt:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_code_verifier(96), next_path)

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier, "next": self.next}

    @classmethod
    def from_dict(cls, data: Any) -> LoginAttempt | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["state"]), str(data["nonce"]), str(data["verifier"]), str(data["next"]))
        except KeyError:
            return None


@dataclass(frozen=True)
class TokenSet:
    """A token response: the claims of the verified ID token, and what a session needs to stay alive."""

    claims: dict[str, Any]
    refresh_token: str
    expires_at: int


class KeycloakProvider:
    """One per app: verifies tokens with the cached realm keys and talks OIDC to Keycloak."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = issuer_of(settings)
        self.audience = settings.keycloak_client_id
        self.keys = JwksCache(self._fetch_keys)
        self._discovery: dict[str, Any] | None = None

    async def _fetch_keys(self) -> dict[str, Any]:
        async with openid_client(self.settings) as client:
            return await client.a_certs()

    async def verify(self, token: str, *, typ: str = "Bearer", nonce: str | None = None) -> dict[str, Any]:
        """Claims of a valid token of type ``typ`` ("Bearer" for access tokens, "ID" for ID tokens)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("malformed") from exc
        kid, alg = header.get("kid"), header.get("alg")
        if not isinstance(kid, str) or alg not in SIGNING_ALGORITHMS:
            raise InvalidToken("no key id or not an asymmetric signature")
        key = await self.keys.key(kid)
        if key is None or key.algorithm_name != alg:
            raise InvalidToken("signed by a key the realm does not publish")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("typ") != typ:
            raise InvalidToken(f"a {claims.get('typ')} token where a {typ} token is needed")
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise InvalidToken("nonce does not match this login")
        return claims

    async def _endpoints(self) -> dict[str, Any]:
        if self._discovery is None:
            async with openid_client(self.settings) as client:
                self._discovery = await client.a_well_known()
        return self._discovery

    async def authorization_url(self, attempt: LoginAttempt, redirect_uri: str) -> str:
        """Keycloak's login page for this attempt (built here: python-keycloak's ``auth_url`` neither
        URL-encodes its parameters nor caches the discovery document)."""
        challenge, method = generate_code_challenge(attempt.verifier, "S256")
        query = urlencode(
            {
                "client_id": self.settings.keycloak_client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": SCOPE,
                "state": attempt.state,
                "nonce": attempt.nonce,
                "code_challenge": challenge,
                "code_challenge_method": method,
            }
        )
        return f"{(await self._endpoints())['authorization_endpoint']}?{query}"

    async def exchange_code(self, attempt: LoginAttempt, code: str, redirect_uri: str) -> TokenSet:
        """Redeem the code with the PKCE verifier; verify the ID token (nonce) and the access token."""
        async with openid_client(self.settings) as client:
            try:
                response = await client.a_token(
                    grant_type="authorization_code",
                    code=code,
                    redirect_uri=redirect_uri,
                    code_verifier=attempt.verifier,
                )
            except KeycloakPostError as exc:
                if (exc.response_code or 0) >= 500:
                    raise IDENTITY_UNAVAILABLE.error() from exc
                raise InvalidToken("Keycloak refused the authorization code") from exc
        id_claims = await self.verify(str(response.get("id_token", "")), typ="ID", nonce=attempt.nonce)
        access_claims = await self.verify(str(response.get("access_token", "")))
        if access_claims["sub"] != id_claims["sub"]:
            raise InvalidToken("ID and access token name different people")
        return _token_set(response, id_claims)

    async def refresh(self, refresh_token: str) -> TokenSet | None:
        """New tokens for a session, or ``None`` when Keycloak says the session is over (user disabled,
        logged out, idle too long). A Keycloak outage raises ``identity.unavailable`` instead."""
        async with openid_client(self.settings) as client:
            try:
                response = await client.a_refresh_token(refresh_token)
            except KeycloakPostError as exc:
                if (exc.response_code or 0) >= 500:
                    raise IDENTITY_UNAVAILABLE.error() from exc
                return None
        try:
            claims = await self.verify(str(response.get("access_token", "")))
        except InvalidToken:
            return None
        return _token_set(response, claims)

    async def logout(self, refresh_token: str) -> None:
        """End the Keycloak (single sign-on) session over the back channel."""
        async with openid_client(self.settings) as client:
            await client.a_logout(refresh_token)


def _token_set(response: dict[str, Any], claims: dict[str, Any]) -> TokenSet:
    expires_in = int(response.get("expires_in", 60))
    return TokenSet(claims=claims, refresh_token=str(response.get("refresh_token", "")), expires_at=_now() + expires_in)


def _now() -> int:
    return int(time.time())


def provider_of(app: Litestar) -> KeycloakProvider:
    """The app's provider (created on first use, so the key cache lives as long as the app)."""
    provider = app.state.get("keycloak_provider")
    if not isinstance(provider, KeycloakProvider):
        provider = KeycloakProvider(app.state.platform.settings)
        app.state["keycloak_provider"] = provider
    return provider


async def platform_user_for(database: Database, claims: dict[str, Any]) -> uuid.UUID:
    """The platform user whose ``external_id`` is the token's ``sub``; created on first sight without a password
    and without grants (grants live here, and an administrator gives them).

    A different account that already holds the same username is never linked automatically: whoever controls
    a Keycloak username must not inherit a local account's grants.
    """
    subject = str(claims["sub"])
    username = str(claims.get("preferred_username") or "")
    found = await _user_by_subject(database, subject)
    if found is not None:
        return found
    if not username or len(username) > 64:
        raise EXTERNAL_USERNAME_TAKEN.error(username=username or subject)
    audit = AuditContext(actor_id=None, actor_name=username)
    try:
        async with database.session(TenantScope.system(), audit) as session:
            taken = (await session.execute(select(User.id).where(User.username == username))).scalar_one_or_none()
            if taken is not None:
                raise EXTERNAL_USERNAME_TAKEN.error(username=username)
            name = str(claims.get("name") or username)[:64]
            user = User(id=uuid.uuid4(), username=username, display_name=name, external_id=subject)
            session.add(user)
            await session.flush()
            return user.id
    except IntegrityError:
        # Two first requests of the same person raced; the other one created the row.
        found = await _user_by_subject(database, subject)
        if found is None:
            raise
        return found


async def _user_by_subject(database: Database, subject: str) -> uuid.UUID | None:
    async with database.session(TenantScope.system()) as session:
        return (await session.execute(select(User.id).where(User.external_id == subject))).scalar_one_or_none()
