"""The bureau's own data in: rosters, staff, partner hospitals, activities, home-service slots
and the finance office's claim states, from the sheets bureaus keep (Chinese headings).

An import is planned before anything is written: every row is read, checked and matched
against the database, and the plan says for each row what would be added, what updated
(field by field), what is already so, and what is wrong and why (row and column). Only a
plan without errors is applied, all of it in the caller's one transaction; planning the
same file again then finds every row already so.

Rows are matched on what identifies them in the bureau's own sheets: a person by ID number
(its blind index), else by name and birth date, else by name and phone; a hospital by
name; an activity by title and start; a slot by service, day and part of day; a claim by
its number on the finance office's sheet; a staff member by user name, else by name and
phone; a family member by the person they belong to (ID number, else name and phone) and
their own phone. Messages are in Chinese: clerks read them (the CLI and the console print them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from storage.catalog import STANDARD_SERVICES
from storage.crypto import blind, phone_digits
from storage.db import TZ
from storage.models import (
    Activity,
    EldercareService,
    EldercareSlot,
    FamilyMember,
    Hospital,
    Person,
    ServiceRequest,
    Staff,
)
from storage.uow import UnitOfWork

__all__ = [
    "FAMILY",
    "KINDS",
    "RELATIONS",
    "CellError",
    "Column",
    "Kind",
    "Plan",
    "RowPlan",
    "apply",
    "plan",
    "read_phone",
]

MAX_ROWS = 20000

# ------------------------------------------------------------------ values


class CellError(ValueError):
    """A cell that cannot be taken, with why (in Chinese, for the clerk)."""


def _text(limit: int) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        said = _plain(value)
        if said is None:
            return None
        if len(said) > limit:
            raise CellError(f"太长了（最多 {limit} 个字）")
        return said

    return read


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    said = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", str(value)).strip()
    return said or None


def _choice(options: Mapping[str, str], what: str) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        said = _plain(value)
        if said is None:
            return None
        if said in options:
            return options[said]
        raise CellError(f"{what}应填：{'、'.join(dict.fromkeys(options))}")

    return read


_YES = {
    "是": True,
    "否": False,
    "Y": True,
    "N": False,
    "y": True,
    "n": False,
    "1": True,
    "0": False,
    "√": True,
    "×": False,
    "独居": True,
}


def _yes_no(value: Any) -> bool | None:
    said = _plain(value)
    if said is None:
        return None
    if isinstance(value, bool):
        return value
    if said in _YES:
        return _YES[said]
    raise CellError("应填“是”或“否”")


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    said = _plain(value)
    if said is None:
        return None
    found = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", said)
    if not found and re.fullmatch(r"\d{8}", said):
        found = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", said)
    if not found:
        raise CellError("日期应写成 1935-04-12")
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise CellError("没有这一天") from None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=TZ) if value.tzinfo is None else value
    said = _plain(value)
    if said is None:
        return None
    found = re.fullmatch(r"(.+?)\s+(\d{1,2})[:：](\d{2})", said)
    if not found:
        raise CellError("时间应写成 2026-12-20 09:30")
    day = _date(found[1])
    assert day is not None  # noqa: S101 - the pattern needs a day
    try:
        return datetime.combine(day, time(int(found[2]), int(found[3])), TZ)
    except ValueError:
        raise CellError("没有这个钟点") from None


def _count(value: Any) -> int | None:
    said = _plain(value)
    if said is None:
        return None
    if not re.fullmatch(r"\d{1,6}", said):
        raise CellError("应填一个整数，如 30")
    return int(said)


def _money(value: Any) -> float | None:
    said = _plain(value)
    if said is None:
        return None
    cleaned = said.replace(",", "").replace("，", "").removesuffix("元").strip()
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", cleaned):
        raise CellError("金额应写成 1280.50")
    return float(cleaned)


def read_phone(value: Any) -> str | None:
    said = _plain(value)
    if said is None:
        return None
    number = phone_digits(said)
    mobile = re.fullmatch(r"1[3-9]\d{9}", number)
    landline = re.fullmatch(r"0\d{9,11}", number) or re.fullmatch(r"\d{7,8}", number)
    if not (mobile or landline) or re.search(r"[^\d\s\-+()（）]", said):
        raise CellError("电话号码不对（手机 11 位，座机带区号）")
    return said


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _id_number(value: Any) -> str | None:
    said = _plain(value)
    if said is None:
        return None
    number = said.upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise CellError("身份证号应是 18 位")
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise CellError("身份证号校验位不对，请核对")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise CellError("身份证号里的出生日期不对") from None
    return number


# ------------------------------------------------------------------ kinds


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
        Column("name", ("姓名",), _text(40), required=True),
        Column(
            "category",
            ("类别", "离退休类别", "离休/退休"),
            _choice(CATEGORIES, "类别"),
            required=True,
        ),
        Column("gender", ("性别",), _choice(GENDERS, "性别")),
        Column("birth_date", ("出生日期", "出生年月日", "生日"), _date),
        Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), _id_number),
        Column("former_unit", ("原单位", "原工作单位"), _text(100)),
        Column("party_branch", ("党支部", "所在党支部"), _text(100)),
        Column("district", ("所在区", "区", "所属区"), _text(40)),
        Column("address", ("地址", "家庭住址", "居住地址"), _text(200)),
        Column("phone", ("电话", "联系电话", "手机"), read_phone),
        Column("lives_alone", ("独居", "是否独居"), _yes_no),
        Column("health_notes", ("健康情况", "健康状况"), _text(1000)),
        Column("emergency_contact", ("紧急联系人",), _text(40)),
        Column("emergency_phone", ("紧急联系人电话", "紧急联系电话"), read_phone),
        Column("spouse_name", ("配偶姓名", "配偶"), _text(40)),
        Column("notes", ("备注",), _text(1000)),
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
        Column("name", ("姓名",), _text(40), required=True),
        Column("role", ("角色", "岗位"), _choice(ROLES, "角色"), required=True),
        Column("phone", ("电话", "手机"), read_phone),
        Column("username", ("用户名", "登录名"), _text(40)),
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
        Column("name", ("医院名称", "医院"), _text(60), required=True),
        Column("aliases", ("别名", "简称"), _text(500)),
        Column("departments", ("科室",), _text(2000)),
        Column("address", ("地址",), _text(200)),
        Column("green_channel", ("绿色通道", "是否绿色通道"), _yes_no),
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
        Column("title", ("活动名称", "名称"), _text(60), required=True),
        Column("category", ("类别",), _text(20)),
        Column("starts_at", ("开始时间", "时间"), _when, required=True),
        Column("place", ("地点",), _text(100), required=True),
        Column("capacity", ("名额", "人数上限"), _count, required=True),
        Column("eligibility", ("报名范围", "对象"), _choice(ELIGIBILITY, "报名范围")),
        Column("description", ("说明", "内容"), _text(1000)),
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
        Column("service", ("服务", "服务项目"), _text(40), required=True),
        Column("day", ("日期",), _date, required=True),
        Column("part", ("时段", "上午/下午"), _choice(PARTS, "时段"), required=True),
        Column("capacity", ("名额", "可约人数"), _count, required=True),
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
        Column("claim_no", ("单据编号", "报销编号", "编号"), _text(40), required=True),
        Column("id_number", ("身份证号", "身份证号码"), _id_number),
        Column("name", ("姓名",), _text(40), required=True),
        Column("phone", ("电话", "联系电话"), read_phone),
        Column("filed", ("交单日期", "收单日期"), _date),
        Column("amount", ("金额", "报销金额"), _money),
        Column(
            "status", ("状态", "进度", "审核状态"), _choice(CLAIM_STATES, "状态"), required=True
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
        Column("id_number", ("老干部身份证号", "老干部身份证号码"), _id_number),
        Column("person_name", ("老干部姓名",), _text(40)),
        Column("person_phone", ("老干部电话", "老干部联系电话"), read_phone),
        Column("name", ("家属姓名",), _text(40), required=True),
        Column("relation", ("关系", "与本人关系"), _choice(_RELATION_WORDS, "关系"), required=True),
        Column("phone", ("家属电话", "家属手机", "家属联系电话"), read_phone, required=True),
        Column("notes", ("备注",), _text(1000)),
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

KINDS: dict[str, Kind] = {
    k.name: k for k in (PEOPLE, STAFF, HOSPITALS, ACTIVITIES, SLOTS, CLAIMS, FAMILY)
}


# ------------------------------------------------------------------ plans


@dataclass(slots=True)
class RowPlan:
    """What one row would do."""

    row: int  # the sheet's row number (the heading is row 1 in a plain sheet)
    action: str  # add | update | same | error
    label: str = ""  # who or what the row is, for the report
    errors: list[tuple[str, str]] = field(default_factory=list)  # (heading, why)
    changes: list[str] = field(default_factory=list)  # headings of the fields that change
    values: dict[str, Any] = field(default_factory=dict)
    target: Any = None  # the matched record (update | same)


@dataclass(slots=True)
class Plan:
    """What an import would do, row by row."""

    kind: Kind
    rows: list[RowPlan]
    problems: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def ok(self) -> bool:
        """Whether it can be applied."""
        return not self.problems and all(r.action != "error" for r in self.rows)

    def count(self, action: str) -> int:
        """How many rows would do ``action``."""
        return sum(r.action == action for r in self.rows)


def _match_headings(kind: Kind, headings: Sequence[str]) -> tuple[dict[int, Column], list[str]]:
    """Which column of the sheet is which field; the problems with the headings."""
    by_heading = {h: c for c in kind.columns for h in c.headings}
    found: dict[int, Column] = {}
    problems = []
    for index, raw in enumerate(headings):
        heading = re.sub(r"[\s*＊]", "", raw or "").replace("（", "(").replace("）", ")")
        heading = re.sub(r"\(.*?\)", "", heading)
        if not heading:
            continue
        column = by_heading.get(heading)
        if column is None:
            problems.append(f"不认识的列“{raw}”（已忽略）")
            continue
        if column in found.values():
            problems.append(f"“{raw}”列重复了")
            continue
        found[index] = column
    missing = [c.headings[0] for c in kind.columns if c.required and c not in found.values()]
    if missing:
        problems.append("缺少必填的列：" + "、".join(missing))
    return found, problems


async def plan(
    uow: UnitOfWork, kind: Kind, headings: Sequence[str], rows: Sequence[tuple[int, Sequence[Any]]]
) -> Plan:
    """Read, check and match every row; nothing is written."""
    columns, notes = _match_headings(kind, headings)
    fatal = [n for n in notes if not n.endswith("（已忽略）")]
    result = Plan(kind, [], fatal)
    if fatal:
        return result
    if len(rows) > MAX_ROWS:
        result.problems.append(f"一次最多导入 {MAX_ROWS} 行，请分成几个文件")
        return result
    matcher = _MATCHERS[kind.name]
    seen: dict[Any, int] = {}
    for number, cells in rows:
        row = RowPlan(number, "add")
        for index, column in columns.items():
            value = cells[index] if index < len(cells) else None
            try:
                read = column.read(value)
            except CellError as why:
                row.errors.append((column.headings[0], str(why)))
                continue
            if read is None and column.required:
                row.errors.append((column.headings[0], "必填，不能空着"))
            row.values[column.name] = read
        if not row.errors:
            await matcher(uow, row, seen)
        if row.errors:
            row.action = "error"
        result.rows.append(row)
    return result


async def apply(uow: UnitOfWork, done: Plan, now: datetime, actor: str) -> dict[str, int]:
    """Write a plan without errors in the caller's transaction; what was done."""
    if not done.ok:
        raise ValueError("a plan with errors is not applied")
    writer = _WRITERS[done.kind.name]
    for row in done.rows:
        if row.action in {"add", "update"}:
            await writer(uow, row, now, actor)
    await uow.session.flush()
    counts = {a: done.count(a) for a in ("add", "update", "same")}
    uow.audit.record(now, actor, "import", done.kind.name, None, **counts)
    return counts


def _compare(row: RowPlan, record: Any, kind: Kind, fields: Sequence[str]) -> None:
    """Mark the row update (with the changed headings) or same, against ``record``."""
    row.target = record
    for name in fields:
        if name not in row.values:
            continue
        new, old = row.values[name], getattr(record, name)
        if new is None:
            continue  # an empty cell leaves what is there
        if new != old:
            row.changes.append(kind.heading(name))
    row.action = "update" if row.changes else "same"


def _twice(row: RowPlan, seen: dict[Any, int], key: Any, heading: str) -> bool:
    if key in seen:
        row.errors.append((heading, f"和第 {seen[key]} 行是同一条"))
        return True
    seen[key] = row.row
    return False


# ------------------------------------------------------------------ people

_PERSON_FIELDS = [c.name for c in PEOPLE.columns if c.name != "id_number"]


async def _find_person(uow: UnitOfWork, values: Mapping[str, Any]) -> Person | None:
    if values.get("id_number"):
        found = await uow.session.scalar(
            select(Person).where(Person.id_index == blind("id", values["id_number"]))
        )
        if found is not None:
            return found
    name = values.get("name")
    if name and values.get("birth_date"):
        found = await uow.session.scalar(
            select(Person).where(Person.name == name, Person.birth_date == values["birth_date"])
        )
        if found is not None:
            return found
    if name and values.get("phone"):
        return await uow.session.scalar(
            select(Person).where(
                Person.name == name,
                Person.phone_index == blind("phone", phone_digits(values["phone"])),
            )
        )
    return None


async def _match_person(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    number, born = v.get("id_number"), v.get("birth_date")
    if number and born and number[6:14] != born.strftime("%Y%m%d"):
        row.errors.append(("出生日期", "和身份证号里的出生日期不一致"))
        return
    if number and v.get("gender") and int(number[16]) % 2 != (v["gender"] == "M"):
        row.errors.append(("性别", "和身份证号不一致"))
        return
    key = number or (v.get("name"), born or v.get("phone"))
    if _twice(row, seen, key, "身份证号" if number else "姓名"):
        return
    person = await _find_person(uow, v)
    if person is None:
        return
    _compare(row, person, PEOPLE, _PERSON_FIELDS)
    if number and person.id_number != number:
        row.changes.append("身份证号")
        row.action = "update"


async def _write_person(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    person: Person = row.target or Person(created_at=now, lives_alone=False)
    for name, value in row.values.items():
        if value is not None:
            setattr(person, name, value)
    person.updated_at = now
    if row.target is None:
        uow.session.add(person)


# ------------------------------------------------------------------ staff


async def _match_staff(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    if v.get("username") and _twice(row, seen, ("u", v["username"]), "用户名"):
        return
    member = None
    if v.get("username"):
        member = await uow.workbench.staff_by_username(v["username"])
    if member is None and v.get("phone"):
        for one in await uow.workbench.all_staff():
            if (
                one.name == v["name"]
                and one.phone
                and phone_digits(one.phone) == phone_digits(v["phone"])
            ):
                member = one
    if member is not None:
        _compare(row, member, STAFF, ["name", "role", "phone", "username"])


async def _write_staff(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    member: Staff = row.target or Staff(created_at=now, active=True)
    for name, value in row.values.items():
        if value is not None:
            setattr(member, name, value)
    if row.target is None:
        uow.session.add(member)


# ------------------------------------------------------------------ hospitals


def _list(value: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；/\s]+", value or "") if p.strip()]


async def _match_hospital(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    if _twice(row, seen, v["name"], "医院名称"):
        return
    v["aliases"] = _list(v.get("aliases")) if v.get("aliases") is not None else None
    v["departments"] = _list(v.get("departments")) if v.get("departments") is not None else None
    found = await uow.session.scalar(select(Hospital).where(Hospital.name == v["name"]))
    if found is not None:
        _compare(row, found, HOSPITALS, ["aliases", "departments", "address", "green_channel"])


async def _write_hospital(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    hospital: Hospital = row.target or Hospital(aliases=[], departments=[], green_channel=True)
    for name, value in row.values.items():
        if value is not None:
            setattr(hospital, name, value)
    if row.target is None:
        uow.session.add(hospital)


# ------------------------------------------------------------------ activities


async def _match_activity(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = f"{v.get('title')} {v['starts_at']:%m-%d %H:%M}" if v.get("starts_at") else ""
    if _twice(row, seen, (v["title"], v["starts_at"]), "活动名称"):
        return
    starts = v["starts_at"].astimezone(UTC)
    found = await uow.session.scalar(
        select(Activity).where(
            Activity.title == v["title"],
            Activity.starts_at >= starts - timedelta(seconds=1),
            Activity.starts_at <= starts + timedelta(seconds=1),
        )
    )
    if found is None:
        return
    if v.get("capacity") is not None and v["capacity"] < found.seats_taken:
        row.errors.append(("名额", f"已有 {found.seats_taken} 人报名，名额不能少于这个数"))
        return
    v["starts_at"] = found.starts_at  # the same moment; keep the stored value
    _compare(
        row, found, ACTIVITIES, ["category", "place", "capacity", "eligibility", "description"]
    )


async def _write_activity(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    activity: Activity = row.target or Activity(
        created_at=now, seats_taken=0, waitlisted=0, category="其他", eligibility="all"
    )
    for name, value in row.values.items():
        if value is not None:
            setattr(activity, name, value)
    if row.target is None:
        uow.session.add(activity)


# ------------------------------------------------------------------ home-service slots


async def _match_slot(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    service = await uow.session.scalar(
        select(EldercareService).where(
            (EldercareService.name == v["service"]) | (EldercareService.code == v["service"])
        )
    )
    standard = next((s for s in STANDARD_SERVICES if v["service"] in s[:2]), None)
    if service is None and standard is None:
        names = [name for _, name, _ in STANDARD_SERVICES]
        row.errors.append(("服务", "没有这项服务，应填：" + "、".join(names)))
        return
    name = service.name if service is not None else standard[1] if standard else ""
    row.label = f"{name} {v['day']:%m-%d} {'上午' if v['part'] == 'morning' else '下午'}"
    key = service.id if service is not None else name
    if _twice(row, seen, (key, v["day"], v["part"]), "日期"):
        return
    del v["service"]
    if service is None:
        v["new_service"] = standard  # added with the first slot written
        return
    v["service_id"] = service.id
    found = await uow.session.scalar(
        select(EldercareSlot).where(
            EldercareSlot.service_id == service.id,
            EldercareSlot.day == v["day"],
            EldercareSlot.part == v["part"],
        )
    )
    if found is None:
        return
    if v["capacity"] < found.booked:
        row.errors.append(("名额", f"已约了 {found.booked} 人，名额不能少于这个数"))
        return
    _compare(row, found, SLOTS, ["capacity"])


async def _write_slot(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    values = dict(row.values)
    standard = values.pop("new_service", None)
    if standard is not None:
        code, name, description = standard
        service = await uow.session.scalar(
            select(EldercareService).where(EldercareService.code == code)
        )
        if service is None:
            service = EldercareService(code=code, name=name, description=description, active=True)
            uow.session.add(service)
            await uow.session.flush()
        values["service_id"] = service.id
    slot: EldercareSlot = row.target or EldercareSlot(booked=0)
    for name_, value in values.items():
        if value is not None:
            setattr(slot, name_, value)
    if row.target is None:
        uow.session.add(slot)


# ------------------------------------------------------------------ claims


async def _match_claim(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = f"{v['claim_no']} {v.get('name') or ''}"
    if _twice(row, seen, v["claim_no"], "单据编号"):
        return
    person = await _find_person(uow, v)
    if person is None:
        row.errors.append(("姓名", "名册里找不到这个人（请加身份证号或电话）"))
        return
    v["person_id"] = person.id
    found = None
    rows = await uow.session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.kind == "reimbursement_claim", ServiceRequest.person_id == person.id
        )
    )
    for claim in rows:
        if (claim.details or {}).get("claim_no") == v["claim_no"]:
            found = claim
    if found is None:
        return
    row.target = found
    if v["status"] != found.status:
        row.changes.append("状态")
    if v.get("amount") is not None and (found.details or {}).get("amount") != v["amount"]:
        row.changes.append("金额")
    row.action = "update" if row.changes else "same"


async def _write_claim(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    v = row.values
    claim: ServiceRequest | None = row.target
    if claim is None:
        filed = v.get("filed")
        at = datetime.combine(filed, time(9), TZ).astimezone(UTC) if filed else now
        details = {"claim_no": v["claim_no"], "amount": v.get("amount")}
        await uow.requests.create(
            "reimbursement_claim",
            now=at,
            actor=actor,
            person_id=v["person_id"],
            status=v["status"],
            details={k: x for k, x in details.items() if x is not None},
        )
        return
    if v.get("amount") is not None:
        claim.details = {**(claim.details or {}), "amount": v["amount"]}
    if v["status"] != claim.status:
        await uow.requests.set_status(claim, v["status"], now=now, actor=actor, note="财务表导入")


# ------------------------------------------------------------------ family members


async def _match_family(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    if not v.get("id_number") and not (v.get("person_name") and v.get("person_phone")):
        row.errors.append(("老干部身份证号", "请填老干部身份证号，或老干部姓名和电话"))
        return
    person = await _find_person(
        uow,
        {"id_number": v.get("id_number"), "name": v.get("person_name"),
         "phone": v.get("person_phone")},
    )  # fmt: skip
    if person is None:
        heading = "老干部身份证号" if v.get("id_number") else "老干部姓名"
        row.errors.append((heading, "名册里找不到这位老干部（请先导入人员名册）"))
        return
    row.label = f"{person.name} 的{v['relation']} {v['name']}"
    phone_key = blind("phone", phone_digits(v["phone"]))
    if _twice(row, seen, (person.id, phone_key), "家属电话"):
        return
    for name in ("id_number", "person_name", "person_phone"):
        v.pop(name, None)
    v["person_id"] = person.id
    found = await uow.session.scalar(
        select(FamilyMember).where(
            FamilyMember.person_id == person.id, FamilyMember.phone_index == phone_key
        )
    )
    if found is not None:
        _compare(row, found, FAMILY, ["name", "relation", "notes"])


async def _write_family(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    member: FamilyMember = row.target or FamilyMember(created_at=now)
    for name, value in row.values.items():
        if value is not None:
            setattr(member, name, value)
    member.updated_at = now
    if row.target is None:
        uow.session.add(member)


_MATCHERS: dict[str, Callable[[UnitOfWork, RowPlan, dict[Any, int]], Any]] = {
    "people": _match_person,
    "staff": _match_staff,
    "hospitals": _match_hospital,
    "activities": _match_activity,
    "slots": _match_slot,
    "claims": _match_claim,
    "family": _match_family,
}
_WRITERS: dict[str, Callable[[UnitOfWork, RowPlan, datetime, str], Any]] = {
    "people": _write_person,
    "staff": _write_staff,
    "hospitals": _write_hospital,
    "activities": _write_activity,
    "slots": _write_slot,
    "claims": _write_claim,
    "family": _write_family,
}
