"""What benchmarks/console.py seeds: its size (``Scale``), the staff who sign in, and the
names, places, request kinds, statuses and audit actions the fake city draws from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PASSWORD = "console-bench-password"  # noqa: S105 - fake staff of a benchmark
LEADER = "leader01"
LONG = 1  # the person with a long file
LONG_REQUESTS = 300
LONG_MESSAGES = 1000
BATCH = 5000
YEARS = 3  # requests spread over this many years, oldest first

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # fmt: skip
GIVEN = (
    "建国", "建华", "秀英", "桂兰", "志强", "玉兰", "淑珍", "明", "华", "军", "平", "伟",
    "德明", "国庆", "凤英", "桂英", "文华", "志明", "秀兰", "丽华", "振华", "永生", "春生",
    "玉珍", "桂芳", "淑英", "国华", "海涛", "德胜", "兰英", "金凤", "秀珍", "立新", "卫东",
    "红", "英", "梅", "霞", "刚", "勇", "杰", "涛", "静", "敏", "宏", "斌", "东", "林",
)  # fmt: skip
DISTRICTS = ("姑苏区", "吴中区", "相城区", "虎丘区", "吴江区", "工业园区", "常熟市", "张家港市", "昆山市", "太仓市")  # fmt: skip
UNITS = ("市委办公室", "市政府办公室", "市财政局", "市教育局", "市卫健委", "市公安局", "市总工会", "市直机关工委")  # fmt: skip
HOSPITALS = ("市立医院本部", "苏大附一院", "苏大附二院", "市中医医院", "市第九人民医院")
SERVICES = ("助浴", "助洁", "助餐", "理发", "陪同散步")
SAID = (
    "想约下礼拜三去医院看心内科", "医保报销的单子交了吗", "明天上午能不能来帮忙打扫",
    "我老伴住院了想请人去看看", "活动还有名额吗", "谢谢你们", "血压有点高要不要紧",
    "上次的报销什么时候到账", "能不能改到下午", "我摔了一跤起不来", "转人工",
)  # fmt: skip
KINDS = (  # kind, weight in the 100,000
    ("medical_escort", 25), ("eldercare", 20), ("reimbursement", 15), ("hospital_visit", 12),
    ("handoff", 12), ("hospital_admission", 8), ("sos", 3), ("identity_check", 3),
    ("forget_me", 1), ("reimbursement_claim", 1),
)  # fmt: skip
OPEN = {  # the statuses an open request of a kind may be in
    "medical_escort": ("pending", "assigned", "booked"),
    "eldercare": ("booked", "pending"),
    "reimbursement": ("pending", "reported"),
    "reimbursement_claim": ("submitted", "reviewing"),
    "hospital_visit": ("pending", "assigned"),
    "handoff": ("open", "acknowledged"),
    "hospital_admission": ("reported", "assigned"),
    "identity_check": ("pending",),
    "forget_me": ("pending",),
    "sos": ("open", "acknowledged", "unconfirmed"),
}
CLOSED = {
    "sos": ("resolved",),
    "handoff": ("resolved", "closed"),
    "reimbursement": ("done", "rejected"),
    "reimbursement_claim": ("paid", "rejected"),
    "identity_check": ("done", "rejected"),
}
SCHEDULED = {"medical_escort", "eldercare", "hospital_visit", "hospital_admission"}
ACTIONS = (  # audit action, target type, weight
    ("person_viewed", "person", 30), ("login", "staff", 15), ("people_searched", "person", 12),
    ("request_assigned", "service_request", 10), ("request_moved", "service_request", 12),
    ("request_noted", "service_request", 6), ("alert_taken", "alert", 3),
    ("alert_closed", "alert", 3), ("person_edited", "person", 4), ("logout", "staff", 3),
    ("login_failed", "staff", 1), ("binding_revoked", "channel_account", 1),
)  # fmt: skip
ALERT_OPEN = 200
CONSOLE_INDEXES = (  # storage/migrations/versions/0013_console_indexes.py
    "ix_service_requests_open_created_at",
    "ix_service_requests_status_created_at",
    "ix_message_log_account",
    "ix_audit_log_action",
    "ix_audit_log_actor",
)


@dataclass(frozen=True, slots=True)
class Scale:
    """How much to seed."""

    people: int = 10_000
    requests: int = 100_000
    messages: int = 200_000
    audit: int = 50_000
    staff: int = 50
    accounts: int = 6_000  # people with a WeChat account (ids 1..accounts)
    activities: int = 60
    registrations: int = 20_000
    broadcasts: int = 4
    recipients: int = 2_500  # per broadcast


def phone_of(person_id: int) -> str:
    """Person ``person_id``'s fake phone number."""
    return f"139{person_id:08d}"


def chunks(rows: list[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
