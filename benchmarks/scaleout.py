"""Scale-out proof: 2 `yinling serve` + 2 `yinling worker` processes against 1 + 1, on
PostgreSQL + Redis, with WeChat pushes, WeChat's retries landing on the other process, and
a broadcast sent at the same time.

    .venv/bin/python benchmarks/scaleout.py [--rate 40] [--seconds 20] [--duplicates 0.1]
        [--users 500] [--recipients 600] [--wechat-recipients 20] [--concurrency 32]
        [--throughput-seconds 10] [--configs 1,2]

For each configuration (N serve + N worker processes; N = 1, then 2) on one database
(``yinling_bench_scaleout_<id>``: migrated, the demo data, ``--users`` retirees bound on
WeChat, ``--recipients`` more bound on Telegram) and a Redis key prefix of its own:

1. **throughput**: ``--concurrency`` pushes in flight for ``--throughput-seconds``,
   spread over the serve processes in turn (closed loop): answered pushes a second;
2. **the scenario**: signed WeChat text pushes at ``--rate``/s (open loop) for
   ``--seconds``, every one alternately to one serve process and the next; a share
   (``--duplicates``) is sent again, the same query and body as WeChat's retry, 0, 5 or
   50 ms later, to the OTHER serve process. At the same moment two broadcasts are started
   with ``yinling broadcast`` (a real CLI process each, through the Redis job queue), each
   to half of the Telegram recipients and ``--wechat-recipients`` / 2 WeChat ones, so the
   workers send on both channels while the serve processes answer pushes.

The load generator runs in a process of its own (benchmarks/loadgen.py: no Yinling
imports, its own event loop) and counts each push's latency from the moment it was due
(push i at start + i / rate), retries from theirs. The WeChat API double and the Telegram
Bot API double (tests/channels) each run in a process of their own; the Telegram double
enforces no limit here, so the busiest second is what the workers sent, not what a limit
let through.

Printed, per configuration: throughput; p50/p99/max from the due time; errors; pushes
handled twice: (a) inbound message-log rows per MsgId above one, (b) retries answered with
another reply than their original (a dialogue moved twice), (c) WeChat customer-service
messages to the pushing users other than the broadcast, (d) retries the serve processes
did not count as repeats (their ``yinling_duplicate_messages`` counters); access tokens
issued by the WeChat double (must be 1: one process fetched, every other used it) and how
many distinct tokens the sends carried; Telegram messages in the busiest 1-second window
over both workers (must be <= 30); the broadcast's duplicates; the command to reproduce.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/nlu.py hides no package

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from deployment import busiest_second, clean_redis  # noqa: E402
from loadgen import LoadProcess, PushPlan, PushResult, percentile, run_in_child  # noqa: E402
from scaleout_deployment import (  # noqa: E402
    NOT_ANSWERS,
    REDIS_URL,
    TAGS,
    TELEGRAM_LIMIT,
    TEXT,
    WECHAT_TOKEN,
    Deployment,
    drop,
    dsn,
    log_events,
    prepare,
)


# ----------------------------------------------------------------------------- a run
@dataclass
class Figures:
    """One configuration's results."""

    count: int
    throughput: float = 0.0
    closed: PushResult | None = None
    scenario: PushResult | None = None
    inbound_twice: int = 0
    handled: int = 0
    late_sends: int = 0  # customer-service replies (not the broadcast) from the scenario on
    late_replies: int = 0  # pushes answered "success", then by a customer-service message
    late_twice: int = 0  # pushes that went the late way more than once (original + retry)
    same_reply_twice: int = 0  # customer-service replies: one text to one user twice or more
    repeats_counted: int = 0
    tokens_issued: int = 0
    tokens_used: int = 0
    busiest: int = 0
    telegram_sent: int = 0
    telegram_expected: int = 0
    telegram_duplicates: int = 0
    wechat_broadcast: int = 0
    wechat_expected: int = 0
    overlap: float = 0.0  # share of the push window during which the broadcast was sending
    cpu_per_push: float = 0.0  # CPU seconds of the serve processes a push (closed loop)
    broadcast_seconds: float = 0.0
    log_events: Counter[str] = field(default_factory=Counter)


def _warm_up(ports: list[int], users: int, recipients: int, first_id: int) -> int:
    """A few pushes to every serve process, unmeasured: pools open, statements prepare;
    and the broadcast's WeChat recipients write (WeChat lets a service message reach a
    user only within 48 hours of the user's last message, a few times each)."""
    plan = PushPlan("closed", ports, WECHAT_TOKEN, users, first_id, seconds=3, concurrency=4)
    first_id = run_in_child(plan).last_id + 1
    if recipients:
        plan = PushPlan("closed", ports, WECHAT_TOKEN, recipients, first_id, seconds=2,
                        concurrency=1, openid_prefix="bench-w", in_turn=True)  # fmt: skip
        first_id = run_in_child(plan).last_id + 1
    return first_id


async def _handled(database: str, first: int, last: int) -> tuple[int, int]:
    """(distinct pushes in the message log, pushes with more than one inbound row) among
    the MsgIds ``first``..``last``."""
    conn = await asyncpg.connect(dsn(database))
    try:
        rows = await conn.fetch(
            "SELECT message_id, count(*) AS n FROM message_log WHERE direction = 'in' "
            "AND channel = 'wechat' AND message_id ~ '^msg:[0-9]+$' GROUP BY message_id"
        )
    finally:
        await conn.close()
    ours = [r for r in rows if first <= int(r["message_id"][4:]) <= last]
    return len(ours), sum(r["n"] > 1 for r in ours)


async def run_config(
    args: argparse.Namespace, database: str, leader: int, count: int, id_base: int
) -> Figures:
    figures = Figures(count)
    folder = Path(tempfile.mkdtemp(prefix=f"ylscale-{count}-"))
    deployment = Deployment(database, count, folder, args.answer_within)
    try:
        deployment.start()
        next_id = _warm_up(deployment.ports, args.users, args.wechat_recipients, id_base)
        # 1. throughput, closed loop
        cpu = deployment.serve_cpu()
        closed = run_in_child(
            PushPlan("closed", deployment.ports, WECHAT_TOKEN, args.users, next_id,
                     seconds=args.throughput_seconds, concurrency=args.concurrency)
        )  # fmt: skip
        figures.closed = closed
        figures.cpu_per_push = (deployment.serve_cpu() - cpu) / max(1, len(closed.latencies))
        figures.throughput = len(closed.latencies) / (closed.ended - closed.started)
        next_id = closed.last_id + 1
        # 2. the scenario: pushes with retries on the other process, and a broadcast
        first_id = next_id
        load = LoadProcess(
            PushPlan("open", deployment.ports, WECHAT_TOKEN, args.users, first_id,
                     seconds=args.seconds, rate=args.rate, duplicates=args.duplicates,
                     not_answers=NOT_ANSWERS)
        )  # fmt: skip
        load.start()
        clis = [
            deployment.broadcast(tag, leader, TEXT.format(n=f"{count}-{k}"))
            for k, tag in enumerate(TAGS)
        ]
        # The pushes start with the broadcast's first message: a CLI takes seconds to start.
        await asyncio.to_thread(deployment.first_telegram_send, 180)
        sends_before = len(deployment.stats()[0]["sends"])  # the late replies of the above
        load.go()
        scenario = await asyncio.to_thread(load.result)
        figures.scenario = scenario
        ids: list[int] = []
        for cli in clis:
            out = (await asyncio.to_thread(cli.communicate, None, 120))[0].decode()
            found = re.search(r"broadcast (\d+): (\d+) recipients", out)
            if cli.returncode != 0 or found is None:
                raise RuntimeError(f"yinling broadcast failed: {out}")
            ids.append(int(found[1]))
        figures.telegram_expected = args.recipients
        figures.wechat_expected = args.wechat_recipients
        await _until_broadcast_done(database, ids, args.broadcast_timeout)
        handled, twice = await _handled(database, first_id, scenario.last_id)
        figures.handled, figures.inbound_twice = handled, twice
        figures.repeats_counted = deployment.duplicates_counted()
        wechat, telegram = deployment.stats()
        _fill_from_doubles(figures, wechat, telegram, scenario, sends_before)
    finally:
        deployment.stop()
        await clean_redis(REDIS_URL, deployment.prefix)
    figures.log_events, late = log_events(folder)
    figures.late_replies = sum(late.values())
    figures.late_twice = sum(n > 1 for n in late.values())
    if args.keep_logs:
        print(f"  logs of {count}+{count}: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


async def _until_broadcast_done(database: str, ids: list[int], seconds: float) -> None:
    conn = await asyncpg.connect(dsn(database))
    deadline = time.monotonic() + seconds
    try:
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM broadcasts WHERE id = ANY($1::int[]) AND status = 'done'",
                ids,
            )
            if done == len(ids):
                return
            if time.monotonic() > deadline:
                print(f"  ! the broadcasts were not done after {seconds:.0f} s", flush=True)
                return
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def _fill_from_doubles(
    figures: Figures,
    wechat: dict[str, Any],
    telegram: dict[str, Any],
    scenario: PushResult,
    sends_before: int,
) -> None:
    figures.tokens_issued = int(wechat["token_requests"])
    sends = wechat["sends"]
    figures.tokens_used = len({token for _, token, _ in sends})
    marker = "扩容测试通知"
    figures.wechat_broadcast = sum(marker in (text or "") for _, _, text in sends)
    replies = Counter(
        (user, text) for user, _, text in sends[sends_before:] if marker not in (text or "")
    )
    figures.late_sends = sum(replies.values())
    figures.same_reply_twice = sum(n > 1 for n in replies.values())
    delivered = [(float(at), int(chat), str(text)) for at, chat, text in telegram["delivered"]]
    times = sorted(at for at, _, _ in delivered)
    figures.busiest = busiest_second(times)
    ours = [(at, chat) for at, chat, text in delivered if marker in text]
    figures.telegram_sent = len(ours)
    figures.telegram_duplicates = len(ours) - len({chat for _, chat in ours})
    if ours:
        first, last = min(at for at, _ in ours), max(at for at, _ in ours)
        covered = min(last, scenario.ended) - max(first, scenario.started)
        figures.overlap = max(0.0, covered) / (scenario.ended - scenario.started)
        figures.broadcast_seconds = last - first


# ----------------------------------------------------------------------------- report
def report(args: argparse.Namespace, results: list[Figures]) -> int:
    print(
        "Scale-out: N `yinling serve` + N `yinling worker` processes, PostgreSQL + Redis, "
        "WeChat and Telegram API doubles; load generator in its own process"
    )
    print(
        f"  scenario: {args.rate:.0f} pushes/s for {args.seconds:.0f} s, {args.duplicates:.0%} "
        f"retried on the other serve process; two broadcasts at the same time to "
        f"{args.recipients} Telegram + {args.wechat_recipients} WeChat recipients"
    )
    checks: dict[str, bool] = {}
    base = results[0].throughput if results else 0.0
    for f in results:
        s, c = f.scenario, f.closed
        assert s is not None
        assert c is not None
        ms = [x * 1000 for x in s.latencies]
        retry_ms = [x * 1000 for x in s.retry_latencies]
        n = f"{f.count}+{f.count}"
        print(f"\n{n} processes")
        ratio = f" ({f.throughput / base:.2f}x 1+1)" if base and f is not results[0] else ""
        print(
            f"  throughput (closed loop, {args.concurrency} in flight): {f.throughput:.0f} "
            f"pushes/s{ratio}; p50 {percentile(c.latencies, 0.5) * 1000:.0f} ms; serve CPU "
            f"{f.cpu_per_push * 1000:.2f} ms a push; "
            f"errors {sum(c.errors.values())}"
        )
        elapsed = s.ended - s.started
        print(
            f"  scenario: {s.sent} requests ({s.originals} pushes + {s.retries} retries) in "
            f"{elapsed:.1f} s; answered per serve process {sorted(s.per_port.values())}"
        )
        print(
            f"  latency from the due time: p50 {percentile(ms, 0.5):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=float('nan')):.1f} ms; "
            f"retries p50 {percentile(retry_ms, 0.5):.1f} ms, p99 {percentile(retry_ms, 0.99):.1f} ms"
        )
        print(f"  errors {sum(s.errors.values())}{' ' + str(dict(s.errors)) if s.errors else ''}")
        print(
            f"  handled twice: inbound log rows > 1 per MsgId {f.inbound_twice} (of "
            f"{f.handled} pushes logged); retries answered differently {s.mismatched}; "
            f"the same reply sent twice as a customer-service message {f.same_reply_twice} "
            f"(pushes gone the late way twice: {f.late_twice}); repeats counted by the serve "
            f"processes {f.repeats_counted} (retries sent {s.retries})"
        )
        print(
            f"  past WeChat's 5 s: {s.deferred} answers 'success', {f.late_replies} pushes "
            f"answered later ({f.late_sends} customer-service messages)"
        )
        if s.not_answered:
            print(
                f"  retries or originals answered 'not handled' (busy / Redis away): {s.not_answered}"
            )
        if s.examples:
            print(f"  retries answered differently, e.g. {s.examples[:3]}")
        print(
            f"  WeChat access tokens issued {f.tokens_issued}; distinct tokens on the "
            f"{f.wechat_broadcast} customer-service sends {f.tokens_used}"
        )
        print(
            f"  Telegram: {f.telegram_sent} of {f.telegram_expected} broadcast messages "
            f"(+ {f.wechat_broadcast} of {f.wechat_expected} on WeChat), duplicates "
            f"{f.telegram_duplicates}, sent over {f.broadcast_seconds:.1f} s, during {f.overlap:.0%} "
            f"of the pushes; busiest second {f.busiest} (both workers)"
        )
        if f.log_events:
            print(f"  logged warnings/errors: {dict(f.log_events.most_common(8))}")
        checks[f"{n}: 0 errors, 0 answered late"] = (
            not s.errors and not c.errors and not s.deferred and not c.deferred
        )
        checks[f"{n}: 0 handled twice"] = (
            f.inbound_twice == 0 and s.mismatched == 0 and f.same_reply_twice == 0
        )
        checks[f"{n}: every retry recognised as a repeat"] = f.repeats_counted >= s.retries
        checks[f"{n}: 1 token owner"] = f.tokens_issued == 1 and f.tokens_used <= 1
        checks[f"{n}: never > {TELEGRAM_LIMIT} Telegram sends in a second"] = (
            f.busiest <= TELEGRAM_LIMIT
        )
        checks[f"{n}: the broadcast complete, no duplicates"] = (
            f.telegram_sent == f.telegram_expected
            and f.wechat_broadcast == f.wechat_expected
            and f.telegram_duplicates == 0
        )
    print()
    for label, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {label}")
    print(f"reproduce: .venv/bin/python benchmarks/scaleout.py {' '.join(sys.argv[1:])}".rstrip())
    return 0 if all(checks.values()) else 1


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="pushes per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of pushes (open loop)")
    parser.add_argument("--duplicates", type=float, default=0.1, help="share retried")
    parser.add_argument("--users", type=int, default=500, help="WeChat users pushing")
    parser.add_argument("--recipients", type=int, default=600, help="Telegram recipients")
    parser.add_argument(
        "--wechat-recipients", type=int, default=20, help="WeChat users in the broadcast"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="in flight (throughput)")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--configs", default="1,2", help="N serve + N worker, in turn")
    parser.add_argument("--broadcast-timeout", type=float, default=180.0)
    parser.add_argument(
        "--answer-within",
        type=float,
        help="YINLING_WECHAT__ANSWER_WITHIN for the serve processes (default: theirs, 4 s); "
        "small: every reply goes the late way (customer-service message)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()

    database, leader = await prepare(args)
    results: list[Figures] = []
    failed = False
    try:
        for k, count in enumerate(int(c) for c in args.configs.split(",")):
            print(f"… {count}+{count} processes", flush=True)
            try:
                figures = await run_config(args, database, leader, count, 10**15 + k * 10**9)
            except Exception as e:  # report what was measured before it
                print(f"  ! {count}+{count} failed: {type(e).__name__}: {e}", flush=True)
                failed = True
                continue
            results.append(figures)
    finally:
        await drop(database)
    return report(args, results) or int(failed)


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
