"""审计日志: every staff action, from the console and the chat; read-only, in words a
leader reads (who by name, what in Chinese, a link to the item), filtered by who, what,
on what and when."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.console.web import Signed, guarded, number, param, render, runtime_of, staff_ids
from handlers.base import TZ
from storage.uow import UnitOfWork

__all__ = ["ACTIONS", "audit"]

# What the audit log's action codes mean (codes not here are shown as they are).
ACTIONS = {
    "login": "登录工作台", "logout": "退出工作台", "login_failed": "登录失败（密码不对）",
    "login_throttled": "登录被暂停（错太多次）", "queue_viewed": "看待办",
    "people_searched": "查找人员", "person_viewed": "打开档案", "person_edited": "修改档案",
    "binding_revoked": "解除账号绑定", "alert_taken": "接手紧急求助",
    "alert_take_refused": "接手晚了一步", "alert_resolved": "办结紧急求助",
    "alert_close_refused": "办结被拒（无权限）", "request_taken": "接手待办",
    "request_assigned": "分配待办", "request_moved": "修改待办状态", "request_noted": "加备注",
    "request_done": "办完待办", "handoff_answered": "回复老人", "import": "导入表格",
    "import_checked": "检查导入文件", "broadcast_created": "发起群发",
    "broadcast_drafted": "起草群发", "broadcast_confirmed": "确认群发",
    "broadcast_cancelled": "撤回群发",
    "policy_saved": "保存政策文章",
    "exported": "导出 Excel", "report_exported": "导出报表名单",
    "staff_added": "添加工作人员", "staff_password_set": "设置密码",
    "staff_deactivated": "停用工作人员", "staff_wecom_bound": "绑定企业微信",
    "duty_added": "排班", "code_issued": "发绑定码", "sos_raised": "发起紧急求助",
    "sos_joined": "紧急求助又来消息", "sos_detail": "紧急求助补充信息",
    "sos_asked": "问是否紧急", "sos_confirmed": "确认紧急", "sos_dismissed": "本人说不紧急",
    "account_bound": "账号绑定", "binding_rejected": "绑定被拒",
    "consent_given": "同意个人信息告知",
    "forget_requested": "要求删除个人信息", "binding_throttled": "绑定尝试太多",
    "feed_received": "医院推送住院信息", "feed_invalid": "医院推送格式不对",
    "feed_viewed": "看住院提醒", "feed_matched": "住院提醒对上人员",
    "feed_dismissed": "忽略住院提醒",
}  # fmt: skip
TARGETS = {"service_request": "/console/requests/", "person": "/console/people/"}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@guarded("audit.view")
async def audit(request: Request, who: Signed) -> Response:
    """The audit log, newest first."""
    actor = param(request, "actor", 40)
    action = param(request, "action", 40)
    target = param(request, "target", 30)
    since, until = _day(param(request, "since", 10)), _day(param(request, "until", 10))
    offset = number(request.query_params.get("offset"))
    start = datetime.combine(since, time(), TZ) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), TZ) if until else None
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        page = await uow.workbench.audit(actor=actor or None, action=action or None,
                                         target_type=target or None, since=start,
                                         until=end, offset=offset)  # fmt: skip
        names = await uow.workbench.staff_names(staff_ids(e.actor for e in page.rows))
        staff = await uow.workbench.all_staff()
    context = {
        "page": page, "actor": actor, "action": action, "target": target,
        "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
        "actions": sorted({*ACTIONS, *([action] if action else [])}), "labels": ACTIONS,
        "names": names, "staff": staff, "targets": TARGETS,
    }  # fmt: skip
    return render(request, "audit.html", context, who=who)
