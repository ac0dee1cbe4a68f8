"""The end-user UI's own texts in English and Chinese, and which language a request uses.

The language is the one chosen with `?lang=` (kept in the session), else the user's setting,
else the browser's Accept-Language; labels from metadata follow the same choice.
"""

from __future__ import annotations

import re
from typing import Any

from flask import g, request, session

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"

#: every built-in text, by key: {"en": ..., "zh": ...}; `{name}` placeholders are filled in
TEXTS: dict[str, dict[str, str]] = {
    # the shell
    "app_name": {"en": "metabiz", "zh": "metabiz"},
    "home": {"en": "Home", "zh": "首页"},
    "approvals": {"en": "Approvals", "zh": "审批"},
    "menu": {"en": "Menu", "zh": "菜单"},
    "skip_to_content": {"en": "Skip to content", "zh": "跳到正文"},
    "language": {"en": "Language", "zh": "语言"},
    "signed_in_as": {"en": "Signed in as {name}", "zh": "当前用户：{name}"},
    "builder": {"en": "Builder", "zh": "设计器"},
    # signing in and out
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_in_title": {"en": "Sign in to metabiz", "zh": "登录 metabiz"},
    "sign_in_lead": {"en": "Your business objects, forms and approvals in one place.",
                     "zh": "业务对象、表单与审批，尽在一处。"},
    "username": {"en": "User name", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "bad_login": {"en": "Wrong user name or password.", "zh": "用户名或密码错误。"},
    "sign_out": {"en": "Sign out", "zh": "退出登录"},
    "sign_out_confirm": {"en": "Do you want to sign out?", "zh": "确定要退出登录吗？"},
    "signed_out": {"en": "You are signed out.", "zh": "您已退出登录。"},
    "login_required": {"en": "Please sign in to continue.", "zh": "请先登录。"},
    # home
    "welcome": {"en": "Welcome, {name}", "zh": "欢迎，{name}"},
    "your_objects": {"en": "Your objects", "zh": "我的对象"},
    "reports": {"en": "Reports", "zh": "报表"},
    "no_objects": {"en": "Your role does not give you access to any object yet.",
                   "zh": "您的角色尚未获得任何对象的访问权限。"},
    "records_count": {"en": "{count} records", "zh": "{count} 条记录"},
    "pending_approvals": {"en": "Pending approvals", "zh": "待我审批"},
    "no_pending": {"en": "Nothing is waiting for your approval.", "zh": "没有待您审批的事项。"},
    "view_all": {"en": "View all", "zh": "查看全部"},
    "recently_viewed": {"en": "Recently viewed", "zh": "最近查看"},
    "no_recent": {"en": "Records you open will show here.", "zh": "您打开过的记录会显示在这里。"},
    # lists
    "new": {"en": "New", "zh": "新建"},
    "new_object": {"en": "New {object}", "zh": "新建{object}"},
    "search": {"en": "Search", "zh": "搜索"},
    "search_placeholder": {"en": "Search {object}…", "zh": "搜索{object}…"},
    "clear": {"en": "Clear", "zh": "清除"},
    "list_view": {"en": "List view", "zh": "列表视图"},
    "no_records": {"en": "No records to show.", "zh": "没有可显示的记录。"},
    "no_match": {"en": "No records match “{q}”.", "zh": "没有与“{q}”匹配的记录。"},
    "file_remove": {"en": "Remove", "zh": "删除"},
    "showing": {"en": "{first}–{last} of {total}", "zh": "第 {first}–{last} 条，共 {total} 条"},
    "total": {"en": "{total} records", "zh": "共 {total} 条"},
    "previous": {"en": "Previous", "zh": "上一页"},
    "next": {"en": "Next", "zh": "下一页"},
    "page_of": {"en": "Page {page} of {pages}", "zh": "第 {page} / {pages} 页"},
    "pagination": {"en": "Pagination", "zh": "分页"},
    "sort_by": {"en": "Sort by {field}", "zh": "按{field}排序"},
    "sorted_asc": {"en": "sorted ascending", "zh": "升序"},
    "sorted_desc": {"en": "sorted descending", "zh": "降序"},
    "filtered_by": {"en": "Filtered by", "zh": "筛选条件"},
    "remove_filter": {"en": "Remove filter", "zh": "移除筛选"},
    "filter_formula": {"en": "Formula", "zh": "公式"},
    # forms
    "save": {"en": "Save", "zh": "保存"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "edit": {"en": "Edit", "zh": "编辑"},
    "edit_record": {"en": "Edit {name}", "zh": "编辑 {name}"},
    "required": {"en": "Required", "zh": "必填"},
    "required_hint": {"en": "Fields marked * are required.", "zh": "带 * 的字段为必填项。"},
    "form_errors": {"en": "Please fix the errors below.", "zh": "请修正下面的错误。"},
    "select_none": {"en": "— None —", "zh": "— 无 —"},
    "lookup_placeholder": {"en": "Search {object}…", "zh": "搜索{object}…"},
    "lookup_none": {"en": "No matching {object}.", "zh": "没有匹配的{object}。"},
    "lookup_hint": {"en": "Type to search, then pick a record.", "zh": "输入关键字搜索并选择记录。"},
    "utc": {"en": "UTC", "zh": "UTC"},
    "yes": {"en": "Yes", "zh": "是"},
    "no": {"en": "No", "zh": "否"},
    "computed": {"en": "Calculated automatically", "zh": "自动计算"},
    "read_only_for_role": {"en": "Read-only for your role", "zh": "您的角色只能查看"},
    "conflict_title": {"en": "Someone else changed this record",
                       "zh": "该记录已被他人修改"},
    "conflict_body": {"en": "It was saved by someone else after you opened it, so your changes "
                            "were not saved. Reload the record to see the latest version, then "
                            "make your changes again.",
                      "zh": "您打开后该记录已被他人保存，因此您的修改未保存。请重新加载以查看最新版本，"
                            "然后重新修改。"},
    "reload": {"en": "Reload the latest version", "zh": "重新加载最新版本"},
    "locked_title": {"en": "This record is locked", "zh": "该记录已锁定"},
    "locked_body": {"en": "It cannot be changed while its approval is pending, or once an "
                          "approval that locks it has passed. An administrator can still "
                          "change it.",
                    "zh": "审批进行中或审批通过后已锁定，暂不能修改；管理员仍可修改。"},
    "locked_pending": {"en": "It cannot be changed while its approval is pending.",
                       "zh": "审批进行中，暂不能修改。"},
    "locked_approved": {"en": "It is locked since its approval; an administrator can still "
                              "change it.",
                        "zh": "审批通过后已锁定，仅管理员可修改。"},
    "saved": {"en": "{object} “{name}” was saved.", "zh": "{object}“{name}”已保存。"},
    "created": {"en": "{object} “{name}” was created.", "zh": "{object}“{name}”已创建。"},
    "created_for_other": {"en": "{object} “{name}” was created and assigned to {owner}.",
                          "zh": "{object}“{name}”已创建，并已分配给 {owner}。"},
    "no_changes": {"en": "Nothing changed.", "zh": "没有修改。"},
    # detail
    "details": {"en": "Details", "zh": "详细信息"},
    "system_info": {"en": "System information", "zh": "系统信息"},
    "history": {"en": "History", "zh": "修改历史"},
    "no_history": {"en": "No changes yet.", "zh": "暂无修改记录。"},
    "no_related": {"en": "No {object} yet.", "zh": "暂无{object}。"},
    "more_related": {"en": "Showing {shown} of {total}.", "zh": "显示 {shown} / {total} 条。"},
    "delete": {"en": "Delete", "zh": "删除"},
    "delete_title": {"en": "Delete {name}?", "zh": "删除 {name}？"},
    "delete_body": {"en": "This deletes the {object} “{name}”. This cannot be undone.",
                    "zh": "将删除{object}“{name}”，此操作无法撤销。"},
    "delete_children": {"en": "Its {children} are deleted with it.",
                        "zh": "其下的{children}也会一并删除。"},
    "deleted": {"en": "{object} “{name}” was deleted.", "zh": "{object}“{name}”已删除。"},
    # approvals
    "approval": {"en": "Approval", "zh": "审批"},
    "approval_status": {"en": "Approval status", "zh": "审批状态"},
    "status_none": {"en": "Not submitted", "zh": "未提交"},
    "status_pending": {"en": "Pending", "zh": "审批中"},
    "status_approved": {"en": "Approved", "zh": "已通过"},
    "status_rejected": {"en": "Rejected", "zh": "已驳回"},
    "status_recalled": {"en": "Recalled", "zh": "已撤回"},
    "status_cancelled": {"en": "Cancelled", "zh": "已取消"},
    "status_reassigned": {"en": "Reassigned", "zh": "已转交"},
    "status_all": {"en": "All", "zh": "全部"},
    "submit_for_approval": {"en": "Submit for approval", "zh": "提交审批"},
    "approve": {"en": "Approve", "zh": "同意"},
    "reject": {"en": "Reject", "zh": "驳回"},
    "recall": {"en": "Recall", "zh": "撤回"},
    "reassign": {"en": "Reassign", "zh": "转交"},
    "reassign_to": {"en": "Reassign to (user name)", "zh": "转交给（用户名）"},
    "comment": {"en": "Comment", "zh": "意见"},
    "comment_optional": {"en": "Comment (optional)", "zh": "意见（可选）"},
    "flow": {"en": "Approval flow", "zh": "审批流程"},
    "step": {"en": "Step", "zh": "步骤"},
    "submitted_by": {"en": "Submitted by", "zh": "提交人"},
    "submitted_at": {"en": "Submitted", "zh": "提交时间"},
    "approvers": {"en": "Approvers", "zh": "审批人"},
    "record": {"en": "Record", "zh": "记录"},
    "object": {"en": "Object", "zh": "对象"},
    "approval_history": {"en": "Approval history", "zh": "审批历史"},
    "no_approvals": {"en": "This record has not been submitted for approval.",
                     "zh": "该记录尚未提交审批。"},
    "approvals_unavailable": {"en": "Approvals are not installed.", "zh": "未安装审批功能。"},
    "inbox_title": {"en": "My approvals", "zh": "我的审批"},
    "inbox_empty": {"en": "You have no approvals waiting. Nice work!",
                    "zh": "暂无待审批事项。"},
    "act_submitted": {"en": "Submitted for approval.", "zh": "已提交审批。"},
    "submit_not_eligible": {"en": "This record does not meet the conditions of any approval "
                                  "process, so it cannot be submitted.",
                            "zh": "该记录不满足任何审批流程的条件，无法提交审批。"},
    "submit_already_pending": {"en": "This record is already waiting for approval.",
                               "zh": "该记录已在审批中。"},
    "act_approve": {"en": "You approved the request.", "zh": "您已同意该申请。"},
    "act_reject": {"en": "You rejected the request.", "zh": "您已驳回该申请。"},
    "act_recall": {"en": "The request was recalled.", "zh": "申请已撤回。"},
    "act_reassign": {"en": "The request was reassigned.", "zh": "申请已转交。"},
    "action_submitted": {"en": "submitted", "zh": "提交"},
    "action_started": {"en": "step started", "zh": "进入步骤"},
    "action_skipped": {"en": "step skipped", "zh": "跳过步骤"},
    "action_approved": {"en": "approved", "zh": "同意"},
    "action_rejected": {"en": "rejected", "zh": "驳回"},
    "action_reassigned": {"en": "reassigned", "zh": "转交"},
    "action_recalled": {"en": "recalled", "zh": "撤回"},
    "action_completed": {"en": "completed", "zh": "完成"},
    "action_cancelled": {"en": "cancelled", "zh": "取消"},
    # system fields
    "sys_id": {"en": "ID", "zh": "ID"},
    "sys_owner": {"en": "Owner", "zh": "负责人"},
    "sys_created_at": {"en": "Created", "zh": "创建时间"},
    "sys_created_by": {"en": "Created by", "zh": "创建人"},
    "sys_updated_at": {"en": "Last modified", "zh": "最后修改时间"},
    "sys_updated_by": {"en": "Last modified by", "zh": "最后修改人"},
    "sys_version": {"en": "Version", "zh": "版本"},
    "sys_approval_status": {"en": "Approval status", "zh": "审批状态"},
    # errors
    "error_title": {"en": "Something went wrong", "zh": "出错了"},
    "error_400": {"en": "That request could not be understood", "zh": "无法处理该请求"},
    "error_401": {"en": "Please sign in", "zh": "请先登录"},
    "error_403": {"en": "You don't have access to this", "zh": "您没有权限执行此操作"},
    "error_csrf": {"en": "This form has expired", "zh": "表单已过期"},
    "error_404": {"en": "We couldn't find that page", "zh": "找不到该页面"},
    "error_404_body": {"en": "The page or record does not exist, or you don't have access to it.",
                       "zh": "该页面或记录不存在，或您没有访问权限。"},
    "error_405": {"en": "That action is not allowed here", "zh": "此处不允许该操作"},
    "error_409": {"en": "That could not be done right now", "zh": "暂时无法完成该操作"},
    "error_422": {"en": "Some values are not valid", "zh": "部分数据无效"},
    "error_500": {"en": "Something went wrong on our side",
                  "zh": "服务器出现问题"},
    "error_500_body": {"en": "The error has been logged. Please try again in a moment.",
                       "zh": "错误已记录，请稍后重试。"},
    "csrf_body": {"en": "The form has expired or was not sent from this site. "
                        "Go back, reload the page and try again.",
                  "zh": "表单已过期或不是从本站提交的。请返回并刷新页面后重试。"},
    "go_home": {"en": "Go to the home page", "zh": "返回首页"},
    "go_back": {"en": "Go back", "zh": "返回"},
    "error_code": {"en": "Error {code}", "zh": "错误 {code}"},
    # public pools and owner transfer
    "pools": {"en": "Public pools", "zh": "公海"},
    "public_pool": {"en": "Public pool", "zh": "公海"},
    "owner_card": {"en": "Owner", "zh": "负责人"},
    "owned_by": {"en": "Owned by {owner}", "zh": "负责人：{owner}"},
    "owner_locked": {"en": "The owner cannot change while the record is locked.",
                     "zh": "记录已锁定，暂不能更改负责人。"},
    "master_card": {"en": "Belongs to", "zh": "所属记录"},
    "follows_master": {"en": "Its owner and who may see it follow the {object}.",
                       "zh": "负责人和可见范围随所属{object}。"},
    "in_pool": {"en": "In {pool}: nobody owns it yet.", "zh": "位于{pool}，暂无负责人。"},
    "open_pool": {"en": "Open the pool", "zh": "查看公海"},
    "claim": {"en": "Claim", "zh": "领取"},
    "claimed": {"en": "“{name}” is yours now.", "zh": "已领取“{name}”。"},
    "claim_gone": {"en": "Someone else claimed it first.", "zh": "该记录已被他人领取。"},
    "claim_limit": {"en": "You already hold as many records from this pool as its limit "
                          "allows ({limit}). Return one before claiming another.",
                    "zh": "您从该公海领取的记录已达上限（{limit} 条），请先退回一条再领取。"},
    "claim_count": {"en": "You hold {held} of at most {limit} records from this pool.",
                    "zh": "您已从该公海领取 {held} 条，上限 {limit} 条。"},
    "assign": {"en": "Assign", "zh": "分配"},
    "assign_to": {"en": "Assign to", "zh": "分配给"},
    "assign_selected_to": {"en": "Assign the selected records to", "zh": "将选中的记录分配给"},
    "assigned": {"en": "{count} record(s) assigned to {owner}.",
                 "zh": "已将 {count} 条记录分配给 {owner}。"},
    "above_claim_limit": {
        "en": "{owner} now holds {held} records from {pool}, above its claim limit of {limit}: "
              "they cannot claim more until they hold fewer.",
        "zh": "{owner} 现持有{pool}的 {held} 条记录，已超过领取上限（{limit} 条），"
              "在持有数降到上限以下之前无法再领取。"},
    "person_holds": {"en": "{person} — holds {held}/{limit}",
                     "zh": "{person}（已持有 {held}/{limit}）"},
    "choose_user": {"en": "Choose a user…", "zh": "请选择用户…"},
    "choose_records": {"en": "Choose at least one record first.", "zh": "请先选择至少一条记录。"},
    "return": {"en": "Return to pool", "zh": "退回公海"},
    "return_to": {"en": "Return to {pool}", "zh": "退回{pool}"},
    "return_reason": {"en": "Reason", "zh": "退回原因"},
    "reason_demo_data": {"en": "Loaded with the demo data", "zh": "随演示数据导入"},
    "choose_reason": {"en": "Choose a reason…", "zh": "请选择原因…"},
    "returned": {"en": "Returned to {pool}.", "zh": "已退回{pool}。"},
    "previous_owner": {"en": "Previous owner", "zh": "原负责人"},
    "in_pool_since": {"en": "In the pool since", "zh": "进入公海时间"},
    "pool_empty": {"en": "The pool is empty.", "zh": "公海中暂无记录。"},
    "select": {"en": "Select", "zh": "选择"},
    "select_record": {"en": "Select {name}", "zh": "选择 {name}"},
    "actions": {"en": "Actions", "zh": "操作"},
    "transfer": {"en": "Transfer", "zh": "转移"},
    "transfer_owner": {"en": "Transfer owner", "zh": "转移负责人"},
    "transfer_selected": {"en": "Transfer the selected records to", "zh": "将选中的记录转移给"},
    "new_owner": {"en": "New owner", "zh": "新负责人"},
    "transferred": {"en": "“{name}” now belongs to {owner}.", "zh": "“{name}”已转移给 {owner}。"},
    "transferred_many": {"en": "{count} record(s) now belong to {owner}.",
                         "zh": "已将 {count} 条记录转移给 {owner}。"},
    "transfer_failed": {"en": "Nothing was transferred.", "zh": "未转移任何记录。"},
    # the activity timeline
    "activity": {"en": "History and activity", "zh": "历史与动态"},
    "no_activity": {"en": "Nothing has happened yet.", "zh": "暂无动态。"},
    "log_follow_up": {"en": "Log a follow-up", "zh": "记录跟进"},
    "follow_up_text": {"en": "What did you do? (a call, a visit, next steps…)",
                       "zh": "做了什么？（电话、拜访、下一步…）"},
    "follow_up_creates": {"en": "Saved as a {object} of this record.",
                          "zh": "将保存为此记录的{object}。"},
    "follow_up_saved": {"en": "Follow-up logged.", "zh": "已记录跟进。"},
    "tl_created": {"en": "{object} created", "zh": "创建了{object}"},
    "tl_changed": {"en": "Changed", "zh": "修改了字段"},
    "tl_note": {"en": "Note", "zh": "备注"},
    "tl_claim": {"en": "Claimed from {pool}", "zh": "从{pool}领取"},
    "tl_return": {"en": "Returned to {pool} (was {old}'s)", "zh": "退回{pool}（原负责人 {old}）"},
    "tl_return_plain": {"en": "Put in {pool}", "zh": "放入{pool}"},
    "tl_assign": {"en": "Assigned to {new} from {pool}", "zh": "从{pool}分配给 {new}"},
    "tl_transfer": {"en": "Transferred from {old} to {new}", "zh": "负责人由 {old} 转移给 {new}"},
    "tl_approval": {"en": "{flow}: {action}", "zh": "{flow}：{action}"},
    # search across objects
    "search_everything": {"en": "Search everything…", "zh": "全局搜索…"},
    "search_results": {"en": "Search", "zh": "搜索"},
    "search_results_for": {"en": "Results for “{q}”", "zh": "“{q}”的搜索结果"},
    "search_count": {"en": "{count} records found", "zh": "找到 {count} 条记录"},
    "search_hint": {"en": "Type a name, an e-mail address or a phone number to search every "
                          "object you can see.",
                    "zh": "输入名称、邮箱或电话，在您可见的所有对象中搜索。"},
    "search_no_words": {"en": "Type at least one letter or digit to search.",
                        "zh": "请至少输入一个字母、数字或汉字。"},
    "search_nothing": {"en": "Nothing matches “{q}”.", "zh": "没有与“{q}”匹配的记录。"},
    "search_in_list": {"en": "Open in list", "zh": "在列表中查看"},
    "search_see_all": {"en": "All results for “{q}”", "zh": "查看“{q}”的全部结果"},
    # notifications
    "notifications": {"en": "Notifications", "zh": "通知"},
    "notifications_all": {"en": "All", "zh": "全部"},
    "notifications_unread": {"en": "Unread", "zh": "未读"},
    "unread": {"en": "Unread", "zh": "未读"},
    "unread_count": {"en": "{count} unread", "zh": "{count} 条未读"},
    "all_read": {"en": "You are all caught up.", "zh": "所有通知均已读。"},
    "mark_read": {"en": "Mark read", "zh": "标为已读"},
    "mark_all_read": {"en": "Mark all read", "zh": "全部标为已读"},
    "open_record": {"en": "Open", "zh": "打开"},
    "no_notifications": {"en": "No notifications yet.", "zh": "暂无通知。"},
    "no_unread": {"en": "No unread notifications.", "zh": "没有未读通知。"},
    # settings and user administration
    "settings": {"en": "Settings", "zh": "个人设置"},
    "preferences": {"en": "Language and time zone", "zh": "语言与时区"},
    "time_zone": {"en": "Time zone", "zh": "时区"},
    "time_zone_default": {"en": "The app's time zone ({zone})", "zh": "应用默认时区（{zone}）"},
    "time_zone_help": {"en": "Dates and times are shown and entered in this time zone.",
                       "zh": "日期时间按此时区显示和输入。"},
    "settings_saved": {"en": "Your settings were saved.", "zh": "设置已保存。"},
    "change_password": {"en": "Change password", "zh": "修改密码"},
    "current_password": {"en": "Current password", "zh": "当前密码"},
    "new_password": {"en": "New password", "zh": "新密码"},
    "confirm_password": {"en": "New password again", "zh": "确认新密码"},
    "password_help": {"en": "Changing your password signs you out on every other device.",
                      "zh": "修改密码后，其他设备上的登录将全部退出。"},
    "password_changed": {"en": "Your password was changed; other sessions were signed out.",
                         "zh": "密码已修改，其他会话已退出登录。"},
    "administration": {"en": "Administration", "zh": "系统管理"},
    "users": {"en": "Users", "zh": "用户"},
    "new_user": {"en": "New user", "zh": "新建用户"},
    "create_user": {"en": "Create user", "zh": "创建用户"},
    "profile": {"en": "Profile and roles", "zh": "资料与角色"},
    "display_name": {"en": "Display name", "zh": "显示名称"},
    "email": {"en": "E-mail", "zh": "邮箱"},
    "manager": {"en": "Manager", "zh": "上级"},
    "roles": {"en": "Roles", "zh": "角色"},
    "role_admin": {"en": "Administrator", "zh": "管理员"},
    "user_status": {"en": "Status", "zh": "状态"},
    "active": {"en": "Active", "zh": "启用"},
    "deactivated": {"en": "Deactivated", "zh": "已停用"},
    "deactivate": {"en": "Deactivate", "zh": "停用"},
    "activate": {"en": "Reactivate", "zh": "重新启用"},
    "deactivate_confirm": {"en": "{name} is signed out everywhere and can no longer sign in; "
                                 "their records stay with them until you transfer them.",
                           "zh": "{name} 将在所有设备上退出且无法再登录；其记录仍归其所有，"
                                 "可稍后转移。"},
    "deactivate_now": {"en": "Deactivate {name}", "zh": "停用 {name}"},
    "deactivate_help": {"en": "A deactivated user can no longer sign in or use API tokens; "
                              "their records stay.",
                        "zh": "停用后该用户无法登录或使用 API 令牌，其记录保留。"},
    "activate_help": {"en": "Reactivating lets the user sign in again.",
                      "zh": "重新启用后该用户可以再次登录。"},
    "cannot_deactivate_self": {"en": "You cannot deactivate yourself.",
                               "zh": "不能停用自己的账号。"},
    "reset_password": {"en": "Reset password", "zh": "重置密码"},
    "reset_password_help": {"en": "The user is signed out everywhere and signs in with the "
                                  "new password.",
                            "zh": "该用户将在所有设备上退出，并需使用新密码登录。"},
    "user_created": {"en": "User {name} was created.", "zh": "用户 {name} 已创建。"},
    "user_saved": {"en": "User {name} was saved.", "zh": "用户 {name} 已保存。"},
    "user_activated": {"en": "{name} can sign in again.", "zh": "{name} 已重新启用。"},
    "user_deactivated": {"en": "{name} was deactivated.", "zh": "{name} 已停用。"},
    "password_reset": {"en": "The password of {name} was reset.", "zh": "{name} 的密码已重置。"},
    # kanban board and stage path
    "board": {"en": "Board", "zh": "看板"},
    "view_list": {"en": "List", "zh": "列表"},
    "view_as": {"en": "Show as", "zh": "显示方式"},
    "board_group_by": {"en": "Group by", "zh": "分组字段"},
    "board_sum": {"en": "Column totals", "zh": "列合计"},
    "board_no_value": {"en": "No value", "zh": "未填写"},
    "board_sum_of": {"en": "Column totals: {field}", "zh": "列合计：{field}"},
    "board_move_to": {"en": "Move to", "zh": "移动到"},
    "board_move": {"en": "Move", "zh": "移动"},
    "board_more": {"en": "{count} more not shown", "zh": "另有 {count} 条未显示"},
    "board_stale": {"en": "Someone else changed this record; reload the board and try again.",
                    "zh": "该记录已被他人修改，请刷新看板后重试。"},
    "board_failed": {"en": "The card could not be moved.", "zh": "无法移动该卡片。"},
    "moved": {"en": "“{name}” was moved.", "zh": "“{name}”已移动。"},
    "path_move": {"en": "Move to {stage}", "zh": "移动到{stage}"},
    "notifications_marked": {"en": "{count} notifications marked read.",
                             "zh": "已将 {count} 条通知标为已读。"},
}

#: messages of the record service shown to users, translated when known
_MESSAGES: dict[str, str] = {
    "required": "此字段为必填项",
    "Not a valid integer.": "不是有效的整数。",
    "Not a valid number.": "不是有效的数字。",
    "Not a valid decimal.": "不是有效的数字。",
    "Not a valid date.": "不是有效的日期。",
    "Not a valid datetime.": "不是有效的日期时间。",
    "Not a valid email address.": "不是有效的电子邮件地址。",
    "Not a valid URL.": "不是有效的网址。",
    "Not a valid phone number.": "不是有效的电话号码。",
    "Not a valid boolean.": "不是有效的是/否值。",
    "Not a valid list.": "不是有效的列表。",
    "stale version": "记录已被他人修改",
    "hidden for your role": "您的角色不可见此字段",
    "read-only for your role": "您的角色只能查看此字段",
    "wrong password": "密码错误",
    "the passwords differ": "两次输入的密码不一致",
    "already taken": "已被占用",
    "not a valid e-mail address": "不是有效的电子邮件地址",
    "a user cannot be their own manager": "用户不能是自己的上级",
    "user names are 1-64 letters, digits, or _ . @ -": "用户名为 1-64 位字母、数字或 _ . @ -",
    # a cell an import or a form could not read (objects/fields)
    "not true or false (true/false, yes/no, 1/0, 是/否)":
        "不是“是/否”值（true/false、yes/no、1/0、是/否）",
    "not a date (write it as 2020-02-29)": "不是日期（格式如 2020-02-29）",
    "not a date and time (write it as 2020-02-29T17:05:00Z)":
        "不是日期时间（格式如 2020-02-29T17:05:00Z）",
    "not one of the picklist's values or labels": "不是该选项列表的值或标签",
    "not a number": "不是数字",
    "not a finite number": "不是有限的数字",
}
_MESSAGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Must be one of: (.*)\.$"), "必须是以下之一：{0}。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度不能超过 {0}。"),
    (re.compile(r"^Must be greater than or equal to (.*) and less than or equal to (.*)\.$"),
     "必须介于 {0} 和 {1} 之间。"),
    (re.compile(r"^Must be greater than or equal to (.*)\.$"), "必须大于或等于 {0}。"),
    (re.compile(r"^Must be less than or equal to (.*)\.$"), "必须小于或等于 {0}。"),
    (re.compile(r"^(.*) is already used by another .* record$"), "{0} 已被其他记录使用"),
    (re.compile(r"^too large: at most (\d+) digits before the decimal point$"),
     "数值过大：整数部分最多 {0} 位"),
    (re.compile(r"^not a record id$"), "不是有效的记录编号"),
    (re.compile(r"^no active user named (.*)$"), "没有名为 {0} 的在职用户"),
    (re.compile(r"^one of (.*)$"), "请选择以下之一：{0}"),
    (re.compile(r"^passwords have at least (\d+) characters$"), "密码至少 {0} 个字符"),
    (re.compile(r"^no user named (.*)$"), "没有名为 {0} 的用户"),
    (re.compile(r"^unknown time zone (.*)$"), "未知时区 {0}"),
    (re.compile(r"^no such day: (.*)$"), "没有这一天：{0}"),
    (re.compile(r"^not values or labels of the picklist: (.*)$"), "不是该选项列表的值或标签：{0}"),
    (re.compile(r"^has more than (\d+) decimal places$"), "小数位数超过 {0} 位"),
    (re.compile(r"^less than the minimum (.*)$"), "小于最小值 {0}"),
    (re.compile(r"^greater than the maximum (.*)$"), "大于最大值 {0}"),
)
#: an import's "'the cell': why" (spreadsheets/importer.py): the why is translated
_CELL = re.compile(r"^('.*'): (.+)$", re.DOTALL)
_REQUIRED_EN = "This field is required"


def text(key: str, lang: str | None = None, **values: Any) -> str:
    """The built-in text `key` in `lang` (the request's language by default)."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    raw = entry.get(lang or language()) or entry["en"]
    return raw.format(**values) if values else raw


def message(raw: str, lang: str | None = None) -> str:
    """A message from the record service in the user's language (as is when unknown)."""
    lang = lang or language()
    if lang != "zh":
        return _REQUIRED_EN if raw == "required" else raw
    if raw in _MESSAGES:
        return _MESSAGES[raw]
    for pattern, template in _MESSAGE_PATTERNS:
        match = pattern.match(raw)
        if match:
            return template.format(*match.groups())
    cell = _CELL.match(raw)
    if cell:
        why = message(cell[2], lang)
        return f"{cell[1]}：{why}" if why != cell[2] else raw
    return raw


def choose(raw: str | None) -> str | None:
    """A supported language code from a `?lang=` value or a user setting, else None."""
    if not raw:
        return None
    code = raw.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else None


def remember_choice() -> None:
    """Keep a `?lang=` choice in the session (called before every request)."""
    if not request.query_string:  # no `?lang=`: the query string is not parsed for it
        return
    chosen = choose(request.args.get("lang"))
    if chosen is not None:
        session["lang"] = chosen
        g.pop("lang", None)


def language() -> str:
    """The request's language: `?lang=` choice, then user setting, then Accept-Language."""
    lang = g.get("lang")  # one look-up of the request's globals: ~70 texts on a page
    if lang is not None:
        return str(lang)
    lang = choose(session.get("lang"))
    if lang is None:
        actor = g.get("actor")
        lang = choose(getattr(actor, "language", None)) if actor is not None else None
    if lang is None:
        lang = choose(request.accept_languages.best_match(LANGUAGES)) or DEFAULT_LANGUAGE
    g.lang = lang
    return lang
