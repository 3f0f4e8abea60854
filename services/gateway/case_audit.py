"""The regulator's audit of one case across every service (audit contract).

Each service answers for its own streams of the case (``case_events`` and
``verify_case`` on every service); the gateway merges the timelines, cuts
them at an ``as_of`` moment, and renders a printable page. A service that does
not answer is named, never silently left out.
"""

from __future__ import annotations

import html
from datetime import datetime

from shared.case_history import merge_timelines
from shared.validation import aware

ROLE_LABELS = {
    "customer": "客户",
    "staff": "服务人员",
    "manager": "服务管理人员",
    "partner": "合作机构人员",
    "regulator": "监管人员",
    "system": "系统",
    "admin": "平台管理员",
}
SERVICE_LABELS = {
    "intake": "受理",
    "referral": "转办",
    "complaints": "投诉",
    "evaluation": "评价",
    "catalog": "目录",
    "gateway": "门户",
}


def parse_as_of(value: str | None) -> datetime | None:
    """The ``as_of`` moment, with its zone; None: the case as it is now."""
    return aware(value, "as_of") if value else None


def assemble(
    case_id: str,
    answers: dict[str, tuple[list[dict], dict] | None],
    as_of: datetime | None,
    demand: dict | None,
) -> dict:
    """The audit of a case from each service's (timeline, verification).

    ``answers[service]`` is None when the service did not answer in time.
    """
    missing = sorted(s for s, a in answers.items() if a is None)
    timelines = [a[0] for a in answers.values() if a is not None]
    timeline = merge_timelines(*timelines)
    if as_of is not None:
        timeline = [e for e in timeline if datetime.fromisoformat(e["at"]) <= as_of]
    checks = [a[1] for a in answers.values() if a is not None]
    breaks = [{**b, "service": c["service"]} for c in checks for b in c["breaks"]]
    return {
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "demand": demand,
        "timeline": [
            {
                "at": e["at"],
                "service": e["service"],
                "event": e["event"],
                "actor": e["actor"].get("id", ""),
                "role": e["actor"].get("role", ""),
                "institution": e["actor"].get("institution", ""),
                "channel": e["channel"],
                "aggregate_id": e["aggregate_id"],
                "version": e["version"],
            }
            for e in timeline
        ],
        "verification": {
            "passed": not breaks and not missing,
            "streams": sum(c["streams"] for c in checks),
            "breaks": breaks,
            "services_not_answering": missing,
        },
    }


def render_html(audit: dict) -> str:
    """A printable page of the audit, in Chinese."""
    e = html.escape
    check = audit["verification"]
    if check["passed"]:
        verdict = f"通过：{check['streams']} 条事件流的哈希链完整，未发现篡改。"
    else:
        parts = [
            f"{SERVICE_LABELS.get(b['service'], b['service'])} 流 "
            f"{b['aggregate_id']} 第 {b['version']} 个事件：{b['reason']}"
            for b in check["breaks"]
        ]
        parts += [
            f"{SERVICE_LABELS.get(s, s)}服务未应答，无法核验"
            for s in check["services_not_answering"]
        ]
        verdict = "未通过：" + "；".join(parts)
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(cell))}</td>"
            for cell in (
                _local(row["at"]),
                SERVICE_LABELS.get(row["service"], row["service"]),
                row["event"],
                row["actor"],
                ROLE_LABELS.get(row["role"], row["role"]),
                row["institution"],
                row["channel"],
            )
        )
        + "</tr>"
        for row in audit["timeline"]
    )
    as_of = f"（截至 {_local(audit['as_of'])}）" if audit["as_of"] else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>案件审计 {e(audit["case_id"])}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif;
       margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
th, td {{ border: 1px solid #999; padding: 4px 6px; text-align: left; }}
th {{ background: #eee; }}
.verdict {{ font-weight: bold; margin: 1em 0; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>案件审计记录{e(as_of)}</h1>
<p>案件编号：{e(audit["case_id"])}</p>
<p class="verdict">哈希链核验：{e(verdict)}</p>
<table><thead><tr><th>时间</th><th>环节</th><th>事件</th><th>操作人</th>
<th>角色</th><th>机构</th><th>渠道</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def _local(moment: str) -> str:
    """Beijing time written the Chinese way: 2026年11月26日 10:05:03."""
    from datetime import timedelta, timezone

    at = datetime.fromisoformat(moment).astimezone(timezone(timedelta(hours=8)))
    return at.strftime("%Y年%m月%d日 %H:%M:%S")
