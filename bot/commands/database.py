"""``yinling db | keys``: the database's schema and demo data, and the keys that seal
personal data at rest."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.commands.common import run_async
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling db`` and ``yinling keys``."""
    db = sub.add_parser("db", help="database: upgrade | downgrade | seed")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").add_argument("--revision", default="head")
    db_sub.add_parser("downgrade", help="revert migrations").add_argument(
        "--revision", default="base"
    )
    db_sub.add_parser("seed", help="add the demo data to an empty database")

    keys = sub.add_parser("keys", help="personal data at rest: generate | status | rotate")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("generate", help="print new keys for YINLING_DATA_KEYS / _INDEX_KEY")
    keys_sub.add_parser("status", help="how many values each data key has sealed")
    keys_sub.add_parser("rotate", help="seal every value again under the current data key")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of them; the exit status."""
    if args.command == "keys":
        return int(run_async(_keys(args, settings)))
    run_async(_db(args, settings))
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
