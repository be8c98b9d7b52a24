"""The ``yinling`` command: chat | simulate | serve | db … | nlu … | policy import."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import importer
from bot.console import staff as console_staff
from bot.logs import configure_logging
from bot.settings import Settings

__all__ = ["main"]


def _now_arg(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-11-22T10:00:00+08:00")
    return moment


def _clock(fixed: datetime | None) -> Callable[[], datetime]:
    return (lambda: fixed) if fixed else (lambda: datetime.now(UTC))


def _add_broadcast(sub: Any) -> None:
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
    broadcast.add_argument("--at", type=_now_arg, help="send later (ISO-8601 with zone)")
    broadcast.add_argument("--staff", type=int, help="the sender's staff id (leader or admin)")
    broadcast.add_argument(
        "--dry-run", action="store_true", help="only count the recipients; create nothing"
    )
    broadcast.add_argument("--show", type=int, metavar="ID", help="a broadcast's progress")


def _parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one sub-command after another
    root = argparse.ArgumentParser(prog="yinling", description="银龄通 Yinling chat-bot service")
    sub = root.add_subparsers(dest="command", required=True)

    for name, text in (
        ("chat", "chat in the terminal as a demo retiree (fresh demo database)"),
        ("simulate", 'JSON lines {"user","text"} on stdin -> one JSON result line each'),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--db", help="database URL (default: a fresh temporary SQLite with demo data)"
        )
        p.add_argument("--now", type=_now_arg, help="fix the clock (ISO-8601 with zone)")

    sub.add_parser("worker", help="run background jobs (paging, notices) and the reconciler")
    sub.add_parser(
        "check",
        help="check the settings before going live: hotline, duty roster, channels (exit 1 "
        "when something would let an emergency page nobody)",
    )
    serve = sub.add_parser("serve", help="run the ASGI app (webhooks, /healthz, /metrics)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all
    serve.add_argument("--port", type=int, default=8000)

    db = sub.add_parser("db", help="database: upgrade | downgrade | seed")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").add_argument("--revision", default="head")
    db_sub.add_parser("downgrade", help="revert migrations").add_argument(
        "--revision", default="base"
    )
    db_sub.add_parser("seed", help="add the demo data to an empty database")

    nlu = sub.add_parser("nlu", help="the intent engine: train | parse | evaluate")
    nlu_sub = nlu.add_subparsers(dest="action", required=True)
    nlu_sub.add_parser("train", help="train and cache the embedded engine")
    parse = nlu_sub.add_parser("parse", help="one utterance per stdin line -> Rasa JSON per line")
    parse.add_argument("--now", type=_now_arg)
    evaluate = nlu_sub.add_parser("evaluate", help="accuracy, per-intent P/R/F1, entities")
    evaluate.add_argument("--data", type=Path, help='JSON lines {"text","intent","entities"}')
    evaluate.add_argument("--now", type=_now_arg)
    evaluate.add_argument(
        "--cross-validation", type=int, metavar="K", help="K-fold CV on the training data"
    )
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")

    evaluate_cmd = sub.add_parser("evaluate", help="evaluate the bot on a set")
    evaluate_sub = evaluate_cmd.add_subparsers(dest="action", required=True)
    conversations = evaluate_sub.add_parser(
        "conversations", help="multi-turn conversations (YAML) judged by the records they leave"
    )
    conversations.add_argument("folder", type=Path)
    conversations.add_argument(
        "--db", help="database URL (default: a temporary SQLite; PostgreSQL tables are emptied)"
    )
    conversations.add_argument(
        "--show", action="store_true", help="on failures: the records found and the transcript"
    )
    conversations.add_argument("--json", action="store_true", help="machine-readable output")

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
    shift.add_argument("--from", dest="starts", type=_now_arg, required=True, help="ISO-8601")
    shift.add_argument("--to", dest="ends", type=_now_arg, required=True, help="ISO-8601")
    shift.add_argument("--by", default="cli", help="who changes the roster (for the audit log)")
    duty_sub.add_parser("list", help="who is on call").add_argument(
        "--at", type=_now_arg, help="at this time (default: now)"
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

    wechat = sub.add_parser("wechat", help="the Official Account: menu")
    wechat_sub = wechat.add_subparsers(dest="action", required=True)
    wechat_sub.add_parser("menu", help="push the custom menu (or --print it)").add_argument(
        "--print", action="store_true", help="print the menu JSON instead of pushing it"
    )

    keys = sub.add_parser("keys", help="personal data at rest: generate | status | rotate")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("generate", help="print new keys for YINLING_DATA_KEYS / _INDEX_KEY")
    keys_sub.add_parser("status", help="how many values each data key has sealed")
    keys_sub.add_parser("rotate", help="seal every value again under the current data key")

    _add_broadcast(sub)
    telegram = sub.add_parser("telegram", help="the Telegram bot: poll | webhook")
    telegram_sub = telegram.add_subparsers(dest="action", required=True)
    telegram_sub.add_parser("poll", help="long polling for development (deletes the webhook first)")
    telegram_sub.add_parser(
        "webhook", help="register YINLING_TELEGRAM__WEBHOOK_URL and its secret with Telegram"
    )
    return root


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    import uvloop  # noqa: PLC0415 - the event loop `yinling serve` runs on too (via uvicorn)

    return uvloop.run(coro)


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


def _evaluate_in_scratch(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate on ``--db``, or on a temporary SQLite file removed afterwards."""
    from bot.runtime import temporary_database_url  # noqa: PLC0415

    scratch = None if args.db else temporary_database_url()
    args.db = args.db or scratch
    try:
        return int(_run(_evaluate(args, settings)))
    finally:
        if scratch:
            Path(scratch.split("///", 1)[1]).unlink(missing_ok=True)


async def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    import json  # noqa: PLC0415

    from bot.evaluation import load_conversations, run_conversations, summary  # noqa: PLC0415
    from bot.runtime import build_parser  # noqa: PLC0415
    from storage.db import make_engine  # noqa: PLC0415

    conversations = load_conversations(args.folder)
    if not conversations:
        print(f"no *.yaml conversations in {args.folder}", file=sys.stderr)
        return 2
    engine = make_engine(args.db)
    try:
        verdicts = await run_conversations(engine, build_parser(settings), conversations)
    finally:
        await engine.dispose()
    result = summary(verdicts)
    if args.json:
        rows = [{"id": v.id, "passed": v.passed, "problems": v.problems, "error": v.error}
                for v in verdicts]  # fmt: skip
        print(json.dumps({**result, "verdicts": rows}, ensure_ascii=False))
        return 0
    for v in verdicts:
        print(f"{'PASS' if v.passed else 'FAIL'}  {v.id}")
        for problem in v.problems:
            print(f"      {problem}")
        if v.error:
            print(f"      error: {v.error}")
        if args.show and not v.passed:
            for record in v.found:
                shown = {k: val for k, val in record.items() if k != "notes"}
                print(f"      found {json.dumps(shown, ensure_ascii=False, default=str)}")
            for said, answer in v.transcript:
                print(f"      > {said}\n        {answer.replace(chr(10), ' ')}")
    print(f"{result['passed']}/{result['conversations']} passed ({result['rate']:.1%})")
    return 0


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    import base64  # noqa: PLC0415
    import secrets  # noqa: PLC0415

    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.rekey import rotate, sealed_under  # noqa: PLC0415

    if args.action == "generate":
        current = settings.keyring().current
        new = base64.b64encode(secrets.token_bytes(32)).decode()
        print(f"YINLING_DATA_KEYS={current + 1}:{new}" + (
            f",{settings.data_keys.get_secret_value()}" if settings.data_keys else ""
        ))  # fmt: skip
        if settings.index_key is None:
            print(f"YINLING_INDEX_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}")
        print("# keep them secret and backed up: without them the phone numbers are lost")
        return 0
    engine = settings.open_engine()
    try:
        await upgrade(engine)
        sessions = make_sessions(engine)
        if args.action == "rotate":
            changed = await rotate(sessions)
            print(f"{changed} values sealed again under data key {settings.keyring().current}")
        for key, count in sorted((await sealed_under(sessions)).items()):
            print(f"data key {key}: {count} values")
    finally:
        await engine.dispose()
    return 0


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


async def _db(args: argparse.Namespace, settings: Settings) -> None:
    from storage.db import downgrade, make_sessions, upgrade  # noqa: PLC0415
    from storage.demo import seed_demo  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    engine = settings.open_engine()
    try:
        if args.action == "upgrade":
            await upgrade(engine, args.revision)
        elif args.action == "downgrade":
            await downgrade(engine, args.revision)
        else:
            await upgrade(engine)
            async with UnitOfWork(make_sessions(engine)) as uow:
                seeded = await seed_demo(uow, datetime.now(UTC))
                await uow.commit()
            print("demo data added" if seeded else "the database already has people; nothing added")
    finally:
        await engine.dispose()


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
    from bot import broadcasts  # noqa: PLC0415
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
        print(await broadcasts.start_sending(settings, sessions, created.id))
        if not settings.redis_url:
            found = await broadcasts.progress(sessions, created.id)
            if found is not None:
                print("  " + ", ".join(f"{k} {v}" for k, v in found[1].items()))
        return 0
    finally:
        await engine.dispose()


def _wechat_menu(args: argparse.Namespace, settings: Settings) -> int:
    import json  # noqa: PLC0415

    from redis import Redis  # noqa: PLC0415

    from bot.channels.wechat import menu_definition  # noqa: PLC0415
    from bot.channels.wechat_api import StableTokenClient  # noqa: PLC0415

    menu = menu_definition()
    if args.print:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    if settings.wechat.app_id is None or settings.wechat.app_secret is None:
        print("set YINLING_WECHAT__APP_ID and YINLING_WECHAT__APP_SECRET first", file=sys.stderr)
        return 2
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    client = StableTokenClient(settings.wechat, redis, settings.redis_prefix)
    client.call(lambda: client.menu.create(menu))
    print(f"menu pushed: {len(menu['button'])} menus")
    return 0


async def _telegram(args: argparse.Namespace, settings: Settings) -> int:
    from telegram.error import TelegramError  # noqa: PLC0415

    from bot.channels.telegram import TelegramChannel, register_webhook  # noqa: PLC0415
    from bot.runtime import open_runtime  # noqa: PLC0415
    from bot.worker import jobs_in_app  # noqa: PLC0415

    if not settings.telegram.enabled:
        print("set YINLING_TELEGRAM__TOKEN first (from @BotFather)", file=sys.stderr)
        return 2
    try:
        if args.action == "webhook":
            print(f"webhook set: {await register_webhook(settings.telegram)}")
            return 0
        runtime = await open_runtime(settings)
        channel = TelegramChannel(settings.telegram, runtime, webhook=False)
        try:
            await channel.start()
            print("polling Telegram; stop with Ctrl-C", file=sys.stderr)
            async with jobs_in_app(runtime, channel.bot):
                await channel.poll()  # until Ctrl-C cancels it
        finally:
            await channel.stop()
            await runtime.close()
    except (ValueError, TelegramError) as e:  # a setting Telegram (or we) refused
        print(f"Telegram: {e}", file=sys.stderr)
        return 2
    return 0


def _nlu(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import build_parser  # noqa: PLC0415
    from nlu import cli as nlu_cli  # noqa: PLC0415

    if args.action == "train":
        nlu_cli.run_train(settings.nlu_cache)
        return 0
    if args.action == "parse":
        nlu_cli.run_parse(build_parser(settings), args.now, sys.stdin, sys.stdout)
        return 0
    if args.cross_validation:
        nlu_cli.run_cross_validation(args.cross_validation, args.json, sys.stdout)
        return 0
    if not args.data:
        print("give --data FILE or --cross-validation K", file=sys.stderr)
        return 2
    nlu_cli.run_evaluate(build_parser(settings), args.data, args.now, args.json, sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yinling`` console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    quiet = args.command in {"chat", "simulate", "nlu", "evaluate"}
    configure_logging(settings.log_format, "WARNING" if quiet else settings.log_level)
    logging.captureWarnings(True)
    if args.command in {"chat", "simulate"}:
        from bot.runtime import temporary_database_url  # noqa: PLC0415

        url = args.db or temporary_database_url()
        try:
            _run(_console(args, settings, url))
        finally:
            if not args.db:
                Path(url.split("///", 1)[1]).unlink(missing_ok=True)
    elif args.command == "serve":
        from bot.serve import serve  # noqa: PLC0415

        try:
            _run(serve(settings, args.host, args.port))
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    elif args.command == "worker":
        from bot.worker import run_worker  # noqa: PLC0415

        try:
            _run(run_worker(settings))
        except KeyboardInterrupt:
            return 0
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    elif args.command == "evaluate":
        return _evaluate_in_scratch(args, settings)
    elif args.command == "keys":
        return int(_run(_keys(args, settings)))
    elif args.command == "check":
        return int(_run(_check(settings)))
    elif args.command == "db":
        _run(_db(args, settings))
    elif args.command == "policy":
        return int(_run(_policy_import(args, settings)))
    elif args.command == "code":
        return int(_run(_issue_code(args, settings)))
    elif args.command == "duty":
        return int(_run(_duty(args, settings)))
    elif args.command == "broadcast":
        return int(_run(_broadcast(args, settings)))
    elif args.command == "import":
        return int(_run(importer.run(args, settings)))
    elif args.command == "tag":
        return int(_run(_tag(args, settings)))
    elif args.command == "staff":
        if args.action != "wecom":
            return int(_run(console_staff.run(args, settings)))
        return int(_run(_staff_wecom(args, settings)))
    elif args.command == "wechat":
        return _wechat_menu(args, settings)
    elif args.command == "telegram":
        try:
            return int(_run(_telegram(args, settings)))
        except KeyboardInterrupt:  # Ctrl-C ends `telegram poll`
            return 0
    else:
        return _nlu(args, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
