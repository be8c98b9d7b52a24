"""Texts of the slots every booking asks (who, which day, morning or afternoon), of
cancelling a booking, and of "my records"."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------- shared slots
ASK_WHO: Final = "是给您本人，还是给老伴？"
WHO_SELF: Final = "我本人"
WHO_SPOUSE: Final = "老伴"
WHO_BOTH: Final = "我和老伴"
ONLY_SELF_OR_SPOUSE: Final = "这里只能为您本人或老伴办理。给其他家人办，请回复“人工”。"
NO_SPOUSE_ON_FILE: Final = (
    "我们这里没有登记老伴的信息，先只办本人的，好吗？\n要登记老伴，请找工作人员。"
)
ASK_DATE: Final = "哪一天？请回复数字，或直接说日期，比如“下周三”。"
ASK_PART: Final = "上午还是下午？"
PART_MORNING: Final = "上午"
PART_AFTERNOON: Final = "下午"
DATE_PAST: Final = "{date}已经过去了，请换一天。"
DATE_TOO_SOON: Final = "需要至少提前一天预约，请换一天。"
DATE_TOO_FAR: Final = "只能预约{days}天以内的，请换一天。"
SLOT_WHO: Final = "为谁办"
SLOT_DATE: Final = "日期"
SLOT_TIME: Final = "上午/下午"

# ----------------------------------------------------------------- cancel
CANCEL_TITLE: Final = "取消预约"
CANCEL_ASK: Final = "要取消哪一个？请回复数字："
CANCEL_NOTHING: Final = "您现在没有可以取消的预约。"
CANCEL_SLOT: Final = "要取消的"
CANCEL_SUMMARY: Final = "取消{item}"
CANCEL_DONE: Final = "已取消：{item}。"
CANCEL_ITEM_ACTIVITY: Final = "{title} {when}（{who}）"
CANCEL_ITEM_ESCORT: Final = "看病陪诊 {hospital}{department} {when}"
CANCEL_ITEM_CARE: Final = "上门{service} {when}"
CANCEL_ITEM_CLAIM: Final = "交报销单据 {when}"
CANCEL_ITEM_BOTH: Final = "{title}（两位都取消）"

# ---------------------------------------------------------------- records
WHO_ASSIGNED: Final = "{what}：{when}。\n负责的工作人员是{staff}，会提前打电话给您。"
WHO_NOT_YET: Final = "{what}：{when}。\n还没安排具体的人，安排好了会提前打电话告诉您是谁、几点到。"
RECORDS_HEAD: Final = "您的预约和记录（按日子，最近的在前）：\n{lines}"
RECORDS_NONE: Final = "您现在没有预约或在办的事。"
RECORDS_ACTIVITY: Final = "{title} {when}，{who}（{status}）"
RECORDS_REQUEST: Final = "{what}（{status}）"
RECORDS_WAITLIST: Final = "候补第{position}位"
RECORDS_MORE: Final = "还有{n}条，请回复“人工”查询。"
RECORDS_CANCEL_HINT: Final = "要取消请回复“取消预约”。"
REQUEST_KINDS: Final = {
    "medical_escort": "看病陪诊",
    "hospital_admission": "住院报备",
    "hospital_visit": "住院看望",
    "admission_review": "住院提醒待核对",
    "must_visit": "必访探望",
    "plan_item": "计划任务",
    "doctor_renewal": "家庭医生续签",
    "reimbursement": "交报销单据",
    "reimbursement_claim": "报销",
    "eldercare": "上门服务",
    "handoff": "找工作人员",
    "sos": "紧急求助",
    "identity_check": "核实身份",
    "forget_me": "删除个人信息",
    "volunteer_hours": "核对志愿服务时长",
}
REQUEST_STATUSES: Final = {
    "pending": "待安排",
    "assigned": "已安排工作人员",
    "booked": "已预约",
    "reported": "已报备",
    "open": "处理中",
    "acknowledged": "已有人处理",
    "done": "已完成",
    "cancelled": "已取消",
    "resolved": "已办结",
    "closed": "已结束",
    "rejected": "未通过",
    "rescheduled": "已改期",
    "unconfirmed": "等本人确认",
}
