"""The half-year summary as a written report (9.1.3): HTML with inline SVG
charts, rendered from ``templates/half_year_summary.html`` (Jinja2, every value
escaped), and a printable PDF with simple bar charts drawn by fpdf2. Both show
the same content, computed here once.

The PDF needs a Chinese TrueType font on this machine (no network fonts):
``QI_CJK_FONT`` names one, else the usual Debian paths are tried (package
``fonts-wqy-zenhei`` or ``fonts-noto-cjk``). Without one, a clear Chinese
error is raised instead of a broken PDF.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.evaluation.contract import IMPROVEMENT_STATUS, LEVELS
from services.evaluation.rules import IMPROVEMENT_SOURCES, OUTCOME_LABELS
from services.intake.contract import CHANNELS
from shared import config
from shared.errors import ValidationFailed

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
HALVES = {1: "上半年", 2: "下半年"}
ITEMS_HEADING = "改进事项明细"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# autoescape on for everything: a finding or a manager's note is typed by a
# person and must never become markup in the report
ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _num(value) -> str:
    return "—" if value is None else str(value)


def title(summary: dict) -> str:
    return (
        f"{summary['institution_id']} {summary['year']}年"
        f"{HALVES[summary['half']]}一站式服务工作总结"
    )


def sections(summary: dict) -> list[tuple[str, list[tuple[str, str]], dict]]:
    """(heading, [(label, value)], chart {label: count}) per section; the
    same content for HTML and PDF."""
    f = summary["figures"]
    demands, sla = f["demands"], f["sla"]
    sat, complaints, items = f["satisfaction"], f["complaints"], f["improvements"]
    by_channel = {CHANNELS.get(k, k): v for k, v in demands["by_channel"].items()}
    by_outcome = {
        OUTCOME_LABELS.get(k, "未办结" if k == "open" else k): v
        for k, v in demands["by_outcome"].items()
    }
    return [
        (
            "一、服务需求受理情况（按渠道）",
            [
                ("登记需求数", str(demands["registered"])),
                (
                    "平均首次响应（工作小时）",
                    _num(demands["first_response_working_hours"]),
                ),
            ],
            by_channel,
        ),
        ("二、办理结果", [], by_outcome),
        (
            "三、转办时限（SLA）执行情况",
            [
                ("转办完成数", str(sla["referrals_completed"])),
                ("按时完成数", str(sla["on_time"])),
                ("按时完成率", _pct(sla["hit_rate"])),
            ],
            {
                "按时": sla["on_time"],
                "超时": sla["referrals_completed"] - sla["on_time"],
            },
        ),
        (
            "四、满意度评价",
            [
                ("发出评价数", str(sat["surveys_issued"])),
                ("已评价数", str(sat["rated"])),
                ("过期未评价数", str(sat["surveys_expired"])),
                ("参评率", _pct(sat["response_rate"])),
                ("平均得分（满分5分）", _num(sat["average"])),
                ("满意率", _pct(sat["satisfied_rate"])),
            ],
            {level: sat["distribution"].get(level, 0) for level in LEVELS},
        ),
        (
            "五、投诉情况",
            [
                ("收到投诉数", str(complaints["received"])),
                ("认定成立或部分成立", str(complaints["upheld"])),
            ],
            {},
        ),
        (
            "六、改进计划及落实情况",
            [
                ("整改事项数", str(items["opened"])),
                ("已完成", str(items["closed"])),
                ("逾期督办", str(items["escalated"])),
            ],
            {"已完成": items["closed"], "整改中": items["opened"] - items["closed"]},
        ),
    ]


def item_texts(summary: dict) -> list[str]:
    """One line per improvement item (9.3): source, finding, owner, actions,
    deadline and status."""
    return [
        f"[{IMPROVEMENT_SOURCES[item['source']]}] {item['finding']}；"
        f"责任人：{item['owner'] or '待定'}；"
        f"措施：{'；'.join(item['actions']) or '待定'}；"
        f"期限：{item['deadline'][:10]}；"
        f"状态：{IMPROVEMENT_STATUS[item['status']]}"
        + ("（已逾期督办）" if item["escalated"] else "")
        for item in summary["figures"]["improvements"]["items"]
    ]


def item_lines(summary: dict) -> list[str]:
    """The item texts numbered, as the PDF prints them."""
    return [f"{n}. {text}" for n, text in enumerate(item_texts(summary), 1)]


def sign_off_line(summary: dict) -> str:
    signed = summary.get("signed_off") or {}
    if not signed:
        return "状态：草稿，待服务管理人员签发"
    return f"签发人：{signed['manager']}　签发意见：{signed['note']}"


# -- HTML -------------------------------------------------------------------


def svg_chart(chart: dict, width: int = 420, bar: int = 22) -> dict:
    """The geometry of a horizontal bar chart for the template: a row per
    label at its height, its bar scaled to the largest value."""
    top = max(chart.values(), default=0) or 1
    rows = [
        {
            "label": label,
            "value": value,
            "y": i * (bar + 8),
            "length": int((width - 160) * value / top),
        }
        for i, (label, value) in enumerate(chart.items())
    ]
    return {"width": width, "bar": bar, "height": len(rows) * (bar + 8), "rows": rows}


def to_html(summary: dict) -> str:
    return ENVIRONMENT.get_template("half_year_summary.html").render(
        title=title(summary),
        since=summary["figures"]["since"][:10],
        until=summary["figures"]["until"][:10],
        sections=[
            {"heading": heading, "rows": rows, "chart": svg_chart(chart)}
            for heading, rows, chart in sections(summary)
        ],
        items_heading=ITEMS_HEADING,
        items=item_texts(summary),
        sign_off=sign_off_line(summary),
    )


# -- PDF --------------------------------------------------------------------


def cjk_font() -> Path:
    configured = config.get("QI_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ValidationFailed.single(
        "font",
        "未找到中文字体，无法生成PDF：请安装 fonts-wqy-zenhei（或 fonts-noto-cjk），"
        "或用 QI_CJK_FONT 指定一个中文 TrueType 字体文件",
    )


def to_pdf(summary: dict) -> bytes:
    from fpdf import FPDF

    font = cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", "", str(font))
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, title(summary), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        7,
        f"统计期间：{summary['figures']['since'][:10]} 至 "
        f"{summary['figures']['until'][:10]}（不含）",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for heading, rows, chart in sections(summary):
        pdf.ln(2)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        for label, value in rows:
            pdf.cell(70, 6, label)
            pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        _pdf_bars(pdf, chart)
    lines = item_lines(summary)
    if lines:
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 8, ITEMS_HEADING, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    for line in lines:
        pdf.multi_cell(0, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(
        0, 6, sign_off_line(summary), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())


def _pdf_bars(pdf, chart: dict) -> None:
    """Horizontal bars: label, bar scaled to the largest value, the value."""
    if not chart:
        return
    top = max(chart.values()) or 1
    pdf.set_fill_color(59, 125, 216)
    for label, value in chart.items():
        x, y = pdf.l_margin, pdf.get_y()
        pdf.cell(30, 6, label)
        length = 100 * value / top
        if length:
            pdf.rect(x + 32, y + 1, length, 4, style="F")
        pdf.set_xy(x + 34 + length, y)
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
