"""The kinds of sheet a bureau imports, column by column: the field, the headings a clerk
may give it, how its cells are read, and the template's (fake) example rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.imports.cells import (
    read_choice,
    read_count,
    read_date,
    read_id_number,
    read_money,
    read_phone,
    read_text,
    read_when,
    read_yes_no,
)

__all__ = [
    "ACTIVITIES",
    "CLAIMS",
    "CONTACTS",
    "DOCTORS",
    "FAMILY",
    "HOSPITALS",
    "KINDS",
    "PEOPLE",
    "RELATIONS",
    "SLOTS",
    "STAFF",
    "Column",
    "Kind",
]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet: the field, its headings, how a cell is read."""

    name: str
    headings: tuple[str, ...]
    read: Callable[[Any], Any]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of sheet."""

    name: str
    title: str  # what the clerk calls it
    columns: tuple[Column, ...]
    example: tuple[dict[str, Any], ...]  # the template's example rows (fake)

    def heading(self, name: str) -> str:
        """The column's main heading."""
        return next(c.headings[0] for c in self.columns if c.name == name)


CATEGORIES = {"离休": "lixiu", "退休": "tuixiu", "离休干部": "lixiu", "退休干部": "tuixiu"}
GENDERS = {"男": "M", "女": "F"}
ROLES = {
    "办事员": "clerk",
    "值班": "duty",
    "值班人员": "duty",
    "领导": "leader",
    "系统管理员": "admin",
    "管理员": "admin",
}
PARTS = {"上午": "morning", "下午": "afternoon"}
ELIGIBILITY = {"全部": "all", "所有人": "all", "离休": "lixiu", "仅离休": "lixiu"}
CLAIM_STATES = {
    "已收到": "submitted",
    "已收到，待审核": "submitted",
    "待审核": "submitted",
    "审核中": "reviewing",
    "已审核通过": "approved",
    "审核通过": "approved",
    "已审核通过，等待打款": "approved",
    "待打款": "approved",
    "已打款": "paid",
    "已支付": "paid",
    "退回": "returned",
    "退回补材料": "returned",
}

PEOPLE = Kind(
    "people",
    "人员名册",
    (
        Column("name", ("姓名",), read_text(40), required=True),
        Column(
            "category",
            ("类别", "离退休类别", "离休/退休"),
            read_choice(CATEGORIES, "类别"),
            required=True,
        ),
        Column("gender", ("性别",), read_choice(GENDERS, "性别")),
        Column("birth_date", ("出生日期", "出生年月日", "生日"), read_date),
        Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), read_id_number),
        Column("former_unit", ("原单位", "原工作单位"), read_text(100)),
        Column("party_branch", ("党支部", "所在党支部"), read_text(100)),
        Column("district", ("所在区", "区", "所属区"), read_text(40)),
        Column("address", ("地址", "家庭住址", "居住地址"), read_text(200)),
        Column("phone", ("电话", "联系电话", "手机"), read_phone),
        Column("lives_alone", ("独居", "是否独居"), read_yes_no),
        Column("health_notes", ("健康情况", "健康状况"), read_text(1000)),
        Column("emergency_contact", ("紧急联系人",), read_text(40)),
        Column("emergency_phone", ("紧急联系人电话", "紧急联系电话"), read_phone),
        Column("spouse_name", ("配偶姓名", "配偶"), read_text(40)),
        Column("notes", ("备注",), read_text(1000)),
    ),
    (
        {
            "姓名": "赵示例",
            "类别": "离休",
            "性别": "男",
            "出生日期": "1931-03-05",
            "身份证号": "320502193103050018",
            "原单位": "市机械局",
            "党支部": "第一离休干部党支部",
            "所在区": "姑苏区",
            "地址": "姑苏区示例路8号",
            "电话": "13900009001",
            "独居": "否",
            "健康情况": "高血压",
            "紧急联系人": "赵小例（儿子）",
            "紧急联系人电话": "13700009001",
            "配偶姓名": "钱示例",
            "备注": "",
        },
        {
            "姓名": "孙样本",
            "类别": "退休",
            "性别": "女",
            "出生日期": "1942-11-20",
            "身份证号": "320502194211200022",
            "原单位": "市第一中学",
            "党支部": "",
            "所在区": "吴中区",
            "地址": "吴中区样本街3号2幢",
            "电话": "13900009002",
            "独居": "是",
            "健康情况": "",
            "紧急联系人": "孙女",
            "紧急联系人电话": "13700009002",
            "配偶姓名": "",
            "备注": "腿脚不便",
        },
    ),
)

STAFF = Kind(
    "staff",
    "工作人员",
    (
        Column("name", ("姓名",), read_text(40), required=True),
        Column("role", ("角色", "岗位"), read_choice(ROLES, "角色"), required=True),
        Column("phone", ("电话", "手机"), read_phone),
        Column("username", ("用户名", "登录名"), read_text(40)),
    ),
    (
        {"姓名": "周示例", "角色": "办事员", "电话": "13800009101", "用户名": "zhoushili"},
        {"姓名": "吴样本", "角色": "值班", "电话": "13800009102", "用户名": "wuyangben"},
    ),
)

HOSPITALS = Kind(
    "hospitals",
    "合作医院",
    (
        Column("name", ("医院名称", "医院"), read_text(60), required=True),
        Column("aliases", ("别名", "简称"), read_text(500)),
        Column("departments", ("科室",), read_text(2000)),
        Column("address", ("地址",), read_text(200)),
        Column("green_channel", ("绿色通道", "是否绿色通道"), read_yes_no),
    ),
    (
        {
            "医院名称": "示例市第三人民医院",
            "别名": "三院、市三院",
            "科室": "心内科、骨科、眼科",
            "地址": "示例路100号",
            "绿色通道": "是",
        },
    ),
)

ACTIVITIES = Kind(
    "activities",
    "活动",
    (
        Column("title", ("活动名称", "名称"), read_text(60), required=True),
        Column("category", ("类别",), read_text(20)),
        Column("starts_at", ("开始时间", "时间"), read_when, required=True),
        Column("place", ("地点",), read_text(100), required=True),
        Column("capacity", ("名额", "人数上限"), read_count, required=True),
        Column("eligibility", ("报名范围", "对象"), read_choice(ELIGIBILITY, "报名范围")),
        Column("description", ("说明", "内容"), read_text(1000)),
    ),
    (
        {
            "活动名称": "示例书法班",
            "类别": "书画",
            "开始时间": "2027-01-12 09:30",
            "地点": "老干部活动中心二楼",
            "名额": 20,
            "报名范围": "全部",
            "说明": "自带毛笔",
        },
    ),
)

SLOTS = Kind(
    "slots",
    "上门服务时段",
    (
        Column("service", ("服务", "服务项目"), read_text(40), required=True),
        Column("day", ("日期",), read_date, required=True),
        Column("part", ("时段", "上午/下午"), read_choice(PARTS, "时段"), required=True),
        Column("capacity", ("名额", "可约人数"), read_count, required=True),
    ),
    (
        {"服务": "理发", "日期": "2027-01-15", "时段": "上午", "名额": 3},
        {"服务": "助浴", "日期": "2027-01-15", "时段": "下午", "名额": 2},
    ),
)

CLAIMS = Kind(
    "claims",
    "报销进度",
    (
        Column("claim_no", ("单据编号", "报销编号", "编号"), read_text(40), required=True),
        Column("id_number", ("身份证号", "身份证号码"), read_id_number),
        Column("name", ("姓名",), read_text(40), required=True),
        Column("phone", ("电话", "联系电话"), read_phone),
        Column("filed", ("交单日期", "收单日期"), read_date),
        Column("amount", ("金额", "报销金额"), read_money),
        Column(
            "status", ("状态", "进度", "审核状态"), read_choice(CLAIM_STATES, "状态"), required=True
        ),
    ),
    (
        {
            "单据编号": "BX2026-0001",
            "身份证号": "320502193103050018",
            "姓名": "赵示例",
            "电话": "",
            "交单日期": "2026-11-30",
            "金额": "1280.50",
            "状态": "审核中",
        },
    ),
)

RELATIONS = ("女儿", "儿子", "配偶", "儿媳", "女婿", "孙子", "孙女", "外孙", "外孙女", "侄子",
             "侄女", "外甥", "外甥女", "兄弟", "姐妹", "其他")  # fmt: skip
_RELATION_WORDS = {
    **{r: r for r in RELATIONS},
    "丈夫": "配偶",
    "妻子": "配偶",
    "老伴": "配偶",
    "爱人": "配偶",
    "夫妻": "配偶",
    "兄": "兄弟",
    "弟": "兄弟",
    "姐": "姐妹",
    "妹": "姐妹",
}

FAMILY = Kind(
    "family",
    "家属名单",
    (
        Column("id_number", ("老干部身份证号", "老干部身份证号码"), read_id_number),
        Column("person_name", ("老干部姓名",), read_text(40)),
        Column("person_phone", ("老干部电话", "老干部联系电话"), read_phone),
        Column("name", ("家属姓名",), read_text(40), required=True),
        Column(
            "relation", ("关系", "与本人关系"), read_choice(_RELATION_WORDS, "关系"), required=True
        ),
        Column("phone", ("家属电话", "家属手机", "家属联系电话"), read_phone, required=True),
        Column("notes", ("备注",), read_text(1000)),
    ),
    (
        {
            "老干部身份证号": "320502193103050018",
            "老干部姓名": "赵示例",
            "老干部电话": "",
            "家属姓名": "赵小例",
            "关系": "儿子",
            "家属电话": "13700009001",
            "备注": "周末来看望",
        },
        {
            "老干部身份证号": "",
            "老干部姓名": "孙样本",
            "老干部电话": "13900009002",
            "家属姓名": "孙小样",
            "关系": "孙女",
            "家属电话": "13700009002",
            "备注": "",
        },
    ),
)

# 家庭医生签约 (一人一策): a person's contract with a family doctor, matched on the person
# and the doctor's name (storage/imports/doctors.py).
DOCTORS = Kind(
    "doctors",
    "家庭医生签约",
    (
        Column("id_number", ("老干部身份证号", "身份证号", "身份证号码"), read_id_number),
        Column("person_name", ("老干部姓名", "姓名"), read_text(40)),
        Column("person_phone", ("老干部电话", "老干部联系电话"), read_phone),
        Column("doctor", ("家庭医生", "签约医生", "医生姓名"), read_text(40), required=True),
        Column("clinic", ("签约机构", "医疗机构", "社区卫生服务中心"), read_text(100)),
        Column("phone", ("医生电话", "机构电话", "签约机构电话"), read_phone),
        Column("valid_until", ("有效期至", "签约到期", "到期日期"), read_date, required=True),
    ),
    (
        {
            "老干部身份证号": "320502193103050018",
            "老干部姓名": "赵示例",
            "老干部电话": "",
            "家庭医生": "钱医例",
            "签约机构": "示例街道社区卫生服务中心",
            "医生电话": "0512-65009001",
            "有效期至": "2027-06-30",
        },
    ),
)

# 一对一联系人: the member of staff who is a person's own contact, by name (and phone, when
# two share a name); storage/imports/contacts.py.
CONTACTS = Kind(
    "contacts",
    "一对一联系人",
    (
        Column("id_number", ("老干部身份证号", "身份证号", "身份证号码"), read_id_number),
        Column("person_name", ("老干部姓名", "姓名"), read_text(40)),
        Column("person_phone", ("老干部电话", "老干部联系电话"), read_phone),
        Column("contact", ("联系人", "一对一联系人", "联系人姓名"), read_text(40), required=True),
        Column("contact_phone", ("联系人电话", "联系人手机"), read_phone),
    ),
    (
        {
            "老干部身份证号": "320502193103050018",
            "老干部姓名": "赵示例",
            "老干部电话": "",
            "联系人": "周示例",
            "联系人电话": "13800009101",
        },
    ),
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (PEOPLE, STAFF, HOSPITALS, ACTIVITIES, SLOTS, CLAIMS, FAMILY, DOCTORS, CONTACTS)
}
