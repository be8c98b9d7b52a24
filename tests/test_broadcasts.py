"""Broadcasts: segments, delivery exactly once through the real python-telegram-bot (the
bot ``bot.notify.telegram_sender`` builds, AIORateLimiter included) against the local Bot
API double, 403 → inactive, interrupted sends never repeated, the reconciler, the command
line, and the fault test of issue 6: Redis is restarted mid-broadcast (a private
redis-server, killed and started again) and still no one gets the message twice and no one
is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.api import run_receiver_task

from bot.jobs import Jobs, start_jobs, stop_jobs
from bot.notify import Notifier, telegram_sender
from bot.settings import Settings, TelegramSettings
from bot.stream_broker import RecoveringStreamBroker
from services import broadcasts
from services.broadcasts import (
    SEND,
    BroadcastSender,
    NotAllowedError,
    Tuning,
    create_broadcast,
    reconcile_broadcasts,
)
from storage.db import AsyncSession, make_engine, make_sessions, upgrade
from storage.models import AuditEntry, Broadcast, BroadcastRecipient, ChannelAccount, Person, Staff
from storage.uow import UnitOfWork
from tests.channels.botapi_double import TOKEN, BotApiDouble, serve
from tests.channels.serving import free_port
from tests.conftest import REPO

SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
TEXT = "本周六上午九点，老干部活动中心举办健康讲座，欢迎参加。"


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiDouble]:
    with serve(BotApiDouble()) as double:
        yield double


@pytest.fixture
def api(botapi: BotApiDouble) -> BotApiDouble:
    """The double, with no calls recorded yet."""
    botapi.reset()
    return botapi


@pytest.fixture(autouse=True)
def tuning(monkeypatch: pytest.MonkeyPatch) -> Tuning:
    """Quick tuning for tests (Telegram pacing is measured by benchmarks/broadcast.py;
    AIORateLimiter still holds every test to 30 messages a second)."""
    quick = Tuning(batch=10, concurrency=4, telegram_rate=1000.0, slice_seconds=5.0)
    monkeypatch.setattr(broadcasts, "TUNING", quick)
    return quick


def telegram_settings(api: BotApiDouble, **changes: Any) -> Settings:
    return Settings(telegram=TelegramSettings(token=TOKEN, api_base=api.url), **changes)


@asynccontextmanager
async def running_jobs(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], broker: AsyncBroker
) -> AsyncIterator[Jobs]:
    """Jobs with the real Telegram sender (ExtBot + AIORateLimiter) on a given broker."""
    bot = telegram_sender(settings)
    assert bot is not None
    await bot.initialize()
    jobs = await start_jobs(settings, sessions, Notifier(telegram=bot), broker=broker)
    try:
        yield jobs
    finally:
        await stop_jobs(jobs)
        await bot.shutdown()


@pytest.fixture
async def jobs(
    api: BotApiDouble, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Jobs]:
    """Jobs on taskiq's in-process broker, sending to the double."""
    async with running_jobs(telegram_settings(api), sessions, InMemoryBroker()) as started:
        yield started


# --------------------------------------------------------------------- data
@dataclasses.dataclass
class Roster:
    leader: int
    clerk: int
    admin: int
    retired_leader: int
    people: dict[str, int]
    accounts: dict[str, int]  # external id -> account id


async def add_roster(
    sessions: async_sessionmaker[AsyncSession], now: datetime, extra: int = 0
) -> Roster:
    """Four retirees with accounts on every channel and role, staff of every role, and
    ``extra`` more Telegram retirees (t9000, t9001, …)."""
    people = [
        # name, district, category, lives alone, born
        ("张建国", "姑苏区", "lixiu", True, date(1936, 5, 1)),  # 90
        ("王秀英", "吴中区", "tuixiu", False, date(1950, 3, 1)),  # 76
        ("李卫东", "姑苏区", "tuixiu", False, date(1946, 11, 22)),  # 80 today
        ("赵淑兰", "姑苏区", "lixiu", False, date(1946, 11, 23)),  # 79, 80 tomorrow
    ]
    people += [(f"测试{i:03d}", "相城区", "tuixiu", False, date(1950, 1, 1)) for i in range(extra)]
    # external id, person index, channel, role, active
    accounts = [
        ("1001", 0, "telegram", "retiree", True),
        ("2001", 0, "telegram", "family", True),
        ("o-wang", 1, "wechat", "retiree", True),
        ("1002", 1, "telegram", "retiree", True),
        ("1005", 1, "telegram", "retiree", False),  # an old one: blocked the bot long ago
        ("1003", 2, "telegram", "retiree", True),
        ("1004", 3, "telegram", "retiree", True),
        ("console-zhao", 3, "console", "retiree", True),  # the demo's terminal
    ]
    accounts += [(str(9000 + i), 4 + i, "telegram", "retiree", True) for i in range(extra)]
    async with UnitOfWork(sessions) as uow:
        ids = []
        for name, district, category, alone, born in people:
            person = await uow.people.add(
                Person(
                    name=name,
                    category=category,
                    district=district,
                    lives_alone=alone,
                    birth_date=born,
                    created_at=now,
                    updated_at=now,
                )
            )
            ids.append(person.id)
        staff = {}
        for name, role, active in (
            ("陈建平", "leader", True),
            ("李娟", "clerk", True),
            ("周敏", "admin", True),
            ("孙退", "leader", False),
        ):
            member = await uow.staff.add(Staff(name=name, role=role, active=active, created_at=now))
            staff[role if active else "retired"] = member.id
        account_ids = {}
        for external_id, index, channel, role, active in accounts:
            account = ChannelAccount(
                channel=channel,
                external_id=external_id,
                role=role,
                person_id=ids[index],
                relation="女儿" if role == "family" else None,
                active=active,
                created_at=now,
            )
            uow.session.add(account)
            await uow.session.flush()
            account_ids[external_id] = account.id
        staff_account = ChannelAccount(
            channel="telegram",
            external_id="3001",
            role="staff",
            staff_id=staff["leader"],
            active=True,
            created_at=now,
        )
        uow.session.add(staff_account)
        await uow.commit()
    return Roster(
        leader=staff["leader"],
        clerk=staff["clerk"],
        admin=staff["admin"],
        retired_leader=staff["retired"],
        people={name: i for (name, *_), i in zip(people, ids, strict=True)},
        accounts=account_ids,
    )


async def recipient_rows(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> dict[str, BroadcastRecipient]:
    """The broadcast's rows by the account's external id."""
    async with UnitOfWork(sessions) as uow:
        rows = await uow.broadcasts.recipients(broadcast_id)
        names = dict(
            (await uow.session.execute(select(ChannelAccount.id, ChannelAccount.external_id))).all()
        )
    return {names[row.account_id]: row for row in rows}


async def wait_done(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int, within: float = 10.0
) -> Broadcast:
    deadline = time.monotonic() + within
    while True:
        async with UnitOfWork(sessions) as uow:
            broadcast = await uow.broadcasts.get(broadcast_id)
        assert broadcast is not None
        if broadcast.status == "done":
            return broadcast
        assert time.monotonic() < deadline, f"broadcast {broadcast_id} is still {broadcast.status}"
        await asyncio.sleep(0.05)


def per_chat(api: BotApiDouble) -> Counter[int]:
    return Counter(d.chat_id for d in api.delivered)


# ----------------------------------------------------------------- segments
@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({}, {"1001", "o-wang", "1002", "1003", "1004"}),
        ({"district": "姑苏区"}, {"1001", "1003", "1004"}),
        ({"category": "lixiu"}, {"1001", "1004"}),
        ({"lives_alone": True}, {"1001"}),
        ({"min_age": 80}, {"1001", "1003"}),  # 李卫东 is 80 today, 赵淑兰 only tomorrow
        ({"min_age": 76, "category": "tuixiu"}, {"o-wang", "1002", "1003"}),
        ({"channel": "wechat"}, {"o-wang"}),
        ({"district": "姑苏区", "family": True}, {"1001", "2001", "1003", "1004"}),
        ({"district": "吴中区", "category": "lixiu"}, set()),
    ],
)
async def test_segments_pick_the_right_accounts(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    segment: dict[str, Any],
    expected: set[str],
) -> None:
    roster = await add_roster(sessions, now)
    assert await broadcasts.audience_size(sessions, segment, now) == len(expected)
    created = await create_broadcast(
        sessions, staff_id=roster.leader, text=TEXT, segment=segment, now=now
    )
    assert created.total == len(expected)
    rows = await recipient_rows(sessions, created.id)
    assert set(rows) == expected
    assert {r.status for r in rows.values()} <= {"pending"}
    async with UnitOfWork(sessions) as uow:
        [audit] = await uow.session.scalars(select(AuditEntry))
    assert (audit.actor, audit.action, audit.target_id) == (
        f"staff:{roster.leader}",
        "broadcast_created",
        str(created.id),
    )
    assert audit.details["recipients"] == len(expected)


@SQLITE
async def test_segments_by_person_and_by_activity_registrants(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    from storage.models import Activity

    roster = await add_roster(sessions, now)
    async with UnitOfWork(sessions) as uow:
        activity = await uow.activities.add(
            Activity(
                title="健康讲座",
                category="lecture",
                starts_at=now + timedelta(days=3),
                place="活动中心",
                capacity=10,
                created_at=now,
            )
        )
        await uow.activities.sign_up(activity.id, roster.people["王秀英"], "self", now)
        await uow.commit()
    assert await broadcasts.audience_size(sessions, {"activity_id": activity.id}, now) == 2
    assert (
        await broadcasts.audience_size(sessions, {"person_ids": [roster.people["赵淑兰"]]}, now)
        == 1
    )


async def test_a_segment_by_tag_reaches_the_tagged_people_only(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    roster = await add_roster(sessions, now)
    async with UnitOfWork(sessions) as uow:
        assert await uow.people.tag(roster.people["赵淑兰"], "书画组", now)
        assert not await uow.people.tag(roster.people["赵淑兰"], "书画组", now)  # once
        assert await uow.people.tag(roster.people["王秀英"], "党员志愿者", now)
        await uow.commit()
    assert await broadcasts.audience_size(sessions, {"tag": "书画组"}, now) == 1
    assert await broadcasts.audience_size(sessions, {"tag": "没人有的"}, now) == 0
    async with UnitOfWork(sessions) as uow:
        assert await uow.people.untag(roster.people["赵淑兰"], "书画组")
        await uow.commit()
    assert await broadcasts.audience_size(sessions, {"tag": "书画组"}, now) == 0


@SQLITE
async def test_only_leaders_and_admins_may_broadcast(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    roster = await add_roster(sessions, now)
    for staff_id in (roster.clerk, roster.retired_leader, 999):
        with pytest.raises(NotAllowedError):
            await create_broadcast(sessions, staff_id=staff_id, text=TEXT, segment={}, now=now)
    for text, segment in (("  ", {}), ("好" * 1001, {}), (TEXT, {"colour": "red"}),
                          (TEXT, {"min_age": "80"}), (TEXT, {"category": "cadre"})):  # fmt: skip
        with pytest.raises(ValueError):  # noqa: PT011 - each says its own reason
            await create_broadcast(
                sessions, staff_id=roster.admin, text=text, segment=segment, now=now
            )
    async with UnitOfWork(sessions) as uow:
        assert list(await uow.session.scalars(select(Broadcast))) == []
    created = await create_broadcast(
        sessions, staff_id=roster.admin, text=TEXT, segment={}, now=now
    )
    assert created.status == "sending"


# ------------------------------------------------------------------ sending
async def test_each_recipient_gets_it_once_even_when_the_job_runs_twice(
    sessions: async_sessionmaker[AsyncSession], jobs: Jobs, api: BotApiDouble, now: datetime
) -> None:
    roster = await add_roster(sessions, now, extra=12)
    created = await create_broadcast(
        sessions,
        staff_id=roster.leader,
        text=TEXT,
        segment={"family": True},
        now=now,
        link="https://example.org/lecture",
    )
    await asyncio.gather(jobs.kick(SEND, created.id), jobs.kick(SEND, created.id))
    done = await wait_done(sessions, created.id)

    telegram = {"1001", "2001", "1002", "1003", "1004"} | {str(9000 + i) for i in range(12)}
    assert per_chat(api) == Counter({int(chat): 1 for chat in telegram})
    [text] = set(api.texts())
    assert TEXT in text
    assert "市委老干部局" in text
    assert "https://example.org/lecture" in text
    rows = await recipient_rows(sessions, created.id)
    assert {k for k, r in rows.items() if r.status == "sent"} == telegram
    assert all(rows[k].sent_at is not None for k in telegram)
    assert (rows["o-wang"].status, rows["o-wang"].error) == ("skipped", "wechat unreachable")
    assert (done.total, done.sent, done.skipped, done.failed, done.blocked) == (18, 17, 1, 0, 0)
    assert done.lease_owner is None
    assert done.finished_at is not None

    await jobs.kick(SEND, created.id)  # a late duplicate of the job: nothing to do
    await asyncio.sleep(0.2)
    assert len(api.delivered) == len(telegram)


async def test_two_senders_at_once_never_send_twice(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    api: BotApiDouble,
    now: datetime,
    tuning: Tuning,
) -> None:
    """Both senders hold the lease (it lasts no time here, as if the first one's had run
    out while it was still sending): they read the same pending rows at once and both try
    to send each; the claims let one through. (Make ``claim`` unconditional and every
    recipient gets two messages.)"""
    tuning.lease = timedelta(0)
    tuning.batch = 50
    roster = await add_roster(sessions, now, extra=20)
    created = await create_broadcast(
        sessions, staff_id=roster.leader, text=TEXT, segment={"channel": "telegram"}, now=now
    )
    first, second = BroadcastSender(jobs, tuning), BroadcastSender(jobs, tuning)
    await asyncio.gather(first.send(created.id), second.send(created.id))
    await BroadcastSender(jobs, tuning).send(created.id)  # finishes if both stopped short
    done = await wait_done(sessions, created.id, within=1)

    assert done.sent == done.total == 24
    assert per_chat(api) == Counter(dict.fromkeys([1001, 1002, 1003, 1004, *range(9000, 9020)], 1))


@SQLITE
async def test_a_user_who_blocked_the_bot_is_marked_and_made_inactive(
    sessions: async_sessionmaker[AsyncSession], jobs: Jobs, api: BotApiDouble, now: datetime
) -> None:
    roster = await add_roster(sessions, now)
    api.block(1002)
    created = await create_broadcast(
        sessions, staff_id=roster.admin, text=TEXT, segment={}, now=now
    )
    await jobs.kick(SEND, created.id)
    done = await wait_done(sessions, created.id)

    rows = await recipient_rows(sessions, created.id)
    assert rows["1002"].status == "blocked"
    assert rows["1002"].sent_at is None
    assert (done.sent, done.blocked, done.skipped) == (3, 1, 1)
    async with UnitOfWork(sessions) as uow:
        account = await uow.accounts.get(roster.accounts["1002"])
    assert account is not None
    assert account.active is False
    assert set(per_chat(api)) == {1001, 1003, 1004}


@SQLITE
async def test_a_send_a_dead_worker_had_in_flight_is_never_repeated(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    api: BotApiDouble,
    now: datetime,
    tuning: Tuning,
) -> None:
    """A worker claimed 1001 and died mid-send (did the message arrive? unknown), another
    claimed 1002 a moment ago and is still sending: neither is sent again; 1001 is closed
    as failed once its claim is stale, 1002 is left to its sender."""
    roster = await add_roster(sessions, now)
    created = await create_broadcast(
        sessions, staff_id=roster.admin, text=TEXT, segment={}, now=now
    )
    rows = await recipient_rows(sessions, created.id)
    real_now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        assert await uow.broadcasts.claim(rows["1001"].id, "dead", real_now - timedelta(minutes=5))
        assert await uow.broadcasts.claim(rows["1002"].id, "busy", real_now)
        await uow.commit()

    assert await BroadcastSender(jobs, tuning).send(created.id) is False
    rows = await recipient_rows(sessions, created.id)
    assert (rows["1001"].status, rows["1001"].error) == ("failed", "interrupted: outcome unknown")
    assert rows["1002"].status == "sending"  # not done: someone is still on it
    assert rows["1003"].status == rows["1004"].status == "sent"
    async with UnitOfWork(sessions) as uow:
        assert await uow.broadcasts.mark(rows["1002"].id, "busy", "sent", real_now)
        await uow.commit()
    assert await BroadcastSender(jobs, tuning).send(created.id) is False
    done = await wait_done(sessions, created.id, within=0)
    assert (done.sent, done.failed, done.skipped) == (3, 1, 1)
    assert set(per_chat(api)) == {1003, 1004}


@SQLITE
async def test_a_stopping_worker_gives_back_what_it_has_not_sent(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    api: BotApiDouble,
    now: datetime,
    tuning: Tuning,
) -> None:
    """The worker is stopped (its jobs cancelled) mid-broadcast: the recipients it had
    claimed but not yet sent to go back to pending, and the next job sends to them."""
    # One message now, the next in two seconds: the cancel at 0.25 s falls between them
    # even on a loaded machine (at 2/s a slow start let the second one out first).
    tuning.telegram_rate = 0.5
    roster = await add_roster(sessions, now, extra=6)
    created = await create_broadcast(
        sessions, staff_id=roster.leader, text=TEXT, segment={"channel": "telegram"}, now=now
    )
    job = asyncio.create_task(BroadcastSender(jobs, tuning).send(created.id))
    await asyncio.sleep(0.25)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    rows = await recipient_rows(sessions, created.id)
    assert Counter(r.status for r in rows.values()) == {"sent": 1, "pending": 9}
    assert len(api.delivered) == 1

    tuning.telegram_rate = 1000.0
    assert await BroadcastSender(jobs, tuning).send(created.id) is False
    done = await wait_done(sessions, created.id, within=0)
    assert done.sent == 10
    assert max(per_chat(api).values()) == 1


@SQLITE
async def test_a_long_broadcast_is_sent_in_slices_by_fresh_jobs(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    api: BotApiDouble,
    now: datetime,
    tuning: Tuning,
) -> None:
    tuning.slice_seconds = 0  # one batch per job
    tuning.batch = 3
    roster = await add_roster(sessions, now, extra=10)
    created = await create_broadcast(
        sessions, staff_id=roster.leader, text=TEXT, segment={"channel": "telegram"}, now=now
    )
    assert await BroadcastSender(jobs, tuning).send(created.id) is True  # more to do
    assert len(api.delivered) == 3
    await jobs.kick(SEND, created.id)
    done = await wait_done(sessions, created.id)
    assert done.sent == 14
    assert max(per_chat(api).values()) == 1


@SQLITE
async def test_the_reconciler_starts_scheduled_and_rekicks_stalled_broadcasts(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    api: BotApiDouble,
    now: datetime,
    tuning: Tuning,
) -> None:
    roster = await add_roster(sessions, now)
    lost = await create_broadcast(sessions, staff_id=roster.leader, text=TEXT, segment={}, now=now)
    later = await create_broadcast(
        sessions,
        staff_id=roster.leader,
        text="明天的讲座改到下午两点。",
        segment={"district": "姑苏区"},
        now=now,
        send_at=now + timedelta(hours=1),
    )
    assert later.status == "scheduled"
    # Nobody kicked `lost` (its job was lost): not yet stalled, then stalled.
    assert await reconcile_broadcasts(jobs, now + tuning.stall / 2) == 0
    assert await reconcile_broadcasts(jobs, now + tuning.stall * 2) == 1
    await wait_done(sessions, lost.id)
    assert await reconcile_broadcasts(jobs, now + tuning.stall * 2) == 0  # done: left alone
    assert await reconcile_broadcasts(jobs, now + timedelta(hours=1)) == 1  # `later` is due
    await wait_done(sessions, later.id)
    assert sorted(per_chat(api).items()) == [(1001, 2), (1002, 1), (1003, 2), (1004, 2)]


# ------------------------------------------------------------ command line
def yinling(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "bot.cli", *args],
        env={**os.environ, "YINLING_REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@SQLITE
async def test_the_broadcast_command(
    sessions: async_sessionmaker[AsyncSession], api: BotApiDouble, now: datetime, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        roster = await add_roster(make_sessions(engine), datetime.now(UTC))
    finally:
        await engine.dispose()
    env = {
        "YINLING_DATABASE_URL": url,
        "YINLING_TELEGRAM__TOKEN": TOKEN,
        "YINLING_TELEGRAM__API_BASE": api.url,
    }
    clerk = await asyncio.to_thread(
        yinling, "broadcast", "--text", TEXT, "--staff", str(roster.clerk), env=env
    )
    assert clerk.returncode == 2
    assert "refused" in clerk.stderr
    dry = await asyncio.to_thread(
        yinling, "broadcast", "--text", TEXT, "--district", "姑苏区", "--dry-run", env=env
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("3 recipients")
    sent = await asyncio.to_thread(
        yinling,
        "broadcast",
        "--text",
        TEXT,
        "--district",
        "姑苏区",
        "--lives-alone",
        "--staff",
        str(roster.leader),
        env=env,
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("broadcast 1: 1 recipients")
    assert "sent 1" in sent.stdout
    assert per_chat(api) == Counter({1001: 1})
    shown = await asyncio.to_thread(yinling, "broadcast", "--show", "1", env=env)
    assert "broadcast 1: done, 1 recipients" in shown.stdout


# ------------------------------------------------------- fault: Redis restart
class PrivateRedis:
    """A redis-server of the test's own, without persistence, that can be restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is needed for the Redis fault test"
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.01)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def test_redis_restarted_mid_broadcast_no_one_twice_no_one_skipped(
    pg: AsyncEngine, api: BotApiDouble, private_redis: PrivateRedis, now: datetime, tuning: Tuning
) -> None:
    """A worker (taskiq receiver + reconciler, as ``yinling worker`` runs them) sends a
    broadcast through the Redis stream broker at Telegram's pace, handing on to a fresh job
    every slice; Redis is killed and started again, empty, mid-way. The hand-off is lost;
    the reconciler re-kicks the broadcast; every recipient gets the message exactly once."""
    tuning.telegram_rate = broadcasts.Tuning().telegram_rate  # the real pace: about 2 s
    tuning.batch, tuning.slice_seconds = 5, 0.2
    tuning.stall, tuning.lease = timedelta(seconds=0.5), timedelta(seconds=5)
    sessions = make_sessions(pg)
    roster = await add_roster(sessions, now, extra=57)
    settings = telegram_settings(api, redis_url=private_redis.url, reconcile_seconds=0.2)
    broker = RecoveringStreamBroker(  # as bot.jobs.make_broker makes it (see the report)
        private_redis.url,
        queue_name=f"{settings.redis_prefix}jobs",
        consumer_group_name=f"{settings.redis_prefix}workers",
        idle_timeout=60_000,
    )
    async with running_jobs(settings, sessions, broker) as jobs:
        receiver = asyncio.create_task(run_receiver_task(broker, max_async_tasks=50))
        rekicked, stop = 0, asyncio.Event()

        async def reconciler() -> None:  # Jobs.reconcile_forever, counting what it re-kicks
            nonlocal rekicked
            while not stop.is_set():
                with contextlib.suppress(Exception):  # Redis away: the next pass tries again
                    rekicked += await jobs.reconcile()
                await asyncio.sleep(jobs.reconcile_every)

        loop = asyncio.create_task(reconciler())
        try:
            created = await create_broadcast(
                sessions, staff_id=roster.leader, text=TEXT, segment={}, now=jobs.clock()
            )
            await jobs.kick(SEND, created.id)
            deadline = time.monotonic() + 10
            while len(api.delivered) < 15:
                assert time.monotonic() < deadline, "the broadcast does not start"
                await asyncio.sleep(0.01)
            private_redis.kill()
            async with UnitOfWork(sessions) as uow:
                left = (await uow.broadcasts.counts(created.id))["pending"]
            assert left > 20  # the premise: Redis goes away mid-broadcast
            await asyncio.sleep(0.6)  # the jobs' hand-offs fail meanwhile
            private_redis.start()
            done = await wait_done(sessions, created.id, within=20)
        finally:
            stop.set()
            await loop
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver

    assert rekicked >= 1  # the reconciler, not luck, finished it
    expected = [1001, 1002, 1003, 1004, *range(9000, 9057)]
    assert per_chat(api) == Counter(dict.fromkeys(expected, 1))
    assert (done.total, done.sent, done.skipped, done.failed) == (62, 61, 1, 0)
