"""Texts of the medical services: escort to a hospital, a hospital stay, a reimbursement."""

from __future__ import annotations

from typing import Final

from handlers.texts.common import REACH_PERSON

# ---------------------------------------------------------------- medical
ESCORT_TITLE: Final = "看病陪诊"
ESCORT_ASK_HOSPITAL: Final = "去哪家医院？请回复数字："
ESCORT_ASK_DEPARTMENT: Final = "看哪个科？比如：心内科、骨科、眼科。不清楚可以回复数字。"
ESCORT_DEPARTMENT_UNSURE: Final = "不清楚，请工作人员帮我定"
ESCORT_DEPARTMENT_TBD: Final = "待定（工作人员帮您定）"
ESCORT_NOT_PARTNER: Final = (
    "“{hospital}”不在绿色通道合作医院里。可以选这些医院，\n"
    "也可以就去{hospital}（工作人员联系您安排）："
)
ESCORT_KEEP_HOSPITAL: Final = "就去{hospital}"
ESCORT_NO_DEPARTMENT: Final = "{hospital}没有“{department}”，请换一个科室，比如：{examples}。"
ESCORT_SLOT_HOSPITAL: Final = "医院"
ESCORT_SLOT_DEPARTMENT: Final = "科室"
ESCORT_SUMMARY: Final = "看病陪诊，{hospital} {department}\n{when}，为{who}"
ESCORT_ALREADY: Final = "看病陪诊 {hospital} {department} {when}"
ESCORT_MOVE_SUMMARY: Final = "把{old}的看病陪诊（{hospital} {department}）\n改到{when}"
ESCORT_DONE: Final = (
    "已登记看病陪诊，编号 {id}。\n工作人员会在就诊前一天联系您。当天请带好医保卡和病历。"
)

ADMISSION_TITLE: Final = "住院报备"
ADMISSION_ASK_HOSPITAL: Final = "住在哪家医院？"
ADMISSION_ASK_SINCE: Final = "哪天住进去的？"
ADMISSION_TODAY: Final = "今天"
ADMISSION_YESTERDAY: Final = "昨天"
ADMISSION_BEFORE: Final = "前天"
ADMISSION_FUTURE: Final = "{date}还没到。如果是要预约住院，请回复“人工”。"
ADMISSION_TOO_FAR: Final = "{date}还早。住院前一个月内来报备就行；有事请回复“人工”。"
ADMISSION_SLOT_HOSPITAL: Final = "医院"
ADMISSION_SLOT_SINCE: Final = "住院日期"
ADMISSION_SUMMARY: Final = "住院报备，{who}住在{hospital}{department}\n住院日期：{since}"
ADMISSION_DONE: Final = (
    "已报备，编号 {id}。工作人员会在24小时内联系您，安排看望。\n祝早日康复！" + REACH_PERSON
)

CLAIM_TITLE: Final = "交报销单据"
CLAIM_STATUS_HEAD: Final = "您的报销：\n{lines}"
CLAIM_LINE: Final = "{n}. {date}交的单据{amount}：{status}"
CLAIM_AMOUNT: Final = " {amount}元"
CLAIM_NONE: Final = "没有查到您的报销记录。要约个时间交单据吗？"
CLAIM_BOOK: Final = "约时间交单据"
CLAIM_CHECK: Final = "查报销进度"
CLAIM_WHICH: Final = "报销要办哪一样？请回复数字："
CLAIM_STATUSES: Final = {
    "submitted": "已收到，待审核",
    "reviewing": "审核中",
    "approved": "已审核通过，等待打款",
    "paid": "已打款",
    "returned": "退回补材料，请联系工作人员",
}
CLAIM_SUMMARY: Final = "交报销单据，地点：{place}\n{when}"
CLAIM_MOVE_SUMMARY: Final = "把{old}交报销单据\n改到{when}"
CLAIM_PLACE: Final = "老干部局服务大厅"
CLAIM_DONE: Final = "已约好，编号 {id}。请带上：发票原件、费用清单、病历、医保卡。\n" + REACH_PERSON
