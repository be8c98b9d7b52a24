"""Texts for the staff: the chat queue, the web console (工作台), broadcasts from the
staff chat, and the console's catalogue of activities and services."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------------- staff
STAFF_HELLO: Final = "{name}，您好。回复“待办”查看待处理的事项。"
STAFF_QUEUE_HEAD: Final = (
    "待处理（最早的在前）：\n{lines}\n"
    "接手回复“接 编号”；办完回复“完成 编号 情况”，如：完成 12 已探望。"
)
STAFF_QUEUE_EMPTY: Final = "现在没有待处理的事项。"
STAFF_QUEUE_LINE: Final = "编号 {id}：[{kind}] {who} {what}（{status}）"
REQUEST_NOT_FOUND: Final = "没有找到编号 {id} 的事项，请核对编号（回复“待办”查看）。"
REQUEST_ALREADY_CLOSED: Final = "编号 {id} 已经办结了（{status}）。"
REQUEST_IS_ALERT: Final = "编号 {id} 是紧急求助，请回复“办结 {id} 情况”来结束它。"
REQUEST_CLOSED: Final = "编号 {id} 已办结：{kind}，{who}。记录已存入档案。"
REQUEST_NOT_QUEUED: Final = "编号 {id} 不在待办里，不能在这里办理。"
REQUEST_NOT_YOURS: Final = "编号 {id} 已由{staff}负责，不在您的待办里。"
REQUEST_TAKEN: Final = "编号 {id} 由您负责：{kind}，{who}。\n办完请回复“完成 {id} 情况”。"
STAFF_UNKNOWN_PERSON: Final = "未登记的用户"
REQUEST_IS_IDENTITY: Final = (
    "编号 {id} 是身份核实：打电话确认后回“核实 {id}”，不是本人回“驳回 {id}”。"
)
IDENTITY_APPROVED: Final = "编号 {id} 已核实，{who}的新账号可以使用了。"
IDENTITY_REJECTED: Final = "编号 {id} 已驳回，{who}的档案没有绑定这个账号。"
IDENTITY_ALREADY: Final = "编号 {id} 的核实已经办过了。"
STATUS_OTHER: Final = "办理中"

# ------------------------------------------------------- the console (工作台)
CONSOLE_NOT_FOUND: Final = "没有找到编号 {id} 的事项，可能已被删除或编号不对。"
CONSOLE_ALERT_TAKEN: Final = "编号 {id} 的紧急求助由您负责，请马上联系本人。"
CONSOLE_OUTCOMES: Final = {"helped": "已处置", "false_alarm": "误报", "cancelled": "本人取消"}
CONSOLE_OUTCOME_NOTE: Final = "{outcome}：{note}"
CONSOLE_CLOSE_NOTE_NEEDED: Final = "请写一句情况说明（如：已送医，家属陪同），再办结。"
CONSOLE_OUTCOME_NEEDED: Final = "请选择办结结果：已处置、误报或本人取消。"
CONSOLE_NOTE_EMPTY: Final = "备注是空的，没有保存。"
CONSOLE_NOTED: Final = "编号 {id} 已加备注。"
CONSOLE_ALERT_ON_BOARD: Final = "编号 {id} 是紧急求助，请在“紧急求助”里接手和办结。"
CONSOLE_NO_SUCH_STAFF: Final = "请选择一位办事员、值班或领导（停用的账号不能分配）。"
CONSOLE_UNCHANGED: Final = "状态没有改动。"
CONSOLE_CANCEL_REASON_NEEDED: Final = "取消要写明原因：会把原因告诉本人。"
CONSOLE_ASSIGNED: Final = "编号 {id} 已交给{staff}。"
CONSOLE_ASSIGNED_NOTE: Final = "交给{staff}"
CONSOLE_BAD_STATE: Final = "这个状态不能在这里设置。"
CONSOLE_MOVED: Final = "编号 {id} 现在是“{status}”。"
CONSOLE_REPLY_EMPTY: Final = "回复是空的，没有发送。"
CONSOLE_REPLY_TOO_LONG: Final = "回复太长了，请控制在 {limit} 字以内。"
CONSOLE_NO_CHANNEL: Final = "找不到提出这件事的账号（可能已解绑），请打电话联系。"
CONSOLE_REPLIED: Final = "编号 {id} 的回复已发出。"
CONSOLE_NOT_DELIVERED: Final = "但消息没有送到本人，请按档案里的电话打给本人"
ESCORT_ASSIGNED_NOTICE: Final = (
    "您{when}去{hospital}看病，陪诊的工作人员是{staff}，电话 {phone}。\n"
    "当天会提前联系您。有变化请回复“人工”。"
)
CANCELLED_BY_STAFF_NOTICE: Final = (
    "您的{kind}（编号 {id}，{when}）已由工作人员取消。原因：{why}\n有疑问请回复“人工”。"
)
STAFF_ANSWER: Final = "【工作人员{staff}回复】{text}"
ALERT_RAISE_WHO: Final = "没有找到“{who}”，或有重名。请用档案编号：代报求助 编号 情况。"

# --- broadcasts from the staff chat ("群发 …")
STAFF_BROADCAST_PREVIEW: Final = "将发给 {count} 个账号（{who}）：\n{text}\n确认发送吗？"
STAFF_BROADCAST_SEND: Final = "确认发送"
STAFF_BROADCAST_CANCEL: Final = "取消"
STAFF_BROADCAST_QUEUED: Final = "第 {broadcast} 号群发已开始，共 {count} 个账号。"
STAFF_BROADCAST_CANCELLED: Final = "已取消，没有发送。"
STAFF_BROADCAST_NOT_ALLOWED: Final = "群发需要领导或管理员账号。"
STAFF_BROADCAST_EMPTY: Final = "没有找到要发的人，请换个范围。"
STAFF_BROADCAST_TOO_LONG: Final = "内容太长了（{length} 字），请控制在 {limit} 字以内。"
STAFF_BROADCAST_NOTHING: Final = "没有待确认的群发。"
STAFF_BROADCAST_EVERYONE: Final = "全部"

# ------------------------------------------------------- the console: 活动与服务 (catalogue)
CAT_ACTIVITY_CANCELLED_NOTICE: Final = (
    "很抱歉，{when}的“{title}”取消了，原因：{reason}。\n您（{who}）的报名已一并取消，不用再去了。"
)
CAT_NOT_FOUND: Final = "没有找到这一项，可能已被删除或编号不对。"
CAT_TITLE_NEEDED: Final = "请填写活动名称。"
CAT_PLACE_NEEDED: Final = "请填写活动地点。"
CAT_CATEGORY_NEEDED: Final = "请填写活动类别（如：讲座、旅游、文体）。"
CAT_WHEN_NEEDED: Final = "请填写开始时间（北京时间，如 2026-12-20 09:00）。"
CAT_CAPACITY_NEEDED: Final = "名额要填一个正整数。"
CAT_CAPACITY_BELOW_TAKEN: Final = "名额不能少于已报名的 {taken} 人。"
CAT_ELIGIBILITY_NEEDED: Final = "请选择参加对象：全部或离休。"
CAT_ACTIVITY_CREATED: Final = "活动“{title}”已建好。"
CAT_ACTIVITY_SAVED: Final = "活动“{title}”已保存。"
CAT_ACTIVITY_PROMOTED: Final = "候补的 {count} 位已转为正式报名，会通知本人。"
CAT_ACTIVITY_CANCEL_REASON: Final = "取消活动要写明原因：会把原因告诉报名的人。"
CAT_ACTIVITY_ALREADY_CANCELLED: Final = "这个活动已经取消过了。"
CAT_ACTIVITY_CANCEL_DONE: Final = "活动“{title}”已取消，{count} 个报名已一并取消，正在通知本人。"
CAT_ACTIVITY_LOCKED: Final = "活动已取消，不能再修改。"
CAT_CHECK_IN_NOT_REGISTERED: Final = "只有正式报名的人可以签到。"
CAT_CHECKED_IN: Final = "已签到：{who}。"
CAT_ALREADY_CHECKED_IN: Final = "已经签到过了。"
CAT_SLOT_SAVED: Final = "{day}{part}“{service}”的名额已改为 {capacity}。"
CAT_SLOT_BELOW_BOOKED: Final = "名额不能少于已预约的 {booked} 个。"
CAT_SLOTS_DAY_NEEDED: Final = "请选择日期（今天或以后）。"
CAT_SLOTS_ADDED: Final = "已为 {day} 添加 {count} 个时段。"
CAT_SLOTS_EXIST: Final = "{day} 的时段都已经有了，可以直接改名额。"
CAT_NO_SERVICES: Final = "还没有居家服务项目，请先导入服务目录。"
CAT_HOSPITAL_NAME_NEEDED: Final = "请填写医院名称。"
CAT_HOSPITAL_EXISTS: Final = "已经有叫“{name}”的医院了。"
CAT_HOSPITAL_ADDED: Final = "已添加医院“{name}”。"
CAT_HOSPITAL_SAVED: Final = "医院“{name}”已保存。"
CAT_UNCHANGED: Final = "没有改动。"
