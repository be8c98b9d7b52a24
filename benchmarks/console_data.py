"""The database benchmarks/console.py measures on: every row built in memory (the staff,
the people and their accounts, requests with their histories and emergencies here, the
rest in benchmarks/console_records.py), inserted table by table, then analyzed."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from console_records import Records
from console_scale import (
    ALERT_OPEN,
    CLOSED,
    DISTRICTS,
    GIVEN,
    HOSPITALS,
    KINDS,
    LEADER,
    LONG,
    LONG_REQUESTS,
    OPEN,
    PASSWORD,
    SAID,
    SCHEDULED,
    SERVICES,
    SURNAMES,
    UNITS,
    YEARS,
    Scale,
    chunks,
    phone_of,
)
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.console.auth import hash_password
from handlers.base import TZ
from storage.crypto import blind, phone_digits
from storage.models import (
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


class Seeder(Records):
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
            for chunk in chunks(rows):
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
        conn = await asyncpg.connect(raw_dsn(engine))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


def raw_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
