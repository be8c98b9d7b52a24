"""``yinling policy | code | duty | staff | import | tag``: the bureau's records kept from the
command line: policy articles, binding codes, the duty roster, staff accounts, imported
sheets and tags on people. Each change is audited (``--by``)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import importer
from bot.commands.common import now_arg, run_async
from bot.console import staff as console_staff
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling policy``, ``code``, ``duty``, ``staff``, ``import`` and ``tag``."""
    policy = sub.add_parser("policy", help="policy articles")
    policy_sub = policy.add_subparsers(dest="action", required=True)
    policy_sub.add_parser("import", help="import Markdown articles").add_argument(
        "folder", type=Path
    )

    code = sub.add_parser("code", help="issue a one-time binding code (QR scene, deep link)")
    who = code.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", type=int, help="the retiree's id (as retiree or family)")
    who.add_argument("--staff", type=int, help="a staff member's id")
    code.add_argument("--family", metavar="RELATION", help="bind a family member, e.g. 女儿")
    code.add_argument(
        "--days", type=int, default=7, help="valid for (default 7 days; staff codes: 1 day at most)"
    )
    code.add_argument("--by", default="cli", help="who issues it (for the audit log)")

    duty = sub.add_parser("duty", help="the duty roster one-key help pages: add | list")
    duty_sub = duty.add_subparsers(dest="action", required=True)
    shift = duty_sub.add_parser("add", help="put a staff member on call")
    shift.add_argument("--staff", type=int, required=True, help="the staff member's id")
    shift.add_argument(
        "--level", type=int, choices=(1, 2, 3), required=True, help="1 duty, 2 backup, 3 leader"
    )
    shift.add_argument("--from", dest="starts", type=now_arg, required=True, help="ISO-8601")
    shift.add_argument("--to", dest="ends", type=now_arg, required=True, help="ISO-8601")
    shift.add_argument("--by", default="cli", help="who changes the roster (for the audit log)")
    duty_sub.add_parser("list", help="who is on call").add_argument(
        "--at", type=now_arg, help="at this time (default: now)"
    )

    staff = sub.add_parser(
        "staff", help="staff accounts: add | password | deactivate | list | wecom"
    )
    staff_sub = staff.add_subparsers(dest="action", required=True)
    wecom = staff_sub.add_parser("wecom", help="page a staff member on WeCom (企业微信)")
    wecom.add_argument("--staff", type=int, required=True, help="the staff member's id")
    wecom.add_argument("--user", required=True, help="their WeCom userid (通讯录 → 账号)")
    wecom.add_argument("--by", default="cli", help="who binds it (for the audit log)")
    console_staff.add_arguments(staff_sub)

    importer.add_arguments(sub)
    tag = sub.add_parser("tag", help="tags on people (for broadcasts): add | remove | list")
    tag_sub = tag.add_subparsers(dest="action", required=True)
    for action, text in (("add", "give people a tag"), ("remove", "take a tag away")):
        one = tag_sub.add_parser(action, help=text)
        one.add_argument("tag", help="e.g. 书画组 (at most 20 characters)")
        one.add_argument("--person", type=int, action="append", required=True, metavar="ID")
        one.add_argument("--by", default="cli", help="who changes it (for the audit log)")
    tag_sub.add_parser("list", help="a person's tags").add_argument(
        "--person", type=int, required=True, metavar="ID"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of them; the exit status."""
    if args.command == "policy":
        return int(run_async(_policy_import(args, settings)))
    if args.command == "code":
        return int(run_async(_issue_code(args, settings)))
    if args.command == "duty":
        return int(run_async(_duty(args, settings)))
    if args.command == "import":
        return int(run_async(importer.run(args, settings)))
    if args.command == "tag":
        return int(run_async(_tag(args, settings)))
    if args.action != "wecom":
        return int(run_async(console_staff.run(args, settings)))
    return int(run_async(_staff_wecom(args, settings)))


async def _policy_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import every article of a folder, or none: a file without a region (or otherwise
    unreadable) is named on stderr and nothing is imported (exit 2)."""
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.demo import load_policy_folder  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    if not args.folder.is_dir():
        print(f"{args.folder} is not a folder of Markdown articles", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    try:
        articles = load_policy_folder(args.folder, now)
    except ValueError as e:
        print(f"{e}\nnothing imported from {args.folder}", file=sys.stderr)
        return 2
    engine = settings.open_engine()
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            for article in articles:
                await uow.catalog.upsert_policy(article)
                uow.audit.record(now, "cli", "policy_imported", "policy_article", article.slug)
            await uow.commit()
        print(f"imported {len(articles)} articles from {args.folder}")
    finally:
        await engine.dispose()
    return 0


async def _duty(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(make_sessions(engine)) as uow:
            if args.action == "list":
                for shift, member in await uow.alerts.roster(args.at or now):
                    span = f"{shift.starts_at.isoformat()} - {shift.ends_at.isoformat()}"
                    print(f"level {shift.level}  {member.name} (staff {member.id})  {span}")
                return 0
            if await uow.staff.get(args.staff) is None:
                print(f"no staff member {args.staff}", file=sys.stderr)
                return 2
            if args.ends <= args.starts:
                print("--to must be after --from", file=sys.stderr)
                return 2
            shift = await uow.alerts.add_shift(args.staff, args.level, args.starts, args.ends)
            uow.audit.record(now, args.by, "duty_added", "duty_shift", shift.id, level=args.level)
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"staff {args.staff} on call at level {args.level} from {args.starts} to {args.ends}")
    return 0


async def _issue_code(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta  # noqa: PLC0415

    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(make_sessions(engine)) as uow:
            if args.staff is not None:
                if await uow.staff.get(args.staff) is None:
                    print(f"no staff member {args.staff}", file=sys.stderr)
                    return 2
                role = "staff"
            else:
                if await uow.people.get(args.person) is None:
                    print(f"no person {args.person} on the roster", file=sys.stderr)
                    return 2
                role = "family" if args.family else "retiree"
            issued = await uow.codes.issue(
                now,
                args.by,
                role=role,
                person_id=args.person,
                staff_id=args.staff,
                relation=args.family,
                valid_for=timedelta(days=args.days),
            )
            uow.audit.record(now, args.by, "code_issued", "binding_code", issued.id, role=role)
            await uow.commit()
    finally:
        await engine.dispose()
    print(issued.code)
    print(f"  Telegram: https://t.me/<your bot>?start={issued.code}", file=sys.stderr)
    print(f"  WeChat:   a QR code with scene_id {issued.code} (see README)", file=sys.stderr)
    return 0


async def _staff_wecom(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    user = args.user.strip()
    if not user or len(user) > 64:  # noqa: PLR2004 - WeCom userids have 1-64 characters
        print("--user needs the WeCom userid (1-64 characters)", file=sys.stderr)
        return 2
    engine = settings.open_engine()
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(make_sessions(engine)) as uow:
            if await uow.staff.get(args.staff) is None:
                print(f"no staff member {args.staff}", file=sys.stderr)
                return 2
            account = await uow.accounts.bind(
                "wecom", user, 0, now, role="staff", staff_id=args.staff
            )
            uow.audit.record(
                now, args.by, "staff_wecom_bound", "channel_account", account.id, staff=args.staff
            )
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"staff {args.staff} is paged on WeCom as {user}")
    if not settings.wecom.enabled:
        print("  set YINLING_WECOM__CORP_ID, __SECRET and __AGENT_ID to send", file=sys.stderr)
    return 0


async def _tag(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(make_sessions(engine)) as uow:
            if args.action == "list":
                print(" ".join(await uow.people.tags(args.person)))
                return 0
            tag = args.tag.strip()
            if not tag or len(tag) > 20:  # noqa: PLR2004 - the column's width
                print("a tag has 1-20 characters", file=sys.stderr)
                return 2
            for person_id in args.person:
                if await uow.people.get(person_id) is None:
                    print(f"no person {person_id} on the roster", file=sys.stderr)
                    return 2
                changed = (
                    await uow.people.tag(person_id, tag, now)
                    if args.action == "add"
                    else await uow.people.untag(person_id, tag)
                )
                if changed:
                    uow.audit.record(
                        now, args.by, f"tag_{args.action}", "person", person_id, tag=tag
                    )
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"{args.action}: {args.tag} for {len(args.person)} people")
    return 0
