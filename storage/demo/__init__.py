"""Demo data: fake retirees and staff, partner hospitals, activities dated relative to today,
eldercare services and slots, and policy articles written from the seed documents.

Every person here is invented. The policy articles cite the seed document each fact
comes from (``storage/demo/policies/*.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from storage.catalog import STANDARD_SERVICES
from storage.db import TZ
from storage.demo.care import seed_care
from storage.models import (
    Activity,
    EldercareService,
    EldercareSlot,
    Hospital,
    Person,
    PolicyArticle,
    Staff,
)
from storage.uow import UnitOfWork

__all__ = [
    "NINETIETH",
    "NINETIETH_IN",
    "POLICY_DIR",
    "ArticleError",
    "check_article",
    "load_policy_folder",
    "seed_demo",
    "seed_roster",
]

POLICY_DIR = Path(str(resources.files("storage"))) / "demo" / "policies"

# (name, category, former unit, district, spouse, lives alone, birth year)
_PEOPLE = [
    ("张建国", "lixiu", "市纺织工业局", "姑苏区", "李秀英", False, 1931),
    ("王德明", "tuixiu", "市教育局", "吴中区", "刘桂兰", False, 1944),
    ("陈志强", "lixiu", "市人民银行", "相城区", None, True, 1929),
    ("赵国庆", "tuixiu", "市卫生局", "工业园区", "杨淑珍", False, 1949),
    ("周振华", "tuixiu", "市交通局", "高新区", "吴玉兰", False, 1946),
    ("徐卫东", "lixiu", "市供销合作社", "姑苏区", None, True, 1930),
    ("孙丽华", "tuixiu", "市妇联", "吴江区", "马建华", False, 1950),
    ("朱秀珍", "tuixiu", "市档案局", "姑苏区", None, True, 1941),
    ("郭振邦", "lixiu", "市机械工业局", "吴中区", "何永红", False, 1932),
    ("高德胜", "tuixiu", "市农业局", "相城区", "林玉梅", False, 1945),
    ("罗建军", "tuixiu", "市财政局", "工业园区", "郑桂芳", False, 1948),
    ("梁淑英", "lixiu", "市民政局", "姑苏区", None, True, 1928),
    ("宋志远", "tuixiu", "市文化局", "高新区", "唐雪梅", False, 1947),
    ("韩金龙", "tuixiu", "市商业局", "吴江区", "冯翠兰", False, 1943),
    ("曹玉珍", "lixiu", "市总工会", "姑苏区", None, True, 1930),
    ("许宏伟", "tuixiu", "市审计局", "吴中区", "邓秀兰", False, 1951),
    ("彭德华", "tuixiu", "市水利局", "相城区", "曾凤英", False, 1946),
    ("蒋桂英", "tuixiu", "市图书馆", "姑苏区", "谢国平", False, 1949),
    ("沈天明", "lixiu", "市邮电局", "工业园区", "韦春花", False, 1931),
    ("董永福", "tuixiu", "市粮食局", "高新区", None, True, 1942),
]
_WOMEN = {"孙丽华", "朱秀珍", "梁淑英", "曹玉珍", "蒋桂英"}
_HOSPITALS = [
    ("省人民医院", ["省人医", "省医院"], True),
    ("市第一人民医院", ["市一院", "一院", "第一人民医院"], True),
    ("市第二人民医院", ["市二院", "二院", "第二人民医院"], True),
    ("市中医医院", ["中医院", "市中医院"], True),
    ("科技城医院", ["科技城"], True),
    ("市老年病医院", ["老年病医院", "老年医院"], True),
    ("市口腔医院", ["口腔医院"], False),
]
_DEPARTMENTS = [
    "心内科", "神经内科", "呼吸内科", "消化内科", "内分泌科", "肾内科", "老年科", "骨科",
    "眼科", "耳鼻喉科", "泌尿外科", "普外科", "中医科", "康复科", "皮肤科", "体检中心",
]  # fmt: skip
# (title, category, days from today, hour, minute, place, capacity, seats taken, eligibility)
_ACTIVITIES = [
    ("书法班", "class", 3, 9, 0, "老干部活动中心二楼书画室", 20, 20, "all"),
    ("合唱团", "class", 2, 14, 30, "老干部活动中心三楼排练厅", 40, 12, "all"),
    ("太极拳班", "class", 4, 8, 30, "老干部活动中心一楼大厅", 30, 28, "all"),
    ("智能手机班", "class", 5, 9, 30, "老年大学电脑教室", 25, 24, "all"),
    ("国画班", "class", 3, 14, 0, "老干部活动中心二楼书画室", 20, 8, "all"),
    ("健康讲座", "lecture", 6, 14, 0, "老干部活动中心报告厅", 100, 40, "all"),
    ("主题党日", "party_day", 7, 9, 0, "银发先锋党群驿站", 80, 35, "all"),
    ("红色电影", "culture", 8, 14, 0, "老干部活动中心报告厅", 60, 10, "all"),
    ("银发生辉志愿服务", "volunteer", 9, 8, 30, "姑苏区社区服务中心", 30, 5, "all"),
    ("离休干部座谈会", "meeting", 10, 9, 30, "市委老干部局会议室", 40, 18, "lixiu"),
    ("太湖一日游", "trip", 12, 7, 30, "老干部活动中心门口集合", 45, 44, "all"),
    ("戏曲沙龙", "culture", 11, 14, 0, "老干部活动中心多功能厅", 50, 17, "all"),
]
_SERVICES = list(STANDARD_SERVICES)
# 郭振邦 (the ninth demo person) turns 90 this many days after the demo is seeded: the
# must-visit ledger (services/visits.py) owes him a visit the day before his birthday.
NINETIETH, NINETIETH_IN = 8, timedelta(days=3)
_STAFF = [
    ("王晓明", "13800001001", "duty"),
    ("李娟", "13800001002", "clerk"),
    ("陈建平", "13800001003", "leader"),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


def _years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for a 29th without its year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)


def demo_phone(index: int) -> str:
    """The fake phone number of the demo person with this index (0-based)."""
    return f"1390000{index + 1:04d}"


class ArticleError(ValueError):
    """An article that cannot be stored: what is missing (``missing``: slug, title, source,
    region), or an effective date that is not one (``effective``: as it was given)."""

    def __init__(self, message: str, missing: list[str], effective: object = None) -> None:
        super().__init__(message)
        self.missing = missing
        self.effective = effective


def check_article(meta: Mapping[str, Any], body: str, now: datetime) -> PolicyArticle:
    """One article from its front matter (slug, title, source, source_title, region, issuer,
    effective as YYYY-MM-DD, caveat, keywords, questions) and body, or ``ArticleError``.
    The folder import and the console's editor both check articles with this."""
    missing = [key for key in ("slug", "title", "source") if not meta.get(key)]
    region = str(meta.get("region") or "").strip()
    if not region:
        missing.append("region")
    if missing:
        raise ArticleError(f"no {', '.join(missing)} in the front matter", missing)
    effective = meta.get("effective")
    if isinstance(effective, datetime):
        effective = effective.date()
    elif effective is not None and not isinstance(effective, date):
        try:
            effective = date.fromisoformat(str(effective))
        except ValueError:
            raise ArticleError(
                f"effective is {effective!r}, not YYYY-MM-DD", [], effective
            ) from None
    return PolicyArticle(
        slug=str(meta["slug"]),
        title=str(meta["title"]),
        body=body.strip(),
        source=str(meta["source"]),
        source_title=str(meta.get("source_title", meta["source"])),
        region=region,
        issuer=str(meta["issuer"]).strip() if meta.get("issuer") else None,
        effective=effective,
        caveat=str(meta["caveat"]).strip() if meta.get("caveat") else None,
        keywords=[str(k) for k in meta.get("keywords", [])],
        questions=[str(q) for q in meta.get("questions", [])],
        updated_at=now,
    )


def load_policy_folder(folder: Path, now: datetime) -> list[PolicyArticle]:
    """Read policy articles from Markdown files with YAML front matter (slug, title, source,
    source_title, region, issuer, effective as YYYY-MM-DD, caveat, keywords, questions).

    An article without a region is refused, never given one: an article presented in the
    wrong place is the very mistake regions exist to prevent. Every file is checked first;
    any refusal raises ``ValueError`` naming each file and why, and nothing is returned.
    """
    articles, problems = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            _, front, body = path.read_text(encoding="utf-8").split("---", 2)
            meta = yaml.safe_load(front)
        except (ValueError, yaml.YAMLError) as e:
            problems.append(f"{path.name}: no YAML front matter between --- lines ({e})")
            continue
        if not isinstance(meta, dict):
            problems.append(f"{path.name}: the front matter is not a mapping of keys")
            continue
        try:
            articles.append(check_article(meta, body, now))
        except ArticleError as e:
            problems.append(f"{path.name}: {e}")
    if problems:
        raise ValueError("policy articles refused:\n" + "\n".join(problems))
    return articles


async def seed_roster(uow: UnitOfWork, count: int, now: datetime, start: int = 0) -> list[int]:
    """Add ``count`` fake retirees (the named demo people first, then numbered ones)."""
    ids = []
    for i in range(start, start + count):
        if i < len(_PEOPLE):
            name, category, unit, district, spouse, alone, year = _PEOPLE[i]
        else:
            name, category, unit, district, spouse, alone, year = (
                f"测试老人{i + 1:05d}", "tuixiu", "市直机关", "姑苏区", "测试老伴", False, 1945,
            )  # fmt: skip
        person = await uow.people.add(
            Person(
                name=name,
                category=category,
                former_unit=unit,
                district=district,
                phone=demo_phone(i),
                address=f"{district}示范路{i + 1}号",
                birth_date=date(year, 1 + i % 12, 1 + i % 28),
                gender="F" if name in _WOMEN else "M",
                spouse_name=spouse,
                lives_alone=alone,
                emergency_contact="家属（示例）",
                emergency_phone=f"1370000{i + 1:04d}",
                created_at=now,
                updated_at=now,
            )
        )
        ids.append(person.id)
    return ids


async def _seed_claims(uow: UnitOfWork, now: datetime) -> None:
    """Two medical-bill claims in the first demo retiree's file, one paid, one in review."""
    [first] = (await uow.people.all_ids())[:1]
    for weeks, amount, states in ((6, 1280, ("submitted", "reviewing", "approved", "paid")),
                                  (2, 356, ("submitted", "reviewing"))):  # fmt: skip
        filed = now - timedelta(weeks=weeks)
        claim = await uow.requests.create(
            "reimbursement_claim", now=filed, actor="staff:demo", person_id=first,
            status=states[0], details={"amount": amount},
        )  # fmt: skip
        for step, state in enumerate(states[1:], 1):
            await uow.requests.set_status(
                claim, state, now=filed + timedelta(days=3 * step), actor="staff:demo"
            )


async def seed_demo(
    uow: UnitOfWork, now: datetime, roster: int = len(_PEOPLE), slots_from: date | None = None
) -> bool:
    """Fill an empty database with demo data; returns False if it already had people.
    Home-service times are open on each of the 14 days after ``now`` (or from
    ``slots_from``, when that is earlier: a conversation told before the demo's day)."""
    if await uow.people.count():
        return False
    today = now.astimezone(TZ).date()
    ids = await seed_roster(uow, roster, now)
    if len(ids) > NINETIETH:  # a landmark birthday soon: the must-visit ledger's visit
        ninety = await uow.people.get(ids[NINETIETH])
        if ninety is not None:
            ninety.birth_date = _years_before(today + NINETIETH_IN, 90)
    # A duty roster for the next four weeks: 王晓明 on duty, 李娟 backup, 陈建平 leader.
    for level, (name, phone, role) in enumerate(_STAFF, 1):
        member = await uow.staff.add(
            Staff(name=name, phone=phone, role=role, active=True, created_at=now)
        )
        await uow.alerts.add_shift(
            member.id, level, now - timedelta(days=1), now + timedelta(days=28)
        )
    for name, aliases, partner in _HOSPITALS:
        uow.session.add(
            Hospital(name=name, aliases=aliases, departments=_DEPARTMENTS, green_channel=partner)
        )
    for title, category, days, hour, minute, place, capacity, taken, who in _ACTIVITIES:
        await uow.activities.add(
            Activity(
                title=title,
                category=category,
                starts_at=_at(today + timedelta(days=days), hour, minute),
                place=place,
                capacity=capacity,
                seats_taken=taken,
                eligibility=who,
                created_at=now,
            )
        )
    for index, (code, name, description) in enumerate(_SERVICES):
        service = EldercareService(code=code, name=name, description=description, active=True)
        uow.session.add(service)
        await uow.session.flush()
        first = min(1, (slots_from - today).days) if slots_from is not None else 1
        for offset in range(first, 15):
            for part in ("morning", "afternoon"):
                # Tomorrow morning's haircut is fully booked, to show the alternatives.
                full = code == "haircut" and offset == 1 and part == "morning"
                capacity = 2 + (index + offset) % 3
                uow.session.add(
                    EldercareSlot(
                        service_id=service.id,
                        day=today + timedelta(days=offset),
                        part=part,
                        capacity=capacity,
                        booked=capacity if full else 0,
                    )
                )
    await _seed_claims(uow, now)
    for first in (await uow.people.all_ids())[:1]:
        await seed_care(uow, first, now)  # the first retiree's contact, plan and doctor
    for article in load_policy_folder(POLICY_DIR, now):
        await uow.catalog.upsert_policy(article)
    await uow.session.flush()
    return True
