"""A load generator in a process of its own, for the benchmarks that drive real servers.

A benchmark that generates its load on the event loop it measures times its own queueing
as well as the server's, and on two cores it takes CPU from the server. Here the load runs
in a child process (``multiprocessing``, spawn) with its own uvloop; it imports nothing of
Yinling, so it costs only the bytes it sends. Latency is counted from the moment each
request was *due* (open loop: request i is due at ``start + i / rate``), not from when it
was sent: a server that falls behind makes the waiting ones later, as users feel it.

Used by benchmarks/scaleout.py (signed WeChat pushes to one or more ``yinling serve``
ports, retries sent to another port than the original). The HTTP client is the lean one of
benchmarks/webhook.py: httpx and XML parsing cost more CPU than the server under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlencode

__all__ = ["LoadClient", "PushPlan", "percentile", "run_in_child", "signed_push"]

STALE_SECONDS = 4.0  # uvicorn closes a connection idle for 5 s
CONTENT = re.compile(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", re.S)
SCRIPT = ["你好", "6", "离休费今年涨了多少", "谢谢你", "在吗", "7", "护理费是什么标准", "再见"]
PUSH = (
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
    "<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{time}</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
    "<MsgId>{msg_id}</MsgId></xml>"
)
RETRY_DELAYS = (0.0, 0.005, 0.05)  # a retry arrives while or just after the first is answered


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def signed_push(token: str, openid: str, text: str, msg_id: int) -> tuple[str, bytes]:
    """(path with query, body) of a plain-mode WeChat text push, signed as WeChat does. The
    nonce is one per message (its retry shares it, as WeChat's do), so two messages of one
    second are not taken for a replayed signature."""
    timestamp = str(int(time.time()))
    nonce = str(int(hashlib.sha1(f"{openid}:{msg_id}".encode()).hexdigest(), 16))[-9:]  # noqa: S324
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme
    query = urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
    body = PUSH.format(user=openid, time=timestamp, text=text, msg_id=msg_id)
    return "/wechat?" + query, body.encode()


class LoadClient:
    """HTTP/1.1 POSTs over keep-alive connections to one port (at most ``limit`` open)."""

    def __init__(self, port: int, limit: int = 256) -> None:
        self.port = port
        self.limit = limit
        self.opened = 0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.freed = asyncio.Condition()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.opened >= self.limit:
                await self.freed.wait()
            while self.idle:
                reader, writer, used = self.idle.pop()  # the most recent: others may be stale
                if time.monotonic() - used < STALE_SECONDS:
                    return reader, writer
                writer.close()  # uvicorn would close it (keep-alive timeout): we do first
                self.opened -= 1
            self.opened += 1
        try:
            return await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            await self._release(None)
            raise

    async def _release(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None
    ) -> None:
        async with self.freed:
            if conn is None:
                self.opened -= 1
            else:
                self.idle.append((conn[0], conn[1], time.monotonic()))
            self.freed.notify()

    async def post(self, path: str, body: bytes) -> tuple[int, str]:
        """(status, body) of one POST; a kept-alive connection the server closed meanwhile
        is replaced, once."""
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                answer = await self._exchange(conn, path, body)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn[1].close()
                await self._release(None)
                raise
            if answer is None:
                conn[1].close()
                await self._release(None)
                if attempt == 1:
                    continue
                raise ConnectionResetError("the server closed the connection")
            await self._release(conn)
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str, body: bytes
    ) -> tuple[int, str] | None:
        reader, writer = conn
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        status_line = await reader.readline()
        if not status_line:
            return None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        return int(status_line.split()[1]), answer.decode()

    async def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


@dataclass
class PushPlan:
    """What the load process sends. ``kind``: "open" (``rate``/s for ``seconds``, a share
    ``duplicates`` of them sent again to the next port) or "closed" (``concurrency``
    pushes in flight for ``seconds``, no duplicates). Message ids are ``first_id + n``."""

    kind: str
    ports: list[int]
    token: str
    users: int
    first_id: int
    seconds: float
    rate: float = 100.0
    duplicates: float = 0.1
    concurrency: int = 32
    seed: int = 7
    openid_prefix: str = "bench-u"  # user i is ``<prefix><i>``
    in_turn: bool = False  # closed loop: users in turn (every one writes), not at random
    # Answers that say "not handled" / "received before" rather than answer: a retry (or
    # its original) answered so differs from the other without being handled twice.
    not_answers: tuple[str, ...] = ()


@dataclass
class PushResult:
    """What the load process saw; times are ``time.monotonic()`` (one clock for every
    process on Linux, so they line up with the doubles' records)."""

    started: float = 0.0
    ended: float = 0.0
    sent: int = 0  # requests, retries included
    originals: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)  # s from due, every answered request
    retry_latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    mismatched: int = 0  # retries answered with another text than the original
    deferred: int = 0  # answered "success": the reply follows as a customer-service message
    examples: list[tuple[str, str]] = field(default_factory=list)  # mismatched (first 5)
    not_answered: int = 0  # retry pairs where one side was a "not handled" answer
    per_port: Counter[int] = field(default_factory=Counter)
    last_id: int = 0


async def _push(
    clients: dict[int, LoadClient],
    port: int,
    path: str,
    body: bytes,
    *,
    due: float,
    result: PushResult,
) -> str | None:
    """One push; its reply text (None on an error). Latency counted from ``due``."""
    try:
        status, text = await clients[port].post(path, body)
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        result.errors[type(e).__name__] += 1
        return None
    result.latencies.append(time.perf_counter() - due)
    result.per_port[port] += 1
    if status == 200 and text == "success":  # past WeChat's deadline: answered later
        result.deferred += 1
        return None
    found = CONTENT.search(text)
    if status != 200 or found is None:
        result.errors[f"HTTP {status}: {text[:40]!r}"] += 1
        return None
    return found[1]


async def _open_loop(plan: PushPlan, result: PushResult) -> None:
    clients = {port: LoadClient(port) for port in plan.ports}
    rng = random.Random(plan.seed)
    turns = [0] * plan.users
    tasks: list[asyncio.Task[Any]] = []

    async def original_and_retry(n: int, due: float, retry_delay: float | None) -> None:
        user = rng.randrange(plan.users)
        text = SCRIPT[turns[user] % len(SCRIPT)]
        turns[user] += 1
        msg_id = plan.first_id + n
        path, body = signed_push(plan.token, f"{plan.openid_prefix}{user}", text, msg_id)
        port = plan.ports[n % len(plan.ports)]
        first = asyncio.create_task(_push(clients, port, path, body, due=due, result=result))
        if retry_delay is None:
            await first
            return
        # WeChat's retry of the same push (same query, same body), to ANOTHER process.
        other = plan.ports[(n + 1) % len(plan.ports)]
        retry_due = due + retry_delay
        await asyncio.sleep(max(0.0, retry_due - time.perf_counter()))
        mark = len(result.latencies)
        again = await _push(clients, other, path, body, due=retry_due, result=result)
        if len(result.latencies) > mark:
            result.retry_latencies.append(result.latencies[-1])
        original = await first
        if again is not None and original is not None and again != original:
            if again.startswith(plan.not_answers) or original.startswith(plan.not_answers):
                result.not_answered += 1
                return
            result.mismatched += 1
            if len(result.examples) < 5:
                result.examples.append((original[:60], again[:60]))

    total = int(plan.rate * plan.seconds)
    result.started = time.monotonic()
    start = time.perf_counter()
    for n in range(total):
        due = start + n / plan.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        retry = rng.choice(RETRY_DELAYS) if rng.random() < plan.duplicates else None
        result.originals += 1
        result.retries += retry is not None
        tasks.append(asyncio.create_task(original_and_retry(n, due, retry)))
    await asyncio.gather(*tasks)
    result.ended = time.monotonic()
    result.sent = result.originals + result.retries
    result.last_id = plan.first_id + total - 1
    for client in clients.values():
        await client.close()


async def _closed_loop(plan: PushPlan, result: PushResult) -> None:
    clients = {port: LoadClient(port) for port in plan.ports}
    rng = random.Random(plan.seed)
    turns = [0] * plan.users
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + plan.seconds

    async def sender() -> None:
        while time.perf_counter() < stop_at:
            n = next(counter)
            user = n % plan.users if plan.in_turn else rng.randrange(plan.users)
            text = SCRIPT[turns[user] % len(SCRIPT)]
            turns[user] += 1
            path, body = signed_push(
                plan.token, f"{plan.openid_prefix}{user}", text, plan.first_id + n
            )
            port = plan.ports[n % len(plan.ports)]
            await _push(clients, port, path, body, due=time.perf_counter(), result=result)
            result.originals += 1

    result.started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(plan.concurrency)))
    result.ended = time.monotonic()
    result.sent = result.originals
    result.last_id = plan.first_id + next(counter) - 1
    for client in clients.values():
        await client.close()


def _child(plan: PushPlan, conn: Connection) -> None:
    import uvloop

    result = PushResult()
    conn.send("ready")
    conn.recv()  # go
    uvloop.run(_open_loop(plan, result) if plan.kind == "open" else _closed_loop(plan, result))
    conn.send(result)
    conn.close()


class LoadProcess:
    """The load generator's process: ``start()`` returns once it is up (imports done);
    ``go()`` starts the clock; ``result()`` waits for what it saw."""

    def __init__(self, plan: PushPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_child, args=(plan, child), daemon=True)

    def start(self) -> None:
        self.process.start()
        if self.conn.recv() != "ready":
            raise RuntimeError("the load process did not start")

    def go(self) -> None:
        self.conn.send("go")

    def result(self) -> PushResult:
        found: PushResult = self.conn.recv()
        self.process.join(30)
        return found


def run_in_child(plan: PushPlan) -> PushResult:
    """Run one plan in a load process of its own and wait for its result."""
    load = LoadProcess(plan)
    load.start()
    load.go()
    return load.result()
