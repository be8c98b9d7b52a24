"""``yinling chat | simulate | serve | worker | check``: running the service (or its demo)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.commands.common import now_arg, run_async
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling chat``, ``simulate``, ``worker``, ``check`` and ``serve``."""
    for name, text in (
        ("chat", "chat in the terminal as a demo retiree (fresh demo database)"),
        ("simulate", 'JSON lines {"user","text"} on stdin -> one JSON result line each'),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--db", help="database URL (default: a fresh temporary SQLite with demo data)"
        )
        p.add_argument("--now", type=now_arg, help="fix the clock (ISO-8601 with zone)")

    sub.add_parser("worker", help="run background jobs (paging, notices) and the reconciler")
    sub.add_parser(
        "check",
        help="check the settings before going live: hotline, duty roster, channels (exit 1 "
        "when something would let an emergency page nobody)",
    )
    serve = sub.add_parser("serve", help="run the ASGI app (webhooks, /healthz, /metrics)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all
    serve.add_argument("--port", type=int, default=8000)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of them; the exit status."""
    if args.command in {"chat", "simulate"}:
        from bot.runtime import temporary_database_url  # noqa: PLC0415

        url = args.db or temporary_database_url()
        try:
            run_async(_console(args, settings, url))
        finally:
            if not args.db:
                Path(url.split("///", 1)[1]).unlink(missing_ok=True)
    elif args.command == "serve":
        from bot.serve import serve  # noqa: PLC0415

        try:
            run_async(serve(settings, args.host, args.port))
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    elif args.command == "worker":
        from bot.worker import run_worker  # noqa: PLC0415

        try:
            run_async(run_worker(settings))
        except KeyboardInterrupt:
            return 0
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    else:
        return int(run_async(_check(settings)))
    return 0


def _clock(fixed: datetime | None) -> Callable[[], datetime]:
    return (lambda: fixed) if fixed else (lambda: datetime.now(UTC))


async def _console(args: argparse.Namespace, settings: Settings, url: str) -> None:
    from bot.channels.console import run_chat, run_simulation  # noqa: PLC0415
    from bot.runtime import open_runtime  # noqa: PLC0415
    from bot.worker import jobs_in_app  # noqa: PLC0415
    from nlu.engine import EmbeddedEngine  # noqa: PLC0415

    clock = _clock(args.now)
    if args.command == "chat" and not EmbeddedEngine.cached(cache_dir=settings.nlu_cache):
        print("第一次启动：正在训练意图模型，约需十几秒……", flush=True)
    runtime = await open_runtime(settings, database_url=url, demo=True, now=clock())
    try:
        if args.command == "chat":
            async with jobs_in_app(runtime):
                await run_chat(runtime, clock)
        else:
            outbox: list[Any] = []
            async with jobs_in_app(runtime, console=outbox) as jobs:
                jobs.clock = clock  # the simulated time (--now), for codes and pages
                await run_simulation(
                    runtime, clock, sys.stdin, sys.stdout, jobs=jobs, outbox=outbox
                )
    finally:
        await runtime.close()


async def _check(settings: Settings) -> int:
    from bot.check import check_settings  # noqa: PLC0415
    from storage.db import make_sessions  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        found = await check_settings(settings, make_sessions(engine), datetime.now(UTC))
    finally:
        await engine.dispose()
    for finding in found:
        print(f"{finding.level.upper():8}{finding.text}")
    errors = sum(f.level == "error" for f in found)
    print(f"{errors} errors, {len(found) - errors} warnings" if found else "all good")
    return 1 if errors else 0
