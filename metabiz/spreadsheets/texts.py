"""The spreadsheets pages' own texts in English and Chinese (the kernel's i18n picks the
language); kept here so the package's pages carry their words with them."""

from __future__ import annotations

import re
from typing import Any

from metabiz.platform.web import i18n

TEXTS: dict[str, dict[str, str]] = {
    "import": {"en": "Import", "zh": "导入"},
    "export": {"en": "Export", "zh": "导出"},
    "export_csv": {"en": "Export CSV", "zh": "导出 CSV"},
    "export_xlsx": {"en": "Export Excel (.xlsx)", "zh": "导出 Excel (.xlsx)"},
    "import_title": {"en": "Import {object}", "zh": "导入{object}"},
    "import_lead": {"en": "Upload a CSV or Excel (.xlsx) file whose first row names the fields "
                           "(API name or label, English or Chinese). Every row is checked; "
                           "nothing is written unless all rows are good.",
                    "zh": "上传 CSV 或 Excel (.xlsx) 文件，首行为字段名（API 名称或中英文标签）。"
                          "每一行都会校验；除非所有行都正确，否则不写入任何数据。"},
    "choose_file": {"en": "File (.csv or .xlsx)", "zh": "文件（.csv 或 .xlsx）"},
    "upload": {"en": "Upload and map columns", "zh": "上传并映射列"},
    "key": {"en": "Update existing records matched by", "zh": "按此字段匹配并更新已有记录"},
    "key_none": {"en": "— create new records only —", "zh": "— 仅新建记录 —"},
    "skip_bad_rows": {"en": "Import the good rows, skip the bad ones",
                      "zh": "导入正确的行，跳过错误的行"},
    "dry_run": {"en": "Check only (write nothing)", "zh": "仅校验（不写入）"},
    "mapping": {"en": "Columns", "zh": "列映射"},
    "mapping_lead": {"en": "Each column of the file fills the field chosen beside it.",
                     "zh": "文件中的每一列写入右侧选择的字段。"},
    "column": {"en": "Column", "zh": "列"},
    "field": {"en": "Field", "zh": "字段"},
    "leave_out": {"en": "— don't import —", "zh": "— 不导入 —"},
    "no_match": {"en": "matches no field: choose one, or leave it out",
                 "zh": "未匹配到字段：请选择，或不导入"},
    "files_not_imported": {"en": "files and images are not imported: attach them on the "
                                 "record page",
                           "zh": "文件和图片不会导入：请在记录页面上传"},
    "preview": {"en": "Preview of the first rows", "zh": "前几行预览"},
    "row": {"en": "Row", "zh": "行"},
    "problems": {"en": "Problems", "zh": "问题"},
    "row_ok": {"en": "OK", "zh": "正确"},
    "check_again": {"en": "Check the preview again", "zh": "重新校验预览"},
    "start_import": {"en": "Import all rows", "zh": "导入全部行"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "progress": {"en": "Import of {filename}", "zh": "导入 {filename}"},
    "queued": {"en": "Waiting for the job worker…", "zh": "等待后台任务处理…"},
    "reading": {"en": "Reading the file…", "zh": "正在读取文件…"},
    "writing": {"en": "Checking and writing rows…", "zh": "正在校验并写入…"},
    "rows_of": {"en": "{processed} of {total} rows", "zh": "{processed} / {total} 行"},
    "done": {"en": "Import finished", "zh": "导入完成"},
    "done_dry": {"en": "Check finished: every row is good; nothing was written",
                 "zh": "校验完成：所有行都正确；未写入任何数据"},
    "failed": {"en": "Nothing was imported", "zh": "未导入任何数据"},
    "counts": {"en": "{created} created, {updated} updated, {bad} bad rows",
               "zh": "新建 {created} 条，更新 {updated} 条，错误 {bad} 行"},
    "errors_title": {"en": "Rows with problems", "zh": "有问题的行"},
    "errors_more": {"en": "… and {count} more in the error report",
                    "zh": "… 另有 {count} 条，见错误报告"},
    "download_report": {"en": "Download the error report", "zh": "下载错误报告"},
    "report_hint": {"en": "The file back with a column saying what is wrong with each row: "
                           "fix the cells and import it again.",
                    "zh": "原文件加一列错误说明：修改后可直接重新导入。"},
    "back_to_list": {"en": "Back to the list", "zh": "返回列表"},
    "import_another": {"en": "Import another file", "zh": "导入另一个文件"},
    "recent_imports": {"en": "Your recent imports", "zh": "最近的导入"},
    "status_running": {"en": "running", "zh": "进行中"},
    "status_done": {"en": "done", "zh": "完成"},
    "status_failed": {"en": "failed", "zh": "失败"},
    "notes": {"en": "Left out", "zh": "未导入的列"},
    "bad_rows": {"en": "{bad} of {total} rows have problems, so nothing was written. Fix them "
                       "(the error report lists each one) and import the file again, or choose "
                       "“Import the good rows, skip the bad ones”.",
                 "zh": "{total} 行中有 {bad} 行有问题，因此未写入任何数据。请按错误报告修改后重新导入，"
                       "或选择“导入正确的行，跳过错误的行”。"},
    "owner": {"en": "Owner", "zh": "所有人"},
    "restarted": {"en": "The worker running this import stopped before it finished; nothing "
                        "of that attempt was written, and the import started again from the "
                        "first row.",
                  "zh": "执行此导入的后台进程中途停止；该次尝试未写入任何数据，导入已从第一行重新开始。"},
    "worker_stopped": {"en": "The import stopped twice because the worker running it stopped "
                             "(it ran out of memory or was shut down); nothing was written. "
                             "Import the file again, or split it into smaller files.",
                       "zh": "执行导入的后台进程两次中途停止（内存不足或被关闭），导入已中止，"
                             "未写入任何数据。请重新导入，或将文件拆分为较小的文件。"},
}


#: why a column was left out (columns.py, importer.py) → Chinese
_NOTES_ZH = {
    "set by metabiz": "由系统设置",
    "computed by metabiz": "由系统计算",
    "files and images are attached on the record page": "文件和图片请在记录页面上传",
    "the error report's own column": "错误报告自带的列",
    "left out": "未选择字段",
    "read-only for your role": "您的角色只读",
    "hidden for your role": "对您的角色隐藏",
    "record ids are set by metabiz; they find the records to update with key id":
        "记录编号由系统生成；按编号更新记录时才使用",
}
#: a column the mapping page left without a field, said from where the user stands
_NOTES_EN = {"left out": "no field chosen"}
_NOTE = re.compile(r"^column (.+): not imported \((.+)\)$", re.DOTALL)
_BAD_ROWS = re.compile(r"^nothing written: (\d+) of (\d+) rows are bad$")


def note(raw: str) -> str:
    """A 'column X: not imported (why)' note as the page lists it under "Left out":
    'X (why)', in the user's language."""
    match = _NOTE.match(raw)
    if match is None:
        return raw
    if i18n.language() == "zh":
        return f"{match[1]}（{_NOTES_ZH.get(match[2], match[2])}）"
    return f"{match[1]} ({_NOTES_EN.get(match[2], match[2])})"


def outcome(raw: str) -> str | None:
    """An import's own outcome message in the user's words (None: not one of them)."""
    match = _BAD_ROWS.match(raw)
    return text("bad_rows", bad=match[1], total=match[2]) if match else None


def text(key: str, **values: Any) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    raw = entry.get(i18n.language()) or entry["en"]
    return raw.format(**values) if values else raw
