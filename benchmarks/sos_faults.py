"""One-key help under faults: no emergency lost, none written twice.

    .venv/bin/python benchmarks/sos_faults.py [--rounds 10]

Everything is private and real: a PostgreSQL cluster in a temporary folder (restarted), a
redis-server (stopped), `yinling serve` and `yinling worker` processes (killed and
terminated), and the Telegram Bot API double where the duty officer is paged. Each round
injects one fault of each of five kinds, each with an emergency from a new sender:

  serve-killed   the SOS write is stalled (the alerts table locked), `yinling serve` is
                 killed with SIGKILL 0.3-4 s in, the lock goes, the app restarts and
                 WeChat's retry of the same push arrives;
  redis-stopped  Redis is down when the WeChat push arrives (answered? in under 5 s?);
  pg-restarted   PostgreSQL restarts (fast shutdown) while the WeChat push arrives;
  worker-killed  the page is on its way (held in the network) when the worker is killed;
                 a new worker starts;
  terminated     a Telegram update, its SOS write stalled, when `yinling serve` is told to
                 stop (SIGTERM, as a deploy); Telegram never sends it again.

Then it waits for every emergency to be written and paged, and prints faults injected,
SOS written, SOS paged, lost (must be 0) and duplicated (must be 0), per kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/nlu.py hides no package

import httpx  # noqa: E402
import uvloop  # noqa: E402
from sos_faults_inject import FAULTS, HoldingDouble, Injected, Rig, _seed  # noqa: E402
from sqlalchemy import select  # noqa: E402

from storage.db import make_engine, make_sessions  # noqa: E402
from storage.models import Alert, AlertStep, MessageRecord, ServiceRequest  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.channels.botapi_double import serve  # noqa: E402
from tests.processes import YinlingProcess  # noqa: E402

KINDS = ("serve-killed", "redis-stopped", "pg-restarted", "worker-killed", "terminated")


async def _outcome(url: str, injected: list[Injected], wait: float) -> dict[str, tuple[int, int]]:
    """Per sender: (alerts written, alerts paged), waiting up to ``wait`` s for them."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    senders = {i.sender for i in injected}
    deadline = time.monotonic() + wait
    try:
        while True:
            async with UnitOfWork(sessions) as uow:
                rows = (
                    await uow.session.execute(
                        select(ServiceRequest.details, Alert.id)
                        .join(Alert, Alert.request_id == ServiceRequest.id)
                        .where(ServiceRequest.kind == "sos")
                    )
                ).all()
                paged = set(
                    await uow.session.scalars(
                        select(AlertStep.alert_id).where(
                            AlertStep.kind == "paged", AlertStep.result == "sent"
                        )
                    )
                )
                logged = Counter(
                    await uow.session.scalars(
                        select(MessageRecord.external_user_id).where(
                            MessageRecord.direction == "in",
                            MessageRecord.external_user_id.in_(senders),
                        )
                    )
                )
            written: Counter[str] = Counter()
            reached: Counter[str] = Counter()
            for details, alert_id in rows:
                sender = str((details or {}).get("external_id"))
                written[sender] += 1
                reached[sender] += alert_id in paged
            done = all(written[s] >= 1 and reached[s] >= 1 for s in senders)
            if done or time.monotonic() > deadline:
                return {s: (written[s], reached[s], logged[s]) for s in senders}  # type: ignore[misc]
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="faults of each kind")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    random.seed(args.seed)
    log = Path(tempfile.mkdtemp(prefix="yinling-faults-")) / "processes.log"
    rig = Rig(log)
    injected: list[Injected] = []
    started = time.monotonic()
    print("setting up: PostgreSQL cluster, redis-server, Bot API double, serve, worker …")
    await asyncio.to_thread(rig.pg.init)
    rig.redis.start()
    try:
        await _seed(rig.pg.url)
        with serve(HoldingDouble()) as api:
            rig.api = api  # type: ignore[assignment]
            env = rig.env(api.url)
            rig.serve = YinlingProcess(env, log=log)
            rig.worker = YinlingProcess(env, "worker", log=log)
            await asyncio.to_thread(rig.serve.start)
            rig.worker.start()
            async with httpx.AsyncClient(timeout=30) as client:
                for n in range(args.rounds):
                    for kind in KINDS:
                        injected.append(await FAULTS[kind](rig, client, n))
                    print(
                        f"  round {n + 1}/{args.rounds} done ({time.monotonic() - started:.0f} s)"
                    )
            outcome = await _outcome(rig.pg.url, injected, wait=90)
            rig.serve.kill()
            rig.worker.kill()
    finally:
        rig.redis.stop()
        await asyncio.to_thread(rig.pg.remove)
    return _report(args, injected, outcome, time.monotonic() - started, log)


def _report(
    args: argparse.Namespace,
    injected: list[Injected],
    outcome: dict[str, Any],
    elapsed: float,
    log: Path,
) -> int:
    print(
        f"{len(injected)} faults injected ({args.rounds} of each kind), PostgreSQL + Redis, "
        f"real `yinling serve` and `yinling worker` processes, in {elapsed:.0f} s"
    )
    print(f"  {'kind':15}{'injected':>9}{'written':>9}{'paged':>7}{'lost':>6}{'duplicated':>12}"
          f"{'answered':>10}")  # fmt: skip
    totals = Counter()
    for kind in KINDS:
        mine = [i for i in injected if i.kind == kind]
        written = sum(1 for i in mine if outcome[i.sender][0] >= 1)
        paged = sum(1 for i in mine if outcome[i.sender][1] >= 1)
        lost = len(mine) - written
        duplicated = sum(
            max(0, outcome[i.sender][0] - 1) + max(0, outcome[i.sender][2] - 1) for i in mine
        )
        asked = [i for i in mine if i.answered is not None]
        answered = f"{sum(bool(i.answered) for i in asked)}/{len(asked)}" if asked else "-"
        print(f"  {kind:15}{len(mine):>9}{written:>9}{paged:>7}{lost:>6}{duplicated:>12}"
              f"{answered:>10}")  # fmt: skip
        totals.update(
            {
                "injected": len(mine),
                "written": written,
                "paged": paged,
                "lost": lost,
                "duplicated": duplicated,
            }
        )
    print(
        f"  {'all':15}{totals['injected']:>9}{totals['written']:>9}{totals['paged']:>7}"
        f"{totals['lost']:>6}{totals['duplicated']:>12}"
    )
    slow = [i.seconds for i in injected if i.kind == "redis-stopped" and i.seconds is not None]
    if slow:
        print(f"  redis-stopped: answered with the hotline in at most {max(slow):.2f} s")
    ok = totals["lost"] == 0 and totals["duplicated"] == 0 and totals["paged"] == len(injected)
    print(f"  {'ok ' if ok else 'FAIL'} 0 lost, 0 duplicated, every one paged")
    print(f"  processes' log: {log}")
    extra = "" if args.rounds == 10 else f" --rounds {args.rounds}"
    extra += "" if args.seed == 14 else f" --seed {args.seed}"
    print(f"reproduce: {sys.executable} benchmarks/sos_faults.py{extra}")
    print(json.dumps({k: totals[k] for k in totals}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
