"""All user-facing Chinese, kept together and grouped by handler.

Style for readers in their eighties: "您", short sentences, at most three lines per
reply, one question at a time, choices as numbered options, dates as
``11月25日（周三）上午``, and always a way to reach a person.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- common
MENU_PROMPT: Final = "请回复数字选择服务："
LIST_SEPARATOR: Final = "、"
MENU_ITEMS: Final = (
    ("看病陪诊（绿色通道）", "medical_escort"),
    ("住院报备", "hospital_admission"),
    ("医药费报销", "reimbursement"),
    ("上门服务（理发、保洁等）", "eldercare_booking"),
    ("活动报名", "activity_list"),
    ("政策咨询", "policy_question"),
    ("我的预约和记录", "my_records"),
    ("找工作人员", "human_agent"),
)
SOS_HINT: Final = "紧急情况请直接回复“求助”，或拨打 {hotline}。"
SORRY: Final = (
    "对不起，系统出了点问题。您的消息已经记下，工作人员会联系您。\n急事请拨打 {hotline}。"
)
BUSY: Final = (
    "对不起，您上一条消息还在办理，这条没来得及处理。\n请稍等一会儿再发一次。急事请拨打 {hotline}。"
)
STORE_AWAY: Final = (
    "对不起，系统暂时忙不过来，这条消息没能办理。\n请过几分钟再发一次。急事请拨打 {hotline}。"
)
RECEIVED_BEFORE: Final = "您这条消息我们已经收到并办理了。"
GREETING_MORNING: Final = "早上好"
GREETING_DAY: Final = "您好"
GREETING_EVENING: Final = "晚上好"
ADDRESS_LAO: Final = "{surname}老"
ADDRESS_TONGZHI: Final = "{name}同志"
ADDRESS_UNKNOWN: Final = "您"
WEEKDAYS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DATE_FORMAT: Final = "{month}月{day}日（{weekday}）"
PARTS_OF_DAY: Final = {
    "morning": "上午",
    "afternoon": "下午",
    "evening": "晚上",
    "night": "夜里",
    "noon": "中午",
}
PART_NOT_SERVED: Final = "{part}没有人上门或陪同，只能约上午或下午。\n您看上午还是下午？"
BENEFICIARY: Final = {"self": "您本人", "spouse": "您的老伴", "both": "您和老伴"}
BENEFICIARY_OF: Final = {"self": "{name}本人", "spouse": "{name}的老伴", "both": "{name}和老伴"}
DEFAULT_BUREAU: Final = "市委老干部局"

# ------------------------------------------------------------- bad input
EMPTY: Final = "没有收到文字。请说说您要办的事，或回复数字选择服务："
TOO_LONG: Final = "您的消息太长了，我看不全。\n请用一两句话说您要办的事，或回复“人工”找工作人员。"
UNREADABLE: Final = "这个我没看懂。请用文字说说您要办的事，或回复数字选择服务："

# ----------------------------------------------------------------- router
NOTES: Final = "备注：{notes}"
YES_TO_AN_OPEN_QUESTION: Final = "好的，还差一项："
NOTE_PHONE: Final = "联系电话 {phone}"
NOTE_SEPARATOR: Final = "，"
CLARIFY: Final = "我没太明白，您是想办哪件事？请回复数字："
INTENT_LABELS: Final = {
    "sos": "紧急求助（马上通知值班人员）",
    "medical_escort": "预约看病陪诊",
    "hospital_admission": "报告住院",
    "reimbursement": "医药费报销",
    "eldercare_booking": "预约上门服务",
    "activity_list": "看看最近的活动",
    "activity_signup": "报名活动",
    "booking_cancel": "取消预约",
    "my_records": "查我的预约",
    "policy_question": "咨询政策",
    "human_agent": "找工作人员",
    "menu": "看看我能办的所有事",
}

# ------------------------------------------------------------------- chat
GREET: Final = "{greeting}，{address}！我是银龄通，{bureau}的服务助手。"
THANKS_BYE: Final = "不客气，{address}！有事随时找我。\n紧急情况请回复“求助”。"
LONELY: Final = (
    "{address}，听您这么说，我们都挂念着您。\n"
    "可以约志愿者上门陪您聊聊天，也可以请工作人员给您打个电话。"
)
LONELY_VISIT: Final = "约人上门陪我聊聊"
LONELY_CALL: Final = "请工作人员给我打电话"
LONELY_NO: Final = "不用了，谢谢"
OUT_OF_SCOPE: Final = "对不起，这件事我帮不上忙。请回复数字："
OUT_OF_SCOPE_AGAIN: Final = "对不起，这件事我还是帮不上。\n要请工作人员来帮您吗？请回复数字："
MENU_AGAIN: Final = "好的。需要时请回复数字选择服务："

# ------------------------------------------------------------------ flows
CONFIRM_YES: Final = "确认"
CONFIRM_CHANGE: Final = "要修改"
CONFIRM_CANCEL: Final = "不办了"
CONFIRM_QUESTION: Final = "请核对：{summary}\n对吗？"
CHANGE_WHICH: Final = "请问要改哪一项？"
STOPPED: Final = "好的，“{flow}”不办了，没有登记任何事。\n需要时请回复数字选择服务："
FLOW_EXPIRED: Final = "刚才的“{flow}”等了太久，已经取消了。"
NOT_UNDERSTOOD: Final = "对不起，没听明白。"
RESUME_OFFER: Final = "刚才的“{flow}”还没办完。"
RESUME_LABEL: Final = "接着办“{flow}”"
NOTHING_TO_RESUME: Final = "没有要接着办的事了。请回复数字选择服务："

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

# --------------------------------------------------------------- handoff
HANDOFF_OPEN: Final = "好的，已请工作人员来帮您，{when}。\n急事请拨打 {hotline}。"
HANDOFF_UNSURE: Final = "对不起，我还是没弄明白。已请工作人员来帮您，{when}。"
CLARIFY_AGAIN: Final = "对不起，我还是没弄明白。\n要请工作人员来帮您吗？也可以选下面的事："
HANDOFF_ALREADY: Final = "已经请工作人员了（编号 {id}），{when}，请稍等。\n急事请拨打 {hotline}。"
HANDOFF_SOON: Final = "一般半小时内联系您"
HANDOFF_NEXT_DAY: Final = "工作人员{day}上午{time}上班后联系您"
HANDOFF_TODAY: Final = "工作人员今天{time}上班后联系您"

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
REACH_PERSON: Final = "有问题请回复“人工”。"

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

# -------------------------------------------------------------- eldercare
CARE_TITLE: Final = "上门服务"
CARE_ASK_SERVICE: Final = "需要哪项上门服务？请回复数字："
CARE_FULL: Final = "{when}的{service}已经约满了。可以选这些时间："
CARE_NO_SLOT: Final = "{when}没有安排{service}。可以选这些时间："
CARE_NOTHING_OPEN: Final = "近两周的{service}都约满了。已请工作人员联系您安排。"
CARE_SLOT_SERVICE: Final = "服务"
CARE_SUMMARY: Final = "上门{service}\n{when}，为{who}"
CARE_ALREADY: Final = "上门{service} {when}"
ALREADY_BOOKED: Final = (
    "这个已经约好了：{what}（编号 {id}），不用再约。\n要改时间请说“改到…”，不要了请说“取消预约”。"
)
CARE_RESCHEDULE_SUMMARY: Final = "把{old}的上门{service}\n改到{when}，为{who}"
CARE_DONE: Final = "已约好上门{service}，编号 {id}。\n服务人员会提前打电话给您。" + REACH_PERSON
CARE_RACE: Final = "对不起，这个时间刚刚被约满了。可以选这些时间："

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
ACT_REGISTERED: Final = "{who}报名成功：{title}，{when}。"
ACT_WAITLISTED: Final = "{title}已满，{who}排在候补第{position}位，有空位会通知您。"
ACT_STATUS: Final = {"registered": "已报名", "waitlisted": "候补中"}

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
    "reimbursement": "交报销单据",
    "reimbursement_claim": "报销",
    "eldercare": "上门服务",
    "handoff": "找工作人员",
    "sos": "紧急求助",
    "identity_check": "核实身份",
    "forget_me": "删除个人信息",
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

# ----------------------------------------------------------------- policy
POLICY_RELATED: Final = "相关问题："
POLICY_UNSURE: Final = "这个问题我不确定，不敢乱说。\n要请工作人员来回答您吗？"
POLICY_ASK_STAFF: Final = "请工作人员回答"
POLICY_ASK: Final = "请问您想了解哪方面的政策？比如：离休费、护理费、看病报销、异地居住。"

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

# ------------------------------------------------------- media, location
LOCATION_NOTED: Final = "收到您的位置，谢谢。"
LOCATION_TO_DUTY: Final = "已把您的位置告诉值班人员，请保持电话畅通。"
VOICE_NOT_UNDERSTOOD: Final = "对不起，语音我还听不懂。请打字，或回复数字选择服务："
IMAGE_NOTED: Final = "收到您的图片，已经记下了。"
IMAGE_ATTACHED: Final = "收到您的图片，已附在您正在办的“{what}”里。"
MEDIA_NOTED: Final = "收到了。请用文字告诉我您要办的事，或回复数字选择服务："

# ------------------------------------------------------------------- staff
STAFF_HELLO: Final = "{name}，您好。回复“待办”查看待处理的事项。"
STAFF_QUEUE_HEAD: Final = (
    "待处理（最早的在前）：\n{lines}\n"
    "接手回复“接 编号”；办完回复“完成 编号 情况”，如：完成 12 已探望。"
)
STAFF_QUEUE_EMPTY: Final = "现在没有待处理的事项。"
STAFF_QUEUE_LINE: Final = "编号 {id}：[{kind}] {who} {what}（{status}）"
REQUEST_NOT_FOUND: Final = "没有找到编号 {id} 的事项，请核对编号（回复“待办”查看）。"
REQUEST_ALREADY_CLOSED: Final = "编号 {id} 已经办结了（{status}）。"
REQUEST_IS_ALERT: Final = "编号 {id} 是紧急求助，请回复“办结 {id} 情况”来结束它。"
REQUEST_CLOSED: Final = "编号 {id} 已办结：{kind}，{who}。记录已存入档案。"
REQUEST_NOT_QUEUED: Final = "编号 {id} 不在待办里，不能在这里办理。"
REQUEST_NOT_YOURS: Final = "编号 {id} 已由{staff}负责，不在您的待办里。"
REQUEST_TAKEN: Final = "编号 {id} 由您负责：{kind}，{who}。\n办完请回复“完成 {id} 情况”。"
STAFF_UNKNOWN_PERSON: Final = "未登记的用户"
REQUEST_IS_IDENTITY: Final = (
    "编号 {id} 是身份核实：打电话确认后回“核实 {id}”，不是本人回“驳回 {id}”。"
)
IDENTITY_APPROVED: Final = "编号 {id} 已核实，{who}的新账号可以使用了。"
IDENTITY_REJECTED: Final = "编号 {id} 已驳回，{who}的档案没有绑定这个账号。"
IDENTITY_ALREADY: Final = "编号 {id} 的核实已经办过了。"
STATUS_OTHER: Final = "办理中"

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

# ------------------------------------------------------- the console (工作台)
CONSOLE_NOT_FOUND: Final = "没有找到编号 {id} 的事项，可能已被删除或编号不对。"
CONSOLE_ALERT_TAKEN: Final = "编号 {id} 的紧急求助由您负责，请马上联系本人。"
CONSOLE_OUTCOMES: Final = {"helped": "已处置", "false_alarm": "误报", "cancelled": "本人取消"}
CONSOLE_OUTCOME_NOTE: Final = "{outcome}：{note}"
CONSOLE_CLOSE_NOTE_NEEDED: Final = "请写一句情况说明（如：已送医，家属陪同），再办结。"
CONSOLE_OUTCOME_NEEDED: Final = "请选择办结结果：已处置、误报或本人取消。"
CONSOLE_NOTE_EMPTY: Final = "备注是空的，没有保存。"
CONSOLE_NOTED: Final = "编号 {id} 已加备注。"
CONSOLE_ALERT_ON_BOARD: Final = "编号 {id} 是紧急求助，请在“紧急求助”里接手和办结。"
CONSOLE_NO_SUCH_STAFF: Final = "请选择一位办事员、值班或领导（停用的账号不能分配）。"
CONSOLE_UNCHANGED: Final = "状态没有改动。"
CONSOLE_CANCEL_REASON_NEEDED: Final = "取消要写明原因：会把原因告诉本人。"
CONSOLE_ASSIGNED: Final = "编号 {id} 已交给{staff}。"
CONSOLE_ASSIGNED_NOTE: Final = "交给{staff}"
CONSOLE_BAD_STATE: Final = "这个状态不能在这里设置。"
CONSOLE_MOVED: Final = "编号 {id} 现在是“{status}”。"
CONSOLE_REPLY_EMPTY: Final = "回复是空的，没有发送。"
CONSOLE_REPLY_TOO_LONG: Final = "回复太长了，请控制在 {limit} 字以内。"
CONSOLE_NO_CHANNEL: Final = "找不到提出这件事的账号（可能已解绑），请打电话联系。"
CONSOLE_REPLIED: Final = "编号 {id} 的回复已发出。"
CONSOLE_NOT_DELIVERED: Final = "但消息没有送到本人，请按档案里的电话打给本人"
ESCORT_ASSIGNED_NOTICE: Final = (
    "您{when}去{hospital}看病，陪诊的工作人员是{staff}，电话 {phone}。\n"
    "当天会提前联系您。有变化请回复“人工”。"
)
CANCELLED_BY_STAFF_NOTICE: Final = (
    "您的{kind}（编号 {id}，{when}）已由工作人员取消。原因：{why}\n有疑问请回复“人工”。"
)
STAFF_ANSWER: Final = "【工作人员{staff}回复】{text}"
ALERT_RAISE_WHO: Final = "没有找到“{who}”，或有重名。请用档案编号：代报求助 编号 情况。"

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

# --- broadcasts from the staff chat ("群发 …")
STAFF_BROADCAST_PREVIEW: Final = "将发给 {count} 个账号（{who}）：\n{text}\n确认发送吗？"
STAFF_BROADCAST_SEND: Final = "确认发送"
STAFF_BROADCAST_CANCEL: Final = "取消"
STAFF_BROADCAST_QUEUED: Final = "第 {broadcast} 号群发已开始，共 {count} 个账号。"
STAFF_BROADCAST_CANCELLED: Final = "已取消，没有发送。"
STAFF_BROADCAST_NOT_ALLOWED: Final = "群发需要领导或管理员账号。"
STAFF_BROADCAST_EMPTY: Final = "没有找到要发的人，请换个范围。"
STAFF_BROADCAST_TOO_LONG: Final = "内容太长了（{length} 字），请控制在 {limit} 字以内。"
STAFF_BROADCAST_NOTHING: Final = "没有待确认的群发。"
STAFF_BROADCAST_EVERYONE: Final = "全部"

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

# ------------------------------------------------------- the console: 活动与服务 (catalogue)
CAT_ACTIVITY_CANCELLED_NOTICE: Final = (
    "很抱歉，{when}的“{title}”取消了，原因：{reason}。\n您（{who}）的报名已一并取消，不用再去了。"
)
CAT_NOT_FOUND: Final = "没有找到这一项，可能已被删除或编号不对。"
CAT_TITLE_NEEDED: Final = "请填写活动名称。"
CAT_PLACE_NEEDED: Final = "请填写活动地点。"
CAT_CATEGORY_NEEDED: Final = "请填写活动类别（如：讲座、旅游、文体）。"
CAT_WHEN_NEEDED: Final = "请填写开始时间（北京时间，如 2026-12-20 09:00）。"
CAT_CAPACITY_NEEDED: Final = "名额要填一个正整数。"
CAT_CAPACITY_BELOW_TAKEN: Final = "名额不能少于已报名的 {taken} 人。"
CAT_ELIGIBILITY_NEEDED: Final = "请选择参加对象：全部或离休。"
CAT_ACTIVITY_CREATED: Final = "活动“{title}”已建好。"
CAT_ACTIVITY_SAVED: Final = "活动“{title}”已保存。"
CAT_ACTIVITY_PROMOTED: Final = "候补的 {count} 位已转为正式报名，会通知本人。"
CAT_ACTIVITY_CANCEL_REASON: Final = "取消活动要写明原因：会把原因告诉报名的人。"
CAT_ACTIVITY_ALREADY_CANCELLED: Final = "这个活动已经取消过了。"
CAT_ACTIVITY_CANCEL_DONE: Final = "活动“{title}”已取消，{count} 个报名已一并取消，正在通知本人。"
CAT_ACTIVITY_LOCKED: Final = "活动已取消，不能再修改。"
CAT_CHECK_IN_NOT_REGISTERED: Final = "只有正式报名的人可以签到。"
CAT_CHECKED_IN: Final = "已签到：{who}。"
CAT_ALREADY_CHECKED_IN: Final = "已经签到过了。"
CAT_SLOT_SAVED: Final = "{day}{part}“{service}”的名额已改为 {capacity}。"
CAT_SLOT_BELOW_BOOKED: Final = "名额不能少于已预约的 {booked} 个。"
CAT_SLOTS_DAY_NEEDED: Final = "请选择日期（今天或以后）。"
CAT_SLOTS_ADDED: Final = "已为 {day} 添加 {count} 个时段。"
CAT_SLOTS_EXIST: Final = "{day} 的时段都已经有了，可以直接改名额。"
CAT_NO_SERVICES: Final = "还没有居家服务项目，请先导入服务目录。"
CAT_HOSPITAL_NAME_NEEDED: Final = "请填写医院名称。"
CAT_HOSPITAL_EXISTS: Final = "已经有叫“{name}”的医院了。"
CAT_HOSPITAL_ADDED: Final = "已添加医院“{name}”。"
CAT_HOSPITAL_SAVED: Final = "医院“{name}”已保存。"
CAT_UNCHANGED: Final = "没有改动。"

ACT_WAS_CANCELLED: Final = "“{title}”已经取消了，报不了名。还需要办什么？"
