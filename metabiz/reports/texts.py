"""The reports pages' own texts in English and Chinese (templates call them as `rt(key)`).

Kept beside the pages that use them; the kernel's `i18n` decides the request's language.
"""

from __future__ import annotations

from typing import Any

from metabiz.platform.web import i18n

TEXTS: dict[str, dict[str, str]] = {
    "all_reports": {"en": "All reports", "zh": "全部报表"},
    "reports_title": {"en": "Reports", "zh": "报表"},
    "dashboards_title": {"en": "Dashboards", "zh": "仪表盘"},
    "no_reports": {"en": "There are no reports you can run yet. An administrator adds them "
                         "as reports/*.json in an app.",
                   "zh": "暂无可运行的报表。管理员可在应用的 reports/*.json 中添加。"},
    "no_dashboards": {"en": "No dashboards for your roles.", "zh": "没有适用于您角色的仪表盘。"},
    "components": {"en": "{n} charts", "zh": "{n} 个图表"},
    "of_object": {"en": "Records: {name}", "zh": "数据对象：{name}"},
    "filter": {"en": "Filter", "zh": "筛选"},
    "filter_help": {"en": "A formula, e.g. amount > 10000 && ISPICKVAL(stage, \"won\")",
                    "zh": "一个公式，例如 amount > 10000 && ISPICKVAL(stage, \"won\")"},
    "apply": {"en": "Apply", "zh": "应用"},
    "clear": {"en": "Clear", "zh": "清除"},
    "download_csv": {"en": "Download CSV", "zh": "下载 CSV"},
    "download_xlsx": {"en": "Download Excel", "zh": "下载 Excel"},
    "filter_error": {"en": "The filter was not applied: {message}",
                     "zh": "筛选条件未生效：{message}"},
    "no_rows": {"en": "No records match this report.", "zh": "没有符合此报表的记录。"},
    "truncated": {"en": "Showing the first {shown} of {total} groups; the totals cover all "
                        "of them.",
                  "zh": "仅显示 {total} 组中的前 {shown} 组；合计包含全部。"},
    "open_report": {"en": "Open report", "zh": "打开报表"},
    "view_records": {"en": "View records", "zh": "查看记录"},
    "chart": {"en": "Chart", "zh": "图表"},
    "table": {"en": "Table", "zh": "表格"},
    "component_error": {"en": "This chart cannot be shown to you: {message}",
                        "zh": "无法向您显示此图表：{message}"},
    "my_dashboard": {"en": "My dashboard", "zh": "我的仪表盘"},
    "total": {"en": "Total", "zh": "合计"},
    "total_of_all": {"en": "Total of all {total} groups (the first {shown} are listed)",
                     "zh": "全部 {total} 组的合计（仅列出前 {shown} 组）"},
    "chart_hint": {"en": "Click a bar, slice or row to see its records.",
                   "zh": "点击柱形、扇区或行可查看对应记录。"},
    "groups": {"en": "{n} groups", "zh": "{n} 组"},
}


def text(key: str, lang: str | None = None, **values: Any) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    raw = entry.get(lang or i18n.language()) or entry["en"]
    return raw.format(**values) if values else raw
