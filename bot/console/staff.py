"""``yinling staff add | password | list``: console accounts for the bureau's staff.

A password is read from the terminal (twice, not echoed) or, for scripts, from one line of
standard input with ``--password-stdin``; it is never an argument (arguments are seen by
every user of the machine in the process list).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.console.access import ROLES

if TYPE_CHECKING:  # imported when a command runs: `yinling --help` stays quick
    from bot.settings import Settings
    from storage.uow import UnitOfWork

__all__ = ["add_arguments", "run"]

MAX_USERNAME = 40


def add_arguments(staff_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The console's sub-commands of ``yinling staff``."""
    add = staff_sub.add_parser("add", help="a staff member who signs in to the console")
    add.add_argument("--name", required=True, help="their name, as colleagues know it")
    add.add_argument("--role", required=True, choices=ROLES, help="what they may do (README)")
    add.add_argument("--username", required=True, help="what they sign in with")
    add.add_argument("--phone", help="their work phone (told to retirees they escort)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--by", default="cli", help="who adds them (for the audit log)")
    password = staff_sub.add_parser("password", help="set a password (and sign them out)")
    who = password.add_mutually_exclusive_group(required=True)
    who.add_argument("--username", help="their user name")
    who.add_argument("--staff", type=int, help="their staff id (e.g. one paged on WeCom)")
    password.add_argument("--login", help="with --staff: the user name to sign in with")
    password.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    password.add_argument("--by", default="cli", help="who sets it (for the audit log)")
    off = staff_sub.add_parser("deactivate", help="end their access (sessions end at once)")
    off.add_argument("--username", required=True)
    off.add_argument("--by", default="cli", help="who does it (for the audit log)")
    staff_sub.add_parser("list", help="staff members and their roles")


def _read_password(from_stdin: bool) -> str | None:
    from bot.console.auth import password_problem  # noqa: PLC0415

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return None
    problem = password_problem(password)
    if problem:
        print(f"the password needs {problem}", file=sys.stderr)
        return None
    return password


def _username(value: str) -> str | None:
    name = value.strip()
    if not name or len(name) > MAX_USERNAME or any(ch.isspace() for ch in name):
        print(f"a user name has 1-{MAX_USERNAME} characters and no spaces", file=sys.stderr)
        return None
    return name


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of the console's staff commands."""
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            code = await _act(args, uow)
            if code == 0:
                await uow.commit()
            return code
    finally:
        await engine.dispose()


async def _act(args: argparse.Namespace, uow: UnitOfWork) -> int:
    now = datetime.now(UTC)
    if args.action == "list":
        for one in await uow.workbench.all_staff():
            state = "" if one.active else "  (deactivated)"
            login = one.username or "-"
            print(f"{one.id:>4}  {one.role:<7} {login:<20} {one.name}{state}")
        return 0
    if args.action == "deactivate":
        member = await uow.workbench.staff_by_username(args.username)
        if member is None:
            print(f"no staff member signs in as {args.username}", file=sys.stderr)
            return 2
        member.active = False
        member.sessions_valid_from = now
        uow.audit.record(now, args.by, "staff_deactivated", "staff", member.id)
        print(f"staff {member.id} ({member.username}) can no longer sign in")
        return 0
    if args.action == "add":
        return await _add(args, uow, now)
    return await _password(args, uow, now)


async def _add(args: argparse.Namespace, uow: UnitOfWork, now: datetime) -> int:
    from bot.console.auth import hash_password  # noqa: PLC0415
    from storage.models import Staff  # noqa: PLC0415

    username = _username(args.username)
    if username is None:
        return 2
    if await uow.workbench.staff_by_username(username) is not None:
        print(f"{username} is taken", file=sys.stderr)
        return 2
    password = _read_password(args.password_stdin)
    if password is None:
        return 2
    member = await uow.staff.add(
        Staff(
            name=args.name.strip()[:40], role=args.role, phone=args.phone or None,
            active=True, created_at=now, username=username,
            password_hash=await hash_password(password), sessions_valid_from=now,
        )
    )  # fmt: skip
    uow.audit.record(now, args.by, "staff_added", "staff", member.id, role=args.role)
    same = [m for m in await uow.workbench.all_staff() if m.name == member.name and m.active]
    if len(same) > 1:
        # Two people of one name are told apart in the console by role and phone only.
        print(f"note: {len(same)} active staff are called {member.name}: give each a phone")
    print(f"staff {member.id} ({args.role}) signs in as {username} at /console/login")
    return 0


async def _password(args: argparse.Namespace, uow: UnitOfWork, now: datetime) -> int:
    from bot.console.auth import hash_password  # noqa: PLC0415

    if args.username:
        member = await uow.workbench.staff_by_username(args.username)
    else:
        member = await uow.staff.get(args.staff)
    if member is None:
        print("no such staff member", file=sys.stderr)
        return 2
    if args.login:
        username = _username(args.login)
        if username is None:
            return 2
        other = await uow.workbench.staff_by_username(username)
        if other is not None and other.id != member.id:
            print(f"{username} is taken", file=sys.stderr)
            return 2
        member.username = username
    if member.username is None:
        print("give the user name to sign in with: --login NAME", file=sys.stderr)
        return 2
    password = _read_password(args.password_stdin)
    if password is None:
        return 2
    member.password_hash = await hash_password(password)
    member.sessions_valid_from = now  # every session of the old password ends
    uow.audit.record(now, args.by, "staff_password_set", "staff", member.id)
    print(f"staff {member.id} signs in as {member.username} with the new password")
    return 0
