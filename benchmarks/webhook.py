"""Benchmark of the WeChat endpoint: signed pushes over loopback HTTP to `yinling serve`.

    .venv/bin/python benchmarks/webhook.py [--rate 200] [--seconds 30] [--duplicates 0.1]

One server process (uvicorn, one worker) on PostgreSQL + Redis, as deployed. 500 bound
users send text pushes at a fixed rate (open loop, as WeChat does); a share of them is sent
a second time a moment later, as WeChat's retries are. Prints p50/p99/max response time,
errors, and how many pushes were handled twice (must be 0: every MsgId once in the log).

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402

from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.demo import seed_demo, seed_roster  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "bench-token"  # noqa: S105 - a throwaway server's token
KINDS: Counter[str] = Counter()  # what the errors were
STALE_SECONDS = 4.0  # uvicorn closes a connection idle for 5 s
CONTENT = re.compile(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", re.S)
SCRIPT = ["你好", "6", "离休费今年涨了多少", "谢谢你", "在吗", "7", "护理费是什么标准", "再见"]
PUSH = (
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
    "<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{time}</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
    "<MsgId>{msg_id}</MsgId></xml>"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _dsn(database: str | None = None) -> str:
    base = SERVER.replace("postgresql+asyncpg://", "postgresql://")
    return base if database is None else base.rpartition("/")[0] + "/" + database


async def prepare(users: int) -> str:
    """A fresh database with the demo data and ``users`` retirees bound to WeChat openids."""
    name = f"yinling_webhook_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = SERVER.rpartition("/")[0] + "/" + name
    engine = make_engine(url)
    await upgrade(engine)
    now = datetime.now(UTC)
    async with UnitOfWork(make_sessions(engine)) as uow:
        await seed_demo(uow, now)
        people = await uow.people.all_ids()
        more = await seed_roster(uow, max(0, users - len(people)), now, start=len(people))
        for i, person in enumerate([*people, *more][:users]):
            await uow.accounts.bind("wechat", f"bench-u{i}", person, now)
        await uow.commit()
    await engine.dispose()
    return name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database: str, port: int, prefix: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "YINLING_DATABASE_URL": SERVER.rpartition("/")[0] + "/" + database,
        "YINLING_REDIS_URL": REDIS_URL,
        "YINLING_REDIS_PREFIX": prefix,
        "YINLING_WECHAT__TOKEN": TOKEN,
        "YINLING_LOG_LEVEL": "WARNING",
        "YINLING_ADMIN_LISTEN": "",
    }
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=REPO, env=env)  # noqa: S603 - our own command


class LoadClient:
    """A lean HTTP/1.1 client over keep-alive connections, as a load generator must be:
    on two cores, httpx (and parsing every answer as XML) cost more CPU than the server
    under test and became the bottleneck. A request waits for a free connection or opens
    a new one (up to ``limit``); its time is counted from the moment it is due."""

    def __init__(self, port: int, limit: int = 256) -> None:
        self.port = port
        self.limit = limit
        self.opened = 0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.last_used: dict[int, float] = {}  # id(writer) -> when it was last given back
        self.freed = asyncio.Condition()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.opened >= self.limit:
                await self.freed.wait()
            while self.idle:
                conn = self.idle.pop()  # the most recently used: the others may go stale
                if time.monotonic() - self.last_used.pop(id(conn[1]), 0.0) < STALE_SECONDS:
                    return conn
                conn[1].close()  # uvicorn would close it (keep-alive timeout): we do first
                self.opened -= 1
            self.opened += 1
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def _release(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None
    ) -> None:
        async with self.freed:
            if conn is None:
                self.opened -= 1
            else:
                self.last_used[id(conn[1])] = time.monotonic()
                self.idle.append(conn)
            self.freed.notify()

    async def post(self, path: str, body: bytes) -> tuple[int, str]:
        """(status, body) of one POST; a kept-alive connection the server has closed
        meanwhile (uvicorn closes idle ones after 5 s) is replaced, once."""
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                answer = await self._exchange(conn, path, body)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn[1].close()
                await self._release(None)
                raise
            if answer is None:  # closed by the server before this request
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
        for _, writer in self.idle:
            writer.close()


def signed_path() -> str:
    """/wechat with a fresh signature, as WeChat sends it."""
    return "/wechat?" + urlencode(signed_query())


def signed_query() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


async def wait_ready(port: int) -> None:
    for _ in range(600):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        client = LoadClient(port, limit=1)
        body = PUSH.format(user="warm", time=0, text="你好", msg_id=uuid.uuid4().int % 10**12)
        try:  # the server is ready when the endpoint answers a push
            status, _ = await client.post(signed_path(), body.encode())
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await asyncio.sleep(0.1)
            continue
        finally:
            await client.close()
        if status == 200:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def run(
    client: LoadClient, rate: float, seconds: float, duplicates: float, users: int
) -> tuple[list[float], int, int, int]:
    """Send pushes at ``rate``/s; returns latencies, errors, pushes, mismatched repeats."""
    latencies: list[float] = []
    errors = 0
    mismatched = 0
    answers: dict[str, str] = {}
    tasks: list[asyncio.Task[None]] = []
    rng = random.Random(7)

    async def push(body: str, msg_id: str, repeat: bool, due: float) -> None:
        nonlocal errors, mismatched
        try:
            status, text = await client.post(signed_path(), body.encode())
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            errors += 1
            KINDS[type(e).__name__] += 1
            return
        latencies.append(time.perf_counter() - due)
        found = CONTENT.search(text)
        if status != 200 or not text.startswith("<xml>") or found is None:
            errors += 1
            KINDS[f"HTTP {status}: {text[:40]!r}"] += 1
            return
        content = found[1]
        if repeat and msg_id in answers and answers[msg_id] != content:
            mismatched += 1
        answers.setdefault(msg_id, content)

    start = time.perf_counter()
    total = int(rate * seconds)
    turns = [0] * users
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user = rng.randrange(users)
        text = SCRIPT[turns[user] % len(SCRIPT)]
        turns[user] += 1
        msg_id = str(10**15 + n)
        body = PUSH.format(user=f"bench-u{user}", time=int(time.time()), text=text, msg_id=msg_id)
        tasks.append(asyncio.create_task(push(body, msg_id, False, due)))
        if rng.random() < duplicates:  # WeChat's retry, arriving while or after we answer

            async def retry(body: str = body, msg_id: str = msg_id) -> None:
                await asyncio.sleep(rng.choice([0.0, 0.005, 0.05]))
                await push(body, msg_id, True, time.perf_counter())

            tasks.append(asyncio.create_task(retry()))
    await asyncio.gather(*tasks)
    return latencies, errors, len(tasks), mismatched


async def double_handled(database: str) -> tuple[int, int]:
    """(distinct pushes handled, pushes handled more than once) from the message log."""
    conn = await asyncpg.connect(_dsn(database))
    try:
        handled = await conn.fetchval(
            "SELECT count(DISTINCT message_id) FROM message_log WHERE direction = 'in'"
        )
        doubled = await conn.fetchval(
            "SELECT count(*) FROM (SELECT message_id FROM message_log WHERE direction = 'in' "
            "GROUP BY message_id HAVING count(*) > 1) AS d"
        )
    finally:
        await conn.close()
    return int(handled), int(doubled)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="pushes per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share sent twice")
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()

    database = await prepare(args.users)
    port = _free_port()
    prefix = f"ylbench:{uuid.uuid4().hex[:8]}:"
    server = start_server(database, port, prefix)
    try:
        await wait_ready(port)
        client = LoadClient(port)
        for _ in range(20):  # warm up the server's pools
            body = PUSH.format(user="warm", time=0, text="你好", msg_id=uuid.uuid4().int % 10**12)
            await client.post(signed_path(), body.encode())
        began = time.perf_counter()
        latencies, errors, sent, mismatched = await run(
            client, args.rate, args.seconds, args.duplicates, args.users
        )
        elapsed = time.perf_counter() - began
        await client.close()
        handled, doubled = await double_handled(database)
    finally:
        server.terminate()
        server.wait(30)
        admin = await asyncpg.connect(_dsn())
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()

    ms = [x * 1000 for x in latencies]
    print(
        f"WeChat pushes over loopback: {sent} requests in {elapsed:.1f} s ({sent / elapsed:.0f}/s)"
    )
    print(f"  target rate {args.rate:.0f}/s, {args.duplicates:.0%} sent twice, {args.users} users")
    print(
        f"  response time p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )
    print(f"  errors {errors}{' ' + str(dict(KINDS)) if KINDS else ''}; "
          f"repeats answered differently {mismatched}")  # fmt: skip
    print(f"  distinct pushes handled {handled} (warm-up included), handled twice {doubled}")
    print("  reproduce: .venv/bin/python benchmarks/webhook.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    uvloop.run(main())
