"""Documents of a case, as .docx in Chinese: the 调解协议书 (from a template the tenant can replace) and the
case file 卷宗 (assembled in the prescribed order).

The agreement template
----------------------
The package ships ``docx/agreement.docx``. A tenant may upload its own (``PUT …/mediation/templates/agreement``,
a Word .docx); it is kept in object storage and used for that tenant's cases instead. Write the placeholders
below anywhere in the document's paragraphs or tables (each one in a single style, so Word keeps it in one
piece; a placeholder split across differently formatted runs is still found, but takes the first run's
format). The People's Mediation Law (人民调解法 第二十九条) requires the parties, the dispute, the agreed terms,
how and when they are performed, and the signatures: a replacement must contain ``{{当事人}}``, ``{{纠纷事实}}``,
``{{协议内容}}``, ``{{履行方式}}`` and ``{{履行期限}}``, or it is refused with the missing ones named.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.errors import ErrorSpec

DEFAULT_TEMPLATE = Path(__file__).parent / "docx" / "agreement.docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PLACEHOLDERS: dict[str, str] = {
    "案号": "案号，如（2026）调字第1号",
    "单位": "调解组织所在单位（县、区）",
    "调解组织": "调解室名称",
    "当事人": "各方当事人的基本情况（姓名、性别、身份证号、住址、电话；单位名称与代表人）",
    "纠纷事实": "纠纷的主要事实、争议事项以及各方当事人的责任",
    "协议内容": "达成的协议条款（逐条编号）",
    "履行方式": "履行的方式",
    "履行期限": "履行的期限",
    "调解员": "主持调解的人民调解员",
    "日期": "协议日期",
    "签名": "各方当事人签名、盖章或按指印处",
}
REQUIRED = ("当事人", "纠纷事实", "协议内容", "履行方式", "履行期限")

TEMPLATE_INVALID = ErrorSpec(
    "mediation.template_invalid",
    422,
    "这个文件不是可以使用的 Word 模板（.docx）：{reason_zh}",
    "This file is not a usable Word template (.docx): {reason_en}",
)
TEMPLATE_INCOMPLETE = ErrorSpec(
    "mediation.template_incomplete",
    422,
    "调解协议书模板缺少人民调解法要求的内容，请在模板中加入这些占位符：{missing}",
    "The agreement template lacks items the People's Mediation Law requires; add these placeholders: {missing}",
)

SIDE_ZH = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}
GENDER_ZH = {"male": "男", "female": "女", "": ""}


def _font(document: DocumentObject, name: str = "宋体", size: float = 12) -> None:
    style = document.styles["Normal"]
    style.font.name = name
    style.font.size = Pt(size)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _title(document: DocumentObject, text: str, size: float = 20) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(size)


def make_default_template() -> bytes:
    """The shipped agreement template (how ``docx/agreement.docx`` was made; run again to rebuild it)."""
    document = Document()
    _font(document)
    for section in document.sections:
        section.top_margin = section.bottom_margin = Cm(2.5)
        section.left_margin = section.right_margin = Cm(2.8)
    _title(document, "人民调解协议书")
    number = document.add_paragraph("{{案号}}")
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph("调解组织：{{单位}}{{调解组织}}")
    document.add_paragraph("当事人基本情况：")
    document.add_paragraph("{{当事人}}")
    document.add_paragraph("纠纷主要事实、争议事项及各方当事人责任：")
    document.add_paragraph("{{纠纷事实}}")
    document.add_paragraph("经调解，各方当事人自愿达成如下协议：")
    document.add_paragraph("{{协议内容}}")
    document.add_paragraph("履行方式：{{履行方式}}")
    document.add_paragraph("履行期限：{{履行期限}}")
    document.add_paragraph(
        "本协议一式三份，各方当事人和人民调解委员会各执一份。本协议自各方当事人签名、盖章或者按指印，"
        "人民调解员签名并加盖人民调解委员会印章之日起生效。经人民调解委员会调解达成的调解协议，具有法律约束力，"
        "当事人应当按照约定履行。双方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。"
    )
    document.add_paragraph("当事人（签名、盖章或按指印）：")
    document.add_paragraph("{{签名}}")
    document.add_paragraph("人民调解员（签名）：{{调解员}}")
    document.add_paragraph("人民调解委员会（印章）")
    dated = document.add_paragraph("{{日期}}")
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def default_template() -> bytes:
    return DEFAULT_TEMPLATE.read_bytes()


# --- filling placeholders --------------------------------------------------------------------------


def _tables_paragraphs(tables: Iterable[Table]) -> Iterator[Paragraph]:
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
                yield from _tables_paragraphs(cell.tables)


def _paragraphs(document: DocumentObject) -> Iterator[Paragraph]:
    yield from document.paragraphs
    yield from _tables_paragraphs(document.tables)
    for section in document.sections:
        for part in (section.header, section.footer):
            yield from part.paragraphs
            yield from _tables_paragraphs(part.tables)


def placeholders_in(document: DocumentObject) -> set[str]:
    found = set()
    for paragraph in _paragraphs(document):
        text = paragraph.text
        found |= {name for name in PLACEHOLDERS if "{{" + name + "}}" in text}
    return found


def load_template(content: bytes) -> DocumentObject:
    try:
        return Document(io.BytesIO(content))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise TEMPLATE_INVALID.error(
            field="file", reason_zh="无法打开，可能已损坏或不是 Word 文档", reason_en="it cannot be opened"
        ) from exc


def check_template(content: bytes) -> None:
    """A replacement must open and carry every placeholder the law's required items need."""
    missing = [name for name in REQUIRED if name not in placeholders_in(load_template(content))]
    if missing:
        raise TEMPLATE_INCOMPLETE.error(field="file", missing="、".join("{{" + m + "}}" for m in missing))


def fill(content: bytes, values: dict[str, str]) -> bytes:
    """Replace ``{{名称}}`` placeholders in the template (line breaks in values become line breaks)."""
    document = load_template(content)
    for paragraph in _paragraphs(document):
        runs = paragraph.runs
        text = "".join(run.text for run in runs)
        if "{{" not in text:
            continue
        replaced = text
        for name, value in values.items():
            replaced = replaced.replace("{{" + name + "}}", value)
        if replaced == text:
            continue
        runs[0].text = replaced
        for run in runs[1:]:
            run.text = ""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- what goes into the documents ------------------------------------------------------------------


@dataclass
class PartyInfo:
    side: str
    kind: str
    name: str
    gender: str
    representative: str
    id_number: str | None
    phone: str | None
    address: str | None

    def line(self) -> str:
        parts = [f"{SIDE_ZH.get(self.side, self.side)}：{self.name}"]
        if self.kind == "person":
            if self.gender:
                parts.append(GENDER_ZH.get(self.gender, self.gender))
            if self.id_number:
                parts.append(f"身份证号码 {self.id_number}")
        else:
            if self.id_number:
                parts.append(f"统一社会信用代码 {self.id_number}")
            if self.representative:
                parts.append(f"法定代表人（负责人）{self.representative}")
        if self.address:
            parts.append(f"住址 {self.address}")
        if self.phone:
            parts.append(f"联系电话 {self.phone}")
        return "，".join(parts) + "。"


@dataclass
class CaseInfo:
    number: str
    tenant_name: str
    room_name: str
    case_type_zh: str
    title: str
    description: str
    status_zh: str
    received_on: datetime.date
    outcome_on: datetime.date | None
    parties: list[PartyInfo]
    mediators: list[str]
    agreement: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)  # {seq, action_zh, on, note, actor, kind}
    attachments: list[dict[str, Any]] = field(default_factory=list)  # {kind, caption, name, content, type}


def zh_date(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def agreement_values(case: CaseInfo) -> dict[str, str]:
    agreement = case.agreement or {}
    terms = agreement.get("terms") or []
    deadline = agreement.get("performance_deadline")
    dispute = "\n".join(x for x in (case.description, agreement.get("dispute") or "") if x)
    return {
        "案号": case.number,
        "单位": case.tenant_name,
        "调解组织": case.room_name,
        "当事人": "\n".join(p.line() for p in case.parties),
        "纠纷事实": dispute,
        "协议内容": "\n".join(f"{i}. {t}" for i, t in enumerate(terms, 1)),
        "履行方式": str(agreement.get("performance_method") or ""),
        "履行期限": zh_date(datetime.date.fromisoformat(deadline)) if deadline else "",
        "调解员": "、".join(case.mediators),
        "日期": zh_date(case.outcome_on),
        "签名": "\n".join(f"{SIDE_ZH.get(p.side, p.side)}：{p.name}（签名）__________" for p in case.parties),
    }


def agreement_docx(template: bytes, case: CaseInfo) -> bytes:
    return fill(template, agreement_values(case))


# --- the case file (卷宗) ---------------------------------------------------------------------------

#: The order of a mediation case file (人民调解卷宗): cover and index first, the back sheet last.
DOSSIER_SECTIONS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (key, title, step actions shown, attachment kinds filed)
    ("application", "人民调解申请书、受理登记及权利义务告知", ("intake",), ("application",)),
    ("identity", "当事人身份证明材料", (), ("identity",)),
    ("investigation", "人民调解调查记录", ("investigate", "record:investigation"), ("investigation",)),
    ("mediation", "人民调解记录", ("mediate", "record:mediation", "extend", "fail", "refer"), ("record",)),
    ("agreement", "人民调解协议书", ("settle", "confirm"), ("agreement",)),
    ("follow_up", "履行情况及回访记录", ("perform", "follow_up"), ("follow_up",)),
    ("evidence", "其他证据材料", (), ("evidence", "other")),
)


def _picture(document: DocumentObject, content: bytes) -> bool:
    try:
        document.add_picture(io.BytesIO(content), width=Cm(12))
    except Exception:  # noqa: BLE001 - a picture python-docx cannot read is listed, not embedded
        return False
    return True


def dossier_docx(case: CaseInfo) -> bytes:
    """The case file as one .docx: cover, index, the sections in order (steps and filed materials; photos
    embedded), and the back sheet (备考表)."""
    document = Document()
    _font(document)
    # Cover
    _title(document, "人民调解卷宗", 26)
    for label, value in (
        ("单位", case.tenant_name),
        ("调解组织", case.room_name),
        ("案号", case.number),
        ("案由", f"{case.case_type_zh}：{case.title}"),
        ("当事人", "、".join(p.name for p in case.parties)),
        ("调解员", "、".join(case.mediators)),
        ("受理日期", zh_date(case.received_on)),
        ("结案日期", zh_date(case.outcome_on)),
        ("调解结果", case.status_zh),
    ):
        document.add_paragraph(f"{label}：{value}")
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    filed: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = []
    for key, title, actions, kinds in DOSSIER_SECTIONS:
        steps = [s for s in case.steps if s["action"] in actions or f"{s['action']}:{s.get('kind')}" in actions]
        files = [a for a in case.attachments if a["kind"] in kinds]
        if key == "application" or steps or files:
            filed.append((title, steps, files))

    # Index
    _title(document, "卷内目录", 16)
    index = document.add_table(rows=1, cols=3)
    index.style = "Table Grid"
    for cell, text in zip(index.rows[0].cells, ("序号", "材料名称", "件数"), strict=True):
        cell.text = text
    for number, (title, steps, files) in enumerate(filed, 1):
        row = index.add_row().cells
        row[0].text, row[1].text, row[2].text = str(number), title, str(len(steps) + len(files))
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # Sections in order
    for number, (title, steps, files) in enumerate(filed, 1):
        document.add_heading(f"{number}. {title}", level=2)
        if title.startswith("人民调解申请书"):
            document.add_paragraph(f"纠纷简要情况：{case.description}")
            for party in case.parties:
                document.add_paragraph(party.line())
        if title == "人民调解协议书" and case.agreement:
            values = agreement_values(case)
            document.add_paragraph(f"协议内容：\n{values['协议内容']}")
            document.add_paragraph(f"履行方式：{values['履行方式']}；履行期限：{values['履行期限']}")
        for step in steps:
            line = f"{zh_date(step['on'])} {step['action_zh']}（{step['actor']}）"
            document.add_paragraph(line + (f"：{step['note']}" if step["note"] else ""))
        for item in files:
            document.add_paragraph(f"附：{item['caption'] or item['name']}（{item['name']}）")
            content = item.get("content")
            if content and str(item.get("type", "")).startswith("image/") and not _picture(document, content):
                document.add_paragraph("（图片无法嵌入，原件见电子档案）")
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # Back sheet
    _title(document, "备考表", 16)
    total = sum(len(s) + len(f) for _, s, f in filed)
    document.add_paragraph(f"本卷共 {len(filed)} 类材料，{total} 件。")
    document.add_paragraph(f"立卷日期：{zh_date(datetime.date.today())}")
    document.add_paragraph("立卷人：__________    检查人：__________")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
