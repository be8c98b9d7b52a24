"""Texts of volunteering and the time bank (时间银行): registering, offers, hours confirmed."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------ registering
VOL_TITLE: Final = "登记志愿者"
VOL_SLOT_SKILLS: Final = "能做的事"
VOL_SLOT_AREAS: Final = "服务地区"
VOL_ASK_SKILLS: Final = (
    "谢谢您愿意当志愿者！您能做哪些事？\n可以回复数字，也可以直接说，比如“陪诊 读报”。"
)
VOL_ASK_AREAS: Final = "您愿意去哪些区服务？\n可以回复数字，也可以说区名，比如“姑苏区 吴中区”。"
VOL_SKILL_NAMES: Final = {
    "escort": "陪诊",
    "companionship": "陪伴聊天",
    "reading": "读报",
    "repair": "小修小补",
}
VOL_ALL_SKILLS: Final = "这几样都行"
VOL_OWN_AREA: Final = "就在{district}"
VOL_ANYWHERE: Final = "哪个区都行"
VOL_SUMMARY: Final = "登记志愿者：{skills}\n服务地区：{areas}"
VOL_LIST_SEP: Final = "、"
VOL_DONE: Final = (
    "已登记为志愿者，谢谢您！\n有合适的服务，我们会发消息问您。\n回复“我的时间银行”可查服务时长。"
)

# ---------------------------------------------------------------- time bank
BANK_EMPTY: Final = (
    "{address}，您的时间银行里还没有时长。\n当志愿者帮助别人，服务的时长会存进来，以后可以换服务。"
)
BANK_BALANCE: Final = "{address}，您的时间银行现有{hours}。\n{lines}"
BANK_EARN: Final = "{day} {what}，存入{hours}"
BANK_REDEEM: Final = "{day} 兑换服务，用去{hours}"
BANK_OTHER: Final = "服务"
BANK_HOURS: Final = "{h}小时"
BANK_MINUTES: Final = "{m}分钟"
BANK_HOURS_MINUTES: Final = "{h}小时{m}分钟"
BANK_JOIN: Final = "我想当志愿者"
BANK_REDEEM_ASK: Final = "用时长换服务（请工作人员办）"

# -------------------------------------------------------------------- offers
VOL_WHAT: Final = {
    "escort": "陪诊",
    "companionship": "上门陪伴聊天",
    "reading": "上门读报",
    "repair": "上门小修小补",
}
OFFER: Final = (
    "{address}，有位老同志需要{what}：\n{when}，{where}。\n您能去吗？回复“1 接受”或“2 不接”。"
)
OFFER_ACCEPT: Final = "接受"
OFFER_DECLINE: Final = "这次不去"
OFFER_YOURS: Final = "好的，这次{what}由您去，谢谢您！\n工作人员会把地址和联系方式告诉您。"
OFFER_TOO_LATE: Final = "谢谢您！这次已经有别的志愿者接了，下次再请您帮忙。"
OFFER_TAKEN: Final = "{when}的{what}已经有志愿者接了，谢谢您！"
OFFER_DECLINED: Final = "好的，这次不麻烦您了。"
RETIREE_TOLD: Final = "{address}，{when}的{what}，志愿者{name}会来陪您。\n有事请回复“人工”。"

# ------------------------------------------------------------ hours confirmed
HOURS_DID: Final = {
    "escort": "陪您去了医院",
    "companionship": "陪您聊了天",
    "reading": "给您读了报",
    "repair": "帮您修了东西",
}
HOURS_ASK: Final = "{address}，志愿者{name}{did}，大约{hours}，对吗？\n回复“1 对”或“2 不对”。"
HOURS_YES: Final = "对"
HOURS_NO: Final = "不对"
HOURS_THANKS: Final = "谢谢您确认！已给志愿者{name}记上{hours}。"
HOURS_DISPUTED: Final = "好的，工作人员会和您核对，谢谢您。"
HOURS_CREDITED: Final = "{address}，您这次{what}的{hours}已存入时间银行，谢谢您！"

# ------------------------------------------------------------------ console
CONSOLE_VOL_SAVED: Final = "已登记志愿者 {name}。"
CONSOLE_VOL_NO_PERSON: Final = "花名册上没有这位老同志。"
CONSOLE_VOL_NO_SKILL: Final = "请至少选一项能做的事。"
CONSOLE_OFFER_SENT: Final = "已发给 {n} 位志愿者。"
CONSOLE_OFFER_NONE: Final = "没有技能和地区都合适的志愿者。"
CONSOLE_OFFER_UNFIT: Final = "这件事不适合派给志愿者。"
CONSOLE_OFFER_DONE: Final = "这件事已经有志愿者接了。"
CONSOLE_HOURS_SAVED: Final = "已确认 {hours}，存入志愿者的时间银行。"
CONSOLE_HOURS_BAD: Final = "这件事还没有志愿者接，或时长已经确认过了。"
CONSOLE_REDEEMED: Final = "已兑换 {hours}。"
CONSOLE_REDEEM_OVER: Final = "时间银行余额不够，不能兑换。"
CONSOLE_REDEEM_BAD: Final = "没有这个预约，或它已经兑换过、已取消。"

# ------------------------------------------------ words the answers are read by
VOL_SKILL_WORDS: Final = {
    "escort": ("陪诊", "陪同看病", "陪看病", "陪人看病", "陪去医院", "陪着去医院", "医院"),
    "companionship": ("陪伴", "聊天", "陪聊", "谈心", "说说话"),
    "reading": ("读报", "念报", "读书", "念书", "读文件"),
    "repair": ("小修小补", "修东西", "维修", "修理", "水电", "修"),
}
VOL_ALL_WORDS: Final = ("都行", "都可以", "都会", "全部", "都能", "几样都")
VOL_ANYWHERE_WORDS: Final = ("都行", "都可以", "哪里都", "哪儿都", "哪都", "随便", "全市", "不限")
VOL_ACCEPT_WORDS: Final = frozenset(
    {"接受", "接", "接单", "我接", "能去", "我去", "可以", "好", "行", "没问题"}
)
VOL_DECLINE_WORDS: Final = frozenset(
    {"不接", "不接受", "不去", "去不了", "不行", "没空", "这次不去"}
)
HOURS_YES_WORDS: Final = frozenset({"对", "对的", "是", "是的", "没错", "对了"})
HOURS_NO_WORDS: Final = frozenset({"不对", "不是", "错了", "不对的"})
VOL_DISTRICT_SUFFIX: Final = "区"
HOURS_ALREADY: Final = "谢谢您，这次的时长已经记好了。"
VOL_WHERE_HOSPITAL: Final = "{district}，去{hospital}"
VOL_WHERE_HOME: Final = "{district}，上门"
VOL_WHERE_UNKNOWN: Final = "本市"
VOL_LIST_MARKS: Final = ("，", ",", "、", ";", "；")
OFFER_ANSWERED: Final = "这件事您已经回复过了，谢谢您！"
NOTE_VOL_OFFERED: Final = "已派给{n}位志愿者"
NOTE_VOL_ACCEPTED: Final = "志愿者{name}接了这件事"
NOTE_VOL_REDEEMED: Final = "用时间银行兑换了{hours}"
VOL_AREA_HINTS: Final = ("县", "市", "园区", "新区")
