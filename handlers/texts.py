"""All user-facing Chinese, kept together and grouped by handler.

Style for readers in their eighties: "您", short sentences, at most three lines per
reply, one question at a time, choices as numbered options, dates as
``11月25日（周三）上午``, and always a way to reach a person.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- common
MENU_PROMPT: Final = "请回复数字选择服务："
MENU_ITEMS: Final = (
    ("看病陪诊（绿色通道）", "medical_escort"),
    ("住院报备", "hospital_admission"),
    ("医药费报销", "reimbursement"),
    ("上门服务（理发、保洁等）", "eldercare_booking"),
    ("活动报名", "activity_list"),
    ("政策咨询", "policy_question"),
    ("我的预约和记录", "my_records"),
    ("找工作人员", "human_agent"),
)
SOS_HINT: Final = "紧急情况请直接回复“求助”，或拨打 {hotline}。"
SORRY: Final = (
    "对不起，系统出了点问题，您的消息已经记下了。\n请稍后再试，或拨打 {hotline} 找工作人员。"
)
GREETING_MORNING: Final = "早上好"
GREETING_DAY: Final = "您好"
GREETING_EVENING: Final = "晚上好"
ADDRESS_LAO: Final = "{surname}老"
ADDRESS_TONGZHI: Final = "{name}同志"
ADDRESS_UNKNOWN: Final = "您"
WEEKDAYS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DATE_FORMAT: Final = "{month}月{day}日（{weekday}）"
PARTS_OF_DAY: Final = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
BENEFICIARY: Final = {"self": "您本人", "spouse": "您的老伴"}

# ------------------------------------------------------------- bad input
EMPTY: Final = "没有收到文字。请说说您要办的事，或回复数字选择服务："
TOO_LONG: Final = "您的消息太长了，我看不全。\n请用一两句话说您要办的事，或回复“人工”找工作人员。"
UNREADABLE: Final = "这个我没看懂。请用文字说说您要办的事，或回复数字选择服务："

# ----------------------------------------------------------------- router
CLARIFY: Final = "我没太明白，您是想办哪件事？请回复数字："
INTENT_LABELS: Final = {
    "sos": "紧急求助（马上通知值班人员）",
    "medical_escort": "预约看病陪诊",
    "hospital_admission": "报告住院",
    "reimbursement": "医药费报销",
    "eldercare_booking": "预约上门服务",
    "activity_list": "看看最近的活动",
    "activity_signup": "报名活动",
    "booking_cancel": "取消预约",
    "my_records": "查我的预约",
    "policy_question": "咨询政策",
    "human_agent": "找工作人员",
}

# ------------------------------------------------------------------- chat
GREET: Final = "{greeting}，{address}！我是银龄通，{bureau}的服务助手。"
THANKS_BYE: Final = "不客气，{address}！有事随时找我。\n紧急情况请回复“求助”。"
OUT_OF_SCOPE: Final = "这件事我帮不上忙，对不起。\n我能帮您办下面这些事，请回复数字："
MENU_AGAIN: Final = "好的。需要时请回复数字选择服务："

# ------------------------------------------------------------------ flows
CONFIRM_YES: Final = "确认"
CONFIRM_CHANGE: Final = "要修改"
CONFIRM_CANCEL: Final = "不办了"
CONFIRM_QUESTION: Final = "请核对：\n{summary}\n对吗？"
CHANGE_WHICH: Final = "请问要改哪一项？"
STOPPED: Final = "好的，“{flow}”不办了，没有登记任何事。\n需要时请回复数字选择服务："
FLOW_EXPIRED: Final = "刚才的“{flow}”等了太久，已经取消了。"
NOT_UNDERSTOOD: Final = "对不起，没听明白。"
RESUME_OFFER: Final = "刚才的“{flow}”还没办完。"
RESUME_LABEL: Final = "接着办“{flow}”"
NOTHING_TO_RESUME: Final = "没有要接着办的事了。请回复数字选择服务："

# ------------------------------------------------------------------ sos
SOS_ACK: Final = (
    "已收到您的紧急求助！正在通知值班人员，马上联系您。\n"
    "如有人昏迷、大出血或喘不上气，请立即拨打 120。\n"
    "值班电话：{hotline}"
)
SOS_LOCATION: Final = "您的位置：{place}"
SOS_ADDRESS: Final = "您登记的地址：{place}"
SOS_ASK_ADDRESS: Final = "请告诉我们您的姓名和所在地址。"

# --------------------------------------------------------------- handoff
HANDOFF_OPEN: Final = "好的，已请工作人员来帮您，{when}。\n急事请拨打 {hotline}。"
HANDOFF_UNSURE: Final = "对不起，我还是没弄明白。已请工作人员来帮您，{when}。"
HANDOFF_SOON: Final = "一般半小时内联系您"
HANDOFF_NEXT_DAY: Final = "工作人员{day}上午{time}上班后联系您"
HANDOFF_TODAY: Final = "工作人员今天{time}上班后联系您"

# --------------------------------------------------------------- binding
BIND_WELCOME: Final = "您好！我是银龄通，{bureau}的服务助手。第一次使用，请先登记一下。"
BIND_ASK_NAME: Final = "请告诉我您的姓名，比如：张建国。"
BIND_ASK_PHONE: Final = "好的，{name}。请告诉我您登记的手机号码。"
BIND_BAD_PHONE: Final = "手机号好像不对，请说 11 位的手机号，比如 13912345678。"
BIND_NOT_FOUND: Final = (
    "没有找到“{name}”、手机号 {phone} 的登记。\n请再核对一下，重新告诉我您的姓名。"
)
BIND_GIVE_UP: Final = "还是没有找到您的登记。已请工作人员联系您帮忙办理。\n急事请拨打 {hotline}。"
BIND_DONE: Final = "{address}，您好！已经认出您了。"
BIND_SLOT_NAME: Final = "姓名"
BIND_SLOT_PHONE: Final = "手机号"
