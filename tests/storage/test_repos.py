"""Repositories on SQLite and PostgreSQL: requests and their history, seats and waitlists."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.activities import AlreadyRegistered
from storage.db import make_engine, make_sessions
from storage.demo import seed_demo, seed_roster
from storage.models import Activity
from storage.repos import DuplicateMessage
from storage.uow import UnitOfWork


async def test_demo_seed_is_complete_and_runs_once(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        assert await seed_demo(uow, now)
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert not await seed_demo(uow, now)
        assert await uow.people.count() == 20
        assert len(await uow.catalog.hospitals()) >= 5
        assert len(await uow.catalog.eldercare_services()) == 9
        articles = await uow.catalog.policy_articles()
        assert len(articles) >= 15
        assert all(a.source.endswith(".txt") for a in articles)
        upcoming = await uow.activities.upcoming(now, limit=50)
        assert any(a.seats_taken >= a.capacity for a in upcoming)  # a full class
        assert any(0 < a.capacity - a.seats_taken <= 2 for a in upcoming)  # nearly full
        assert all(a.starts_at > now for a in upcoming)


async def test_request_history_is_written_on_every_change(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        request = await uow.requests.create(
            "medical_escort", now=now, actor="account:1", person_id=pid
        )
        await uow.requests.set_status(
            request, "assigned", now=now + timedelta(minutes=5), actor="staff:1"
        )
        await uow.requests.set_status(
            request, "done", now=now + timedelta(hours=5), actor="staff:1", note="陪同完成"
        )
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        history = await uow.requests.history(request.id)
        assert [(h.from_status, h.to_status, h.actor) for h in history] == [
            (None, "pending", "account:1"),
            ("pending", "assigned", "staff:1"),
            ("assigned", "done", "staff:1"),
        ]
        assert history[-1].changed_at == now + timedelta(hours=5)
        assert history[-1].changed_at.tzinfo is not None
        assert await uow.requests.for_person(pid, open_only=True) == []


async def _activity(uow: UnitOfWork, now: datetime, capacity: int, taken: int = 0) -> Activity:
    activity = Activity(
        title="书法班",
        category="class",
        starts_at=now + timedelta(days=3),
        place="活动中心",
        capacity=capacity,
        seats_taken=taken,
        eligibility="all",
        created_at=now,
    )
    return await uow.activities.add(activity)


async def test_seats_waitlist_and_promotion(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        people = await seed_roster(uow, 4, now)
        activity = await _activity(uow, now, capacity=2)
        results = [await uow.activities.sign_up(activity.id, p, "self", now) for p in people]
        assert [r.status for r in results] == [
            "registered",
            "registered",
            "waitlisted",
            "waitlisted",
        ]
        assert [r.position for r in results] == [None, None, 1, 2]
        with pytest.raises(AlreadyRegistered):
            await uow.activities.sign_up(activity.id, people[0], "self", now)
        spouse = await uow.activities.sign_up(activity.id, people[0], "spouse", now)
        assert spouse.position == 3
        # The activity this unit holds shows the counters the sign-ups changed.
        assert (activity.seats_taken, activity.waitlisted) == (2, 3)
        first, last = [await uow.activities.registration(results[i].id) for i in (0, 3)]
        assert first is not None
        assert last is not None
        promoted = await uow.activities.cancel(first, now)
        assert promoted is not None
        assert promoted.person_id == people[2]
        assert await uow.activities.waitlist_position(last) == 1
        await uow.activities.cancel(last, now)  # a waitlist place frees no seat
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert await uow.activities.counts(activity.id) == {
            "registered": 2,
            "waitlisted": 1,
            "cancelled": 2,
        }
        reloaded = await uow.activities.get(activity.id)
        assert (reloaded.seats_taken, reloaded.waitlisted) == (2, 1)
        assert await uow.activities.cancel(last, now) is None  # cancelling twice changes nothing
        late = await uow.activities.sign_up(activity.id, people[3], "spouse", now)
        assert (late.status, late.position) == ("waitlisted", 2)  # behind the spouse


async def test_cancelling_with_nobody_waiting_frees_the_seat(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        activity = await _activity(uow, now, capacity=5)
        signup = await uow.activities.sign_up(activity.id, pid, "self", now)
        registration = await uow.activities.registration(signup.id)
        assert await uow.activities.cancel(registration, now) is None
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert (await uow.activities.get(activity.id)).seats_taken == 0


async def test_concurrent_signups_on_postgres(pg: AsyncEngine, now: datetime) -> None:
    sessions = make_sessions(pg)
    async with UnitOfWork(sessions) as uow:
        people = await seed_roster(uow, 60, now)
        activity = await _activity(uow, now, capacity=10)
        await uow.commit()

    async def sign_up(pid: int) -> str:
        async with UnitOfWork(sessions) as uow:
            result = await uow.activities.sign_up(activity.id, pid, "self", now)
            await uow.commit()
            return result.status

    statuses = await asyncio.gather(*(sign_up(p) for p in people))
    assert statuses.count("registered") == 10
    assert statuses.count("waitlisted") == 50
    async with UnitOfWork(sessions) as uow:
        assert (await uow.activities.get(activity.id)).seats_taken == 10


async def test_concurrent_duplicate_signup_is_refused_on_postgres(
    pg: AsyncEngine, now: datetime
) -> None:
    sessions = make_sessions(pg)
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        activity = await _activity(uow, now, capacity=10)
        await uow.commit()

    async def sign_up() -> str:
        async with UnitOfWork(sessions) as uow:
            try:
                await uow.activities.sign_up(activity.id, pid, "self", now)
            except AlreadyRegistered:
                return "refused"
            await uow.commit()
            return "ok"

    results = await asyncio.gather(*(sign_up() for _ in range(8)))
    assert results.count("ok") == 1
    async with UnitOfWork(sessions) as uow:
        assert await uow.activities.counts(activity.id) == {"registered": 1}
        assert (await uow.activities.get(activity.id)).seats_taken == 1


async def test_waitlist_places_told_under_a_rush_are_exact(pg: AsyncEngine, now: datetime) -> None:
    sessions = make_sessions(pg)
    async with UnitOfWork(sessions) as uow:
        people = await seed_roster(uow, 40, now)
        activity = await _activity(uow, now, capacity=5)
        await uow.commit()

    async def sign_up(pid: int) -> int | None:
        async with UnitOfWork(sessions) as uow:
            result = await uow.activities.sign_up(activity.id, pid, "self", now)
            await uow.commit()
            return result.position

    told = await asyncio.gather(*(sign_up(p) for p in people))
    assert sorted(p for p in told if p is not None) == list(range(1, 36))


async def test_identify_reads_the_same_before_and_inside_a_transaction(
    sessions, now: datetime
) -> None:
    # Read first thing in a unit, or once its session has done other work: both give the
    # same account and person, readable after the unit has ended.
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        await uow.accounts.bind("wechat", "o-lone", pid, now, role="family", relation="女儿")
        await uow.accounts.create_unbound("wechat", "o-stranger", now)
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        lone = await uow.accounts.identify("wechat", "o-lone")
        assert await uow.accounts.identify("wechat", "o-nobody") == (None, None)
        stranger = await uow.accounts.identify("wechat", "o-stranger")
    async with UnitOfWork(sessions) as uow:
        await uow.people.count()  # the session is open now
        inside = await uow.accounts.identify("wechat", "o-lone")
    account, person = lone
    assert stranger[0] is not None
    assert stranger[0].person_id is None
    assert stranger[1] is None
    assert person is not None
    assert person.id == pid
    assert person.birth_date is not None
    assert account is not None
    assert (account.role, account.relation) == ("family", "女儿")
    assert account.created_at.tzinfo is not None
    for a, b in zip(lone, inside, strict=True):
        assert a is not None
        assert b is not None
        columns = type(a).__table__.columns.keys()  # type: ignore[attr-defined]
        assert {c: getattr(a, c) for c in columns} == {c: getattr(b, c) for c in columns}
    # A looked-up account is changed by loading it in a unit's session.
    async with UnitOfWork(sessions) as uow:
        loaded = await uow.accounts.get(account.id)
        assert loaded is not None
        loaded.active = False
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        again, nobody = await uow.accounts.identify("wechat", "o-lone")
    assert again is not None
    assert again.active is False
    assert nobody is None


async def test_a_unit_that_only_logs_opens_no_session_and_loses_nothing(
    sessions, now: datetime
) -> None:
    row = {
        "channel": "wechat", "external_user_id": "o-log", "account_id": None, "person_id": None,
        "created_at": now, "message_id": "m1", "media_id": None, "intent": "greet",
        "confidence": 0.9, "error": False, "direction": "in", "kind": "text", "text": "你好",
    }  # fmt: skip
    async with UnitOfWork(sessions) as uow:
        await uow.messages.add_many([row, {**row, "direction": "out", "message_id": None}])
        await uow.commit()
        opened = uow.opened
    # The log alone goes through a connection of its own: no session was opened for it.
    assert opened is False
    async with UnitOfWork(sessions) as uow:
        logged = await uow.messages.recent("wechat", "o-log")
    assert [(m.direction, m.text, m.created_at) for m in logged] == [
        ("in", "你好", now),
        ("out", "你好", now),
    ]
    # A unit that wrote something else logs in the same transaction: rolled back together.
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        await uow.messages.add_many([{**row, "person_id": pid, "message_id": "m2"}])
        # no commit
    async with UnitOfWork(sessions) as uow:
        assert len(await uow.messages.recent("wechat", "o-log")) == 2
        assert await uow.people.get(pid) is None


async def test_my_records_reads_give_whole_rows(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        details = {"hospital": "省人民医院", "attachments": ["m-1"], "n": 2}
        await uow.requests.create(
            "medical_escort", now=now, actor="account:1", person_id=pid, details=details
        )
        done = await uow.requests.create("eldercare", now=now, actor="account:1", person_id=pid)
        await uow.requests.set_status(done, "done", now=now, actor="staff:1")
        activity = await _activity(uow, now, capacity=1, taken=1)
        await uow.activities.sign_up(activity.id, pid, "spouse", now)  # waitlisted
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        requests = await uow.requests.for_person(
            pid, kinds=("medical_escort", "eldercare"), open_only=True
        )
        signed = [x for pair in await uow.activities.for_person(pid, now) for x in pair]
    assert [r.details for r in requests] == [details]
    assert [type(x).__name__ for x in signed] == ["Registration", "Activity"]
    assert signed[0].status == "waitlisted"
    assert signed[1].starts_at.tzinfo is not None


async def test_a_lone_log_is_all_or_nothing(sessions, now: datetime) -> None:
    # A message handled twice: its inbound line is refused by the unique index, and the
    # replies written with it in the same lone statement must not be left behind.
    row = {
        "channel": "wechat", "external_user_id": "o-twice", "account_id": None,
        "person_id": None, "created_at": now, "message_id": "m1", "media_id": None,
        "intent": None, "confidence": None, "error": False, "direction": "in",
        "kind": "text", "text": "在吗",
    }  # fmt: skip
    async with UnitOfWork(sessions) as uow:
        await uow.messages.add_many([row])
    reply = {**row, "direction": "out", "text": "在的"}
    async with UnitOfWork(sessions) as uow:
        with pytest.raises(DuplicateMessage):
            await uow.messages.add_many([reply, row])
        assert not uow.opened
    async with UnitOfWork(sessions) as uow:
        logged = await uow.messages.recent("wechat", "o-twice")
    assert [(m.direction, m.text) for m in logged] == [("in", "在吗")]


async def test_a_lone_log_commits_asynchronously_and_leaves_the_connection_synchronous(
    pg_url: str, pg: AsyncEngine, now: datetime
) -> None:
    # Two connections at most: the lone write uses one of them; afterwards both must still
    # commit synchronously (the setting is local to the log's own transaction).
    engine = make_engine(pg_url, pool_size=1)
    try:
        sessions = make_sessions(engine)
        row = {
            "channel": "wechat", "external_user_id": "o-sync", "account_id": None,
            "person_id": None, "created_at": now, "message_id": "m1", "media_id": None,
            "intent": None, "confidence": None, "error": False, "direction": "in",
            "kind": "text", "text": "在吗",
        }  # fmt: skip
        for i in range(3):
            async with UnitOfWork(sessions) as uow:
                await uow.messages.add_many([{**row, "message_id": f"m{i}"}])
                assert not uow.opened
        async with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                setting = await connection.exec_driver_sql("SHOW synchronous_commit")
                assert setting.scalar() == "on"
        async with UnitOfWork(sessions) as uow:
            assert [m.message_id for m in await uow.messages.recent("wechat", "o-sync")] == [
                "m0",
                "m1",
                "m2",
            ]
        # An overlong value is refused, not cut short, as by the plain insert.
        with pytest.raises(Exception, match="too long"):
            async with UnitOfWork(sessions) as uow:
                await uow.messages.add_many([{**row, "kind": "x" * 13}])
    finally:
        await engine.dispose()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
async def test_a_json_column_refuses_what_is_not_json(
    sessions, now: datetime, value: float
) -> None:
    """NaN would be written as such and PostgreSQL would refuse the whole transaction (an
    emergency with it): refused at once, on both databases, and nothing half-written."""

    async def write() -> None:
        async with UnitOfWork(sessions) as uow:
            await uow.requests.create(
                "sos", now=now, actor="test", person_id=None, details={"latitude": value}
            )
            await uow.commit()

    with pytest.raises(StatementError, match="JSON compliant"):
        await write()
    async with UnitOfWork(sessions) as uow:
        assert await uow.requests.count() == 0
