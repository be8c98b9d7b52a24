"""Texts every handler shares: the menu, greetings, dates, bad input, the router's
questions, chit-chat, a flow's confirm/change/stop, the hand-off, media and location."""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- common
MENU_PROMPT: Final = "请回复数字选择服务："
LIST_SEPARATOR: Final = "、"
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
    "对不起，系统出了点问题。您的消息已经记下，工作人员会联系您。\n急事请拨打 {hotline}。"
)
BUSY: Final = (
    "对不起，您上一条消息还在办理，这条没来得及处理。\n请稍等一会儿再发一次。急事请拨打 {hotline}。"
)
STORE_AWAY: Final = (
    "对不起，系统暂时忙不过来，这条消息没能办理。\n请过几分钟再发一次。急事请拨打 {hotline}。"
)
RECEIVED_BEFORE: Final = "您这条消息我们已经收到并办理了。"
GREETING_MORNING: Final = "早上好"
GREETING_DAY: Final = "您好"
GREETING_EVENING: Final = "晚上好"
ADDRESS_LAO: Final = "{surname}老"
ADDRESS_TONGZHI: Final = "{name}同志"
ADDRESS_UNKNOWN: Final = "您"
WEEKDAYS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DATE_FORMAT: Final = "{month}月{day}日（{weekday}）"
PARTS_OF_DAY: Final = {
    "morning": "上午",
    "afternoon": "下午",
    "evening": "晚上",
    "night": "夜里",
    "noon": "中午",
}
PART_NOT_SERVED: Final = "{part}没有人上门或陪同，只能约上午或下午。\n您看上午还是下午？"
BENEFICIARY: Final = {"self": "您本人", "spouse": "您的老伴", "both": "您和老伴"}
BENEFICIARY_OF: Final = {"self": "{name}本人", "spouse": "{name}的老伴", "both": "{name}和老伴"}
DEFAULT_BUREAU: Final = "市委老干部局"

# ------------------------------------------------------------- bad input
EMPTY: Final = "没有收到文字。请说说您要办的事，或回复数字选择服务："
TOO_LONG: Final = "您的消息太长了，我看不全。\n请用一两句话说您要办的事，或回复“人工”找工作人员。"
UNREADABLE: Final = "这个我没看懂。请用文字说说您要办的事，或回复数字选择服务："

# ----------------------------------------------------------------- router
NOTES: Final = "备注：{notes}"
YES_TO_AN_OPEN_QUESTION: Final = "好的，还差一项："
NOTE_PHONE: Final = "联系电话 {phone}"
NOTE_SEPARATOR: Final = "，"
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
    "my_plan": "查我的服务计划",
    "my_contact": "查我的联系人",
    "my_doctor": "查我的家庭医生",
    "policy_question": "咨询政策",
    "human_agent": "找工作人员",
    "time_bank": "查我的时间银行",
    "volunteer_register": "登记当志愿者",
    "menu": "看看我能办的所有事",
}

# ------------------------------------------------------------------- chat
GREET: Final = "{greeting}，{address}！我是银龄通，{bureau}的服务助手。"
THANKS_BYE: Final = "不客气，{address}！有事随时找我。\n紧急情况请回复“求助”。"
LONELY: Final = (
    "{address}，听您这么说，我们都挂念着您。\n"
    "可以约志愿者上门陪您聊聊天，也可以请工作人员给您打个电话。"
)
LONELY_VISIT: Final = "约人上门陪我聊聊"
LONELY_CALL: Final = "请工作人员给我打电话"
LONELY_NO: Final = "不用了，谢谢"
OUT_OF_SCOPE: Final = "对不起，这件事我帮不上忙。请回复数字："
OUT_OF_SCOPE_AGAIN: Final = "对不起，这件事我还是帮不上。\n要请工作人员来帮您吗？请回复数字："
MENU_AGAIN: Final = "好的。需要时请回复数字选择服务："

# ------------------------------------------------------------------ flows
CONFIRM_YES: Final = "确认"
CONFIRM_CHANGE: Final = "要修改"
CONFIRM_CANCEL: Final = "不办了"
CONFIRM_QUESTION: Final = "请核对：{summary}\n对吗？"
CHANGE_WHICH: Final = "请问要改哪一项？"
STOPPED: Final = "好的，“{flow}”不办了，没有登记任何事。\n需要时请回复数字选择服务："
FLOW_EXPIRED: Final = "刚才的“{flow}”等了太久，已经取消了。"
NOT_UNDERSTOOD: Final = "对不起，没听明白。"
NOTED: Final = "好的，记下了。"
RESUME_OFFER: Final = "刚才的“{flow}”还没办完。"
RESUME_LABEL: Final = "接着办“{flow}”"
NOTHING_TO_RESUME: Final = "没有要接着办的事了。请回复数字选择服务："

# --------------------------------------------------------------- handoff
HANDOFF_OPEN: Final = "好的，已请工作人员来帮您，{when}。\n急事请拨打 {hotline}。"
HANDOFF_UNSURE: Final = "对不起，我还是没弄明白。已请工作人员来帮您，{when}。"
CLARIFY_AGAIN: Final = "对不起，我还是没弄明白。\n要请工作人员来帮您吗？也可以选下面的事："
HANDOFF_ALREADY: Final = "已经请工作人员了（编号 {id}），{when}，请稍等。\n急事请拨打 {hotline}。"
HANDOFF_SOON: Final = "一般半小时内联系您"
HANDOFF_NEXT_DAY: Final = "工作人员{day}上午{time}上班后联系您"
HANDOFF_TODAY: Final = "工作人员今天{time}上班后联系您"

# ------------------------------------------------------- media, location
LOCATION_NOTED: Final = "收到您的位置，谢谢。"
LOCATION_TO_DUTY: Final = "已把您的位置告诉值班人员，请保持电话畅通。"
VOICE_NOT_UNDERSTOOD: Final = "对不起，语音我还听不懂。请打字，或回复数字选择服务："
IMAGE_NOTED: Final = "收到您的图片，已经记下了。"
IMAGE_ATTACHED: Final = "收到您的图片，已附在您正在办的“{what}”里。"
MEDIA_NOTED: Final = "收到了。请用文字告诉我您要办的事，或回复数字选择服务："


# ------------------------------------------------------- asked of every booking
REACH_PERSON: Final = "有问题请回复“人工”。"
