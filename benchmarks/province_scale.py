"""What benchmarks/province.py generates: its size (``Scale``) and the names, places,
request kinds and statuses the fake province draws from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LONG = 1  # the person with a long file
YEARS = 3
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # fmt: skip
GIVEN = (
    "建国", "建华", "秀英", "桂兰", "志强", "玉兰", "淑珍", "明", "华", "军", "平", "伟",
    "德明", "国庆", "凤英", "桂英", "文华", "志明", "秀兰", "丽华", "振华", "永生", "春生",
    "玉珍", "桂芳", "淑英", "国华", "海涛", "德胜", "兰英", "金凤", "秀珍", "立新", "卫东",
    "红", "英", "梅", "霞", "刚", "勇", "杰", "涛", "静", "敏", "宏", "斌", "东", "林",
)  # fmt: skip
# A province: its cities' districts.
DISTRICTS = tuple(
    f"{city}{district}"
    for city in ("苏州市", "南京市", "无锡市", "常州市", "南通市", "扬州市", "徐州市", "盐城市")
    for district in ("第一区", "第二区", "第三区", "第四区", "第五区", "第六区")
)
UNITS = ("省委办公厅", "省政府办公厅", "省财政厅", "省教育厅", "省卫健委", "省公安厅", "省总工会", "省直机关工委")  # fmt: skip
HOSPITALS = ("省人民医院", "市立医院本部", "苏大附一院", "市中医医院", "市第九人民医院")
SERVICES = ("bath", "cleaning", "meal", "haircut", "walk")
SAID = (
    "想约下礼拜三去医院看心内科", "医保报销的单子交了吗", "明天上午能不能来帮忙打扫",
    "我老伴住院了想请人去看看", "活动还有名额吗", "谢谢你们", "血压有点高要不要紧",
    "上次的报销什么时候到账", "能不能改到下午", "我摔了一跤起不来", "转人工",
)  # fmt: skip
KINDS = (  # kind, weight, its open statuses, its closed ones
    ("medical_escort", 25, ("pending", "assigned", "booked"), ("done", "done", "cancelled")),
    ("eldercare", 20, ("booked", "pending"), ("done", "done", "cancelled")),
    ("reimbursement", 15, ("pending", "reported"), ("done", "rejected")),
    ("hospital_visit", 12, ("pending", "assigned"), ("done", "done", "cancelled")),
    ("handoff", 12, ("open", "acknowledged"), ("resolved", "closed")),
    ("hospital_admission", 8, ("reported", "assigned"), ("done", "done", "cancelled")),
    ("sos", 3, ("open", "acknowledged", "unconfirmed"), ("resolved",)),
    ("identity_check", 3, ("open",), ("done", "rejected")),
    ("forget_me", 1, ("pending",), ("done",)),
    ("reimbursement_claim", 1, ("submitted", "reviewing"), ("paid", "rejected")),
)
SCHEDULED = ("medical_escort", "eldercare", "hospital_visit", "hospital_admission")


@dataclass(frozen=True, slots=True)
class Scale:
    """How much to generate."""

    people: int = 100_000
    requests_each: int = 10  # over the YEARS
    long_requests: int = 300  # person LONG's
    messages: int = 10_000_000
    long_messages: int = 20_000
    staff: int = 200
    accounts: float = 0.7  # the share of people with a bound WeChat account
    activities_a_week: int = 20
    upcoming_weeks: int = 4  # the last weeks' activities are still to come
    seats: int = 120  # an activity's capacity (some take more sign-ups: a waitlist)

    @property
    def requests(self) -> int:
        return self.people * self.requests_each

    @property
    def retiree_accounts(self) -> int:
        return max(2, round(self.people * self.accounts))

    @property
    def activities(self) -> int:
        return self.activities_a_week * 52 * YEARS


def phone_of(person_id: int) -> str:
    """Person ``person_id``'s fake phone number."""
    return f"139{person_id:08d}"


def id_number_of(person_id: int, born: date) -> str:
    """A fake 18-character ID number (the region code of Suzhou, the birth date)."""
    body = f"320500{born:%Y%m%d}{person_id % 1000:03d}"
    return body + "0123456789X"[person_id % 11]
