"""The builder's own texts in English and Chinese (`b('key')` in its templates).

Labels from metadata follow the page language through the kernel's i18n; these are the
words of the designer itself.
"""

from __future__ import annotations

from typing import Any

from metabiz.platform.web import i18n

TEXTS: dict[str, dict[str, str]] = {
    "builder": {"en": "Builder", "zh": "设计器"},
    "builder_lead": {"en": "Design objects, fields, formulas, layouts and rules. Every change "
                           "shows its plan before it is applied.",
                     "zh": "设计对象、字段、公式、布局和规则。每次修改都会先显示变更计划，确认后才生效。"},
    "objects": {"en": "Objects", "zh": "对象"},
    "new_object": {"en": "New object", "zh": "新建对象"},
    "edit_object": {"en": "Edit object", "zh": "编辑对象"},
    "object_props": {"en": "Object properties", "zh": "对象属性"},
    "api_name": {"en": "API name", "zh": "API 名称"},
    "api_name_help": {"en": "Lower-case letters, digits and _; it names the table and the "
                            "formula references.",
                      "zh": "小写字母、数字和下划线；用作数据表名和公式引用名。"},
    "rename_help": {"en": "Changing it renames the field and keeps its data.",
                    "zh": "修改后字段将被重命名，数据保留。"},
    "label": {"en": "Label", "zh": "标签"},
    "label_en": {"en": "Label (English)", "zh": "标签（英文）"},
    "label_zh": {"en": "Label (Chinese)", "zh": "标签（中文）"},
    "plural_en": {"en": "Plural label (English)", "zh": "复数标签（英文）"},
    "plural_zh": {"en": "Plural label (Chinese)", "zh": "复数标签（中文）"},
    "name_field": {"en": "Name field", "zh": "名称字段"},
    "name_field_help": {"en": "Shown as the record's name in lists, lookups and titles.",
                        "zh": "在列表、查找和标题中作为记录名称显示。"},
    "description": {"en": "Description", "zh": "描述"},
    "fields": {"en": "Fields", "zh": "字段"},
    "field": {"en": "Field", "zh": "字段"},
    "new_field": {"en": "New field", "zh": "新建字段"},
    "edit_field": {"en": "Edit field", "zh": "编辑字段"},
    "type": {"en": "Type", "zh": "类型"},
    "type_help": {"en": "Changing the type converts the stored values; rows that cannot "
                        "convert are listed before anything changes.",
                  "zh": "修改类型会转换已有数据；无法转换的记录会在任何修改之前列出。"},
    "required": {"en": "Required", "zh": "必填"},
    "unique": {"en": "Unique", "zh": "唯一"},
    "default": {"en": "Default value (formula)", "zh": "默认值（公式）"},
    "help_en": {"en": "Help text (English)", "zh": "帮助文本（英文）"},
    "help_zh": {"en": "Help text (Chinese)", "zh": "帮助文本（中文）"},
    "max_length": {"en": "Maximum length", "zh": "最大长度"},
    "scale": {"en": "Decimal places", "zh": "小数位数"},
    "min": {"en": "Minimum", "zh": "最小值"},
    "max": {"en": "Maximum", "zh": "最大值"},
    "values": {"en": "Picklist values", "zh": "选项值"},
    "values_help": {"en": "Drag the rows to change the order.", "zh": "拖动行以调整顺序。"},
    "value": {"en": "Value", "zh": "值"},
    "add_value": {"en": "Add value", "zh": "添加选项"},
    "remove": {"en": "Remove", "zh": "移除"},
    "drag": {"en": "Drag to reorder", "zh": "拖动排序"},
    "target": {"en": "Related object", "zh": "关联对象"},
    "on_delete": {"en": "When the related record is deleted", "zh": "关联记录被删除时"},
    "on_delete_restrict": {"en": "Prevent the deletion", "zh": "禁止删除"},
    "on_delete_set_null": {"en": "Clear this field", "zh": "清空此字段"},
    "format": {"en": "Number format", "zh": "编号格式"},
    "format_help": {"en": "Text around one {0000} group, e.g. INV-{0000}.",
                    "zh": "文本加一个 {0000} 编号段，例如 INV-{0000}。"},
    "return_type": {"en": "Result type", "zh": "结果类型"},
    "formula": {"en": "Formula", "zh": "公式"},
    "treat_blanks_as": {"en": "Blank fields count as", "zh": "空字段视为"},
    "blanks_blank": {"en": "blank", "zh": "空值"},
    "blanks_zero": {"en": "zero", "zh": "零"},
    "child_object": {"en": "Child object", "zh": "子对象"},
    "relationship_field": {"en": "Relationship field (on the child)", "zh": "关联字段（子对象上）"},
    "function": {"en": "Function", "zh": "汇总函数"},
    "rollup_field": {"en": "Field to summarise", "zh": "汇总字段"},
    "rollup_filter": {"en": "Only children where (formula)", "zh": "仅汇总满足条件的子记录（公式）"},
    "insert_field": {"en": "Insert field…", "zh": "插入字段…"},
    "insert_function": {"en": "Insert function…", "zh": "插入函数…"},
    "checking": {"en": "Checking…", "zh": "检查中…"},
    "formula_ok": {"en": "Valid formula — result type: {type}", "zh": "公式有效 — 结果类型：{type}"},
    "formula_error": {"en": "Line {line}, column {column}: {message}",
                      "zh": "第 {line} 行第 {column} 列：{message}"},
    "apply_object_first": {"en": "Apply the new object first; then its formulas can be "
                                 "checked.", "zh": "请先应用新对象，然后才能检查其公式。"},
    "preview": {"en": "Preview on recent records", "zh": "在最近记录上预览"},
    "no_preview": {"en": "No records yet to preview on.", "zh": "还没有可预览的记录。"},
    "record": {"en": "Record", "zh": "记录"},
    "result": {"en": "Result", "zh": "结果"},
    "validation_rules": {"en": "Validation rules", "zh": "验证规则"},
    "new_rule": {"en": "New validation rule", "zh": "新建验证规则"},
    "edit_rule": {"en": "Edit validation rule", "zh": "编辑验证规则"},
    "error_condition": {"en": "Error when (formula)", "zh": "出错条件（公式）"},
    "error_condition_help": {"en": "The save is blocked when this is true.",
                             "zh": "当公式结果为真时阻止保存。"},
    "message_en": {"en": "Error message (English)", "zh": "错误消息（英文）"},
    "message_zh": {"en": "Error message (Chinese)", "zh": "错误消息（中文）"},
    "rule_field": {"en": "Show the error on field", "zh": "在此字段旁显示错误"},
    "on_record": {"en": "(the whole record)", "zh": "（整条记录）"},
    "active": {"en": "Active", "zh": "启用"},
    "no_rules": {"en": "No validation rules yet.", "zh": "还没有验证规则。"},
    "layout": {"en": "Page layout", "zh": "页面布局"},
    "layout_help": {"en": "Drag fields to order them and to move them between sections.",
                    "zh": "拖动字段以排序，或在分区之间移动。"},
    "section": {"en": "Section", "zh": "分区"},
    "section_label": {"en": "Section title", "zh": "分区标题"},
    "columns": {"en": "Columns", "zh": "列数"},
    "add_section": {"en": "Add section", "zh": "添加分区"},
    "not_on_layout": {"en": "Not on the layout", "zh": "未放入布局"},
    "edit_layout": {"en": "Edit layout", "zh": "编辑布局"},
    "default_layout": {"en": "All fields in one section (no layout yet)",
                       "zh": "所有字段在一个分区（尚未设置布局）"},
    "save": {"en": "Review changes", "zh": "查看变更"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "edit": {"en": "Edit", "zh": "编辑"},
    "delete": {"en": "Delete", "zh": "删除"},
    "delete_object": {"en": "Delete this object", "zh": "删除此对象"},
    "delete_object_help": {"en": "It leaves the app; its records are kept and it can be "
                                 "restored from the builder.",
                           "zh": "对象将从应用中移除；记录会保留，可在设计器中恢复。"},
    "removed_objects": {"en": "Removed objects", "zh": "已删除的对象"},
    "removed_fields": {"en": "Removed fields (data kept)", "zh": "已删除的字段（数据保留）"},
    "restore": {"en": "Restore", "zh": "恢复"},
    "plan_title": {"en": "Review the changes", "zh": "确认变更"},
    "plan_lead": {"en": "Nothing has changed yet. This is what applying will do:",
                  "zh": "尚未做任何修改。应用后将执行以下变更："},
    "no_changes": {"en": "No changes: the metadata already says this.",
                   "zh": "没有变更：元数据已经是这样。"},
    "apply": {"en": "Apply changes", "zh": "应用变更"},
    "back_to_edit": {"en": "Back", "zh": "返回修改"},
    "applied": {"en": "Applied as metadata version {version}.", "zh": "已应用为元数据版本 {version}。"},
    "nothing_applied": {"en": "Nothing to apply.", "zh": "没有需要应用的变更。"},
    "problems": {"en": "Please fix these problems", "zh": "请修正以下问题"},
    "refused": {"en": "These records cannot take the change; nothing was changed",
                "zh": "以下记录无法接受此变更；未做任何修改"},
    "conflict": {"en": "Someone else changed this since you opened it. Reload it and make "
                       "your change again.",
                 "zh": "在您打开之后，其他人修改了它。请重新加载后再修改。"},
    "versions": {"en": "Versions", "zh": "版本"},
    "versions_lead": {"en": "Every applied change is a version; open one to see what changed "
                            "or to go back to it.",
                      "zh": "每次应用的变更都是一个版本；打开查看变更内容或恢复到该版本。"},
    "version_n": {"en": "Version {n}", "zh": "版本 {n}"},
    "when": {"en": "When", "zh": "时间"},
    "who": {"en": "Who", "zh": "操作人"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "current": {"en": "current", "zh": "当前"},
    "revert": {"en": "Revert to this version", "zh": "恢复到此版本"},
    "revert_help": {"en": "Makes the metadata what it was then, as a new version; renamed "
                          "fields get their old names back and removed fields return with "
                          "their data.",
                    "zh": "将元数据恢复为当时的状态（作为新版本）；重命名的字段恢复原名，删除的字段连同数据一起恢复。"},
    "added": {"en": "added", "zh": "新增"},
    "removed": {"en": "removed", "zh": "删除"},
    "changed": {"en": "changed", "zh": "修改"},
    "flows": {"en": "Approval flows and automation", "zh": "审批流与自动化"},
    "roles": {"en": "Roles", "zh": "角色"},
    "no_flows": {"en": "No flows yet.", "zh": "还没有流程。"},
    "records_n": {"en": "{n} fields", "zh": "{n} 个字段"},
    "view_records": {"en": "Open records", "zh": "查看记录"},
    "yes": {"en": "Yes", "zh": "是"},
    "none": {"en": "—", "zh": "—"},
    "app": {"en": "App", "zh": "应用"},
    "metadata_version": {"en": "Metadata version {n}", "zh": "元数据版本 {n}"},
}

#: how each field type is named in the builder
TYPE_LABELS: dict[str, dict[str, str]] = {
    "text": {"en": "Text", "zh": "文本"}, "long_text": {"en": "Long text", "zh": "长文本"},
    "number": {"en": "Number", "zh": "数字"}, "currency": {"en": "Currency", "zh": "金额"},
    "percent": {"en": "Percent", "zh": "百分比"}, "boolean": {"en": "Checkbox", "zh": "复选框"},
    "date": {"en": "Date", "zh": "日期"}, "datetime": {"en": "Date and time", "zh": "日期时间"},
    "email": {"en": "Email", "zh": "邮箱"}, "phone": {"en": "Phone", "zh": "电话"},
    "url": {"en": "URL", "zh": "网址"}, "picklist": {"en": "Picklist", "zh": "单选"},
    "multi_picklist": {"en": "Multi-select picklist", "zh": "多选"},
    "lookup": {"en": "Lookup", "zh": "查找关联"},
    "master_detail": {"en": "Master-detail", "zh": "主从关联"},
    "user": {"en": "User", "zh": "人员"}, "auto_number": {"en": "Auto number", "zh": "自动编号"},
    "formula": {"en": "Formula", "zh": "计算公式"}, "rollup": {"en": "Roll-up summary", "zh": "汇总"},
    "time": {"en": "Time of day", "zh": "时间"}, "location": {"en": "Location", "zh": "地理位置"},
    "link": {"en": "Link", "zh": "链接"}, "image": {"en": "Image", "zh": "图片"},
}


def b(key: str, **values: Any) -> str:
    """The builder's text `key` in the request's language."""
    entry = TEXTS.get(key) or TYPE_LABELS.get(key)
    if entry is None:
        return key
    raw = entry.get(i18n.language()) or entry["en"]
    return raw.format(**values) if values else raw


def type_label(kind: str) -> str:
    entry = TYPE_LABELS.get(kind)
    return (entry.get(i18n.language()) or entry["en"]) if entry else kind
