"""One contract, two state stores: in-process and real Redis."""

from __future__ import annotations

import asyncio

from storage.state import Conversation, MemoryStore, MessageKey, RedisStore

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
    async with store.turn(M1, "c1", 60) as repeat:
        assert not repeat.first
    answered.set()
    assert await store.wait_answer(M1, seconds=2) == '{"x": 1}'
    await task
    assert await store.wait_answer(message(9), seconds=0.05) is None


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
    # The claim and the finish scripts make four SETs a turn; waiting made none.
    assert sets <= 4 * 10
    assert not redis_store._local  # nothing left behind
