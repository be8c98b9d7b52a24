"""Texts of an emergency: the retiree's SOS replies and the staff's pages and alert cards."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------------ sos
SOS_ACK: Final = (
    "已收到您的紧急求助！正在通知值班人员，马上联系您。\n"
    "如有人昏迷、大出血或喘不上气，请立即拨打 120。\n"
    "值班电话：{hotline}"
)
SOS_LOCATION: Final = "您的位置：{place}"
SOS_ADDRESS: Final = "您登记的地址：{place}"
SOS_ASK_ADDRESS: Final = "请告诉我们您的姓名和所在地址。"
SOS_AGAIN: Final = (
    "已在通知值班人员，第{n}次求助已记录。\n"
    "如有人昏迷、大出血或喘不上气，请立即拨打 120。\n"
    "值班电话：{hotline}"
)
SOS_AGAIN_TAKEN: Final = (
    "工作人员{staff}已在处理您的求助，第{n}次求助已转告。\n"
    "如有人昏迷、大出血或喘不上气，请立即拨打 120。\n"
    "值班电话：{hotline}"
)
SOS_CONFIRM: Final = "您是遇到紧急情况了吗？\n急事也可以直接拨打值班电话 {hotline}。"
SOS_CONFIRM_YES: Final = "是，快来人"
SOS_CONFIRM_NO: Final = "不是"
SOS_DENIED: Final = "好的，没有通知值班人员。"
SOS_DENIED_LATE: Final = "值班人员已经收到通知，会联系您确认一下。请保持电话畅通。"
SOS_STILL_WAITING: Final = (
    "已再次通知值班人员，正在加紧联系您。\n情况危急请马上拨打 120。值班电话：{hotline}"
)
SOS_STILL_WAITING_TAKEN: Final = (
    "工作人员{staff}正在处理您的求助，已再次转告他，马上联系您。\n"
    "情况危急请马上拨打 120。值班电话：{hotline}"
)
SOS_DETAIL_NOTED: Final = "已转告值班人员，请保持电话畅通。\n急事请拨打 120，或值班电话 {hotline}。"

# ------------------------------------------------------- alerts (paging)
# The staff page is a card of facts, one per line (not a reply to a retiree).
ALERT_PAGE_LINES: Final = (
    "【紧急求助】{name}{age}",
    "地址：{address}",
    "电话：{phone}",
    "紧急联系人：{contact}",
    "健康情况：{health}",
    "位置：{location}",
    "原话：{said}",
    "求助时间：{when}",
)
ALERT_PAGE_MORE: Final = "又说：{said}"
ALERT_PAGE_UNANSWERED: Final = "（问过本人是不是紧急情况，没有回答，按紧急处理）"
ALERT_PAGE_AGAIN: Final = "（第{round}次呼叫，前面的人还没有接手）"
ALERT_PAGE_FAMILY: Final = (
    "【紧急求助】您的家人{name}刚才发出了紧急求助，工作人员暂时没有接手。\n"
    "请马上联系{name}，必要时拨打 120。值班电话：{hotline}"
)
ALERT_TAKE_LABEL: Final = "我来处理"
ALERT_TAKE_HINT: Final = "编号 {id}。要接手，请点“我来处理”，或回复“接 {id}”。"
ALERT_UNKNOWN_VALUE: Final = "未登记"
ALERT_AGE: Final = "（{age}岁）"
ALERT_TAKEN_BY_YOU: Final = (
    "您已接手 {name} 的紧急求助（编号 {id}）。请马上联系：{phone}。\n"
    "处理完请点“办结”，或回复“办结 {id} 情况说明”。"
)
ALERT_TAKE_NOTE: Final = "我来处理"
ALERT_TAKEN_BY_OTHER: Final = "编号 {id} 的紧急求助已由 {staff} 接手，您不用再处理。"
ALERT_ALREADY_CLOSED: Final = "编号 {id} 的紧急求助已经办结了。"
ALERT_RESOLVE_LABEL: Final = "办结"
ALERT_CLOSE_CONFIRM: Final = "确认办结 {name} 的紧急求助（编号 {id}）吗？\n情况：{note}"
ALERT_CLOSE_NO_NOTE: Final = "（未填写）"
ALERT_CLOSE_YES: Final = "确认办结"
ALERT_CLOSE_NO: Final = "先不办结"
ALERT_CLOSE_KEPT: Final = "好的，编号 {id} 的紧急求助先不办结。"
ALERT_CLOSE_NOTHING: Final = "没有待确认的办结。请回复“办结 编号 情况”。"
ALERT_CLOSE_NOT_ALLOWED: Final = "办结紧急求助需要值班或领导账号，请联系值班人员。"
ALERT_RESOLVED: Final = "编号 {id} 的紧急求助已办结，已记入档案。辛苦了！"
ALERT_TOLD_PERSON: Final = "工作人员{staff}已经接手您的求助，马上联系您。请保持电话畅通。"
ALERT_LOCATED: Final = "编号 {id} 的紧急求助，{name} 发来了位置：{place}"
ALERT_MORE_WORDS: Final = "编号 {id} 的紧急求助，{name} 又发来：{said}"
ALERT_RAISED_BY_STAFF: Final = "已为 {name} 发起紧急求助（编号 {id}），正在呼叫值班人员。"
