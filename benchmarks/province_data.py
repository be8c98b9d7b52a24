"""A province-size database generated for benchmarks/province.py (and for
tests/storage/test_query_plans.py, at a modest size): the staff, the people and their
accounts here, their history from benchmarks/province_rows.py, then VACUUM ANALYZE."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any, cast

import asyncpg
from province_rows import Rows
from province_scale import (
    DISTRICTS,
    GIVEN,
    SURNAMES,
    UNITS,
    YEARS,
    Scale,
    id_number_of,
    phone_of,
)

from storage.crypto import Encrypted, blind, phone_digits
from storage.models import Person, Staff


# --------------------------------------------------------------------- generating
class Generator(Rows):
    """Fills a migrated, empty PostgreSQL database through one asyncpg connection."""

    def __init__(self, conn: asyncpg.Connection, scale: Scale, now: datetime) -> None:
        self.conn = conn
        self.scale = scale
        self.now = now
        self.rng = random.Random(19)
        self.took: dict[str, float] = {}

    async def run(self, say: Callable[[str], None] = lambda _: None) -> dict[str, int]:
        """Every table, then VACUUM ANALYZE; the rows of each table."""
        await self.conn.execute("SET maintenance_work_mem = '512MB'")
        # The rows are consistent by construction: no foreign-key trigger per row (two
        # lookups for each of 10^7 message-log lines). Superuser only, as the tests' server.
        await self.conn.execute("SET session_replication_role = replica")
        await self.conn.execute("SELECT setseed(0.19)")
        for name, step in (
            ("staff", self._staff),
            ("people", self._people),
            ("channel_accounts", self._accounts),
            ("service_requests", self._requests),
            ("request_status_history", self._history),
            ("alerts", self._alerts),
            ("identity_checks", self._identity_checks),
            ("activities", self._activities),
            ("registrations", self._registrations),
            ("message_log", self._messages),
        ):
            started = time.perf_counter()
            async with self._deferred_indexes(name):
                await step()
            self.took[name] = time.perf_counter() - started
            say(f"  {name}: {self.took[name]:.1f} s")
        for table in (
            "staff", "people", "channel_accounts", "service_requests", "alerts",
            "activities", "registrations", "message_log", "identity_checks",
        ):  # fmt: skip
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await self.conn.execute("SET session_replication_role = DEFAULT")
        started = time.perf_counter()
        await self.conn.execute("VACUUM ANALYZE")
        self.took["vacuum analyze"] = time.perf_counter() - started
        say(f"  vacuum analyze: {self.took['vacuum analyze']:.1f} s")
        return await table_rows(self.conn)

    @asynccontextmanager
    async def _deferred_indexes(self, table: str) -> Any:
        """The table's secondary indexes (those behind no constraint) dropped while it is
        filled, then made again from their own definitions: one sorted build each instead
        of millions of random insertions."""
        rows = await self.conn.fetch(
            """SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = $1::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                ORDER BY i.relname""",
            table,
        )
        for row in rows:
            await self.conn.execute(f'DROP INDEX "{row["name"]}"')
        try:
            yield
        finally:
            for row in rows:
                await self.conn.execute(row["definition"])

    # ------------------------------------------------------------ the rows
    async def _staff(self) -> None:
        phone = cast(Encrypted, Staff.__table__.c.phone.type)
        dialect = _DIALECT
        rows = [
            (
                i,
                f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[(i * 7) % len(GIVEN)]}",
                phone.process_bind_param(f"138{i:08d}", dialect),
                ("leader", "admin", "duty", "clerk", "clerk")[i % 5],
                True,
                self.now - timedelta(days=1200),
                f"staff{i:03d}",
                None,
                None,
            )
            for i in range(1, self.scale.staff + 1)
        ]
        await self.conn.copy_records_to_table(
            "staff",
            records=rows,
            columns=[
                "id", "name", "phone", "role", "active", "created_at", "username",
                "password_hash", "sessions_valid_from",
            ],
        )  # fmt: skip

    async def _people(self) -> None:
        """People built here, their personal fields sealed by the models' own column type
        (storage/crypto.Encrypted) and indexed by storage/crypto.blind, sent with COPY."""
        rng, now = self.rng, self.now
        columns = Person.__table__.c
        seal = {
            name: cast(Encrypted, columns[name].type).process_bind_param
            for name in ("phone", "emergency_phone", "id_number")
        }
        records = []
        for i in range(1, self.scale.people + 1):
            district = DISTRICTS[rng.randrange(len(DISTRICTS))]
            born = date(1930 + rng.randrange(30), 1 + i % 12, 1 + i % 28)
            phone, number = phone_of(i), id_number_of(i, born)
            records.append(
                (
                    i,
                    SURNAMES[rng.randrange(len(SURNAMES))] + rng.choice(GIVEN),
                    "lixiu" if rng.random() < 0.1 else "tuixiu",
                    rng.choice(UNITS),
                    district,
                    seal["phone"](phone, _DIALECT),
                    blind("phone", phone_digits(phone)),
                    f"{district}示范路{i}号",
                    born,
                    "F" if rng.random() < 0.45 else "M",
                    None if rng.random() < 0.3 else "测试老伴",
                    rng.random() < 0.15,
                    "离退休第一支部",
                    "高血压，按时服药" if rng.random() < 0.3 else None,
                    "家属（示例）",
                    seal["emergency_phone"](f"137{i:08d}", _DIALECT),
                    seal["id_number"](number, _DIALECT),
                    blind("id", number.upper()),
                    None,
                    now - timedelta(days=YEARS * 365),
                    now - timedelta(days=rng.randrange(365)),
                )
            )
        await self.conn.copy_records_to_table(
            "people",
            records=records,
            columns=[
                "id", "name", "category", "former_unit", "district", "phone", "phone_index",
                "address", "birth_date", "gender", "spouse_name", "lives_alone", "party_branch",
                "health_notes", "emergency_contact", "emergency_phone", "id_number", "id_index",
                "notes", "created_at", "updated_at",
            ],
        )  # fmt: skip
        await self.conn.execute(
            """INSERT INTO person_tags (person_id, tag, created_at)
               SELECT p, t, $2 FROM generate_series(1, $1, 5) p,
                      unnest(ARRAY['书画组', '重点关注']) WITH ORDINALITY AS u(t, n)
                WHERE n <= 1 + p % 2""",
            self.scale.people,
            self.now - timedelta(days=30),
        )

    async def _accounts(self) -> None:
        """Person i (i <= retiree accounts) has WeChat account i; one in six of them a
        family account too."""
        bound = self.now - timedelta(days=900)
        accounts = self.scale.retiree_accounts
        await self.conn.execute(
            """INSERT INTO channel_accounts (id, channel, external_id, role, person_id, relation,
                   display_name, active, created_at, bound_at, consent_version, consented_at)
               SELECT g, 'wechat', 'oProv' || lpad(g::text, 8, '0'), 'retiree', g, NULL, NULL,
                      true, $2, $2, '2026-01', $2
                 FROM generate_series(1, $1) g""",
            accounts,
            bound,
        )
        await self.conn.execute(
            """INSERT INTO channel_accounts (id, channel, external_id, role, person_id, relation,
                   display_name, active, created_at, bound_at, consent_version, consented_at)
               SELECT $1 + (g + 5) / 6, 'wechat', 'oFamily' || lpad(g::text, 8, '0'), 'family',
                      g, '女儿', '女儿', true, $2, $2, '2026-01', $2
                 FROM generate_series(1, $1, 6) g""",
            accounts,
            bound,
        )


_DIALECT: Any = None  # the PostgreSQL dialect the column types seal values for (set in run)


async def table_rows(conn: asyncpg.Connection) -> dict[str, int]:
    """The rows of each table filled (exact counts)."""
    counts = {}
    for table in (
        "people", "channel_accounts", "service_requests", "request_status_history", "alerts",
        "alert_steps", "identity_checks", "activities", "registrations", "message_log",
    ):  # fmt: skip
        counts[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
    return counts


async def generate(dsn: str, scale: Scale, now: datetime, say: Callable[[str], None]) -> Any:
    """Fill the migrated, empty database at ``dsn``; (rows by table, seconds by table)."""
    global _DIALECT  # noqa: PLW0603 - the dialect of this run's engine
    from sqlalchemy.dialects import postgresql

    _DIALECT = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    conn = await asyncpg.connect(dsn)
    try:
        generator = Generator(conn, scale, now)
        counts = await generator.run(say)
        return counts, generator.took
    finally:
        await conn.close()
