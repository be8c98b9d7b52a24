"""CPU instructions per message through the pipeline, counted by callgrind: repeatable on a
noisy shared host, where CPU seconds swing by 40 % from one run to the next.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/yl.cg \\
        .venv/bin/python benchmarks/instructions.py [--users 20]

The same ten messages as benchmarks/pipeline.py (PostgreSQL + Redis, after a warm-up),
ten users at a time. Only the measured messages are counted: the script switches
callgrind's instrumentation on and off around them with ``callgrind_control``. Run
without valgrind it prints CPU seconds instead (noisy). About a minute under valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import uvloop  # noqa: E402
from pipeline import SCRIPT, _message, cleanup, prepare  # noqa: E402

from bot.logs import configure_logging  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402


def _callgrind(*args: str) -> str:
    """Ask the callgrind running this process (``callgrind_control``); its answer."""
    done = subprocess.run(  # noqa: S603 - a fixed command
        ["callgrind_control", *args, str(os.getpid())],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def _counted() -> int | None:
    """Instructions counted so far in all threads, or None when not under callgrind."""
    answer = _callgrind("-e")  # "Totals: Ir" then a line "Th 1  1,526,151" per thread
    threads = re.findall(r"^\s*Th \d+\s+([\d,]+)", answer, re.MULTILINE)
    return sum(int(t.replace(",", "")) for t in threads) if "Totals" in answer else None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    pipeline, name, store, engine = await prepare(args.users, EmbeddedEngine.load(), 5, 20)
    gate = asyncio.Semaphore(10)

    async def user(u: int) -> None:
        async with gate:
            for turn in range(len(SCRIPT)):
                await pipeline.handle(_message(u, turn))

    try:
        _callgrind("-i", "on")
        before = _counted()
        cpu = time.process_time()
        await asyncio.gather(*(user(u) for u in range(args.users)))
        cpu = time.process_time() - cpu
        after = _counted()
        _callgrind("-i", "off")
    finally:
        await cleanup(name, store, engine)
    n = args.users * len(SCRIPT)
    if before is not None and after is not None:
        print(f"{n} messages: {(after - before) / n / 1e6:.3f} M instructions a message")
    else:
        print(f"{n} messages: {cpu / n * 1000:.2f} ms of CPU a message (not under callgrind)")
    print(
        "reproduce: valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/yl.cg"
        f" {sys.executable} benchmarks/instructions.py --users {args.users}"
    )


if __name__ == "__main__":
    uvloop.run(main())
