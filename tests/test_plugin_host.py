"""The plugin host: loading and failures, resolution of activation, the activation API and guard, settings,
navigation, and every hook exercised through the fixture plugin."""

from __future__ import annotations

import itertools
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import tests.fixture_plugins.sample as sample
from core.db.scope import TenantScope
from core.identity.accounts import grant_role
from core.identity.models import User
from core.platform import Platform
from core.plugin_host import hookimpl, hookspecs
from core.plugin_host.activation import ActivationSnapshot, Setting, resolve
from core.plugin_host.declarations import PluginContext, PluginInfo
from core.plugin_host.host import PluginHost
from core.tenancy.models import TenantLevel
from core.tenancy.tree import TenantNode, TenantTree
from core.web.app import create_app
from tests.conftest import http_client, service_settings
from tests.support import token

# --- resolution ------------------------------------------------------------------------------------

P, C, K = 1, 2, 3  # province > city > county
TREE = TenantTree.build(
    [
        TenantNode(P, "320000", "江苏省", TenantLevel.PROVINCE, None, "/1/", True),
        TenantNode(C, "320100", "南京市", TenantLevel.CITY, P, "/1/2/", True),
        TenantNode(K, "320102", "玄武区", TenantLevel.COUNTY, C, "/1/2/3/", True),
    ]
)
STATES = (None, "enabled", "disabled")
POLICIES = (None, "mandate", "forbid")


def expected(settings: dict[int, tuple[str | None, str | None]], at: int) -> tuple[bool, str, str | None]:
    """The rules of docs/plugins.md, stated plainly: the highest policy on the path decides; otherwise the
    nearest state; otherwise off."""
    path = {P: [P], C: [P, C], K: [P, C, K]}[at]
    code = {P: "320000", C: "320100", K: "320102"}
    for node in path:
        policy = settings[node][1]
        if policy:
            return policy == "mandate", "mandated" if policy == "mandate" else "forbidden", code[node]
    for node in reversed(path):
        state = settings[node][0]
        if state:
            return state == "enabled", "set_here" if node == at else "inherited", code[node]
    return False, "default", None


def test_resolution_over_every_combination_on_three_levels() -> None:
    cases = 0
    for combo in itertools.product(itertools.product(STATES, POLICIES), repeat=3):
        settings = dict(zip((P, C, K), combo, strict=True))
        snapshot = ActivationSnapshot(
            {(t, "x"): Setting(state, policy, {}) for t, (state, policy) in settings.items() if state or policy}
        )
        for at in (P, C, K):
            got = resolve(TREE, snapshot, at, {"x": ()})["x"]
            assert (got.active, got.source, got.by) == expected(settings, at), (settings, at)
            cases += 1
    assert cases == 729 * 3


def test_reasons_are_worded_for_people() -> None:
    snapshot = ActivationSnapshot(
        {
            (P, "x"): Setting(None, "mandate", {}),
            (C, "y"): Setting("enabled", None, {}),
            (P, "w"): Setting(None, "mandate", {}),
        }
    )
    effective = resolve(TREE, snapshot, K, {"x": (), "y": (), "z": ("y",), "w": ("x", "v"), "v": ()})
    assert effective["x"].reason_en == "mandated by 320000" and "要求开通" in effective["x"].reason_zh
    assert effective["y"].reason_en == "inherited from 320100"
    assert effective["z"].active is False and effective["z"].reason_en == "not enabled"
    assert effective["w"].active is False and effective["w"].reason_en == "requires v"


# --- loading -----------------------------------------------------------------------------------------


def module(name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(mod, key, value)
    return mod


def info(name: str, **kw: Any) -> PluginInfo:
    return PluginInfo(name=name, version="1.0", title_zh=name, title_en=name, **kw)


def test_broken_plugins_are_reported_and_left_out() -> None:
    @hookimpl
    def register_route() -> list[Any]:  # misspelt
        return []

    def boom() -> Any:
        raise ImportError("No module named 'numpy_that_is_not_there'")

    host = PluginHost()
    host.load(
        [
            ("good", lambda: sample),
            ("broken import", boom),
            ("no info", lambda: module("m1")),
            ("typo", lambda: module("m2", PLUGIN=info("typo"), register_route=register_route)),
            ("needs missing", lambda: module("m3", PLUGIN=info("needy", depends=("ghost",)))),
            ("too new", lambda: module("m4", PLUGIN=info("future", min_core_version="99.0"))),
            ("bad name", lambda: module("m5", PLUGIN=info("Bad-Name"))),
            ("duplicate", lambda: sample),
            ("reserved", lambda: module("m6", PLUGIN=info("audit"))),
        ]
    )
    assert list(host.plugins) == ["sample"]
    reasons = {f.source: f.reason for f in host.failures}
    assert "numpy_that_is_not_there" in reasons["broken import"]
    assert "PluginInfo" in reasons["no info"]
    assert "register_route" in reasons["typo"] and "misspelt" in reasons["typo"]
    assert "ghost" in reasons["needs missing"]
    assert "99.0" in reasons["too new"]
    assert "must match" in reasons["bad name"]
    assert "already loaded" in reasons["duplicate"]
    assert "reserved" in reasons["reserved"]


def test_dependencies_load_in_order_and_a_cycle_is_refused() -> None:
    host = PluginHost()
    host.load(
        [
            ("b", lambda: module("mb", PLUGIN=info("bee", depends=("ant",)))),
            ("a", lambda: module("ma", PLUGIN=info("ant"))),
            ("c1", lambda: module("mc1", PLUGIN=info("cyc_one", depends=("cyc_two",)))),
            ("c2", lambda: module("mc2", PLUGIN=info("cyc_two", depends=("cyc_one",)))),
        ]
    )
    assert list(host.plugins) == ["ant", "bee"]
    assert any("circular" in f.reason for f in host.failures)


def test_a_tenant_table_without_tenant_owned_is_refused() -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    class Loose:
        __table__ = Table("loose", MetaData(), Column("id", Integer, primary_key=True), Column("tenant_id", Integer))

    @hookimpl
    def register_models() -> list[Any]:
        return [Loose]

    host = PluginHost()
    host.load([("loose", lambda: module("ml", PLUGIN=info("loose"), register_models=register_models))])
    assert host.plugins == {}
    assert "TenantOwned" in host.failures[0].reason


async def test_the_platform_starts_without_a_broken_plugin(pg_urls: dict[str, str], owner_engine: Any) -> None:
    platform = Platform.from_settings(
        service_settings(pg_urls), extra_plugins=(sample, "tests.fixture_plugins.no_such_plugin")
    )
    try:
        assert "sample" in platform.plugins.plugins
        assert any("no_such_plugin" in f.source for f in platform.plugins.failures)
        async with http_client(create_app(platform.settings, platform=platform, deliver_events=False)) as client:
            assert (await client.get("/health")).status_code == 200
    finally:
        await platform.close()


def test_every_hook_is_documented_and_exercised() -> None:
    """Adding a hook without a docstring, or without a test here, fails."""
    names = {n for n, v in vars(hookspecs).items() if callable(v) and hasattr(v, "yinling_spec")}
    undocumented = [n for n in names if len((getattr(hookspecs, n).__doc__ or "").strip()) < 40]
    assert undocumented == []
    assert names == set(HOOK_TESTS), f"hooks without a test: {names - set(HOOK_TESTS)}"
    assert names <= set(dir(sample)), "the fixture plugin implements every hook"


HOOK_TESTS = {
    "register_routes": "test_a_disabled_plugin_answers_404_where_another_county_works",
    "register_pages": "test_plugin_pages_render_in_the_shell_and_follow_activation",
    "translations_dir": "test_plugin_pages_render_in_the_shell_and_follow_activation",
    "metric_facts": "tests/test_reports.py (aggregates equal the recount from raw rows)",
    "register_models": "test_a_tenant_table_without_tenant_owned_is_refused",
    "migrations_dir": "tests/test_migrations.py (the sample branch is applied and compared)",
    "templates_dir": "test_declarative_hooks",
    "static_dir": "test_declarative_hooks",
    "navigation": "test_navigation_follows_activation_and_permissions",
    "settings_schema": "test_settings_are_inherited_down_the_tree_and_validated",
    "register_roles": "test_declarative_hooks",
    "on_event": "tests/test_events.py",
    "register_metrics": "test_declarative_hooks",
    "member_panel": "test_declarative_hooks",
    "demo_data": "test_declarative_hooks",
    "on_tenant_enabled": "test_activation_api_inherit_mandate_forbid_with_callbacks",
    "on_tenant_disabled": "test_activation_api_inherit_mandate_forbid_with_callbacks",
}


async def test_declarative_hooks(pg_platform: Platform, world: dict[str, Any]) -> None:
    host = pg_platform.plugins
    templates = Path(host.call_one_sync("sample", "templates_dir")[0][1])
    static = Path(host.call_one_sync("sample", "static_dir")[0][1])
    assert {p.name for p in templates.iterdir()} == {"hello.html"}  # noqa: ASYNC240 - a test's tiny folder
    assert {p.name for p in static.iterdir()} == {"sample.css"}  # noqa: ASYNC240
    assert [m.id for _, m in host.metrics() if _ == "sample"] == ["sample.pokes"]
    assert pg_platform.roles.permissions_of("sample_officer") == {"tenant.read", "sample.write"}
    tree = world["tree"]
    async with pg_platform.database.session(TenantScope.system()) as session:
        context = PluginContext("sample", tree.get("320102"), tree, session, {})
        panel = await host.call_one("sample", "member_panel", context=context, member_id="m-1")
        assert panel.title_zh == "示例" and panel.items == [{"label": "成员", "value": "m-1"}]
        await host.call_one("sample", "demo_data", context=context)
    async with pg_platform.database.session(TenantScope.system()) as session:
        kinds = (await session.execute(select(sample.SampleEffect.kind))).scalars().all()
        assert kinds == ["demo"]


# --- the activation API, guard, settings and navigation ----------------------------------------------------


async def effects(platform: Platform, kind: str) -> list[str]:
    async with platform.database.session(TenantScope.system()) as session:
        tree_ids = {}
        from core.tenancy.tree import load_tree

        tree = await load_tree(session)
        tree_ids = {n.id: n.code for n in tree.nodes.values()}
        rows = (
            (await session.execute(select(sample.SampleEffect).where(sample.SampleEffect.kind == kind))).scalars().all()
        )
        return sorted(tree_ids[r.tenant_id] for r in rows)


async def test_a_disabled_plugin_answers_404_where_another_county_works(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xuanwu = await token(client, "xw-admin")
    qinhuai = await token(client, "qh-admin")
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xuanwu, json={"state": "enabled"})
    ).status_code == 200
    assert (await client.get("/api/v1/t/320102/sample/hello", headers=xuanwu)).json() == {
        "tenant": "320102",
        "effects": 1,
    }
    off = await client.get("/api/v1/t/320104/sample/hello", headers=qinhuai)
    assert off.status_code == 404
    assert off.json()["error"]["code"] == "plugin.inactive" and "示例项目" in off.json()["error"]["message"]
    # Switched off: 404 here too, and its data stays; switched on again, the data is back.
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xuanwu, json={"state": "disabled"})
    ).status_code == 200
    assert (await client.get("/api/v1/t/320102/sample/hello", headers=xuanwu)).status_code == 404
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xuanwu, json={"state": "enabled"})
    ).status_code == 200
    assert (await client.get("/api/v1/t/320102/sample/hello", headers=xuanwu)).json()[
        "effects"
    ] == 3  # enabled, disabled, enabled


async def test_plugin_pages_render_in_the_shell_and_follow_activation(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    xuanwu = {**(await token(client, "xw-admin")), "accept": "text/html"}
    qinhuai = {**(await token(client, "qh-admin")), "accept": "text/html"}
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xuanwu, json={"state": "enabled"})
    ).status_code == 200
    page = await client.get("/t/320102/sample/home", headers=xuanwu)
    assert page.status_code == 200
    assert "<h1>示例首页</h1>" in page.text and 'aria-label="主菜单"' in page.text  # the shell is around it
    english = await client.get("/t/320102/sample/home?lang=en", headers=xuanwu)
    assert "<h1>Sample home</h1>" in english.text and "Effects" in english.text
    off = await client.get("/t/320104/sample/home", headers=qinhuai)
    assert off.status_code == 404 and "示例项目" in off.text
    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=xuanwu, json={"state": "disabled"})
    ).status_code == 200
    assert (await client.get("/t/320102/sample/home", headers=xuanwu)).status_code == 404


async def test_activation_api_inherit_mandate_forbid_with_callbacks(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    city = await token(client, "nj-admin")
    county = await token(client, "xw-admin")
    province = await token(client, "js-admin")
    member = await token(client, "xw-member")

    result = await client.put("/api/v1/t/320100/plugins/sample", headers=city, json={"state": "enabled"})
    assert [(s["tenant_code"], s["active"]) for s in result.json()["subtree"]] == [
        ("320100", True),
        ("320102", True),
        ("320104", True),
        ("320105", True),
    ]
    assert await effects(pg_platform, "enabled") == ["320100", "320102", "320104", "320105"]
    listing = {p["name"]: p for p in (await client.get("/api/v1/t/320102/plugins", headers=county)).json()["items"]}
    assert listing["sample"]["active"] is True and listing["sample"]["reason_en"] == "inherited from 320100"

    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=county, json={"state": "disabled"})
    ).status_code == 200
    assert await effects(pg_platform, "disabled") == ["320102"]

    forbid = await client.put("/api/v1/t/320000/plugins/sample", headers=province, json={"policy": "forbid"})
    assert all(not s["active"] for s in forbid.json()["subtree"])
    assert await effects(pg_platform, "disabled") == ["320100", "320102", "320104", "320105"]
    refused = await client.put("/api/v1/t/320102/plugins/sample", headers=county, json={"state": "enabled"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "plugin.decided_above" and "320000" in refused.json()["error"]["message"]

    mandate = await client.put("/api/v1/t/320000/plugins/sample", headers=province, json={"policy": "mandate"})
    assert all(s["active"] for s in mandate.json()["subtree"])
    listing = {p["name"]: p for p in (await client.get("/api/v1/t/321181/plugins", headers=province)).json()["items"]}
    assert listing["sample"]["reason_en"] == "mandated by 320000"

    assert (
        await client.put("/api/v1/t/320102/plugins/sample", headers=member, json={"state": "disabled"})
    ).status_code == 403
    unknown = await client.put("/api/v1/t/320102/plugins/nothing", headers=county, json={"state": "enabled"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "plugin.not_found"
    bad = await client.put("/api/v1/t/320102/plugins/sample", headers=county, json={"state": "on"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "state"


async def test_settings_are_inherited_down_the_tree_and_validated(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    city = await token(client, "nj-admin")
    county = await token(client, "xw-admin")
    defaults = (await client.get("/api/v1/t/320102/plugins/sample/settings", headers=county)).json()
    assert defaults["values"] == {"points_per_event": 1, "label": "示例"}
    assert defaults["schema_"]["properties"]["points_per_event"]["maximum"] == 100

    await client.put("/api/v1/t/320100/plugins/sample/settings", headers=city, json={"values": {"points_per_event": 5}})
    got = (await client.get("/api/v1/t/320102/plugins/sample/settings", headers=county)).json()
    assert got["values"]["points_per_event"] == 5 and got["origin"]["points_per_event"] == "320100"
    await client.put(
        "/api/v1/t/320102/plugins/sample/settings", headers=county, json={"values": {"points_per_event": 7}}
    )
    got = (await client.get("/api/v1/t/320102/plugins/sample/settings", headers=county)).json()
    assert (got["values"]["points_per_event"], got["origin"]["points_per_event"]) == (7, "320102")

    invalid = await client.put(
        "/api/v1/t/320102/plugins/sample/settings", headers=county, json={"values": {"points_per_event": 0}}
    )
    assert invalid.status_code == 422 and invalid.json()["error"]["field"] == "points_per_event"
    assert "不能小于" in invalid.json()["error"]["message"]
    unknown = await client.put(
        "/api/v1/t/320102/plugins/sample/settings", headers=county, json={"values": {"colour": "red"}}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "colour"

    await client.put(
        "/api/v1/t/320102/plugins/sample/settings", headers=county, json={"values": {"points_per_event": None}}
    )
    got = (await client.get("/api/v1/t/320102/plugins/sample/settings", headers=county)).json()
    assert (got["values"]["points_per_event"], got["origin"]["points_per_event"]) == (5, "320100")


async def test_navigation_follows_activation_and_permissions(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    member = await token(client, "xw-member")

    async def paths(headers: dict[str, str]) -> list[str]:
        return [n["path"] for n in (await client.get("/api/v1/t/320102/navigation", headers=headers)).json()]

    assert "sample/home" not in await paths(admin)
    await client.put("/api/v1/t/320102/plugins/sample", headers=admin, json={"state": "enabled"})
    assert "sample/home" in await paths(admin)
    assert "sample/admin" not in await paths(admin)  # needs sample.write
    async with pg_platform.database.session(TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.username == "xw-admin"))).scalar_one()
        await grant_role(
            session, pg_platform.roles, world["tree"], user=user, tenant_code="320102", role="sample_officer", by="t"
        )
    assert "sample/admin" in await paths(admin)
    assert "members" in await paths(admin) and "members" not in await paths(member)  # member.read filters
    assert "sample/home" in await paths(member)
    await client.put("/api/v1/t/320102/plugins/sample", headers=admin, json={"state": "disabled"})
    assert not any(p.startswith("sample/") for p in await paths(admin))


async def test_activation_cache_is_invalidated_across_processes(
    pg_urls: dict[str, str], owner_engine: Any, world: dict[str, Any], pg_platform: Platform
) -> None:
    """Two platforms sharing Redis stand for two processes: a change through one is seen by the other."""
    other = Platform.from_settings(pg_platform.settings, extra_plugins=(sample,))
    try:
        app_one = create_app(pg_platform.settings, platform=pg_platform, deliver_events=False)
        app_two = create_app(other.settings, platform=other, deliver_events=False)
        async with http_client(app_one) as one, http_client(app_two) as two:
            headers = await token(one, "xw-admin")
            assert (await two.get("/api/v1/t/320102/sample/hello", headers=headers)).status_code == 404
            await one.put("/api/v1/t/320102/plugins/sample", headers=headers, json={"state": "enabled"})
            assert (await two.get("/api/v1/t/320102/sample/hello", headers=headers)).status_code == 200
    finally:
        await other.close()


@pytest.fixture(autouse=True)
def _no_hook_leftovers() -> None:
    """Each test builds its own host; nothing here mutates module state."""
    return


def test_hookimpl_marker_is_for_authors() -> None:
    assert hookimpl.project_name == "yinling"
    with pytest.raises(AttributeError):
        _ = hookspecs.not_a_hook  # type: ignore[attr-defined]


def test_a_plugin_cannot_replace_a_core_role() -> None:
    from core.identity.roles import Role

    @hookimpl
    def register_roles() -> list[Role]:
        return [Role("tenant_admin", "冒充", "Impostor", frozenset({"everything"}))]

    host = PluginHost()
    host.load([("impostor", lambda: module("mi", PLUGIN=info("impostor"), register_roles=register_roles))])
    assert host.plugins == {} and "tenant_admin" in host.failures[0].reason


async def test_an_inactive_programme_answers_404_before_permissions(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    member = await token(client, "xw-member")  # lacks sample.write, and the programme is off
    response = await client.post("/api/v1/t/320102/sample/pokes", headers=member, json={})
    assert response.status_code == 404 and response.json()["error"]["code"] == "plugin.inactive"


def test_plugins_import_only_the_public_core_api() -> None:
    """The built-in plugins and the example import only the documented core modules (docs/plugins.md §12)."""
    import ast

    from core.plugin_host.public import PUBLIC_API

    root = Path(__file__).resolve().parents[1]
    sources = [
        p
        for folder in (root / "plugins", root / "examples")
        for p in folder.rglob("*.py")
        if "tests" not in p.parts and ".venv" not in p.parts
    ]
    assert len(sources) > 40
    reached: dict[str, set[str]] = {}
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "core" or name.startswith("core."):
                    reached.setdefault(name, set()).add(str(source.relative_to(root)))
    private = {module: sorted(files) for module, files in reached.items() if module not in PUBLIC_API}
    assert private == {}
    docs = (root / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert [m for m in PUBLIC_API if f"`{m}`" not in docs] == []
