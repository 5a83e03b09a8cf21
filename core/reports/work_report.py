"""The work report draft (工作情况汇报): a .docx in Chinese for a tenant and period, written from the roll-up.

A section per part of the work — the organisations, organisation life, then each programme active in the
tenant — whose paragraphs state the figures the way bureaus' own reports do ("组织开展各类活动150场次，参与党员
达2000人次"), with the change against the previous period; a table with a row per child tenant; a bar chart.

The tenant may replace the template: an uploaded .docx in which ``{{单位}}``, ``{{期间}}`` and ``{{日期}}``
are filled in and the paragraph ``{{正文}}`` is replaced by the report's body (letterhead, fonts and page set-up
stay the tenant's). Without one, the nearest ancestor's is used, else a plain built-in layout.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from core.orglife import metrics as m
from core.plugin_host.declarations import Aggregation, MetricSpec
from core.reports.rollup import Rollup, Values

BODY_PLACEHOLDER = "{{正文}}"
CHINESE_NUMERALS = "一二三四五六七八九十"
LEVEL_ZH = {"province": "省", "city": "市", "county": "县（区）"}


@dataclass(frozen=True)
class Programme:
    """A section of the report: a plugin active in the tenant and its metrics."""

    title: str
    specs: list[MetricSpec]


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _figure(spec: MetricSpec, value: float | None) -> str:
    return _pct(value) if spec.aggregation is Aggregation.RATE else f"{_num(value)}{spec.unit_zh}"


def _change(now: float | None, before: float | None) -> str:
    """ "较上期增长12.5%" / "与上期持平" / "" when there is nothing to compare with."""
    if now is None or before is None or before == 0:
        return ""
    delta = (now - before) / before * 100
    if abs(delta) < 0.05:
        return "与上期持平"
    return f"较上期{'增长' if delta > 0 else '下降'}{abs(delta):.1f}%"


def core_paragraphs(result: Rollup) -> list[tuple[str, list[str]]]:
    """The two core sections, in the bureaus' own phrasing."""
    v, p = result.total.values, result.total.previous
    scope = f"全{LEVEL_ZH.get(result.node.level, '')}" if result.children else ""
    kinds = [
        (spec.label_zh.removesuffix("数"), v.get(spec.id))
        for spec in m.core_metrics()
        if spec.id.startswith(m.BRANCHES + ".") and v.get(spec.id)
    ]
    org = f"{scope}共有离退休干部党支部{_num(v.get(m.BRANCHES))}个，覆盖离退休干部党员{_num(v.get(m.MEMBERS))}人"
    if kinds:
        org += "，其中" + "、".join(f"{name}{_num(n)}个" for name, n in kinds)
    org += "。"
    six = (
        f"党支部“六有”达标率{_pct(v.get(m.SIX_HAVES_RATE))}，“六有”全部达标的支部{_num(v.get(m.SIX_HAVES_COMPLETE))}个"
    )
    if v.get(m.MODEL_BRANCHES):
        six += f"，评出示范党支部{_num(v.get(m.MODEL_BRANCHES))}个"
    six += "。"
    life = (
        f"{result.period.label}，组织开展各类活动{_num(v.get(m.ACTIVITIES))}场次，"
        f"参与党员达{_num(v.get(m.ATTENDANCE))}人次，出席率{_pct(v.get(m.ATTENDANCE_RATE))}"
    )
    change = _change(v.get(m.ATTENDANCE), p.get(m.ATTENDANCE))
    life += f"，参与人次{change}" if change else ""
    life += f"；开展党课{_num(v.get(m.LECTURES))}场，受教育党员{_num(v.get(m.LECTURE_AUDIENCE))}人次。"
    return [("组织建设", [org, six]), ("组织生活", [life])]


def programme_paragraph(result: Rollup, programme: Programme) -> str:
    """One sentence of figures per programme, in declaration order.

    A metric whose id extends another of the same programme (``talent_pool.experts.education`` under
    ``talent_pool.experts``) is a breakdown: it follows its total as "其中…", and only the parts that are not zero
    are named (a report that lists thirteen fields of expertise at 0 says nothing). Breakdowns of rates are left
    to the tables of the Excel export.
    """
    v, p = result.total.values, result.total.previous
    ids = {spec.id for spec in programme.specs}

    def parent_of(spec: MetricSpec) -> str | None:
        head = spec.id
        while "." in head:
            head = head.rsplit(".", 1)[0]
            if head in ids:
                return head
        return None

    breakdowns: dict[str, list[MetricSpec]] = {}
    for spec in programme.specs:
        parent = parent_of(spec)
        if parent is not None:
            breakdowns.setdefault(parent, []).append(spec)
    parts = []
    for spec in programme.specs:
        if parent_of(spec) is not None:
            continue
        text = f"{spec.label_zh}{_figure(spec, v.get(spec.id))}"
        change = _change(v.get(spec.id), p.get(spec.id)) if spec.aggregation is not Aggregation.RATE else ""
        text = f"{text}（{change}）" if change else text
        named = [
            f"{part.label_zh}{_figure(part, v.get(part.id))}"
            for part in breakdowns.get(spec.id, [])
            if part.aggregation is not Aggregation.RATE and v.get(part.id)
        ]
        parts.append(f"{text}（其中{'、'.join(named)}）" if named else text)
    return f"{result.period.label}，" + "，".join(parts) + "。" if parts else "本期暂无统计数据。"


@cache
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if "CJK SC" in font.name or font.name in ("WenQuanYi Zen Hei", "SimHei", "Source Han Sans SC"):
            return str(font.name)
    return None


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str) -> bytes:
    """A PNG bar chart (matplotlib, no display); tenant codes stand in for names if no CJK font is present."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    font = _cjk_font()
    if font:
        plt.rcParams["font.family"] = [font]
    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=150)
    try:
        axes.bar(range(len(values)), values, color="#9c2b23")
        axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0, ha="right", fontsize=8)
        axes.set_title(title if font else "", fontsize=10)
        for x, y in enumerate(values):
            axes.annotate(_num(y), (x, y), ha="center", va="bottom", fontsize=7)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _set_east_asian_font(document: Any, name: str = "仿宋") -> None:
    style = document.styles["Normal"]
    style.font.name = name
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), name)
    style.paragraph_format.line_spacing = 1.5
    style.paragraph_format.first_line_indent = Pt(28)


def _replace_fields(document: Any, fields: dict[str, str]) -> None:
    for paragraph in document.paragraphs:
        for key, value in fields.items():
            if key in paragraph.text:
                text = paragraph.text.replace(key, value)
                for run in paragraph.runs[1:]:
                    run.text = ""
                if paragraph.runs:
                    paragraph.runs[0].text = text


def build_work_report(
    result: Rollup,
    programmes: Sequence[Programme],
    *,
    child_specs: Sequence[MetricSpec],
    template: bytes | None = None,
    today: datetime.date | None = None,
) -> bytes:
    day = today or datetime.date.today()
    document = Document(io.BytesIO(template)) if template else Document()
    fields = {
        "{{单位}}": result.node.name,
        "{{期间}}": result.period.label,
        "{{日期}}": f"{day.year}年{day.month}月{day.day}日",
    }
    placeholder = next((p for p in document.paragraphs if BODY_PLACEHOLDER in p.text), None)
    if template is None:
        _set_east_asian_font(document)
        for section in document.sections:
            section.left_margin = section.right_margin = Cm(2.8)
    body = document.element.body
    existing = set(body)
    if template is None or placeholder is None:
        title = document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.first_line_indent = Pt(0)
        run = title.add_run(f"{result.node.name}{result.period.label}离退休干部工作情况汇报")
        run.bold = True
        run.font.size = Pt(20)
        dated = document.add_paragraph(fields["{{日期}}"])
        dated.alignment = WD_ALIGN_PARAGRAPH.CENTER

    sections = core_paragraphs(result)
    sections += [(p.title, [programme_paragraph(result, p)]) for p in programmes]
    for number, (heading, paragraphs) in enumerate(sections):
        head = document.add_paragraph()
        head.paragraph_format.first_line_indent = Pt(28)
        head_run = head.add_run(f"{CHINESE_NUMERALS[number % 10]}、{heading}")
        head_run.bold = True
        for text in paragraphs:
            document.add_paragraph(text)

    if result.children:
        head = document.add_paragraph()
        head.add_run(
            f"{CHINESE_NUMERALS[len(sections) % 10]}、各{LEVEL_ZH.get(result.children[0].node.level, '下级单位')}情况"
        ).bold = True
        table = document.add_table(rows=1, cols=1 + len(child_specs))
        table.style = "Table Grid"
        header = table.rows[0].cells
        header[0].text = "单位"
        for i, spec in enumerate(child_specs, start=1):
            header[i].text = (
                spec.label_zh if spec.aggregation is Aggregation.RATE else f"{spec.label_zh}（{spec.unit_zh}）"
            )
        rows: list[tuple[str, Values]] = [(c.node.name, c.values) for c in result.children]
        rows.append(("合计", result.total.values))
        for name, values in rows:
            cells = table.add_row().cells
            cells[0].text = name
            for i, spec in enumerate(child_specs, start=1):
                value = values.get(spec.id)
                cells[i].text = _pct(value) if spec.aggregation is Aggregation.RATE else _num(value)
        chart = bar_chart(
            [c.node.name for c in result.children],
            [float(c.values.get(m.ATTENDANCE) or 0) for c in result.children],
            f"{result.period.label}各单位组织生活参与人次",
        )
        picture = document.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.first_line_indent = Pt(0)
        picture.add_run().add_picture(io.BytesIO(chart), width=Cm(15))

    if placeholder is not None:
        # Move what was appended to where the template's {{正文}} paragraph stands, then drop the placeholder.
        added = [el for el in body if el not in existing and el.tag != qn("w:sectPr")]
        for element in added:
            placeholder._p.addprevious(element)
        placeholder._p.getparent().remove(placeholder._p)
    _replace_fields(document, fields)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
