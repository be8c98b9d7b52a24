"""Texts of the must-visit ledger (五必访): its occasions and festivals, staff logging a
visit ("探望 12 送了慰问品 精神不错") and recording an occasion."""

from __future__ import annotations

from typing import Final

VISIT_KIND: Final = "必访探望"
VISIT_OCCASIONS: Final = {
    "hospital": "住院",
    "birthday": "大寿",
    "hardship": "家庭困难",
    "bereavement": "家有丧事",
    "festival": "节日",
    "situation": "情况变化",
}
# The occasions staff record themselves (the others are found by the daily job).
VISIT_RECORDED_OCCASIONS: Final = ("hardship", "bereavement", "situation")
VISIT_FESTIVALS: Final = {
    "spring_festival": "春节",
    "double_ninth": "重阳节",
    "mid_autumn": "中秋节",
    "dragon_boat": "端午节",
    "lantern": "元宵节",
    "national_day": "国庆节",
    "new_year": "元旦",
}
VISIT_BIRTHDAY: Final = "{age}岁大寿"
VISIT_LOGGED: Final = (
    "已记录探望：编号 {id}，{who}（{occasion}）。\n探望事项已完成，记录已存入档案。"
)
VISIT_NOT_A_VISIT: Final = "编号 {id} 不是探望事项。办完请回复“完成 {id} 情况”。"
VISIT_OCCASION_RECORDED: Final = "已登记{occasion}：{name}。探望事项编号 {id}，请在{due}前探望。"
VISIT_OCCASION_ALREADY: Final = "{name}今天已登记过{occasion}，没有重复登记。"
VISIT_OCCASION_UNKNOWN: Final = "请选择登记的事由：家庭困难、家有丧事或情况变化。"
VISIT_PERSON_NOT_FOUND: Final = "没有这个档案。"
VISIT_WHO: Final = (
    "没有找到“{who}”，或有重名。请用档案编号：登记必访 编号 困难/丧事/情况变化 情况。"
)
VISIT_NOT_ALLOWED: Final = "您的角色不能办理探望事项。"
VISIT_COVERAGE_TITLE: Final = "必访探望：各区应访与已访"
VISIT_COVERAGE_HEADERS: Final = ("区", "本月应访", "已探望", "未探望", "探望率")
VISIT_COVERAGE_NOTE: Final = (
    "按探望到期日所在月份统计；五必访：住院、大寿（80、85、90、95岁及百岁以上）、"
    "家庭困难或丧事、节日、情况变化。"
)
VISIT_NO_DISTRICT: Final = "未填区"
VISIT_DONE_SERIES: Final = "已探望"
VISIT_OPEN_SERIES: Final = "未探望"
