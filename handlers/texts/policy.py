"""Texts of policy answers, and of policies by region."""

from __future__ import annotations

from typing import Final

# ----------------------------------------------------------------- policy
POLICY_RELATED: Final = "相关问题："
POLICY_UNSURE: Final = "这个问题我不确定，不敢乱说。\n要请工作人员来回答您吗？"
POLICY_ASK_STAFF: Final = "请工作人员回答"
POLICY_ASK: Final = "请问您想了解哪方面的政策？比如：离休费、护理费、看病报销、异地居住。"

# --- policies by region (handlers/policy.py)
# The demo bureau's region (YINLING_REGION): the city its policy articles are for.
DEFAULT_REGION: Final = "苏州"
POLICY_ANSWER_WITH_CAVEAT: Final = "【{title}】{body}\n提示：{caveat}\n出处：{source}"
POLICY_SOURCE_ISSUED: Final = "{title}（{issuer}）"
POLICY_SOURCE_DATED: Final = "{title}（{issuer}，{date}）"
POLICY_DATE: Final = "{year}年{month}月{day}日"
# An article that carries no caveat of its own.
POLICY_CAVEAT_DEFAULT: Final = "具体标准以当地老干部局规定为准。"
# Only another region's article matches: its figures are not read out (see handlers/policy.py).
POLICY_OTHER_REGION: Final = (
    "这件事我这里没有{home}的规定。\n"
    "我只查到{region}的文件，那是{region}的，不适用于{home}。{caveat}\n"
    "要请工作人员帮您查{home}的规定吗？"
)
# Asking for one's own figure: a person looks at the file (the hand-off's reply follows).
POLICY_PERSONAL: Final = "每个人的待遇不一样，您本人的数要看档案，我不能乱说。"
