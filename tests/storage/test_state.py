"""One contract, two state stores: in-process and real Redis."""

from __future__ import annotations

import asyncio

from storage.state import Conversation, MemoryStore, MessageKey, RedisStore

Store = MemoryStore | RedisStore


async def test_state_round_trip(store: Store) -> None:
    assert await store.load("c1") == Conversation()
    state = Conversation(
        flow="medical_escort",
        step="ask:date",
        slots={"hospital": "省人民医院"},
        options=["/affirm"],
    )
    await store.save("c1", state, ttl=60)
    assert await store.load("c1") == state
    assert await store.load("c2") == Conversation()


async def test_state_expires(store: Store) -> None:
    await store.save("c1", Conversation(flow="x"), ttl=1)
    await asyncio.sleep(1.2)
    assert await store.load("c1") == Conversation()


M1 = MessageKey("wechat", "u1", "m1")


async def test_claim_once_even_when_concurrent(store: Store) -> None:
    results = await asyncio.gather(*(store.claim(M1, 60) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert await store.claim(MessageKey("wechat", "u1", "m2"), 60)
    assert await store.claim(MessageKey("wechat", "u2", "m1"), 60)  # ids are per sender


async def test_a_repeat_gets_the_first_answer(store: Store) -> None:
    assert await store.claim(M1, 60)
    state = Conversation(flow="x")

    async def answer_later() -> None:
        await asyncio.sleep(0.1)
        await store.finish("c1", state, M1, '{"x": 1}', 60)

    task = asyncio.create_task(answer_later())
    assert not await store.claim(M1, 60)
    assert await store.wait_answer(M1, seconds=2) == '{"x": 1}'
    await task
    assert await store.load("c1") == state
    assert await store.wait_answer(MessageKey("wechat", "u1", "m9"), seconds=0.05) is None


async def test_lock_serialises_a_conversation(store: Store) -> None:
    inside = 0
    most = 0

    async def work() -> None:
        nonlocal inside, most
        async with store.locked("c1"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(work() for _ in range(10)))
    assert most == 1


async def test_other_conversations_are_not_blocked(store: Store) -> None:
    async with store.locked("c1"):
        await asyncio.wait_for(_take(store, "c2"), timeout=1)


async def _take(store: Store, conversation: str) -> None:
    async with store.locked(conversation):
        pass


async def test_ping(store: Store) -> None:
    assert await store.ping()


def test_conversation_ignores_unknown_fields() -> None:
    assert Conversation.from_json('{"flow": "x", "retired_field": 1}') == Conversation(flow="x")
