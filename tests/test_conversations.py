"""Conversation tables (tests/conversations/*.md) through the real pipeline, SQLite and PostgreSQL.

A scenario is a ``##`` heading, optional ``> key: value`` lines and a table:

    | says | replies contain | then |
    |---|---|---|
    | 下礼拜三陪我老伴去省人民医院看心内科 | 上午还是下午 | |
    | 上午 | 请核对 · 11月25日（周三）上午 | |
    | 1 | 已登记 | event escort_booked date=2026-11-25 beneficiary=spouse |

* ``says``: what the user sends. ``@2 …`` sends as demo retiree 2 instead; ``[+31m]``
  moves the clock on without sending anything.
* ``replies contain``: fragments separated by `` · `` that must all appear in the replies
  (option labels included); ``!fragment`` must not appear.
* ``then``: checks separated by ``;`` — ``event TYPE k=v …``, ``no events``,
  ``intent NAME``, ``options N`` (options of the last reply), ``option N text`` (the
  last reply's option N contains the text), ``lines N`` (no reply has more than N lines
  of prose before its options), and
  ``rows TABLE k=v … = N`` (``@me`` is the sender's account id, ``@person`` the retiree's id).
* ``> as: family``: the sender is a daughter bound as family of retiree 1.
* ``@staff …`` sends as the demo's first staff member (王晓明, on duty), bound as staff;
  ``[visits]`` runs the must-visit ledger's daily job (services/visits.py) at the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import Response
from bot.pipeline import Pipeline
from handlers.base import TZ, ServiceConfig
from nlu.engine import EmbeddedEngine
from services.visits import generate as generate_visits
from storage.db import AsyncSession, Base
from storage.demo import seed_demo
from storage.models import Staff
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of

FOLDER = Path(__file__).parent / "conversations"


@dataclass
class Step:
    says: str
    contains: list[str]
    then: list[str]
    line: int


@dataclass
class Scenario:
    file: str
    title: str
    options: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def load_scenarios() -> list[Scenario]:
    scenarios: list[Scenario] = []
    for path in sorted(FOLDER.glob("*.md")):
        current: Scenario | None = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("## "):
                current = Scenario(path.stem, line[3:].strip())
                scenarios.append(current)
            elif current is not None and line.startswith("> "):
                key, _, value = line[2:].partition(":")
                current.options[key.strip()] = value.strip()
            elif current is not None and line.startswith("|"):
                cells = _cells(line)
                if cells[0] in {"says", ""} or set(cells[0]) <= {"-"}:
                    continue
                contains = (
                    [c.strip() for c in cells[1].split("·") if c.strip()] if len(cells) > 1 else []
                )
                then = (
                    [c.strip() for c in cells[2].split(";") if c.strip()] if len(cells) > 2 else []
                )
                current.steps.append(Step(cells[0], contains, then, number))
    return scenarios


SCENARIOS = load_scenarios()


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, ServiceConfig(hotline="0512-65000000"))
    await pipeline.refresh_lookups(now)
    return Harness(pipeline, sessions, now)


def _value(raw: str, bot: Harness, user: str) -> Any:
    if raw == "@me":
        return bot.accounts[user]
    if raw == "@person":
        return bot.bound[user]
    if raw in {"true", "false"}:
        return raw == "true"
    return int(raw) if re.fullmatch(r"-?\d+", raw) else raw


async def _check(bot: Harness, user: str, response: Response, check: str, where: str) -> None:
    kind, _, rest = check.partition(" ")
    if kind == "event":
        name, *pairs = rest.split()
        wanted = dict(p.split("=", 1) for p in pairs)
        found = [e for e in response.events if e["type"] == name]
        assert any(all(str(e.get(k)) == v for k, v in wanted.items()) for e in found), (
            f"{where}: no event {name} {wanted} in {response.events}"
        )
    elif check == "no events":
        assert not response.events, f"{where}: unexpected events {response.events}"
    elif kind == "intent":
        assert response.intent == rest, f"{where}: intent {response.intent}, expected {rest}"
    elif kind == "options":
        last = [r for r in response.replies if r.options]
        assert last, f"{where}: no options shown"
        assert len(last[-1].options) == int(rest), f"{where}: {[o.label for o in last[-1].options]}"
    elif kind == "option":
        number, _, fragment = rest.partition(" ")
        last = [r for r in response.replies if r.options]
        assert last, f"{where}: no options shown"
        labels = [o.label for o in last[-1].options]
        assert fragment in labels[int(number) - 1], f"{where}: option {number} of {labels}"
    elif kind == "lines":
        longest = max(len(r.text.splitlines()) for r in response.replies)
        assert longest <= int(rest), f"{where}: {longest} lines in {response.replies}"
    elif kind == "rows":
        spec, _, expected = rest.rpartition("=")
        table_name, *pairs = spec.split()
        table = Base.metadata.tables[table_name]
        query = select(func.count()).select_from(table)
        for pair in pairs:
            column, _, raw = pair.partition("=")
            query = query.where(table.c[column] == _value(raw, bot, user))
        async with UnitOfWork(bot.sessions) as uow:
            count = await uow.session.scalar(query)
        assert count == int(expected), f"{where}: {spec} counted {count}, expected {expected}"
    else:
        raise AssertionError(f"{where}: unknown check {check!r}")


async def _bind_staff(bot: Harness, user: str) -> None:
    """The demo's first staff member, bound as staff on the harness's channel."""
    async with UnitOfWork(bot.sessions) as uow:
        member = await uow.session.scalar(select(Staff).order_by(Staff.id).limit(1))
        assert member is not None
        account = await uow.accounts.bind(
            bot.channel, user, 0, bot.now, role="staff", staff_id=member.id
        )
        await uow.commit()
    bot.bound[user] = 0
    bot.accounts[user] = account.id


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.file}:{s.title}" for s in SCENARIOS])
async def test_conversation(world: Harness, scenario: Scenario) -> None:
    bot = world
    if "clock" in scenario.options:
        bot.now = datetime.fromisoformat(scenario.options["clock"])
    main = "u1"
    if scenario.options.get("as") == "family":
        await bot.bind(main, 1, role="family", relation="女儿")
    elif scenario.options.get("as") == "unbound":
        bot.unbound.add(main)
    for step in scenario.steps:
        where = f"{scenario.file}.md line {step.line} ({step.says!r})"
        says, user = step.says, main
        moved = re.fullmatch(r"\[\+(\d+)([mhd])\]", says)
        if moved:
            amount, unit = int(moved[1]), {"m": "minutes", "h": "hours", "d": "days"}[moved[2]]
            bot.now = bot.now + timedelta(**{unit: amount})
            continue
        if says == "[visits]":
            async with UnitOfWork(bot.sessions) as uow:
                await generate_visits(uow, bot.now.astimezone(TZ).date(), bot.now)
                await uow.commit()
            continue
        if says.startswith("@staff "):
            user, says = "staff", says.removeprefix("@staff ")
            if user not in bot.bound:
                await _bind_staff(bot, user)
        someone = re.match(r"@(\d+)\s+(.*)", says)
        if someone:
            user, says = f"u{someone[1]}", someone[2]
            if user not in bot.bound:
                await bot.bind(user, int(someone[1]))
        text = "" if says == "(empty)" else says
        response = await bot.say(user, text, unbound=user in bot.unbound)
        said = texts_of(response)
        assert not {"{", "}"} & set(said), f"{where}: a placeholder left unfilled:\n{said}"
        assert response.replies, f"{where}: no reply at all"
        for fragment in step.contains:
            if fragment.startswith("!"):
                assert fragment[1:] not in said, f"{where}: {fragment[1:]!r} in\n{said}"
            else:
                assert fragment in said, f"{where}: {fragment!r} not in\n{said}"
        for check in step.then:
            await _check(bot, user, response, check, where)
