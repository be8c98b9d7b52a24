"""The deployment benchmarks/scaleout.py measures: its database (migrated, the demo data,
the WeChat and Telegram users, a leader) and N `yinling serve` + N `yinling worker`
processes with the WeChat and Telegram API doubles, on one Redis key prefix.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from deployment import free_port, listening, run_telegram_double, run_wechat_double

REPO = Path(__file__).resolve().parent.parent
SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
WECHAT_TOKEN = "bench-scaleout-token"  # noqa: S105 - a throwaway server's token
ADMIN_TOKEN = "bench-scaleout-admin"  # noqa: S105 - to read each serve process's /metrics
TELEGRAM_SECRET = "bench-scaleout-secret"  # noqa: S105
FIRST_CHAT = 700_000_000
TAGS = ("扩容群发甲", "扩容群发乙")  # one broadcast each
TELEGRAM_LIMIT = 30
# The beginnings of handlers/texts/common.py's BUSY, STORE_AWAY and RECEIVED_BEFORE: a
# message not handled (lock or Redis timed out) or acknowledged as a repeat.
NOT_ANSWERS = ("对不起，您上一条消息还在办理", "对不起，系统暂时忙不过来", "您这条消息我们已经收到")
TEXT = "扩容测试通知：本周五起，各社区工作站为八十岁以上老同志上门送慰问品（{n}）。"


def dsn(database: str | None = None) -> str:
    base = SERVER.replace("postgresql+asyncpg://", "postgresql://")
    return base if database is None else base.rpartition("/")[0] + "/" + database


def _url(database: str) -> str:
    return SERVER.rpartition("/")[0] + "/" + database


# --------------------------------------------------------------------------- the data
async def prepare(args: argparse.Namespace) -> tuple[str, int]:
    """A fresh database: migrated, the demo data, WeChat users ``bench-u<i>``, Telegram
    chats ``FIRST_CHAT + j`` tagged into two halves (with the first WeChat users), and a
    leader who sends the broadcasts. Returns its name and the leader's staff id."""
    from sqlalchemy import insert, select

    from storage.db import make_engine, make_sessions, upgrade
    from storage.demo import seed_demo, seed_roster
    from storage.models import (
        ChannelAccount,
        Person,
        PersonTag,
        Staff,
    )
    from storage.uow import UnitOfWork

    name = f"yinling_bench_scaleout_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    engine = make_engine(_url(name))
    now = datetime.now(UTC)
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            await seed_demo(uow, now)
            have = len(list(await uow.session.scalars(select(Person.id))))
            everyone = args.users + args.recipients + args.wechat_recipients
            await seed_roster(uow, max(0, everyone - have), now, start=have)
            ids = list(await uow.session.scalars(select(Person.id).order_by(Person.id)))
            leader = Staff(name="扩容测试领导", role="leader", active=True, created_at=now)
            uow.session.add(leader)
            accounts: list[dict[str, Any]] = []
            tags: list[dict[str, Any]] = []
            for i in range(args.users):
                accounts.append(_account("wechat", f"bench-u{i}", ids[i], now))
            for i in range(args.wechat_recipients):  # they write once before each broadcast
                person = ids[args.users + args.recipients + i]
                accounts.append(_account("wechat", f"bench-w{i}", person, now))
                tags.append({"person_id": person, "tag": TAGS[i % 2], "created_at": now})
            for j in range(args.recipients):
                person = ids[args.users + j]
                accounts.append(_account("telegram", str(FIRST_CHAT + j), person, now))
                tags.append({"person_id": person, "tag": TAGS[j % 2], "created_at": now})
            await uow.session.execute(insert(ChannelAccount), accounts)
            await uow.session.execute(insert(PersonTag), tags)
            await uow.session.flush()
            leader_id = leader.id
            await uow.commit()
    finally:
        await engine.dispose()
    return name, leader_id


def _account(channel: str, external_id: str, person_id: int, now: datetime) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_id": external_id,
        "role": "retiree",
        "person_id": person_id,
        "active": True,
        "created_at": now,
        "bound_at": now,
    }


async def drop(name: str) -> None:
    admin = await asyncpg.connect(dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass
class Deployment:
    """N serve + N worker processes and the two doubles, on one Redis prefix."""

    database: str
    count: int
    folder: Path
    answer_within: float | None = None
    prefix: str = field(default_factory=lambda: f"ylscale:{uuid.uuid4().hex[:8]}:")
    wechat_port: int = field(default_factory=free_port)
    telegram_port: int = field(default_factory=free_port)
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    doubles: list[Any] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        from tests.channels.botapi_double import TOKEN

        return {
            **os.environ,
            "YINLING_DATABASE_URL": _url(self.database),
            "YINLING_REDIS_URL": REDIS_URL,
            "YINLING_REDIS_PREFIX": self.prefix,
            "YINLING_ADMIN_LISTEN": "",
            "YINLING_ADMIN_TOKEN": ADMIN_TOKEN,
            "YINLING_LOG_LEVEL": "WARNING",
            "YINLING_LOG_FORMAT": "json",
            "YINLING_RECONCILE_SECONDS": "2",
            "YINLING_WECHAT__TOKEN": WECHAT_TOKEN,
            "YINLING_WECHAT__APP_ID": "wxbenchscaleout",
            "YINLING_WECHAT__APP_SECRET": "secret",
            "YINLING_WECHAT__API_BASE": f"http://127.0.0.1:{self.wechat_port}",
            "YINLING_TELEGRAM__TOKEN": TOKEN,
            "YINLING_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_SECRET,
            "YINLING_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
            "YINLING_TELEGRAM__API_BASE": f"http://127.0.0.1:{self.telegram_port}",
        }

    def _spawn(self, command: list[str], log: str) -> subprocess.Popen[bytes]:
        env = {**self.env(), "YINLING_SPOOL_DIR": str(self.folder / f"spool-{log}")}
        if self.answer_within is not None:
            env["YINLING_WECHAT__ANSWER_WITHIN"] = str(self.answer_within)
        out = (self.folder / f"{log}.log").open("ab")
        try:
            process = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "bot.cli", *command],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        finally:
            out.close()
        self.processes.append(process)
        return process

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for target, port in (
            (run_wechat_double, self.wechat_port),
            (run_telegram_double, self.telegram_port),
        ):
            double = context.Process(target=target, args=(port,), daemon=True)
            double.start()
            self.doubles.append(double)
        listening(self.wechat_port)
        listening(self.telegram_port)
        for k in range(self.count):
            self._spawn(["worker"], f"worker{k}")
        for k in range(self.count):
            port = free_port()
            self.ports.append(port)
            self._spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], f"serve{k}")
        for port in self.ports:
            self._ready(port)

    def _ready(self, port: int, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while True:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a yinling process exited ({process.returncode})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("yinling serve did not start")
            time.sleep(0.2)

    def broadcast(self, tag: str, staff: int, text: str) -> subprocess.Popen[bytes]:
        """``yinling broadcast`` as staff would run it: creates it and kicks the workers."""
        command = [sys.executable, "-m", "bot.cli", "broadcast", "--tag", tag,
                   "--staff", str(staff), "--text", text]  # fmt: skip
        env = {**self.env(), "YINLING_SPOOL_DIR": str(self.folder / "spool-cli")}
        return subprocess.Popen(  # noqa: S603 - our own command
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def duplicates_counted(self) -> int:
        """The serve processes' ``yinling_duplicate_messages`` counters, summed."""
        total = 0.0
        for port in self.ports:
            text = httpx.get(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                timeout=10,
            ).text
            for line in text.splitlines():
                if line.startswith("yinling_duplicate_messages_total{"):
                    total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def serve_cpu(self) -> float:
        """CPU seconds the serve processes have used so far (user + system)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes[self.count :]:  # the workers come first
            fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def first_telegram_send(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        url = f"http://127.0.0.1:{self.telegram_port}/stats?first=1"
        while not httpx.get(url, timeout=30).json()["delivered"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the broadcast did not start")
            time.sleep(0.05)

    def stats(self) -> tuple[dict[str, Any], dict[str, Any]]:
        wechat = httpx.get(f"http://127.0.0.1:{self.wechat_port}/stats", timeout=60).json()
        telegram = httpx.get(f"http://127.0.0.1:{self.telegram_port}/stats", timeout=60).json()
        return wechat, telegram

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for double in self.doubles:
            double.terminate()
            double.join(10)


def log_events(folder: Path) -> tuple[Counter[str], Counter[str]]:
    """Warnings and errors the processes logged, by event (JSON lines); and the late
    replies (a customer-service message after "success"), by message id."""
    found: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for log in folder.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            match = re.search(r'"event": ?"([^"]+)"', line)
            if match and match[1] == "wechat_reply_late":
                late[re.search(r'"message_id": ?"([^"]*)"', line)[1]] += 1  # type: ignore[index]
            level = re.search(r'"level": ?"([^"]+)"', line)
            if match and match[1] == "config_check":
                continue  # `yinling check` at start: the benchmark's settings, not the load
            if match and level and level[1] in {"warning", "error", "critical"}:
                found[f"{log.stem}:{match[1]}"] += 1
            elif "Traceback" in line:
                found[f"{log.stem}:traceback"] += 1
    return found, late
