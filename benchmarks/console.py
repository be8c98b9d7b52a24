"""The staff console's pages against a full-size database, timed in-process.

    .venv/bin/python benchmarks/console.py [--runs 50] [--passes 3] [--reuse] [--keep]
                                           [--database yinling_bench_console]
                                           [--only queue] [--explain] [--sqlite PATH]
                                           [--drop-index console | NAME,NAME…]

Goal (issue 17): every page renders in <= 100 ms p95 server time with 10,000 people and
100,000 requests in the database; the monthly report (issue 18 item 6: a month's figures
aggregated over those 100,000 requests, and one of its Excel downloads) in <= 1 s
(``PAGE_GOALS_MS``).

A PostgreSQL database (BENCH_DATABASE_URL's server) is created, migrated
(``storage.db.upgrade``) and seeded with bulk inserts: 10,000 fake people (encrypted
phones with their blind index), 100,000 service requests over every kind (a few thousand
open) with their status histories, ~200 open and a few thousand closed emergencies with
their steps, 200,000 message-log lines, 50,000 audit entries, activities with
registrations, broadcasts with recipients, and 50 staff who sign in with argon2 hashes.
Person 1 has a long file (300 requests, 1,000 messages). ``--reuse`` keeps a database
already seeded at this size (and does not drop it at the end); ``--keep`` keeps a fresh one.
``--drop-index`` drops indexes for the run, to measure without them, and makes them
again at the end (``console``: the five of migration 0013, the console's).

The real app (``bot.app.create_app`` on a hand-built ``Runtime``, as tests/test_app.py
builds one) is driven through ``httpx.ASGITransport``: a leader signs in, then every page
is asked for ``--runs`` times after two unmeasured requests. Server time is from sending
the request to the whole response read, in this process (no network). The whole timing
pass runs ``--passes`` times (the machine is shared): a table per pass, then each page's
p95 in every pass and its verdict on the median p95. ``queries`` is the number of SQL
statements one request of the page sends (the sign-in check and the audit entry of a file
viewed or a search included), ``sql`` the median time spent in them, ``kB`` the page's size.

``--explain`` runs EXPLAIN (ANALYZE, BUFFERS) on every query one request of each page
sends (PostgreSQL) and prints the slow ones' plans. ``--sqlite PATH`` runs the same on a
SQLite file instead, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shlex
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402
from sqlalchemy import Index, event, func, insert, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.console.auth import hash_password  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.runtime import Runtime, settle_heap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.base import TZ  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402
from storage.crypto import blind, phone_digits  # noqa: E402
from storage.db import Base, make_engine, make_sessions, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Activity,
    Alert,
    AlertStep,
    AuditEntry,
    Broadcast,
    BroadcastRecipient,
    ChannelAccount,
    MessageRecord,
    Person,
    PersonTag,
    Registration,
    RequestStatusChange,
    ServiceRequest,
    Staff,
)
from storage.repos import CLOSED_STATUSES  # noqa: E402
from storage.state import MemoryStore  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
GOAL_MS = 100.0
# Pages with a goal of their own (issue 18 item 6: the monthly report aggregates a month of
# 100,000 requests, <= 1 s p95), by the start of their name.
PAGE_GOALS_MS = {"report": 1000.0}
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


def _chunks(rows: list[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Seeder:
    """Builds every row in memory (ids given here, so rows can point at each other), then
    inserts them table by table with executemany."""

    def __init__(self, scale: Scale, now: datetime) -> None:
        self.scale = scale
        self.now = now
        self.rng = random.Random(17)
        self.rows: dict[type[Any], list[dict[str, Any]]] = {}

    def add(self, model: type[Any], row: dict[str, Any]) -> int:
        table = self.rows.setdefault(model, [])
        row.setdefault("id", len(table) + 1)
        table.append(row)
        return int(row["id"])

    def build(self, password_hash: str) -> None:
        self._staff(password_hash)
        self._people()
        self._accounts()
        self._requests()
        self._messages()
        self._audit()
        self._activities()
        self._broadcasts()

    # -------------------------------------------------------------- the rows
    def _staff(self, password_hash: str) -> None:
        roles = ["leader"] * 3 + ["admin"] * 2 + ["duty"] * 10
        for i in range(1, self.scale.staff + 1):
            role = roles[i - 1] if i <= len(roles) else "clerk"
            self.add(
                Staff,
                {
                    "name": f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[(i * 7) % len(GIVEN)]}",
                    "phone": f"138{i:08d}",
                    "role": role,
                    "active": True,
                    "created_at": self.now - timedelta(days=400),
                    "username": LEADER if i == 1 else f"staff{i:02d}",
                    "password_hash": password_hash,
                    "sessions_valid_from": None,
                },
            )

    def _people(self) -> None:
        rng = self.rng
        for i in range(1, self.scale.people + 1):
            district = DISTRICTS[rng.randrange(len(DISTRICTS))]
            phone = phone_of(i)
            self.add(
                Person,
                {
                    "name": SURNAMES[rng.randrange(len(SURNAMES))] + rng.choice(GIVEN),
                    "category": "lixiu" if rng.random() < 0.1 else "tuixiu",
                    "former_unit": rng.choice(UNITS),
                    "district": district,
                    "phone": phone,
                    "phone_index": blind("phone", phone_digits(phone)),
                    "address": f"{district}示范路{i}号",
                    "birth_date": date(1930 + rng.randrange(30), 1 + i % 12, 1 + i % 28),
                    "gender": "F" if rng.random() < 0.45 else "M",
                    "spouse_name": None if rng.random() < 0.3 else "测试老伴",
                    "lives_alone": rng.random() < 0.15,
                    "party_branch": "离退休第一支部",
                    "health_notes": "高血压，按时服药" if rng.random() < 0.3 else None,
                    "emergency_contact": "家属（示例）",
                    "emergency_phone": f"137{i:08d}",
                    "notes": None,
                    "created_at": self.now - timedelta(days=3 * 365),
                    "updated_at": self.now - timedelta(days=rng.randrange(365)),
                },
            )
        for i in range(1, self.scale.people + 1, 5):
            for tag in ("书画组", "重点关注")[: 1 + i % 2]:
                self.add(
                    PersonTag,
                    {"person_id": i, "tag": tag, "created_at": self.now - timedelta(days=30)},
                )

    def _accounts(self) -> None:
        """Person i (i <= accounts) has WeChat account i; a thousand have a family account."""
        bound = self.now - timedelta(days=500)
        for i in range(1, self.scale.accounts + 1):
            self.add(ChannelAccount, self._account(f"oBench{i:07d}", "retiree", i, bound))
        for i in range(1, self.scale.accounts + 1, 6):
            row = self._account(f"oFamily{i:07d}", "family", i, bound)
            self.add(ChannelAccount, {**row, "relation": "女儿", "display_name": "女儿"})

    def _account(self, external: str, role: str, person: int, at: datetime) -> dict[str, Any]:
        return {
            "channel": "wechat",
            "external_id": external,
            "role": role,
            "person_id": person,
            "staff_id": None,
            "relation": None,
            "display_name": None,
            "active": True,
            "created_at": at,
            "bound_at": at,
            "pending_person_id": None,
            "consent_version": "2026-01",
            "consented_at": at,
        }

    def _requests(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        span = timedelta(days=365 * YEARS).total_seconds()
        long_every = scale.requests // LONG_REQUESTS
        recent = scale.requests - scale.requests // 10  # the last tenth: ~4 months
        sos_ids: list[int] = []
        for i in range(1, scale.requests + 1):
            created = now - timedelta(seconds=span * (1 - i / scale.requests) + rng.random() * 60)
            kind = rng.choices(kinds, weights)[0]
            person = LONG if i % long_every == 0 else rng.randrange(2, scale.people + 1)
            is_open = rng.random() < (0.25 if i > recent else 0.006)
            if kind == "sos":
                is_open = False  # the newest ALERT_OPEN emergencies are made open below
            status = (
                rng.choice(OPEN[kind])
                if is_open
                else rng.choice(CLOSED.get(kind, ("done", "done", "done", "cancelled")))
            )
            details: dict[str, Any] = {}
            if kind in ("medical_escort", "hospital_visit", "hospital_admission"):
                details = {"hospital": rng.choice(HOSPITALS), "department": "心内科"}
            elif kind == "eldercare":
                details = {"service": rng.choice(SERVICES)}
            elif kind in ("handoff", "sos"):
                details = {"text": rng.choice(SAID)}
            elif kind.startswith("reimbursement"):
                details = {"amount": rng.randrange(100, 5000)}
            scheduled = None
            if kind in SCHEDULED:
                scheduled = (created.astimezone(TZ) + timedelta(days=rng.randrange(1, 15))).date()
            assigned = (
                rng.randrange(1, scale.staff + 1)
                if (not is_open and rng.random() < 0.8) or (is_open and rng.random() < 0.5)
                else None
            )
            request_id = self.add(
                ServiceRequest,
                {
                    "kind": kind,
                    "status": status,
                    "details": details,
                    "person_id": person,
                    "beneficiary": "spouse" if rng.random() < 0.05 else "self",
                    "requested_by_account_id": person if person <= scale.accounts else None,
                    "assigned_staff_id": assigned,
                    "scheduled_date": scheduled,
                    "scheduled_time": rng.choice(("09:00", "morning", "afternoon"))
                    if scheduled
                    else None,
                    "due_at": None,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            if kind == "sos":
                sos_ids.append(request_id)
            self._history(
                request_id,
                person=person,
                status=status,
                is_open=is_open,
                assigned=assigned,
                created=created,
            )
        self._alerts(sos_ids)

    def _history(
        self,
        request_id: int,
        *,
        person: int,
        status: str,
        is_open: bool,
        assigned: int | None,
        created: datetime,
    ) -> None:
        rng = self.rng
        actor = f"account:{person}" if person <= self.scale.accounts else "system"
        first = status if is_open else "pending"
        self.add(RequestStatusChange, self._change(request_id, None, first, actor, created))
        at = created
        if assigned and rng.random() < 0.5:
            at += timedelta(hours=rng.randrange(1, 48))
            step = "assigned" if first != "assigned" else "booked"
            self.add(
                RequestStatusChange,
                self._change(request_id, first, step, f"staff:{assigned}", at, note="已联系本人"),
            )
            first = step
        if not is_open:
            at += timedelta(hours=rng.randrange(1, 240))
            who = f"staff:{assigned}" if assigned else "system"
            self.add(RequestStatusChange, self._change(request_id, first, status, who, at))

    @staticmethod
    def _change(
        request_id: int,
        old: str | None,
        new: str,
        actor: str,
        at: datetime,
        *,
        note: str | None = None,
    ) -> dict[str, Any]:
        return {
            "request_id": request_id,
            "from_status": old,
            "to_status": new,
            "actor": actor,
            "note": note,
            "changed_at": at,
        }

    def _alerts(self, sos_ids: list[int]) -> None:
        """An alert for every SOS request; the newest ALERT_OPEN are still open."""
        rng = self.rng
        requests = self.rows[ServiceRequest]
        still_open = set(sos_ids[-ALERT_OPEN:])
        for request_id in sos_ids:
            request = requests[request_id - 1]
            created: datetime = request["created_at"]
            if request_id in still_open:
                status = rng.choice(("open", "open", "acknowledged", "unconfirmed"))
                request["status"] = "acknowledged" if status == "acknowledged" else "open"
            else:
                status = "resolved" if rng.random() < 0.9 else "dismissed"
            taken = rng.randrange(1, 16) if status in ("acknowledged", "resolved") else None
            alert_id = self.add(
                Alert,
                {
                    "request_id": request_id,
                    "person_id": request["person_id"],
                    "status": status,
                    "level": 1 if status != "unconfirmed" else 0,
                    "next_page_at": None,  # nothing for the reconciler to page
                    "location": "姑苏区示范路1号" if rng.random() < 0.5 else None,
                    "acknowledged_by": taken,
                    "acknowledged_at": created + timedelta(minutes=2) if taken else None,
                    "resolved_at": created + timedelta(hours=2) if status == "resolved" else None,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            steps = [("raised", None, None)]
            if status != "unconfirmed":
                steps += [("paged", rng.randrange(6, 16), "sent")]
                if rng.random() < 0.3:
                    steps += [("paged", rng.randrange(1, 4), "sent")]
            if taken:
                steps += [("acknowledged", taken, None)]
            if status == "resolved":
                steps += [("resolved", taken, None)]
            for n, (kind, staff, result) in enumerate(steps):
                self.add(
                    AlertStep,
                    {
                        "alert_id": alert_id,
                        "kind": kind,
                        "level": 1 if kind == "paged" else 0,
                        "staff_id": staff,
                        "account_id": None,
                        "result": result,
                        "note": "已送医，家属陪同" if kind == "resolved" else None,
                        "at": created + timedelta(minutes=n),
                    },
                )

    def _messages(self) -> None:
        """Conversations: in and out in turns; person 1's account has LONG_MESSAGES. Texts
        older than the retention are blanked, as the retention job leaves them."""
        scale, rng, now = self.scale, self.rng, self.now
        long_every = scale.messages // LONG_MESSAGES
        kept = now - timedelta(days=180)
        span = timedelta(days=400).total_seconds()
        last_in: dict[int, str] = {}
        for i in range(1, scale.messages + 1):
            account = LONG if i % long_every == 0 else 2 + (i * 7919) % (scale.accounts - 1)
            at = now - timedelta(seconds=span * (1 - i / scale.messages) + rng.random())
            inbound = account not in last_in or rng.random() < 0.5
            message_id = f"wx{i}" if inbound else last_in.pop(account)
            if inbound:
                last_in[account] = message_id
            said = rng.choice(SAID) if inbound else "好的，已经为您登记，工作人员会联系您。"
            self.add(
                MessageRecord,
                {
                    "channel": "wechat",
                    "external_user_id": f"oBench{account:07d}",
                    "message_id": message_id,
                    "account_id": account,
                    "person_id": account,
                    "direction": "in" if inbound else "out",
                    "kind": "text",
                    "text": said if at >= kept else None,
                    "media_id": None,
                    "intent": "medical_escort" if inbound else None,
                    "confidence": 0.9 if inbound else None,
                    "error": False,
                    "created_at": at,
                },
            )

    def _audit(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        actions = [(a, t) for a, t, _ in ACTIONS]
        weights = [w for _, _, w in ACTIONS]
        span = timedelta(days=365).total_seconds()
        for i in range(1, scale.audit + 1):
            action, target = rng.choices(actions, weights)[0]
            staff = rng.randrange(1, scale.staff + 1)
            actor = f"staff:{staff}" if rng.random() < 0.9 else "system"
            ident = {
                "person": rng.randrange(1, scale.people + 1),
                "service_request": rng.randrange(1, scale.requests + 1),
                "alert": rng.randrange(1, 3000),
                "staff": staff,
                "channel_account": rng.randrange(1, scale.accounts + 1),
            }[target]
            self.add(
                AuditEntry,
                {
                    "at": now - timedelta(seconds=span * (1 - i / scale.audit)),
                    "actor": actor,
                    "action": action,
                    "target_type": target,
                    "target_id": None if action == "people_searched" else str(ident),
                    "details": {"found": rng.randrange(50)} if action == "people_searched" else {},
                },
            )

    def _activities(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        per = scale.registrations // scale.activities
        for a in range(1, scale.activities + 1):
            starts = now - timedelta(days=7 * (scale.activities - a) + 3)  # all past
            self.add(
                Activity,
                {
                    "title": f"第{a}期书画班",
                    "category": "class",
                    "starts_at": starts,
                    "place": "老干部活动中心",
                    "capacity": per,
                    "seats_taken": per,
                    "waitlisted": 0,
                    "eligibility": "all",
                    "description": None,
                    "created_at": starts - timedelta(days=14),
                },
            )
            attendees = rng.sample(range(2, scale.people + 1), per - 1)
            for person in [LONG, *attendees] if a % 3 == 0 else attendees:
                at = starts - timedelta(days=rng.randrange(1, 14))
                self.add(
                    Registration,
                    {
                        "activity_id": a,
                        "person_id": person,
                        "attendee": "spouse" if rng.random() < 0.05 else "self",
                        "status": "registered" if rng.random() < 0.9 else "cancelled",
                        "requested_by_account_id": None,
                        "created_at": at,
                        "updated_at": at,
                    },
                )

    def _broadcasts(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        for b in range(1, scale.broadcasts + 1):
            at = now - timedelta(days=30 * (scale.broadcasts - b) + 1)
            accounts = [LONG, *rng.sample(range(2, scale.accounts + 1), scale.recipients - 1)]
            self.add(
                Broadcast,
                {
                    "text": f"第{b}号通知：重阳节慰问品本周五起由社区工作站上门发放，请留意电话。",
                    "link": None,
                    "segment": {"districts": list(DISTRICTS[:3])},
                    "created_by": 1,
                    "status": "done",
                    "send_at": None,
                    "total": len(accounts),
                    "sent": len(accounts),
                    "failed": 0,
                    "blocked": 0,
                    "skipped": 0,
                    "lease_owner": None,
                    "lease_until": None,
                    "created_at": at,
                    "updated_at": at,
                    "finished_at": at + timedelta(minutes=5),
                },
            )
            for account in accounts:
                self.add(
                    BroadcastRecipient,
                    {
                        "broadcast_id": b,
                        "account_id": account,
                        "person_id": account,
                        "channel": "wechat",
                        "status": "sent",
                        "claimed_by": None,
                        "attempted_at": at,
                        "sent_at": at + timedelta(seconds=1),
                        "error": None,
                    },
                )


ORDER = (  # parents first
    Staff, Person, PersonTag, ChannelAccount, ServiceRequest, RequestStatusChange, Alert,
    AlertStep, MessageRecord, AuditEntry, Activity, Registration, Broadcast, BroadcastRecipient,
)  # fmt: skip


async def seed(engine: AsyncEngine, scale: Scale, now: datetime) -> dict[str, int]:
    """Fill a migrated, empty database; the rows of each table."""
    seeder = Seeder(scale, now)
    seeder.build(await hash_password(PASSWORD))
    async with engine.begin() as conn:
        for model in ORDER:
            rows = seeder.rows.get(model, [])
            for chunk in _chunks(rows):
                await conn.execute(insert(model), chunk)
            if engine.dialect.name == "postgresql" and rows:
                table = model.__tablename__
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    await analyze(engine)
    return {m.__tablename__: len(seeder.rows.get(m, [])) for m in ORDER}


async def analyze(engine: AsyncEngine) -> None:
    """Statistics (and on PostgreSQL the visibility map), as autovacuum would leave them."""
    if engine.dialect.name == "postgresql":
        conn = await asyncpg.connect(_dsn(engine))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


def _dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def seeded(engine: AsyncEngine, scale: Scale) -> bool:
    """Whether the database already holds the seed at this scale."""
    try:
        async with engine.connect() as conn:
            people = await conn.scalar(select(func.count()).select_from(Person))
            requests = await conn.scalar(select(func.count()).select_from(ServiceRequest))
            messages = await conn.scalar(select(func.count()).select_from(MessageRecord))
            audit = int(await conn.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    except Exception:
        return False
    # Every run adds a few thousand audit entries (files viewed, searches, sign-ins).
    return (people, requests, messages) == (
        scale.people,
        scale.requests,
        scale.messages,
    ) and scale.audit <= audit < 2 * scale.audit


async def migrate(engine: AsyncEngine) -> str:
    """Up to the newest revision; that revision."""
    await upgrade(engine)
    async with engine.connect() as conn:
        return str(await conn.scalar(text("SELECT version_num FROM alembic_version")))


def indexes(names: str) -> list[Index]:
    """The models' indexes by name (``console``: those of migration 0013)."""
    given = [n.strip() for n in names.split(",") if n.strip()]
    wanted = [i for n in given for i in (CONSOLE_INDEXES if n == "console" else (n,))]
    known = {i.name: i for t in Base.metadata.tables.values() for i in t.indexes}
    missing = [n for n in wanted if n not in known]
    if missing:
        raise SystemExit(f"no such index in the models: {', '.join(missing)}")
    return [known[n] for n in wanted]


@asynccontextmanager
async def without(engine: AsyncEngine, dropped: list[Index]) -> AsyncIterator[None]:
    """These indexes dropped for a while (then made again: the schema stays the
    migrations')."""
    async with engine.begin() as conn:
        for index in dropped:
            await conn.run_sync(index.drop)
    if dropped:
        print("without the indexes " + ", ".join(str(i.name) for i in dropped))
        await analyze(engine)
    try:
        yield
    finally:
        async with engine.begin() as conn:
            for index in dropped:
                await conn.run_sync(index.create)


# ------------------------------------------------------------------ the pages
@dataclass(frozen=True, slots=True)
class Targets:
    """What the pages are asked about."""

    request: int  # a hand-off of person 1, from their account (1,000 messages)
    quiet: int  # a hand-off from an account with a few dozen messages
    alert: int  # an open emergency's request
    open_total: int
    done_total: int


async def targets(engine: AsyncEngine) -> Targets:
    async with engine.connect() as conn:
        request = await conn.scalar(
            select(func.max(ServiceRequest.id)).where(
                ServiceRequest.person_id == LONG, ServiceRequest.kind == "handoff"
            )
        )
        quiet = await conn.scalar(
            select(func.max(ServiceRequest.id)).where(
                ServiceRequest.person_id != LONG,
                ServiceRequest.kind == "handoff",
                ServiceRequest.requested_by_account_id.is_not(None),
            )
        )
        alert = await conn.scalar(
            select(func.min(Alert.request_id)).where(Alert.status.in_(("open", "acknowledged")))
        )
        open_total = await conn.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(ServiceRequest.status.not_in(CLOSED_STATUSES))
        )
        done_total = await conn.scalar(
            select(func.count()).select_from(ServiceRequest).where(ServiceRequest.status == "done")
        )
    return Targets(
        int(request or 0),
        int(quiet or 0),
        int(alert or 0),
        int(open_total or 0),
        int(done_total or 0),
    )


def pages(found: Targets) -> list[tuple[str, str]]:
    """(name, path) of every page timed."""
    deep = max(0, (found.open_total - 1) // 50 * 50)
    done_deep = found.done_total // 2 // 50 * 50
    week_ago = (datetime.now(TZ).date() - timedelta(days=7)).isoformat()
    past_month = (datetime.now(TZ).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return [
        ("board", "/console/board"),
        ("board/live", "/console/board/live"),
        ("queue", "/console/queue"),
        ("queue kind=medical_escort", "/console/queue?kind=medical_escort"),
        ("queue status=pending", "/console/queue?status=pending"),
        ("queue status=done", "/console/queue?status=done"),
        ("queue district", "/console/queue?" + urlencode({"district": DISTRICTS[0]})),
        ("queue due=today", "/console/queue?due=today"),
        ("queue due=tomorrow", "/console/queue?due=tomorrow"),
        ("queue sort=date", "/console/queue?sort=date"),
        ("queue done sort=date", "/console/queue?status=done&sort=date"),
        ("queue owner=nobody", "/console/queue?owner=nobody"),
        ("queue owner=mine", "/console/queue?owner=mine"),
        (f"queue offset={deep} (last)", f"/console/queue?offset={deep}"),
        (f"queue done offset={done_deep}", f"/console/queue?status=done&offset={done_deep}"),
        ("request (hand-off, long)", f"/console/requests/{found.request}"),
        ("request (hand-off, quiet)", f"/console/requests/{found.quiet}"),
        ("alert (open)", f"/console/alerts/{found.alert}"),
        ("people", "/console/people"),
        ("people q=name part", "/console/people?" + urlencode({"q": "秀英"})),
        ("people q=phone", "/console/people?" + urlencode({"q": phone_of(LONG)})),
        ("people district", "/console/people?" + urlencode({"district": DISTRICTS[1]})),
        ("person (long file)", f"/console/people/{LONG}"),
        ("person (short file)", "/console/people/4321"),
        ("audit", "/console/audit"),
        ("audit action=", "/console/audit?action=request_moved"),
        ("audit actor=", "/console/audit?actor=staff:7"),
        ("audit since= (a week)", f"/console/audit?since={week_ago}"),
        ("audit offset=25000", "/console/audit?offset=25000"),
        ("report (this month)", "/console/reports"),
        ("report (a past month)", f"/console/reports?month={past_month}"),
        ("report export weekly", f"/console/reports/export?chart=weekly&month={past_month}"),
    ]


@dataclass(slots=True)
class Counter:
    """SQL statements sent, and the time spent in them, since the last reset."""

    statements: int = 0
    seconds: float = 0.0
    capture: list[tuple[str, Any]] | None = None
    started: list[float] = field(default_factory=list)

    def reset(self, capture: bool = False) -> None:
        self.statements, self.seconds = 0, 0.0
        self.capture = [] if capture else None

    def watch(self, engine: AsyncEngine) -> None:
        def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
            self.statements += 1
            self.started.append(time.perf_counter())
            if self.capture is not None:
                self.capture.append((statement, parameters))

        def after(*_a: Any) -> None:
            if self.started:
                self.seconds += time.perf_counter() - self.started.pop()

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)


@dataclass(slots=True)
class Result:
    page: str
    times: list[float]  # ms
    statements: int
    sql: list[float]  # ms per request
    size: int  # bytes

    def pct(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the sign-in page"
    answer = await client.post(
        "/console/login",
        data={"username": LEADER, "password": PASSWORD, "csrf": token.group(1)},
    )
    assert answer.status_code == 303, f"sign-in failed: {answer.status_code}"


async def time_page(
    client: httpx.AsyncClient, counter: Counter, name: str, path: str, runs: int
) -> Result:
    times, sql = [], []
    statements, size = 0, 0
    for i in range(runs + 2):
        counter.reset()
        started = time.perf_counter()
        response = await client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}\n{response.text[:500]}")
        if i >= 2:  # two unmeasured requests first
            times.append(elapsed)
            sql.append(counter.seconds * 1000)
            statements, size = counter.statements, len(response.content)
    return Result(name, times, statements, sql, size)


def goal_of(page: str, goal: float) -> float:
    """A page's p95 goal: its own (PAGE_GOALS_MS), else the run's."""
    return next((ms for start, ms in PAGE_GOALS_MS.items() if page.startswith(start)), goal)


def table(results: list[Result], goal: float) -> None:
    print(
        f"{'page':<30} {'n':>4} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>7} {'sql p50':>8}"
        f" {'kB':>6}  verdict"
    )
    for r in results:
        p95, own = r.pct(0.95), goal_of(r.page, goal)
        print(
            f"{r.page:<30} {len(r.times):>4} {r.pct(0.5):>7.1f} {p95:>7.1f} {max(r.times):>7.1f}"
            f" {r.statements:>7} {statistics.median(r.sql):>8.1f} {r.size / 1024:>6.0f}"
            f"  {'PASS' if p95 <= own else 'FAIL'}"
            + (f" (goal {own:.0f} ms)" if own != goal else "")
        )


def spread(passes: list[list[Result]], goal: float) -> bool:
    """Each page's p95 in every pass, and its verdict on their median."""
    print(f"\np95 (ms) in each of {len(passes)} passes, verdict on the median p95 <= {goal:.0f} ms")
    heads = " ".join(f"{'pass ' + str(i + 1):>8}" for i in range(len(passes)))
    print(f"{'page':<30} {heads} {'spread':>7} {'median':>7}  verdict")
    ok = True
    for i, first in enumerate(passes[0]):
        p95s = [p[i].pct(0.95) for p in passes]
        median, own = statistics.median(p95s), goal_of(first.page, goal)
        ok &= median <= own
        cells = " ".join(f"{v:>8.1f}" for v in p95s)
        print(
            f"{first.page:<30} {cells} {max(p95s) - min(p95s):>7.1f} {median:>7.1f}"
            f"  {'PASS' if median <= own else 'FAIL'}"
            + (f" (goal {own:.0f} ms)" if own != goal else "")
        )
    return ok


async def explain(
    client: httpx.AsyncClient, counter: Counter, engine: AsyncEngine, todo: list[tuple[str, str]]
) -> None:
    """EXPLAIN ANALYZE every query one request of each page sends (PostgreSQL); writes are
    only listed."""
    conn = await asyncpg.connect(_dsn(engine))
    try:
        for name, path in todo:
            counter.reset(capture=True)
            await client.get(path)
            captured = counter.capture or []
            counter.reset()
            print(f"\n== {name}: {path} ({len(captured)} statements)")
            for statement, parameters in captured:
                one_line = " ".join(statement.split())
                if not one_line.upper().startswith(("SELECT", "WITH")):
                    print(f"   -- {one_line[:110]}")
                    continue
                args = list(parameters or ())
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *args)
                lines = [r[0] for r in plan]
                took = next((x for x in lines if x.startswith("Execution Time")), "?")
                print(f"   {took:<28} {one_line[:150]}")
                ms = float(took.split(":")[1].split()[0]) if ":" in took else 0.0
                if ms >= 2.0:
                    for line in lines:
                        print(f"      {line}")
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    scale = Scale(
        people=args.people, requests=args.requests, messages=args.messages, audit=args.audit
    )
    now = datetime.now(UTC)
    sqlite = args.sqlite is not None
    if sqlite:
        url = f"sqlite+aiosqlite:///{args.sqlite}"
    else:
        name = args.database
        base = SERVER.rsplit("/", 1)[0]
        url = f"{base}/{name}"
        if not (args.reuse and await _exists(name)):
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    drop = not (args.reuse or args.keep) and not sqlite
    try:
        reused = args.reuse and await seeded(engine, scale)
        if not reused and args.reuse:
            if not sqlite:  # not at this scale: start afresh
                await engine.dispose()
                await _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
                await _admin(f'CREATE DATABASE "{args.database}"')
            else:
                await asyncio.to_thread(Path(args.sqlite).unlink, missing_ok=True)
        revision = await migrate(engine)
        if reused:
            print(f"database: {engine.url.database} (reused), at revision {revision}")
            await analyze(engine)
        else:
            started = time.perf_counter()
            counts = await seed(engine, scale, now)
            took = time.perf_counter() - started
            print(f"database: {engine.url.database}, at revision {revision}")
            print(
                f"seeded in {took:.1f} s (rows built, inserted, analyzed): "
                + ", ".join(f"{t} {n:,}" for t, n in counts.items())
            )
        async with without(engine, indexes(args.drop_index)):
            return await measure(args, engine)
    finally:
        await engine.dispose()
        if drop:
            await _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


async def measure(args: argparse.Namespace, engine: AsyncEngine) -> int:
    found = await targets(engine)
    todo = [(n, p) for n, p in pages(found) if not args.only or args.only in n]
    # The reconciler runs in a worker in production (it shares the app's event loop only on
    # the in-memory broker): once at start here, then not again for an hour.
    settings = Settings(reconcile_seconds=3600)
    sessions = make_sessions(engine)
    store = MemoryStore()
    nlu = EmbeddedEngine.load()
    metrics = Metrics()
    pipeline = Pipeline(sessions, store, nlu, settings.service_config(), metrics)
    runtime = Runtime(settings, engine, sessions, None, store, nlu, metrics, pipeline)
    app = create_app(runtime=runtime)
    counter = Counter()
    counter.watch(engine)
    settle_heap()  # as open_runtime does
    passes: list[list[Result]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await sign_in(client)
            await asyncio.sleep(1)  # the reconciler's first look
            if args.explain:
                if engine.dialect.name != "postgresql":
                    print("--explain needs PostgreSQL")
                else:
                    await explain(client, counter, engine, todo)
            for n in range(args.passes):
                print(f"\npass {n + 1}/{args.passes}: {args.runs} requests a page")
                results = [
                    await time_page(client, counter, name, path, args.runs) for name, path in todo
                ]
                table(results, args.goal)
                passes.append(results)
    await pipeline.close()
    ok = spread(passes, args.goal)
    print(
        f"\n{engine.dialect.name}, {args.people:,} people, {args.requests:,} requests"
        f" (open: {found.open_total:,}), {args.messages:,} messages, {args.audit:,} audit"
        " entries; server time in-process through httpx.ASGITransport, uvloop, one client"
        " at a time"
    )
    print(f"command: {args.command}")
    own = "".join(f", {page}* <= {ms:.0f} ms" for page, ms in PAGE_GOALS_MS.items())
    print(f"goal: every page p95 <= {args.goal:.0f} ms{own}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed requests a page a pass")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--database", default="yinling_bench_console")
    parser.add_argument("--reuse", action="store_true", help="reuse a seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--drop-index", default="", metavar="NAMES", help="measure without these indexes"
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--audit", type=int, default=50_000, help="audit entries")
    parser.add_argument("--only", default="", help="time only pages whose name has this")
    parser.add_argument("--goal", type=float, default=GOAL_MS, help="p95 goal (ms)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every query")
    parser.add_argument("--sqlite", metavar="PATH", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    args.command = shlex.join([os.path.relpath(sys.executable, REPO), *sys.argv])
    if args.sqlite and not args.reuse:
        Path(args.sqlite).unlink(missing_ok=True)
    configure_logging("console", "WARNING")
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
