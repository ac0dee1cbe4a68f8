"""What an error page says in the user's language: the API's English error messages that
pages can run into (a bad `?sort=`, a page number, a right the role lacks), translated.

The API's JSON bodies keep the contract's English messages; only pages go through here.
A message no pattern knows gets its status's general sentence, the English kept beside it.
"""

from __future__ import annotations

import re

from metabiz.platform.web import i18n

#: {status: (en, zh)} — the general sentence of an error page whose message is not known
GENERAL: dict[int, dict[str, str]] = {
    400: {"en": "The address or form carries a value that cannot be used.",
          "zh": "地址或表单中包含无法使用的值。"},
    403: {"en": "Your role does not allow this.", "zh": "您的角色不允许此操作。"},
    405: {"en": "This address cannot be used this way.", "zh": "此地址不能以这种方式使用。"},
    409: {"en": "The record is in a state that does not allow this right now.",
          "zh": "记录当前的状态不允许此操作。"},
    413: {"en": "What was sent is too large.", "zh": "提交的内容过大。"},
    415: {"en": "What was sent is not in a form this page reads.",
          "zh": "提交内容的格式无法识别。"},
    422: {"en": "Some values are not valid.", "zh": "部分数据无效。"},
}

_RIGHTS = {"read": {"en": "open", "zh": "查看"}, "create": {"en": "create", "zh": "新建"},
           "edit": {"en": "change", "zh": "编辑"}, "delete": {"en": "delete", "zh": "删除"}}

#: (English message pattern, Chinese template) — `{0}`… are the pattern's groups
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\w+) must be a whole number$"), "参数 {0} 必须是整数。"),
    (re.compile(r"^(\w+) must be between (-?\d+) and (-?\d+)$"),
     "参数 {0} 必须介于 {1} 和 {2} 之间。"),
    (re.compile(r"^parameter (.+) contains a NUL character$"), "参数 {0} 含有空字符（NUL）。"),
    (re.compile(r"^parameter (.+) contains a lone surrogate \(not valid Unicode\)$"),
     "参数 {0} 含有无效的 Unicode 字符。"),
    (re.compile(r"^cannot sort by ('.*'): no such field on \w+$"), "无法按 {0} 排序：没有该字段。"),
    (re.compile(r"^cannot sort by ('.*')$"), "无法按 {0} 排序：该字段不能排序。"),
    (re.compile(r"^unknown fields: (.+)$"), "未知字段：{0}。"),
    (re.compile(r"^hidden for your role: (.+)$"), "您的角色看不到这些字段：{0}。"),
    (re.compile(r"^filter: (.+)$", re.DOTALL), "筛选公式无法使用：{0}"),
    (re.compile(r"^sort: (.+)$", re.DOTALL), "排序公式无法使用：{0}"),
    (re.compile(r"^\w+ has no picklist field to show as a board$"),
     "该对象没有可用于看板的选项列表字段。"),
    (re.compile(r"^('.*') is not a picklist field of \w+$"), "{0} 不是该对象的选项列表字段。"),
    (re.compile(r"^cannot sum ('.*') on \w+$"), "无法对 {0} 求和：它不是数字或金额字段。"),
    (re.compile(r"^status must be one of (.+)$"), "状态必须是以下之一：{0}。"),
    (re.compile(r"^\w+ (\d+) is locked since its approval$"), "记录 {0} 已审批通过并锁定，不能修改。"),
    (re.compile(r"^\w+ (\d+) is locked while its approval is pending$"),
     "记录 {0} 正在审批中，已锁定，不能修改。"),
    (re.compile(r"^\w+ (\d+) is locked.*$"), "记录 {0} 已锁定，不能修改。"),
    (re.compile(r"^\w+ (\d+) was changed by someone else.*$"),
     "记录 {0} 已被他人修改，请刷新后重试。"),
    (re.compile(r"^\w+ (\d+) cannot be deleted: (\d+) .*$"),
     "记录 {0} 不能删除：还有 {1} 条相关记录引用它。"),
    (re.compile(r"^\w+ (\d+) is already pending approval.*$"), "记录 {0} 已在审批中。"),
    (re.compile(r"^approval request (\d+) is (\w+), not pending$"), "审批请求 {0} 已不在待审批状态。"),
    (re.compile(r"^you are not an approver of the current step of approval request (\d+)$"),
     "您不是审批请求 {0} 当前步骤的审批人。"),
    (re.compile(r"^only the submitter \(or an administrator\) may recall approval request "
                r"(\d+)$"), "只有提交人（或管理员）可以撤回审批请求 {0}。"),
    (re.compile(r"^you are not a member of (.+)$"), "您不是 {0} 的成员。"),
    (re.compile(r"^only the admins of (.+) may assign its records$"),
     "只有 {0} 的管理员可以分配其中的记录。"),
    (re.compile(r"^only the owner of (.+) or an admin of (.+) may return it$"),
     "只有 {0} 的负责人或 {1} 的管理员可以退回它。"),
    (re.compile(r"^(.+) is in a pool already$"), "{0} 已在公海池中。"),
    (re.compile(r"^(.+) is not in a public pool.*$"), "{0} 不在公海池中。"),
    (re.compile(r"^(.+) is in a public pool: claim or assign it instead$"),
     "{0} 在公海池中：请领取或分配，而不是转移。"),
    (re.compile(r"^you already hold (\d+) records from (.+?); .*$"),
     "您已持有 {1} 的 {0} 条记录，达到领取上限。"),
    (re.compile(r"^you may not set (.+)$"), "您不能设置这些字段：{0}。"),
    (re.compile(r"^the formulas of this request nest functions and operators too deeply.*$",
                re.DOTALL), "该请求中的公式嵌套过深，数据库无法处理，请减少嵌套。"),
    (re.compile(r"^the database cannot use a value of this request: (.+)$", re.DOTALL),
     "数据库无法使用该请求中的某个值：{0}"),
)
_MAY_NOT = re.compile(r"^you may not (read|create|edit|delete) \w+ records$")


def page_detail(message: str, status: int, lang: str | None = None, *,
                general: bool = False) -> tuple[str, str]:
    """(what the page says, the English original when that is not it, else '').

    English pages show the message as it is; other languages get the translation, or the
    status's general sentence with the original beside it for a support request (the
    sentence alone when `general`: a message that says nothing more, like Werkzeug's)."""
    lang = lang or i18n.language()
    may_not = _MAY_NOT.match(message)
    if may_not:  # the API names the object by its api_name: pages say it for people
        verb = _RIGHTS[may_not[1]]
        return (f"您的角色无权{verb['zh']}该对象的记录。" if lang == "zh" else
                f"Your role does not allow you to {verb['en']} these records."), ""
    if lang == "en" or not message:
        return message, ""
    known = None if general else translate(message, lang)
    if known is not None:
        return known, ""
    sentence = GENERAL.get(status, GENERAL[400])
    return sentence.get(lang, sentence["en"]), "" if general else message


def translate(message: str, lang: str) -> str | None:
    """`message` in `lang` when a pattern (or the record service's table) knows it."""
    if lang != "zh":
        return None
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    said = i18n.message(message, lang)
    return said if said != message else None
