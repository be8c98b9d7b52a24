"""Texts of the channels' furniture (menus, Telegram commands and buttons) and of what
the bureau sends unasked: broadcasts and the day-before reminders."""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------- channel menus
# WeChat custom menu (三个一级菜单, at most five items each) and the Telegram keyboard.
CHANNEL_MENU: Final = (
    ("看病就医", (("预约陪诊", "medical_escort"), ("住院报备", "hospital_admission"),
                  ("医药费报销", "reimbursement"), ("政策咨询", "policy_question"))),
    ("生活服务", (("上门服务", "eldercare_booking"), ("活动报名", "activity_list"),
                  ("我的记录", "my_records"), ("找工作人员", "human_agent"))),
    ("一键求助", (("一键求助", "sos"),)),
)  # fmt: skip
SOS_BUTTON: Final = "🆘 一键求助"
SHARE_PHONE_BUTTON: Final = "📱 发送我的手机号"
SHARE_LOCATION_BUTTON: Final = "📍 发送我的位置"
ASK_LOCATION: Final = "如果方便，请点下面的按钮发送您的位置。"
REPLY_WITH_NUMBER: Final = "回复 {n} {label}"
TELEGRAM_HELP: Final = (
    "我是银龄通。直接打字说您要办的事，或点下面的按钮。\n紧急情况请点“一键求助”。"
)

# ---------------------------------------------------------------- telegram
TELEGRAM_UNKNOWN_COMMAND: Final = "这个命令我不认识。请直接打字说您要办的事，或点下面的按钮。"
TELEGRAM_SHARE_PHONE: Final = "也可以点下面的“📱 发送我的手机号”按钮，一步就登记好。"
TELEGRAM_KEYBOARD_HINT: Final = "下面的大按钮随时都可以点。"
TELEGRAM_CHOOSE: Final = "请选择："
TELEGRAM_CHOSEN: Final = "✅ 您选了：{label}"
TELEGRAM_COMMANDS: Final = (
    ("start", "开始使用"),
    ("menu", "服务菜单"),
    ("help", "怎么用"),
    ("sos", "一键求助"),
)

# --- broadcasts
# A broadcast from the bureau: the staff's text under the bureau's name, an optional link,
# and how to answer (a reply goes to the normal pipeline like any other message).
BROADCAST_MESSAGE: Final = "【{bureau}通知】\n{text}"
BROADCAST_LINK: Final = "详情：{link}"
BROADCAST_FOOTER: Final = "有事直接回复本消息，或说“找工作人员”。"

# --- reminders
# The day before: to the retiree (or the family member who booked it), what, when, where.
REMIND_HELLO: Final = "{address}，"
REMIND_HELLO_FAMILY: Final = "您好，"
REMIND_ACTIVITY: Final = "{hello}明天{when}有{title}，参加：{who}。\n地点：{place}。"
REMIND_ESCORT: Final = (
    "{hello}明天{when}看病陪诊：{hospital} {department}，为{who}。\n"
    "请带好医保卡和病历，工作人员会提前联系您。"
)
REMIND_CARE: Final = "{hello}明天{when}上门{service}，为{who}。\n服务人员会提前打电话，请家里留人。"
REMIND_CLAIM: Final = (
    "{hello}明天{when}请到{place}交报销单据。\n请带上：发票原件、费用清单、病历、医保卡。"
)
REMIND_CANCEL: Final = "去不了，要取消"
REMIND_PERSON: Final = "找工作人员"
# The staff on duty, every morning: the day's 必访 visits, one line each.
REMIND_STAFF_HEAD: Final = "【今日必访】{day}"
REMIND_STAFF_VISITS: Final = "住院看望（24小时内到期）："
REMIND_STAFF_VISIT: Final = "· {who}，{hospital}，{due}前"
REMIND_STAFF_VISIT_LATE: Final = "· {who}，{hospital}，已超时（应于{due}前）"
REMIND_STAFF_BIRTHDAYS: Final = "今天过生日（80岁以上）："
REMIND_STAFF_BIRTHDAY: Final = "· {name}，{age}岁，电话：{phone}"
REMIND_STAFF_ALONE: Final = "独居老人，本月请电话问候："
REMIND_STAFF_ALONE_LINE: Final = "· {name}，电话：{phone}，{address}"
REMIND_STAFF_FOOT: Final = "回复“待办”查看全部待处理事项。"
