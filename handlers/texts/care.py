"""Each person's plan (一人一策), own staff contact (一对一) and family doctor: the answers
to "我的服务计划 / 我的联系人 / 我的家庭医生", the risk rules' reasons, the staff's tasks."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CARE_CADENCES",
    "CARE_CONTACT",
    "CARE_CONTACT_HANDOFF",
    "CARE_CONTACT_NONE",
    "CARE_CONTACT_NO_PHONE",
    "CARE_CONTACT_TOLD",
    "CARE_DOCTOR",
    "CARE_DOCTOR_AT",
    "CARE_DOCTOR_EXPIRED",
    "CARE_DOCTOR_NONE",
    "CARE_DOCTOR_PHONE",
    "CARE_DOCTOR_UNTIL",
    "CARE_ESCALATION_HEAD",
    "CARE_ESCALATION_LINE",
    "CARE_ESCALATION_MORE",
    "CARE_ESCALATION_NOTE",
    "CARE_HEALTH_SERIOUS",
    "CARE_HEALTH_WATCH",
    "CARE_OPTION_CONTACT",
    "CARE_OPTION_DOCTOR",
    "CARE_OPTION_PLAN",
    "CARE_OWNERS",
    "CARE_PLAN_HEAD",
    "CARE_PLAN_NEXT",
    "CARE_PLAN_NONE",
    "CARE_PLAN_OTHERS",
    "CARE_REASONS",
    "CARE_RISK_LEVELS",
    "CARE_SELF",
    "CARE_SEPARATOR",
]

CARE_SELF: Final = "您"  # whose plan: the retiree's own ("您的"); a family member hears the name
CARE_SEPARATOR: Final = "、"

# ----------------------------------------------------------- the plan
CARE_CADENCES: Final = {
    "weekly_care": "每周上门照护",
    "monthly_call": "每月电话问候",
    "quarterly_visit": "每季度上门看望",
    "doctor_followup": "家庭医生随访",
}
CARE_OWNERS: Final = {
    "staff": "老干部局工作人员",
    "street": "街道社区",
    "provider": "服务机构",
    "family": "家属",
}
CARE_PLAN_HEAD: Final = "{whose}的服务计划有{n}项。"
CARE_PLAN_NEXT: Final = "最近一次：{day}，{what}，由{owner}负责。"
CARE_PLAN_OTHERS: Final = "其他几项：{others}。"
CARE_PLAN_NONE: Final = "{whose}的服务计划还没有定好。\n工作人员定好后会告诉您。"

# ------------------------------------------------------------ contact
CARE_CONTACT: Final = "{whose}的联系人是{name}，\n工作电话 {phone}。"
CARE_CONTACT_NO_PHONE: Final = "{whose}的联系人是{name}。\n有事可以打老干部局电话 {hotline}。"
CARE_CONTACT_NONE: Final = "{whose}的联系人还没有安排。\n有事可以打老干部局电话 {hotline}。"
CARE_CONTACT_HANDOFF: Final = "联系人{name}{soon}"
# To the contact, on their staff account: someone of theirs asked for a person.
CARE_CONTACT_TOLD: Final = "【一对一】{name}找工作人员（编号 {id}），请您尽快联系。"

# ------------------------------------------------------------- doctor
CARE_DOCTOR: Final = "{whose}的家庭医生是{where}{doctor}医生。"
CARE_DOCTOR_AT: Final = "{clinic}的"
CARE_DOCTOR_PHONE: Final = "电话 {phone}。"
CARE_DOCTOR_UNTIL: Final = "签约到{year}年{day}。"
CARE_DOCTOR_EXPIRED: Final = "签约{year}年{day}已到期，工作人员会帮您续签。"
CARE_DOCTOR_NONE: Final = "{whose}还没有登记家庭医生签约。\n要签约可以请工作人员帮忙。"

CARE_OPTION_PLAN: Final = "我的服务计划"
CARE_OPTION_CONTACT: Final = "我的联系人"
CARE_OPTION_DOCTOR: Final = "我的家庭医生"

# -------------------------------------------------- risk (console page)
CARE_RISK_LEVELS: Final = {"high": "高", "medium": "中", "low": "低"}
CARE_REASONS: Final = {
    "age_90": "{age}岁（90岁及以上）",
    "age_80": "{age}岁（80岁及以上）",
    "alone": "独居",
    "alone_old": "独居且80岁以上",
    "health_serious": "健康情况：{words}",
    "health_watch": "慢性病：{words}",
    "alerts": "近{days}天紧急求助{n}次",
    "stays": "近{days}天住院{n}次",
}
# Words in the health notes that raise the risk (the serious ones more).
CARE_HEALTH_SERIOUS: Final = (
    "卧床", "瘫痪", "偏瘫", "失智", "痴呆", "阿尔茨海默", "中风", "脑梗", "心衰", "心力衰竭",
    "癌", "肿瘤", "透析", "尿毒症", "帕金森", "骨折", "吸氧",
)  # fmt: skip
CARE_HEALTH_WATCH: Final = (
    "高血压", "糖尿病", "冠心病", "心脏病", "房颤", "慢阻肺", "哮喘", "肾病", "骨质疏松",
    "腿脚不便", "行动不便", "听力", "视力",
)  # fmt: skip

# ------------------------------------------------------- leader (bot)
CARE_ESCALATION_HEAD: Final = "【计划任务超期】以下任务超过{days}天没办："
CARE_ESCALATION_LINE: Final = "{n}. {name} {what}（应在{day}），编号 {id}"
CARE_ESCALATION_MORE: Final = "还有{n}件，请到工作台“待办”查看。"
CARE_ESCALATION_NOTE: Final = "超期{days}天，已报告领导"
