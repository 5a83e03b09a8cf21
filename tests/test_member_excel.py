"""The member ledger (and the organisation tree) to and from Excel: template, import, progress, export."""

from __future__ import annotations

import asyncio
import datetime
import io
import uuid
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.db.scope import TenantScope
from core.orgs import idcard
from core.orgs.importing import jobs
from core.orgs.importing.jobs import MemberImports
from core.orgs.models import Member
from core.platform import Platform
from tests.support import token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "联系电话",
    "离休/退休",
    "离退休日期",
    "原工作单位",
    "原职级",
    "是否党员",
    "入党日期",
    "健康状况（正常活动/适当参加活动/不能参加活动）",
    "特长（用、分隔）",
    "居住社区",
    "所在党支部",
    "备注",
]
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def person(i: int, prefix: str = "320102", branch: str = "老年大学支部", **changes: Any) -> list[Any]:
    """A valid row (in the template's column order) for person number ``i``."""
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=41 * i)
    gender = "male" if i % 2 else "female"
    values = {
        "姓名": f"老同志{i}",
        "性别": "男" if gender == "male" else "女",
        "出生日期": birth,
        "身份证号": idcard.make(prefix, birth, i % 100, gender),
        "联系电话": f"139{i:08d}",
        "离休/退休": "退休",
        "离退休日期": "2005-06-30",
        "原工作单位": "区教育局",
        "原职级": "正科级",
        "是否党员": "是",
        "入党日期": datetime.date(birth.year + 25, 7, 1),
        "健康状况": "适当参加活动",
        "特长": "书法、摄影",
        "居住社区": "梅园新村社区",
        "所在党支部": branch,
        "备注": "",
    }
    values.update(changes)
    keys = [h.split("（")[0] for h in HEADERS]
    return [values[k] for k in keys]


def workbook_bytes(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def make_orgs(client: httpx.AsyncClient, headers: dict[str, str], code: str = "320102") -> dict[str, str]:
    """老干部党委 > 梅园社区支部, 老年大学支部; 机关党委 > 梅园社区支部 (the same name under another committee)."""
    ids: dict[str, str] = {}
    for name in ("老干部党委", "机关党委"):
        response = await client.post(
            f"/api/v1/t/{code}/orgs", headers=headers, json={"name": name, "level": "committee"}
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    for parent, name, kind in (
        ("老干部党委", "梅园社区支部", "community"),
        ("老干部党委", "老年大学支部", "society"),
        ("机关党委", "梅园社区支部", "original_unit"),
    ):
        response = await client.post(
            f"/api/v1/t/{code}/orgs",
            headers=headers,
            json={"name": name, "level": "branch", "kind": kind, "parent_id": ids[parent]},
        )
        assert response.status_code == 201, response.text
        ids[f"{parent}/{name}"] = response.json()["id"]
    return ids


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, code: str = "320102", **form: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/t/{code}/members/imports",
        headers=headers,
        files={"file": ("党员名册.xlsx", data, XLSX)},
        data=form,
    )


async def member_names(client: httpx.AsyncClient, headers: dict[str, str], code: str = "320102") -> list[str]:
    body = (await client.get(f"/api/v1/t/{code}/members?page_size=200", headers=headers)).json()
    return sorted(m["name"] for m in body["items"])


async def test_the_template_downloads_and_a_filled_copy_uploads_cleanly(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    response = await client.get("/api/v1/t/320102/members/import-template", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    assert "filename*=UTF-8''" in response.headers["content-disposition"]

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["党员名册", "填写说明", "选项"]
    assert book["选项"].sheet_state == "hidden"
    sheet = book["党员名册"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A2"].value == "王建国" and sheet["P2"].value.startswith("示例行")  # the example row
    assert sheet.freeze_panes == "B2" and sheet.page_setup.orientation == "landscape"
    assert sheet.column_dimensions["D"].number_format == "@"  # ID numbers stay text
    lists = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert {"B2", "F2", "J2", "L2", "O2", "D2"} <= set(lists)  # sex, 离休/退休, party, health, branch, ID length
    choices = [c.value for c in book["选项"]["E"][1:] if c.value]
    assert choices == ["机关党委/梅园社区支部", "老干部党委/梅园社区支部", "老年大学支部"]
    explained = {row[0].value for row in book["填写说明"].iter_rows() if row[0].value}
    assert set(HEADERS) <= explained

    sheet.append(person(1, branch="老干部党委/梅园社区支部"))
    sheet.append(person(2, branch="老年大学支部"))
    sheet.append(person(3, 身份证号="", 性别="女", branch=""))
    buffer = io.BytesIO()
    book.save(buffer)
    imported = await upload(client, admin, buffer.getvalue())
    assert imported.status_code == 201, imported.text
    job = imported.json()
    assert (job["status"], job["created"], job["total_rows"], job["errors"]) == ("done", 3, 3, [])
    assert job["percent"] == 100 and job["message"].startswith("导入完成")
    assert imported.headers["location"] == f"/api/v1/t/320102/members/imports/{job['id']}"

    members = (await client.get("/api/v1/t/320102/members?page_size=50", headers=admin)).json()["items"]
    by_name = {m["name"]: m for m in members}
    assert sorted(by_name) == ["老同志1", "老同志2", "老同志3"]  # the example row was left out
    first = by_name["老同志1"]
    assert first["formal_org_name"] == "梅园社区支部" and first["health_class"] == "limited"
    assert first["specialties"] == ["书法", "摄影"] and first["phone"] == "139****0001"
    assert by_name["老同志3"]["id_number"] is None and by_name["老同志3"]["gender"] == "female"


async def test_a_file_with_bad_rows_reports_each_and_imports_nothing(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    rows = [person(i) for i in range(2, 15)]  # Excel rows 2..14
    by_row = {n: rows[n - 2] for n in range(2, 15)}
    good_id = by_row[5][3]
    by_row[5][3] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # wrong check digit
    by_row[7][10] = datetime.date(1930, 1, 1)  # joined the party before birth
    by_row[9][14] = "不存在支部"  # unknown branch
    by_row[10][14] = "梅园社区支部"  # two committees have one
    by_row[12][3] = by_row[11][3]  # the same ID number twice
    by_row[12][2] = by_row[11][2]
    by_row[13][0] = ""  # no name
    by_row[14][4] = "12345"  # not a phone number

    response = await upload(client, admin, workbook_bytes(rows))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "member_import.rows_invalid"
    assert "没有导入任何数据" in error["message"]
    found = {(d["row"], d["column"]): d["message"] for d in error["details"]}
    assert "校验位" in found[(5, "身份证号")]
    assert "入党日期" in found[(7, "入党日期")] and "不能早于出生日期" in found[(7, "入党日期")]
    assert "没有名为“不存在支部”的党支部" in found[(9, "所在党支部")]
    assert "老干部党委/梅园社区支部" in found[(10, "所在党支部")]
    assert found[(11, "身份证号")] == "身份证号与第 12 行重复" and found[(12, "身份证号")] == "身份证号与第 11 行重复"
    assert found[(13, "姓名")] == "姓名不能为空"
    assert "联系电话格式不正确" in found[(14, "联系电话")]
    assert {d["row"] for d in error["details"]} == {5, 7, 9, 10, 11, 12, 13, 14}
    assert await member_names(client, admin) == []

    # The job keeps the same report, for whoever looks later.
    job = (await client.get(response.headers["location"], headers=admin)).json()
    assert job["status"] == "failed" and job["created"] == 0 and job["error_count"] == len(error["details"])
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(d["row"], d["column"]) for d in error["details"]]
    english = await client.get(response.headers["location"] + "?lang=en", headers=admin)
    assert "check digit" in next(e["message"] for e in english.json()["errors"] if e["row"] == 5)
    report = await client.get(response.headers["location"] + "/errors", headers=admin)
    assert report.status_code == 200 and report.headers["content-type"].startswith(XLSX)
    listed = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(min_row=4, values_only=True))
    assert [(r[1], r[2]) for r in listed] == sorted(found)
    assert not any(by_row[11][3] in str(v) for r in listed for v in r)  # no personal data in the report


async def test_good_rows_mode_imports_only_the_clean_rows(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    rows = [person(i) for i in range(1, 7)]
    rows[1][3] = "320102194001011230"  # bad check digit
    rows[4][0] = None

    strict = await upload(client, admin, workbook_bytes(rows))
    assert strict.status_code == 422 and await member_names(client, admin) == []

    response = await upload(client, admin, workbook_bytes(rows), mode="good_rows")
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["status"], job["mode"], job["created"], job["skipped"]) == ("done", "good_rows", 4, 2)
    assert {e["row"] for e in job["errors"]} == {3, 6}
    assert "2 行有错误" in job["message"]
    assert await member_names(client, admin) == ["老同志1", "老同志3", "老同志4", "老同志6"]

    audit = (await client.get("/api/v1/t/320102/audit?page_size=500", headers=admin)).json()["items"]
    imports = [e for e in audit if e["action"] == "import"]
    assert len(imports) == 1 and imports[0]["after"]["created"] == 4 and imports[0]["actor_name"] == "xw-admin"
    created = [e for e in audit if e["action"] == "create" and e["entity_type"] == "member"]
    assert len(created) == 4 and all(e["after"]["id_number"] == "***" for e in created)


async def test_an_id_number_already_in_the_ledger_is_an_error_or_an_update(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    assert (await upload(client, admin, workbook_bytes([person(1), person(2)]))).status_code == 201
    changed = person(1, 联系电话="13700000000", 居住社区="南京新村社区")
    again = await upload(client, admin, workbook_bytes([changed, person(3)]))
    assert again.status_code == 422
    detail = again.json()["error"]["details"]
    assert [(d["row"], d["code"]) for d in detail] == [(2, "member.duplicate_id_number")]
    assert "已有档案（老同志1）" in detail[0]["message"]

    update = await upload(client, admin, workbook_bytes([changed, person(3)]), on_duplicate="update")
    assert update.status_code == 201, update.text
    assert (update.json()["created"], update.json()["updated"]) == (1, 1)
    members = (await client.get("/api/v1/t/320102/members?q=老同志1", headers=admin)).json()["items"]
    assert members[0]["phone"] == "137****0000"
    history = (await client.get(f"/api/v1/t/320102/members/{members[0]['id']}/history", headers=admin)).json()
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[1]["changes"]["residence_community"] == {"before": "梅园新村社区", "after": "南京新村社区"}


async def test_a_large_file_runs_in_the_background_and_reports_progress(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 50)
    monkeypatch.setattr(jobs, "VALIDATE_CHUNK", 40)
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0.0)
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    rows = [person(i, prefix="320102" if i < 100 else "320104") for i in range(1, 241)]

    response = await upload(client, admin, workbook_bytes(rows))
    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["background"], queued["percent"]) == ("queued", True, 0)
    assert await member_names(client, admin) == []

    # The runner that `yinling worker` runs (with Redis) or the web process (embedded), here in the test.
    stop = asyncio.Event()
    runner = asyncio.create_task(MemberImports(pg_platform).run(stop))
    seen: list[tuple[str, int]] = []
    try:
        for _ in range(600):
            job = (await client.get(response.headers["location"], headers=admin)).json()
            seen.append((job["status"], job["percent"]))
            if job["status"] in {"done", "failed"}:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await runner
    assert job["status"] == "done", job
    assert (job["created"], job["total_rows"], job["processed_rows"], job["percent"]) == (240, 240, 240, 100)
    assert job["started_at"] is not None and job["finished_at"] is not None
    percents = [p for _, p in seen]
    assert percents == sorted(percents)  # progress never goes back
    async with pg_platform.database.session(TenantScope.system()) as session:
        count = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
    assert count == 240
    listed = (await client.get("/api/v1/t/320102/members/imports", headers=admin)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == queued["id"]


async def test_a_background_job_whose_file_is_bad_fails_with_the_reason(
    client: httpx.AsyncClient, world: dict[str, Any], pg_platform: Platform
) -> None:
    admin = await token(client, "xw-admin")
    response = await upload(
        client, admin, workbook_bytes([["张三", "男"]], headers=["名字不对", "性别"]), background="true"
    )
    assert response.status_code == 202
    assert await MemberImports(pg_platform).run_once() == 1
    job = (await client.get(response.headers["location"], headers=admin)).json()
    assert job["status"] == "failed" and "没有找到表头" in job["message"]
    assert job["errors"][0]["row"] is None


async def test_a_non_xlsx_upload_is_refused(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    for name, data, kind in (
        ("照片.xlsx", PNG, XLSX),
        ("名册.csv", "姓名,性别\n张三,男\n".encode(), "text/csv"),
    ):
        response = await client.post(
            "/api/v1/t/320102/members/imports", headers=admin, files={"file": (name, data, kind)}
        )
        assert response.status_code == 415, response.text
        error = response.json()["error"]
        assert error["code"] == "member_import.not_xlsx" and "只能导入 Excel 表格（.xlsx）" in error["message"]
    orgs = await client.post("/api/v1/t/320102/orgs/imports", headers=admin, files={"file": ("a.xlsx", PNG, XLSX)})
    assert orgs.status_code == 415
    empty = await upload(client, admin, workbook_bytes([]))
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "import.no_rows"
    member_cannot_import = await client.get(
        f"/api/v1/t/320102/members/imports/{uuid.uuid4()}", headers=await token(client, "xw-member")
    )
    assert member_cannot_import.status_code == 403


async def test_the_export_masks_personal_data_and_keeps_to_the_tenant_scope(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    xuanwu = await token(client, "xw-admin")
    qinhuai = await token(client, "qh-admin")
    danyang = await token(client, "dy-admin")
    await make_orgs(client, xuanwu)
    await make_orgs(client, qinhuai, "320104")
    await make_orgs(client, danyang, "321181")
    assert (await upload(client, xuanwu, workbook_bytes([person(1), person(2)]))).status_code == 201
    qh_rows = [person(3, "320104", 姓名="秦淮同志")]
    assert (await upload(client, qinhuai, workbook_bytes(qh_rows), code="320104")).status_code == 201
    dy_rows = [person(4, "321181", 姓名="丹阳同志")]
    assert (await upload(client, danyang, workbook_bytes(dy_rows), code="321181")).status_code == 201

    async def export(user: dict[str, str], code: str, query: str = "") -> Any:
        response = await client.get(f"/api/v1/t/{code}/members/export{query}", headers=user)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(XLSX)
        return load_workbook(io.BytesIO(response.content)).active

    city = await export(await token(client, "nj-admin"), "320100")
    assert "南京市" in city["A1"].value and datetime.date.today().isoformat() in str(city["A2"].value)
    assert [c.value for c in city[3]][:4] == ["序号", "所属单位", "姓名", "性别"]
    names = {(r[1], r[2]) for r in city.iter_rows(min_row=4, values_only=True)}
    assert names == {("玄武区", "老同志1"), ("玄武区", "老同志2"), ("秦淮区", "秦淮同志")}  # not 丹阳
    assert city.freeze_panes == "A4" and city.print_title_rows == "$3:$3"
    assert city.page_setup.orientation == "landscape" and city.page_setup.fitToWidth == 1
    assert city.sheet_properties.pageSetUpPr.fitToPage and city.column_dimensions["G"].width >= 18

    county = await export(xuanwu, "320102")
    rows = list(county.iter_rows(min_row=4, values_only=True))
    assert [r[2] for r in rows] == ["老同志1", "老同志2"]
    everything = " ".join(str(v) for r in county.iter_rows(values_only=True) for v in r if v is not None)
    for i in (1, 2):
        full_id, phone = person(i)[3], person(i)[4]
        assert full_id not in everything and phone not in everything
        assert full_id[:4] + "*" * 10 + full_id[-4:] in everything and phone[:3] + "****" + phone[-4:] in everything
    assert rows[0][17] == "老年大学支部"

    filtered = await export(xuanwu, "320102", "?q=老同志2")
    assert [r[2] for r in filtered.iter_rows(min_row=4, values_only=True)] == ["老同志2"]
    assert (await client.get("/api/v1/t/320104/members/export", headers=xuanwu)).status_code == 403

    orgs = (await client.get("/api/v1/t/320100/orgs/export", headers=await token(client, "nj-admin"))).content
    sheet = load_workbook(io.BytesIO(orgs)).active
    org_rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert {r[1] for r in org_rows} == {"玄武区", "秦淮区"} and len(org_rows) == 10
    branch = next(r for r in org_rows if r[1] == "玄武区" and r[2] == "老年大学支部")
    assert (branch[3], branch[4], branch[5], branch[8]) == ("党支部", "社团支部", "老干部党委", 2)
    audit = (await client.get("/api/v1/t/320102/audit?action=export", headers=xuanwu)).json()["items"]
    assert {a["after"]["rows"] for a in audit} == {2, 1}


async def test_the_organisation_tree_imports_from_a_sheet(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    admin = await token(client, "xw-admin")
    template = await client.get("/api/v1/t/320102/orgs/import-template", headers=admin)
    assert template.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(template.content)).active[1]] == [
        "名称",
        "层级",
        "支部类型",
        "上级组织",
    ]
    headers = ["名称", "层级", "支部类型", "上级组织"]
    bad = [
        ["老干部党委", "党委", None, None],
        ["梅园社区支部", "党支部", "社区支部", "老干部党委"],
        ["第一党小组", "党小组", None, "老干部党委/梅园社区支部"],
        ["错误支部", "党支部", None, "第一党小组"],  # a branch cannot sit under a group
        ["孤儿支部", "党支部", None, "没有的党委"],
        ["小组", "党小组", "社区支部", "梅园社区支部"],  # kind only for branches
    ]
    response = await client.post(
        "/api/v1/t/320102/orgs/imports",
        headers=admin,
        files={"file": ("党组织.xlsx", workbook_bytes(bad, headers), XLSX)},
    )
    assert response.status_code == 422, response.text
    found = {(d["row"], d["column"]): d["message"] for d in response.json()["error"]["details"]}
    assert set(found) == {(5, "上级组织"), (6, "上级组织"), (7, "支部类型")}
    assert "党小组" in found[(5, "上级组织")] and "没有名为“没有的党委”" in found[(6, "上级组织")]
    assert (await client.get("/api/v1/t/320102/orgs", headers=admin)).json() == []

    good = [*bad[:3], ["老年大学支部", "党支部", "社团支部", "老干部党委"]]
    for expected in ((4, 0), (0, 4)):  # the same sheet again changes nothing
        response = await client.post(
            "/api/v1/t/320102/orgs/imports",
            headers=admin,
            files={"file": ("党组织.xlsx", workbook_bytes(good, headers), XLSX)},
        )
        assert response.status_code == 201, response.text
        assert (response.json()["created"], response.json()["existing"]) == expected
    listed = (await client.get("/api/v1/t/320102/orgs", headers=admin)).json()
    assert {o["name"] for o in listed} == {"第一党小组", "老年大学支部", "老干部党委", "梅园社区支部"}


@pytest.mark.embedded
async def test_the_web_process_runs_background_imports_in_embedded_mode(embedded_settings: Any) -> None:
    """Without Redis the web process runs the import runner itself (SQLite, files on disk), woken in-process."""
    from core.db.migrate import upgrade
    from core.web.app import create_app
    from tests.conftest import http_client, migration_dirs_for_tests
    from tests.support import running, seed_world

    await asyncio.to_thread(upgrade, embedded_settings, "heads", migration_dirs_for_tests())
    platform = Platform.from_settings(embedded_settings)
    await seed_world(platform)
    app = create_app(embedded_settings, platform=platform)
    try:
        async with running(app), http_client(app) as client:
            admin = await token(client, "xw-admin")
            await make_orgs(client, admin)
            rows = [person(i) for i in range(1, 61)]
            response = await upload(client, admin, workbook_bytes(rows), background="true")
            assert response.status_code == 202, response.text
            for _ in range(200):
                job = (await client.get(response.headers["location"], headers=admin)).json()
                if job["status"] in {"done", "failed"}:
                    break
                await asyncio.sleep(0.05)
            assert (job["status"], job["created"]) == ("done", 60), job
            assert len(await member_names(client, admin)) == 60
            exported = await client.get("/api/v1/t/320102/members/export", headers=admin)
            assert exported.status_code == 200
            assert load_workbook(io.BytesIO(exported.content)).active.max_row == 63
    finally:
        await platform.close()


async def test_a_bureaus_own_spreadsheet_imports_as_it_is(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    """A title row above the header, headers spelt their way, a 序号 column, dates Excel shows as numbers."""
    admin = await token(client, "xw-admin")
    await make_orgs(client, admin)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["玄武区离退休干部党员花名册"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "姓 名", "身份证号码", "手机号", "入党时间", "健康状况", "党支部"])
    birth = datetime.date(1948, 3, 15)
    sheet.append([1, "王建国", idcard.make("320102", birth, 31, "male"), "138 1234 5678", 26481, "正常活动", None])
    sheet.append(
        [2, "李秀英", idcard.make("320102", birth, 32, "female"), 13900001111, "1975.7.1", None, "老年大学支部"]
    )
    sheet.append([None, None, None, None, None, None, None])  # blank rows are left out
    buffer = io.BytesIO()
    book.save(buffer)
    response = await upload(client, admin, buffer.getvalue())
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["created"], job["ignored_columns"]) == (2, ["序号"])
    members = {m["name"]: m for m in (await client.get("/api/v1/t/320102/members", headers=admin)).json()["items"]}
    assert members["王建国"]["party_joined_on"] == "1972-07-01" and members["王建国"]["phone"] == "138****5678"
    assert members["李秀英"]["party_joined_on"] == "1975-07-01" and members["李秀英"]["gender"] == "female"
    assert members["李秀英"]["formal_org_name"] == "老年大学支部"
