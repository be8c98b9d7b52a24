"""The ``yinling`` command: chat | simulate | serve | worker | check | db | keys | nlu |
evaluate | policy | code | duty | staff | import | tag | broadcast | wechat | telegram.

Each group of sub-commands is a module of bot/commands/ that adds its sub-commands to the
parser and runs them; here they are put together, and a parsed command line is handed to
the group that added its sub-command.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.commands import broadcast, channels, database, evaluating, records, running
from bot.logs import configure_logging
from bot.settings import Settings

__all__ = ["main"]

GROUPS = (running, database, evaluating, records, broadcast, channels)
QUIET = frozenset({"chat", "simulate", "nlu", "evaluate"})  # log warnings only


def _parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="yinling", description="银龄通 Yinling chat-bot service")
    sub = root.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        known = set(sub.choices)
        group.add_arguments(sub)
        for name in sub.choices.keys() - known:
            sub.choices[name].set_defaults(run=group.run)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yinling`` console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    quiet = args.command in QUIET
    configure_logging(settings.log_format, "WARNING" if quiet else settings.log_level)
    logging.captureWarnings(True)
    return int(args.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
