"""Texts of the home-care services (理发、保洁 …) booked to a time slot."""

from __future__ import annotations

from typing import Final

from handlers.texts.common import REACH_PERSON

# -------------------------------------------------------------- eldercare
CARE_TITLE: Final = "上门服务"
CARE_ASK_SERVICE: Final = "需要哪项上门服务？请回复数字："
CARE_FULL: Final = "{when}的{service}已经约满了。可以选这些时间："
CARE_NO_SLOT: Final = "{when}没有安排{service}。可以选这些时间："
CARE_NOTHING_OPEN: Final = "近两周的{service}都约满了。已请工作人员联系您安排。"
CARE_SLOT_SERVICE: Final = "服务"
CARE_SUMMARY: Final = "上门{service}\n{when}，为{who}"
CARE_THEN: Final = "再约上门{service}\n{when}"
CARE_ALREADY: Final = "上门{service} {when}"
ALREADY_BOOKED: Final = (
    "这个已经约好了：{what}（编号 {id}），不用再约。\n要改时间请说“改到…”，不要了请说“取消预约”。"
)
CARE_RESCHEDULE_SUMMARY: Final = "把{old}的上门{service}\n改到{when}，为{who}"
CARE_DONE: Final = "已约好上门{service}，编号 {id}。\n服务人员会提前打电话给您。" + REACH_PERSON
CARE_RACE: Final = "对不起，这个时间刚刚被约满了。可以选这些时间："
