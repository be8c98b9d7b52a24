"""2,000 retirees sign up at once for an activity with 100 seats, on PostgreSQL.

    .venv/bin/python benchmarks/signup_rush.py [--people 2000] [--seats 100] [--pool 5]

Checks and prints: exactly 100 registered and 1,900 waitlisted, waitlist places 1..1,900
in the order the database received the sign-ups (registration ids), every seat-holder
ahead of every waitlisted one, no duplicate registration, seats_taken == seats; and the
elapsed time from the first sign-up to the last commit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.demo import seed_roster  # noqa: E402
from storage.models import Activity, Registration  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument(
        "--pool",
        type=int,
        default=5,
        help="pool size (as YINLING_DATABASE_POOL; twice under a burst)",
    )
    args = parser.parse_args()

    name = f"yinling_rush_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(SERVER.rpartition("/")[0] + "/" + name, pool_size=args.pool)
    try:
        await upgrade(engine)
        sessions = make_sessions(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(sessions) as uow:
            people = await seed_roster(uow, args.people, now)
            activity = await uow.activities.add(
                Activity(
                    title="重阳节登高",
                    category="trip",
                    starts_at=now + timedelta(days=7),
                    place="老干部活动中心门口集合",
                    capacity=args.seats,
                    seats_taken=0,
                    eligibility="all",
                    created_at=now,
                )
            )
            await uow.commit()

        async def sign_up(person_id: int) -> tuple[str, int | None]:
            async with UnitOfWork(sessions) as uow:
                result = await uow.activities.sign_up(activity.id, person_id, "self", now)
                await uow.commit()
                return result.status, result.position

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(sign_up(p) for p in people))
        elapsed = time.perf_counter() - started

        async with UnitOfWork(sessions) as uow:
            rows = list(
                await uow.session.execute(
                    select(Registration.id, Registration.status, Registration.person_id)
                    .where(Registration.activity_id == activity.id)
                    .order_by(Registration.id)
                )
            )
            seats_taken = await uow.session.scalar(
                select(Activity.seats_taken).where(Activity.id == activity.id)
            )
            distinct = await uow.session.scalar(
                select(func.count(func.distinct(Registration.person_id))).where(
                    Registration.activity_id == activity.id
                )
            )
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    statuses = [status for _, status, _ in rows]
    registered = statuses.count("registered")
    waitlisted = statuses.count("waitlisted")
    # Every "registered" id comes before any "waitlisted" one.
    seat_holders_first = statuses == sorted(statuses)
    told = sorted(position for status, position in outcomes if status == "waitlisted")
    checks = {
        f"exactly {args.seats} registered": registered == args.seats,
        f"exactly {args.people - args.seats} waitlisted": waitlisted == args.people - args.seats,
        "seat-holders ahead of the waitlist": seat_holders_first,
        "no duplicate registrations": distinct == len(rows) == args.people,
        "seats_taken equals the seats": seats_taken == args.seats,
        "waitlist places told are 1..N": told == list(range(1, waitlisted + 1)),
    }
    print(f"{args.people} concurrent sign-ups for {args.seats} seats, PostgreSQL, pool {args.pool}")
    print(f"  elapsed {elapsed:.2f} s  ({args.people / elapsed:.0f} sign-ups/s)")
    print(f"  registered {registered}, waitlisted {waitlisted}, seats_taken {seats_taken}")
    for label, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {label}")
    print(f"reproduce: {sys.executable} benchmarks/signup_rush.py")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
