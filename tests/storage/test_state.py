"""One contract, two state stores: in-process and real Redis."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from redis.asyncio import Redis

from storage.state import (
    Conversation,
    LockTimeout,
    MemoryStore,
    MessageKey,
    RedisStore,
    StoreUnavailable,
)

Store = MemoryStore | RedisStore
M1 = MessageKey("wechat", "u1", "m1")


def message(n: int, sender: str = "u1") -> MessageKey:
    return MessageKey("wechat", sender, f"m{n}")


async def test_state_round_trip(store: Store) -> None:
    async with store.turn(message(1), "c1", 60) as turn:
        assert turn.first
        assert turn.state == Conversation()
        state = Conversation(
            flow="medical_escort", step="ask:date", slots={"hospital": "省人民医院"}
        )
        await turn.finish(state, "{}", 60)
    async with store.turn(message(2), "c1", 60) as turn:
        assert turn.state == state
    async with store.turn(message(3), "c2", 60) as turn:
        assert turn.state == Conversation()


async def test_state_expires(store: Store) -> None:
    async with store.turn(message(1), "c1", 60) as turn:
        await turn.finish(Conversation(flow="x"), "{}", 1)
    await asyncio.sleep(1.2)
    async with store.turn(message(2), "c1", 60) as turn:
        assert turn.state == Conversation()


async def test_claim_once_even_when_concurrent(store: Store) -> None:
    async def take(key: MessageKey) -> bool:
        async with store.turn(key, "c1", 60) as turn:
            if turn.first:
                await turn.finish(turn.state, "{}", 60)
            return turn.first

    results = await asyncio.gather(*(take(M1) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert await take(message(2))
    assert await take(message(1, sender="u2"))  # ids are per sender


async def test_a_repeat_gets_the_first_answer(store: Store) -> None:
    answered = asyncio.Event()

    async def first() -> None:
        async with store.turn(M1, "c1", 60) as turn:
            assert turn.first
            await answered.wait()
            await turn.finish(Conversation(flow="x"), '{"x": 1}', 60)

    task = asyncio.create_task(first())
    await asyncio.sleep(0.05)
    async with store.turn(M1, "c1", 60) as repeat:  # told at once: being handled
        assert not repeat.first
        assert repeat.answer is None

    async def answer_soon() -> None:
        await asyncio.sleep(0.1)
        answered.set()

    asyncio.create_task(answer_soon())  # noqa: RUF006 - awaited through `task`
    async with store.turn(M1, "c1", 60, wait=2) as repeat:  # waits for the first answer
        assert not repeat.first
        assert repeat.answer == '{"x": 1}'
    await task
    async with store.turn(M1, "c1", 60) as later:  # done: the answer, at once
        assert (later.first, later.answer) == (False, '{"x": 1}')


# ------------------------------------------------------------ delivery states
async def test_a_turn_that_fails_leaves_the_message_to_be_handled_again(store: Store) -> None:
    """An exception in the handler: the claim is given back, so the retry is handled."""

    async def fail() -> None:
        async with store.turn(M1, "c1", 60) as turn:
            assert turn.first
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        await fail()
    async with asyncio.timeout(1), store.turn(M1, "c1", 60) as retry:
        assert retry.first
        await retry.finish(Conversation(), "{}", 60)
    async with store.turn(M1, "c1", 60) as repeat:
        assert not repeat.first


async def test_a_cancelled_turn_leaves_the_message_to_be_handled_again(store: Store) -> None:
    inside = asyncio.Event()

    async def handle() -> None:
        async with store.turn(M1, "c1", 60):
            inside.set()
            await asyncio.sleep(30)  # a stalled database

    task = asyncio.create_task(handle())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(1), store.turn(M1, "c1", 60) as retry:
        assert retry.first


async def test_a_repeat_waiting_for_a_failed_first_handles_it(store: Store) -> None:
    """The platform's retry arrives while the first copy is handled; that one fails: the
    waiting retry takes the message over instead of answering with nothing."""
    inside = asyncio.Event()

    async def first() -> None:
        with contextlib.suppress(RuntimeError):
            async with store.turn(M1, "c1", 60):
                inside.set()
                await asyncio.sleep(0.1)
                raise RuntimeError("handler failed")

    task = asyncio.create_task(first())
    await inside.wait()
    async with store.turn(M1, "c1", 60, wait=3) as retry:
        assert retry.first
        await retry.finish(Conversation(), '{"ok": 1}', 60)
    await task


async def test_a_killed_process_lets_go_of_the_message_within_its_lease(
    redis_store: RedisStore,
) -> None:
    """A process killed mid-message stops renewing its claim and lock: the retry, in
    another process, waits for them to lapse and handles the message."""
    dead = RedisStore(redis_store.redis, redis_store.keys, lease_seconds=0.3)
    await dead._claim(  # what the killed process left behind: its claim and the lock
        keys=[
            dead.keys.seen("wechat", "u1", "m1"),
            dead.keys.lock("c1"),
            dead.keys.state("c1"),
        ],
        args=[300, "deadbeef", 300],
    )
    alive = RedisStore(redis_store.redis, redis_store.keys, lease_seconds=0.3)
    async with asyncio.timeout(3), alive.turn(M1, "c1", 60, wait=2) as retry:
        assert retry.first
        await retry.finish(Conversation(), "{}", 60)


async def test_a_long_turn_keeps_its_claim_and_lock_past_the_lease(
    redis_store: RedisStore,
) -> None:
    store = RedisStore(redis_store.redis, redis_store.keys, lease_seconds=0.3)
    other = RedisStore(redis_store.redis, redis_store.keys, lease_seconds=0.3, lock_seconds=0.2)
    async with store.turn(M1, "c1", 60) as turn:
        await asyncio.sleep(1.0)  # three leases long: renewed, not lapsed
        async with other.turn(M1, "c1", 60) as repeat:
            assert not repeat.first
        with pytest.raises(LockTimeout):  # the conversation is still ours
            async with other.turn(message(2), "c1", 60):
                pass
        await turn.finish(Conversation(), "{}", 60)


async def test_redis_away_is_store_unavailable() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        with pytest.raises(StoreUnavailable):
            async with RedisStore(dead).turn(M1, "c1", 60):
                pass
    finally:
        await dead.aclose()


async def test_turns_of_a_conversation_are_one_at_a_time(store: Store) -> None:
    inside = 0
    most = 0

    async def work(n: int) -> None:
        nonlocal inside, most
        async with store.turn(message(n), "c1", 60) as turn:
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1
            await turn.finish(Conversation(misses=n), "{}", 60)

    await asyncio.gather(*(work(n) for n in range(10)))
    assert most == 1


async def test_state_is_loaded_after_the_lock(store: Store) -> None:
    """Each turn sees what the previous one saved, however they race."""

    async def bump(n: int) -> None:
        async with store.turn(message(n), "c1", 60) as turn:
            await asyncio.sleep(0.005)
            await turn.finish(Conversation(misses=turn.state.misses + 1), "{}", 60)

    await asyncio.gather(*(bump(n) for n in range(15)))
    async with store.turn(message(99), "c1", 60) as turn:
        assert turn.state.misses == 15


async def test_a_turn_left_unfinished_releases_its_lock(store: Store) -> None:
    async with store.turn(message(1), "c1", 60):
        pass  # e.g. the handler raised before saving
    async with asyncio.timeout(1):
        async with store.turn(message(2), "c1", 60) as turn:
            assert turn.first


async def test_other_conversations_are_not_blocked(store: Store) -> None:
    async with store.turn(message(1), "c1", 60):
        async with asyncio.timeout(1):
            async with store.turn(message(2), "c2", 60) as turn:
                assert turn.first


async def test_ping(store: Store) -> None:
    assert await store.ping()


def test_conversation_ignores_unknown_fields() -> None:
    assert Conversation.from_json('{"flow": "x", "retired_field": 1}') == Conversation(flow="x")


async def test_turns_queued_in_one_process_do_not_poll_redis(redis_store: RedisStore) -> None:
    """Ten messages of one conversation at once in one process: they wait on a local lock,
    not by asking Redis for the lock every few milliseconds."""
    redis = redis_store.redis
    await redis.config_resetstat()

    async def work(n: int) -> None:
        async with redis_store.turn(message(n), "c1", 60) as turn:
            await asyncio.sleep(0.03)
            await turn.finish(Conversation(misses=n), "{}", 60)

    await asyncio.gather(*(work(n) for n in range(10)))
    stats = await redis.info("commandstats")
    sets = stats.get("cmdstat_set", {}).get("calls", 0)
    # The claim (message, lock) and the finish (state, answer, done) make five SETs a turn;
    # waiting made none.
    assert sets <= 5 * 10
    assert not redis_store._local  # nothing left behind
