"""``yinling nlu | evaluate``: the intent engine (train, parse, evaluate) and the bot judged
on a set of multi-turn conversations (bot/evaluation.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.common import now_arg, run_async
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling nlu`` and ``yinling evaluate``."""
    nlu = sub.add_parser("nlu", help="the intent engine: train | parse | evaluate")
    nlu_sub = nlu.add_subparsers(dest="action", required=True)
    nlu_sub.add_parser("train", help="train and cache the embedded engine")
    parse = nlu_sub.add_parser("parse", help="one utterance per stdin line -> Rasa JSON per line")
    parse.add_argument("--now", type=now_arg)
    evaluate = nlu_sub.add_parser("evaluate", help="accuracy, per-intent P/R/F1, entities")
    evaluate.add_argument("--data", type=Path, help='JSON lines {"text","intent","entities"}')
    evaluate.add_argument("--now", type=now_arg)
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of them; the exit status."""
    if args.command == "evaluate":
        return _evaluate_in_scratch(args, settings)
    return _nlu(args, settings)


def _evaluate_in_scratch(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate on ``--db``, or on a temporary SQLite file removed afterwards."""
    from bot.runtime import temporary_database_url  # noqa: PLC0415

    scratch = None if args.db else temporary_database_url()
    args.db = args.db or scratch
    try:
        return int(run_async(_evaluate(args, settings)))
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
