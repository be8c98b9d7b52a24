"""Texts of who is writing: consent, binding by name and phone, codes, SMS checks,
the owner's approval of a new account, family invites, forgetting a person."""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------- binding
BIND_WELCOME: Final = "您好！我是银龄通，{bureau}的服务助手。第一次使用，请先登记一下。"
BIND_ASK_NAME: Final = "请告诉我您的姓名，比如：张建国。"
BIND_ASK_PHONE: Final = "好的，{name}。请告诉我您登记的手机号码。"
BIND_BAD_PHONE: Final = "手机号好像不对，请说 11 位的手机号，比如 13912345678。"
BIND_NOT_FOUND: Final = (
    "没有找到“{name}”、手机号 {phone} 的登记。\n请再核对一下，重新告诉我您的姓名。"
)
BIND_TITLE: Final = "身份登记"
BIND_GIVE_UP: Final = (
    "还是没有找到您的登记。已请工作人员联系您帮忙办理，{when}。\n急事请拨打 {hotline}。"
)
BIND_DONE: Final = "{address}，您好！已经认出您了。"
BIND_THROTTLED: Final = (
    "为了安全，登记暂停一会儿，请{at}以后再试。\n着急的话请找工作人员，或拨打 {hotline}。"
)
# Consent (PIPL): what is kept, why, who sees it, how to withdraw — before anything is kept.
CONSENT_VERSION: Final = "2026-12"
CONSENT_NOTICE: Final = (
    "您好！我是银龄通，{bureau}的服务助手。\n"
    "登记后会保存您的姓名、电话和办事记录，只用来为您办事，只有本局工作人员能看；"
    "说“删除我的信息”随时可以撤回。您同意吗？"
)
CONSENT_YES: Final = "同意"
CONSENT_NO: Final = "不同意"
CONSENT_DECLINED: Final = (
    "好的，不登记，也不保存您的信息。\n政策问题可以直接问我；紧急情况请说“救命”或拨打 {hotline}。"
)
BIND_SLOT_CONSENT: Final = "同意登记"
# A pending binding: name and phone matched, identity not yet proven.
BIND_PENDING_SMS: Final = (
    "找到了{name}的登记。为保护您的信息，已给尾号 {tail} 的手机发了验证码。\n"
    "请把短信里的 6 位数字发给我（{minutes}分钟内有效）。"
)
BIND_PENDING_STAFF: Final = (
    "找到了{name}的登记。为保护您的信息，要先核实是您本人，\n"
    "工作人员核实后会通知您，{when}；家里已绑定的账号也可以确认。"
)
BIND_PENDING_WAIT: Final = "您的身份还在核实中，现在可以问政策、找工作人员或紧急求助。"
BIND_PENDING_CODE: Final = "收到短信验证码，直接发给我就行。"
BIND_RESEND: Final = "重发验证码"
BIND_RESENT: Final = "已重新发送验证码到尾号 {tail} 的手机，{minutes}分钟内有效。"
BIND_RESEND_LIMIT: Final = "验证码已经发了好几次，请{at}以后再试，或等工作人员核实。"
SMS_WRONG: Final = "验证码不对，请再看看短信，还可以试 {left} 次。"
SMS_EXPIRED: Final = "这个验证码已经过期或作废了，请点“重发验证码”再要一个。"
SMS_NO_CODE: Final = "这次的核实不用验证码，请等工作人员联系您，或找工作人员。"
CODES_THROTTLED: Final = (
    "输错的次数太多了，为了安全请{at}以后再试。\n着急请找工作人员，或拨打 {hotline}。"
)
PENDING_CANNOT: Final = "核实身份之后才能办这件事，也可以找工作人员帮忙。"
# To the person's accounts already bound, about a new binding.
BINDING_ASK_OWNER: Final = (
    "有人通过{channel}用{name}的姓名和电话申请使用银龄通。\n"
    "是您或家人吗？是请回“同意绑定”，不是请回“不是我们”。"
)
BINDING_TOLD_OWNER: Final = (
    "{name}的档案刚绑定了一个新的{channel}账号。\n不是您或家人的话，请回“不是我们”。"
)
CHANNEL_NAMES: Final = {"wechat": "微信", "telegram": "Telegram", "wecom": "企业微信"}
CHANNEL_OTHER: Final = "网络"
BINDING_APPROVE: Final = "同意绑定"
BINDING_REJECT: Final = "不是我们"
BINDING_APPROVED: Final = "好的，已同意，对方现在可以使用了。"
BINDING_REJECTED: Final = "好的，已拒绝，也告诉了工作人员，请放心。"
BINDING_NOTHING_PENDING: Final = "现在没有等您确认的绑定。"
BINDING_CONFIRMED_YOU: Final = "{address}，您好！身份已经核实，现在可以使用全部服务了。"
BINDING_REJECTED_YOU: Final = "您的登记没有通过核实。如有疑问请拨打 {hotline}。"
# Withdrawing consent / deleting personal data.
FORGET_ME_FILED: Final = (
    "好的，已请工作人员办理删除您的信息（编号 {id}），{when}。\n办好之前紧急求助照常可用。"
)
BIND_SLOT_NAME: Final = "姓名"
BIND_SLOT_PHONE: Final = "手机号"

# ---------------------------------------------------------------- identity
WELCOME_BACK: Final = "欢迎回来，{address}！"
CODE_BOUND_RETIREE: Final = "{address}，您好！已经绑定好了。"
CODE_BOUND_FAMILY: Final = "您好！已绑定为{name}的{relation}，可以替{name}预约和查询。"
CODE_BOUND_STAFF: Final = "{name}，您好！已绑定为工作人员账号。"
CODE_INVALID: Final = (
    "这个码已经用过或过期了，请找工作人员重新要一个。\n也可以告诉我您的姓名来登记。"
)
CODE_SPENT: Final = "这个码已经用过或过期了，请找工作人员重新要一个。"
CODE_WRONG: Final = "这个码不对，请核对后再发，还可以试 {left} 次。"
CONTACT_NOT_OWN: Final = "请点下方“发送我的手机号”按钮，发送您自己的手机号。"
CONTACT_UNKNOWN: Final = "没有找到手机号 {phone} 的登记。请告诉我您的姓名，我再帮您查。"
FAMILY_DEFAULT_RELATION: Final = "家属"
FAMILY_INVITE_CODE: Final = (
    "好的。请把绑定码 {code} 告诉您的子女。\n"
    "他们关注本公众号（或打开本机器人）后，发送“绑定 {code}”，就能替您预约和查询。{days}天内有效。"
)
FAMILY_INVITE_NOT_RETIREE: Final = "绑定家属需要老同志本人来办。也可以请工作人员帮忙。"
