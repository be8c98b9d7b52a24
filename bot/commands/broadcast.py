"""``yinling broadcast``: a notice to a segment of retirees (bot/broadcasts.py), counted with
``--dry-run``, sent now or ``--at`` a time, or its progress ``--show``-n."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from bot.commands.common import now_arg, run_async
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling broadcast``."""
    broadcast = sub.add_parser(
        "broadcast", help="send a notice to a segment of retirees (or --show one's progress)"
    )
    broadcast.add_argument("--text", help="the message (at most 1,000 characters)")
    broadcast.add_argument("--link", help="an optional https:// link shown under the text")
    broadcast.add_argument("--district", help="only people in this district, e.g. 姑苏区")
    broadcast.add_argument("--category", choices=("lixiu", "tuixiu"), help="离休 or 退休 only")
    broadcast.add_argument("--former-unit", help="only people from this former unit")
    broadcast.add_argument("--party-branch", help="only members of this party branch")
    broadcast.add_argument("--tag", help="only people with this tag (see yinling tag)")
    broadcast.add_argument("--lives-alone", action="store_true", help="only people living alone")
    broadcast.add_argument("--min-age", type=int, metavar="N", help="only people aged N or over")
    broadcast.add_argument("--activity", type=int, metavar="ID", help="only its registrants")
    broadcast.add_argument(
        "--person", type=int, action="append", metavar="ID", help="these people (repeatable)"
    )
    broadcast.add_argument("--channel", choices=("telegram", "wechat"), help="one channel only")
    broadcast.add_argument("--family", action="store_true", help="their family members too")
    broadcast.add_argument("--at", type=now_arg, help="send later (ISO-8601 with zone)")
    broadcast.add_argument("--staff", type=int, help="the sender's staff id (leader or admin)")
    broadcast.add_argument(
        "--dry-run", action="store_true", help="only count the recipients; create nothing"
    )
    broadcast.add_argument("--show", type=int, metavar="ID", help="a broadcast's progress")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Create (or show) a broadcast; the exit status."""
    return int(run_async(_broadcast(args, settings)))


def _segment(args: argparse.Namespace) -> dict[str, Any]:
    segment: dict[str, Any] = {
        "district": args.district,
        "category": args.category,
        "former_unit": args.former_unit,
        "party_branch": args.party_branch,
        "tag": args.tag,
        "min_age": args.min_age,
        "activity_id": args.activity,
        "person_ids": args.person,
        "channel": args.channel,
        "lives_alone": True if args.lives_alone else None,
        "family": True if args.family else None,
    }
    return {k: v for k, v in segment.items() if v is not None}


async def _broadcast(args: argparse.Namespace, settings: Settings) -> int:
    from bot.broadcasts import start_sending  # noqa: PLC0415
    from services import broadcasts  # noqa: PLC0415
    from storage.broadcasts import describe_segment  # noqa: PLC0415
    from storage.db import make_sessions, upgrade  # noqa: PLC0415

    if args.show is None and not args.text:
        print("give --text MESSAGE (or --show ID)", file=sys.stderr)
        return 2
    engine = settings.open_engine()
    try:
        await upgrade(engine)
        sessions = make_sessions(engine)
        now = datetime.now(UTC)
        if args.show is not None:
            found = await broadcasts.progress(sessions, args.show)
            if found is None:
                print(f"no broadcast {args.show}", file=sys.stderr)
                return 2
            shown, counts = found
            print(f"broadcast {shown.id}: {shown.status}, {shown.total} recipients")
            print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            return 0
        segment = _segment(args)
        who = describe_segment(segment)
        try:
            if args.dry_run:
                size = await broadcasts.audience_size(sessions, segment, now)
                print(f"{size} recipients ({who}); dry run, nothing created or sent")
                return 0
            if args.staff is None:
                print("give --staff ID (a leader or an admin sends broadcasts)", file=sys.stderr)
                return 2
            created = await broadcasts.create_broadcast(
                sessions,
                staff_id=args.staff,
                text=args.text,
                segment=segment,
                now=now,
                link=args.link,
                send_at=args.at,
            )
        except broadcasts.NotAllowedError as e:
            print(f"refused: {e}", file=sys.stderr)
            return 2
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        print(f"broadcast {created.id}: {created.total} recipients ({who})")
        if created.status == "scheduled":
            print(f"scheduled for {args.at.isoformat()}; a worker starts it then")
            return 0
        print(await start_sending(settings, sessions, created.id))
        if not settings.redis_url:
            found = await broadcasts.progress(sessions, created.id)
            if found is not None:
                print("  " + ", ".join(f"{k} {v}" for k, v in found[1].items()))
        return 0
    finally:
        await engine.dispose()
