"""The retiree's (or a bound family member's) own questions: "我的服务计划", "我的联系人是谁
/ 电话多少", "我的家庭医生". Personal data only to an account bound to the person (a
pending or unbound one never reaches here: bot/routing.py; checked again below)."""

from __future__ import annotations

from handlers import texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.wording import format_date, menu_reply

__all__ = ["my_contact", "my_doctor", "my_plan"]

_OPTIONS = (
    ("my_plan", texts.CARE_OPTION_PLAN),
    ("my_contact", texts.CARE_OPTION_CONTACT),
    ("my_doctor", texts.CARE_OPTION_DOCTOR),
)


def _bound(ctx: Ctx) -> bool:
    """The writer's account is bound (proven) to the person asked about."""
    account, person = ctx.account, ctx.person
    return (
        account is not None and person is not None and account.active
        and account.person_id == person.id and account.role in {"retiree", "family"}
    )  # fmt: skip


def _whose(ctx: Ctx) -> str:
    """您 to the retiree; the retiree's name to a family member."""
    if ctx.account is not None and ctx.account.role == "family" and ctx.person is not None:
        return ctx.person.name
    return texts.CARE_SELF


def _reply(lines: list[str], asked: str) -> list[Reply]:
    """At most three lines, then the other two questions and a person."""
    options = [Option(label, payload(intent)) for intent, label in _OPTIONS if intent != asked]
    options.append(Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")))
    return [Reply("\n".join(lines[:3]), tuple(options))]


def _refused(ctx: Ctx) -> list[Reply]:
    return [menu_reply(texts.RECORDS_NONE, ctx.config)]


async def my_plan(ctx: Ctx) -> list[Reply]:
    """How many items the plan has, the next one (when, what, whose), and the others."""
    if not _bound(ctx) or ctx.person is None:
        return _refused(ctx)
    whose = _whose(ctx)
    items = await ctx.uow.care.items(ctx.person.id)
    if not items:
        return _reply(texts.CARE_PLAN_NONE.format(whose=whose).splitlines(), "my_plan")
    first = items[0]
    lines = [
        texts.CARE_PLAN_HEAD.format(whose=whose, n=len(items)),
        texts.CARE_PLAN_NEXT.format(
            day=format_date(first.next_due),
            what=texts.CARE_CADENCES.get(first.cadence, first.cadence),
            owner=texts.CARE_OWNERS.get(first.owner, first.owner),
        ),
    ]
    others = dict.fromkeys(texts.CARE_CADENCES.get(i.cadence, i.cadence) for i in items[1:])
    if others:
        lines.append(texts.CARE_PLAN_OTHERS.format(others=texts.CARE_SEPARATOR.join(others)))
    return _reply(lines, "my_plan")


async def my_contact(ctx: Ctx) -> list[Reply]:
    """The person's own contact on staff and their work phone."""
    if not _bound(ctx) or ctx.person is None:
        return _refused(ctx)
    whose, hotline = _whose(ctx), ctx.config.hotline
    staff = await ctx.uow.care.contact(ctx.person.id)
    if staff is None:
        text = texts.CARE_CONTACT_NONE.format(whose=whose, hotline=hotline)
    elif staff.phone:
        text = texts.CARE_CONTACT.format(whose=whose, name=staff.name, phone=staff.phone)
    else:
        text = texts.CARE_CONTACT_NO_PHONE.format(whose=whose, name=staff.name, hotline=hotline)
    return _reply(text.splitlines(), "my_contact")


async def my_doctor(ctx: Ctx) -> list[Reply]:
    """The family doctor of the latest contract: who, where, the phone, until when."""
    if not _bound(ctx) or ctx.person is None:
        return _refused(ctx)
    whose = _whose(ctx)
    contracts = await ctx.uow.care.contracts(ctx.person.id)
    if not contracts:
        return _reply(texts.CARE_DOCTOR_NONE.format(whose=whose).splitlines(), "my_doctor")
    contract = contracts[0]
    where = texts.CARE_DOCTOR_AT.format(clinic=contract.clinic) if contract.clinic else ""
    lines = [texts.CARE_DOCTOR.format(whose=whose, where=where, doctor=contract.doctor)]
    if contract.phone:
        lines.append(texts.CARE_DOCTOR_PHONE.format(phone=contract.phone))
    until = contract.valid_until
    if until is not None:
        template = texts.CARE_DOCTOR_EXPIRED if until < ctx.today else texts.CARE_DOCTOR_UNTIL
        lines.append(template.format(year=until.year, day=format_date(until)))
    return _reply(lines, "my_doctor")
