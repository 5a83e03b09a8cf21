"""Rotating the personal-data key: new key first, rekey, old key dropped — nothing lost, nothing readable
with the old key alone afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from core.db.scope import TenantScope
from core.errors import AppError
from core.orgs.models import Member
from core.platform import Platform
from core.privacy import crypto
from core.privacy.rekey import rekey
from tests.support import token
from tests.test_members import ID_A


async def test_rotation_keeps_every_value_and_retires_the_old_key(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    created = await client.post(
        "/api/v1/t/320102/members", headers=admin, json={"name": "周平", "id_number": ID_A, "phone": "13611112222"}
    )
    assert created.status_code == 201, created.text
    secret = pg_platform.settings.secret_key.get_secret_value()
    old = pg_platform.settings.pii_keys.get_secret_value()
    try:
        crypto.configure(f"new-key-2026,{old}", secret)
        async with pg_platform.database.session(TenantScope.system()) as session:
            before = (await session.execute(text("SELECT id_number FROM member"))).scalar_one()
            report = await rekey(session)
        assert report.tables["member"] == 1
        async with pg_platform.database.session(TenantScope.system()) as session:
            after = (await session.execute(text("SELECT id_number FROM member"))).scalar_one()
            assert after != before
        crypto.configure("new-key-2026", secret)  # the old key is gone
        async with pg_platform.database.session(TenantScope.system()) as session:
            member = (await session.execute(select(Member))).scalar_one()
            assert (member.id_number, member.phone) == (ID_A, "13611112222")
        crypto.configure(old, secret)  # the old key alone can no longer read the data
        with pytest.raises(AppError, match="decrypted"):
            async with pg_platform.database.session(TenantScope.system()) as session:
                (await session.execute(select(Member))).scalar_one()
    finally:
        crypto.configure(old, secret)
