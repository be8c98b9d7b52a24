"""Texts of the bureau's activities: the list, signing up, the waitlist."""

from __future__ import annotations

from typing import Final

# -------------------------------------------------------------- activities
ACT_LIST_HEAD: Final = "最近的活动（回复数字报名）："
ACT_ABOUT: Final = "{line}。\n{who}"
ACT_ONLY_LIXIU_WHO: Final = "只有离休干部可以参加。"
ACT_EVERYONE: Final = "离退休老同志都可以参加。"
ACT_SIGN_UP: Final = "报名{title}"
ACT_LIST_EMPTY: Final = "{when}没有安排活动。"
ACT_LINE: Final = "{title} {when} {place}，{seats}"
ACT_SEATS_LEFT: Final = "剩{n}个名额"
ACT_SEATS_FULL: Final = "已满，可候补"
ACT_ONLY_LIXIU: Final = "（限离休干部）"
ACT_TITLE: Final = "活动报名"
ACT_ASK_WHICH: Final = "报名哪个活动？请回复数字："
ACT_UNKNOWN: Final = "没有找到“{name}”这个活动。最近的活动有："
ACT_ASK_WHO: Final = "给谁报名？"
ACT_NOT_ELIGIBLE: Final = "“{title}”只限离休干部参加，您不在范围内。可以看看别的活动："
ACT_ALREADY: Final = "{who}已经报过“{title}”了（{status}）。"
ACT_SLOT_WHICH: Final = "活动"
ACT_SUMMARY: Final = "报名{title}，{when}，{place}\n参加：{who}{note}"
ACT_SUMMARY_FULL: Final = "（目前已满，报名后候补）"
ACT_SUMMARY_ONE_SEAT: Final = "（只剩1个名额：{first}报上，{second}候补）"
ACT_SLOT_FIRST: Final = "谁先报上"
ACT_SUMMARY_BOTH_WAIT: Final = "（两位都排候补，有空位会通知您）"
ACT_REGISTERED: Final = "{who}报名成功：{title}，{when}。"
ACT_WAITLISTED: Final = "{title}已满，{who}排在候补第{position}位，有空位会通知您。"
ACT_STATUS: Final = {"registered": "已报名", "waitlisted": "候补中"}


ACT_WAS_CANCELLED: Final = "“{title}”已经取消了，报不了名。还需要办什么？"
