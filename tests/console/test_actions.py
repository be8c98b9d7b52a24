"""What staff do in the console, through HTTP, checked in the database afterwards.

Emergencies taken, annotated and closed (the first to take wins, an outcome to close,
the events published after the commit and the person told someone is coming); requests
assigned, moved on and annotated (an escort's retiree told who goes, a cancelled booking's
told why); hand-offs answered through the requester's channel and kept in the transcript;
the roster searched, a file edited (audited by field names, never values) and an account
unbound; bad input of every kind in every field and parameter of every route (never a 5xx
or a trace, nothing written when refused); the audit log filtered, and read-only.

What the app would send to a retiree is observed on the demo's channel: the app's
Notifier keeps what it sends to 'console' accounts in its ``console`` list (bot/notify.py),
so the accounts these tests watch are moved to that channel.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from sqlalchemy import select, text, update

from bot.console.audit import ACTIONS
from bot.console.people import EDITABLE
from bot.console.policies import FIELDS as POLICY_FIELDS
from bot.console.routes import ROUTES
from bot.console.web import MAX_FORM_BYTES
from bot.jobs import Jobs
from handlers import texts
from handlers.base import TZ, Reply
from handlers.workbench import ALERT_OUTCOMES, MAX_REPLY, STATES
from storage.models import (
    Activity,
    Alert,
    AlertStep,
    AuditEntry,
    Broadcast,
    BroadcastRecipient,
    ChannelAccount,
    MessageRecord,
    Person,
    Registration,
    RequestStatusChange,
    ServiceRequest,
    Staff,
)
from storage.uow import UnitOfWork
from tests.console.conftest import Console, with_activity
from tests.console.test_admissions import seed_admission
from tests.console.test_catalogue import activity_form, seed_catalogue
from tests.console.test_policies import policy_form, seed_policies
from tests.console.test_visits import with_visit

Sent = list[tuple[str, list[Reply]]]


# ------------------------------------------------------------------ browsers
@dataclass
class Browser:
    """A signed-in staff member's browser, with its session's CSRF token at hand."""

    client: httpx.AsyncClient
    token: str

    async def get(self, url: str, **params: str) -> httpx.Response:
        return await self.client.get(url, params=params or None)

    async def post(self, url: str, **form: str) -> httpx.Response:
        return await self.client.post(url, data={"csrf": self.token, **form})


async def browser(console: Console, role: str) -> Browser:
    """Signed in as the seeded staff member of this role; an app error is a response
    (a 500 to assert on), not an exception in the test."""
    client = console.client(raise_errors=False)
    response = await console.login(role, client=client)
    assert response.status_code == 303, (role, response.status_code)
    return Browser(client, await console.csrf(client))


def flash(response: httpx.Response) -> str:
    """What the page says about how the action went."""
    found = re.search(r'<p class="flash [a-z]+" role="status">([^<]*)</p>', response.text)
    return found[1] if found else ""


# ------------------------------------------------------------------ the world
async def rows(console: Console, query: Any) -> list[Any]:
    async with UnitOfWork(console.sessions) as uow:
        return list(await uow.session.scalars(query))


async def one(console: Console, model: Any, ident: int) -> Any:
    async with UnitOfWork(console.sessions) as uow:
        found = await uow.session.get(model, ident)
        assert found is not None, (model, ident)
        return found


async def alert_of(console: Console, request_id: int) -> Alert:
    [found] = await rows(console, select(Alert).where(Alert.request_id == request_id))
    return found


async def steps_of(console: Console, request_id: int) -> list[AlertStep]:
    alert = await alert_of(console, request_id)
    return await rows(
        console, select(AlertStep).where(AlertStep.alert_id == alert.id).order_by(AlertStep.id)
    )


async def history(console: Console, request_id: int) -> list[RequestStatusChange]:
    return await rows(
        console,
        select(RequestStatusChange)
        .where(RequestStatusChange.request_id == request_id)
        .order_by(RequestStatusChange.id),
    )


async def change(console: Console, model: Any, ident: int, **values: Any) -> None:
    """Change a row directly (as another process, or the chat, would)."""
    async with UnitOfWork(console.sessions) as uow:
        await uow.session.execute(update(model).where(model.id == ident).values(**values))
        await uow.commit()


async def add(console: Console, *items: Any) -> list[int]:
    async with UnitOfWork(console.sessions) as uow:
        for item in items:
            uow.session.add(item)
            await uow.session.flush()
        ids = [item.id for item in items]
        await uow.commit()
    return ids


async def add_account(
    console: Console,
    external_id: str,
    *,
    channel: str = "console",
    person_id: int | None = None,
    role: str = "retiree",
    staff_id: int | None = None,
) -> int:
    now = datetime.now(UTC)
    [account] = await add(
        console,
        ChannelAccount(
            channel=channel,
            external_id=external_id,
            role=role,
            person_id=person_id,
            staff_id=staff_id,
            active=True,
            created_at=now,
            bound_at=now if person_id else None,
        ),
    )
    return account


async def add_request(
    console: Console,
    kind: str,
    *,
    account_id: int | None,
    person_id: int | None,
    status: str = "pending",
    details: dict[str, Any] | None = None,
    day: date | None = None,
    part: str | None = None,
) -> int:
    async with UnitOfWork(console.sessions) as uow:
        made = await uow.requests.create(
            kind,
            now=datetime.now(UTC),
            actor=f"account:{account_id}",
            person_id=person_id,
            status=status,
            details=details,
            account_id=account_id,
            scheduled_date=day,
            scheduled_time=part,
        )
        await uow.commit()
        return made.id


async def add_person(console: Console, name: str, **values: Any) -> int:
    now = datetime.now(UTC)
    fields = {"category": "tuixiu", "lives_alone": False, **values}
    [person] = await add(console, Person(name=name, created_at=now, updated_at=now, **fields))
    return person


def heard(console: Console) -> Sent:
    """What the app sends to accounts on the demo's 'console' channel, from now on."""
    notifier = console.app.state.jobs.notifier
    notifier.console = []
    return notifier.console


async def to_console_channel(console: Console, account_id: int) -> str:
    """Move an account to the demo's channel (whose sends ``heard`` keeps)."""
    await change(console, ChannelAccount, account_id, channel="console")
    return (await one(console, ChannelAccount, account_id)).external_id


def texts_to(sent: Sent, user: str) -> list[str]:
    return [reply.text for who, replies in sent if who == user for reply in replies]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """Wait for what a background job does (the in-memory broker runs jobs as tasks)."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - a job's effect is in the database
            await asyncio.sleep(0.02)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch, console: Console) -> list[tuple[str, str]]:
    """The events the app dispatches to its jobs, each with the status its alert had then,
    as another connection sees it (so: what was committed before the dispatch)."""
    seen: list[tuple[str, str]] = []
    original = Jobs.dispatch

    async def watching(self: Jobs, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            status = ""
            if event.get("alert_id"):
                async with UnitOfWork(console.sessions) as uow:
                    alert = await uow.alerts.get(int(event["alert_id"]))
                    status = alert.status if alert else "missing"
            seen.append((str(event.get("type")), status))
        await original(self, events)

    monkeypatch.setattr(Jobs, "dispatch", watching)
    return seen


# ================================================================ emergencies
async def test_taking_an_emergency(console: Console, published: list[tuple[str, str]]) -> None:
    sos, duty_id = console.ids["alert"], console.staff["duty"]
    user = await to_console_channel(console, console.ids["account"])
    sent = heard(console)
    duty = await browser(console, "duty")

    response = await duty.post(f"/console/alerts/{sos}/take")

    assert response.status_code == 200, response.text
    assert flash(response) == texts.CONSOLE_ALERT_TAKEN.format(id=sos)
    alert = await alert_of(console, sos)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", duty_id)
    request = await one(console, ServiceRequest, sos)
    assert (request.status, request.assigned_staff_id) == ("assigned", duty_id)
    assert (await history(console, sos))[-1].to_status == "assigned"
    steps = await steps_of(console, sos)
    assert [(s.kind, s.staff_id) for s in steps][:2] == [
        ("raised", None),
        ("acknowledged", duty_id),
    ]
    [taken] = await console.audit("alert_taken")
    assert (taken.actor, taken.target_type, taken.target_id) == (
        f"staff:{duty_id}",
        "alert",
        str(alert.id),
    )
    assert taken.details == {"via": "console"}
    # AlertAcknowledged is published once the take is committed; its job tells the person.
    assert published == [("alert_acknowledged", "acknowledged")]

    async def told() -> bool:
        return any("已经接手" in said for said in texts_to(sent, user))

    await eventually(told)
    assert texts_to(sent, user) == [texts.ALERT_TOLD_PERSON.format(staff="duty测试")]
    assert "told_taken" in [s.kind for s in await steps_of(console, sos)]


async def test_the_second_taker_is_told_who_has_it(console: Console) -> None:
    sos = console.ids["alert"]
    duty, clerk = await browser(console, "duty"), await browser(console, "clerk")
    assert (await duty.post(f"/console/alerts/{sos}/take")).status_code == 200

    late = await clerk.post(f"/console/alerts/{sos}/take")

    assert late.status_code == 409
    assert flash(late) == texts.ALERT_TAKEN_BY_OTHER.format(id=sos, staff="duty测试")
    assert "duty测试 已接手" in late.text  # and the page's status says it too
    alert = await alert_of(console, sos)
    assert alert.acknowledged_by == console.staff["duty"]
    assert (await one(console, ServiceRequest, sos)).assigned_staff_id == console.staff["duty"]
    refused_steps = [s for s in await steps_of(console, sos) if s.kind == "take_refused"]
    assert [s.staff_id for s in refused_steps] == [console.staff["clerk"]]
    [refused] = await console.audit("alert_take_refused")
    assert refused.actor == f"staff:{console.staff['clerk']}"
    assert len(await console.audit("alert_taken")) == 1


async def test_closing_needs_one_of_the_outcomes(console: Console) -> None:
    sos = console.ids["alert"]
    leader = await browser(console, "leader")
    url = f"/console/alerts/{sos}/close"
    before = await console.snapshot()
    for outcome in ("", "bogus", "HELPED", "helped ", "已处置", "resolved", "\x00helped!"):
        response = await leader.post(url, outcome=outcome, note="已送医")
        assert response.status_code == 409, outcome
        assert flash(response) == texts.CONSOLE_OUTCOME_NEEDED, outcome
    missing = await leader.post(url, note="已送医")  # no outcome at all
    assert missing.status_code == 409
    assert flash(missing) == texts.CONSOLE_OUTCOME_NEEDED
    for note in ("", "   ", "\x00\x1f"):  # and a word on what happened
        unsaid = await leader.post(url, outcome="helped", note=note)
        assert unsaid.status_code == 409
        assert flash(unsaid) == texts.CONSOLE_CLOSE_NOTE_NEEDED
    assert await console.snapshot() == before
    assert (await alert_of(console, sos)).status == "open"
    assert set(ALERT_OUTCOMES) == set(texts.CONSOLE_OUTCOMES)  # the page offers all of them


async def test_closing_as_a_false_alarm(console: Console) -> None:
    sos, leader_id = console.ids["alert"], console.staff["leader"]
    leader = await browser(console, "leader")

    response = await leader.post(
        f"/console/alerts/{sos}/close", outcome="false_alarm", note=" 本人按错了 "
    )

    assert response.status_code == 200, response.text
    assert flash(response) == texts.ALERT_RESOLVED.format(id=sos)
    said = "误报：本人按错了"
    request = await one(console, ServiceRequest, sos)
    assert request.status == "resolved"
    assert request.details == {"text": "救命 我摔倒了", "outcome": "false_alarm"}
    assert request.assigned_staff_id == leader_id  # nobody had taken it: the closer has it
    last_change = (await history(console, sos))[-1]
    assert (last_change.from_status, last_change.to_status, last_change.note) == (
        "open",
        "resolved",
        said,
    )
    alert = await alert_of(console, sos)
    assert alert.status == "resolved"
    assert alert.resolved_at is not None
    last = (await steps_of(console, sos))[-1]
    assert (last.kind, last.staff_id, last.note) == ("resolved", leader_id, said)
    [closed] = await console.audit("alert_resolved")
    assert closed.details == {"outcome": "false_alarm", "via": "console"}
    assert said in (await leader.get(f"/console/alerts/{sos}")).text
    board = await leader.get("/console/board")
    assert f"/console/alerts/{sos}" not in board.text  # off the board

    before = await console.snapshot()
    again = await leader.post(f"/console/alerts/{sos}/close", outcome="helped", note="再办结")
    assert again.status_code == 409
    assert flash(again) == texts.ALERT_ALREADY_CLOSED.format(id=sos)
    retaken = await leader.post(f"/console/alerts/{sos}/take")
    assert retaken.status_code == 409
    assert flash(retaken) == texts.ALERT_ALREADY_CLOSED.format(id=sos)
    assert await console.snapshot() == before


async def test_events_are_published_after_the_commit(
    console: Console, published: list[tuple[str, str]]
) -> None:
    sos = console.ids["alert"]
    duty = await browser(console, "duty")
    assert (await duty.post(f"/console/alerts/{sos}/take")).status_code == 200
    closed = await duty.post(f"/console/alerts/{sos}/close", outcome="helped", note="已送医")
    assert closed.status_code == 200
    # Each event went out once, and only when another connection could see its commit.
    assert published == [("alert_acknowledged", "acknowledged"), ("alert_resolved", "resolved")]
    # A refused action publishes nothing.
    assert (await duty.post(f"/console/alerts/{sos}/close", outcome="helped")).status_code == 409
    assert len(published) == 2


async def test_a_note_on_an_emergency_is_one_of_its_steps(console: Console) -> None:
    sos, clerk_id = console.ids["alert"], console.staff["clerk"]
    clerk = await browser(console, "clerk")
    changes = len(await history(console, sos))

    response = await clerk.post(f"/console/alerts/{sos}/note", note="已电话联系女儿，正赶过去")

    assert response.status_code == 200
    assert flash(response) == texts.CONSOLE_NOTED.format(id=sos)
    last = (await steps_of(console, sos))[-1]
    assert (last.kind, last.staff_id, last.note) == ("note", clerk_id, "已电话联系女儿，正赶过去")
    assert len(await history(console, sos)) == changes  # a step, not a status line
    assert (await alert_of(console, sos)).status == "open"  # a note takes nothing
    [noted] = await console.audit("request_noted")
    assert (noted.actor, noted.target_id) == (f"staff:{clerk_id}", str(sos))
    assert "已电话联系女儿，正赶过去" in response.text

    before = await console.snapshot()
    for empty in ("", "   ", "\x00\x01"):
        refused = await clerk.post(f"/console/alerts/{sos}/note", note=empty)
        assert refused.status_code == 409
        assert flash(refused) == texts.CONSOLE_NOTE_EMPTY
    assert await console.snapshot() == before


async def test_a_board_note_on_a_request_that_is_no_emergency_changes_nothing(
    console: Console,
) -> None:
    leader = await browser(console, "leader")
    before = await console.snapshot()
    response = await leader.post(f"/console/alerts/{console.ids['request']}/note", note="备注")
    assert response.status_code == 404
    assert await console.snapshot() == before


# ================================================================= requests
async def test_assigning_a_request(console: Console) -> None:
    handoff, clerk_id = console.ids["request"], console.staff["clerk"]
    leader = await browser(console, "leader")

    response = await leader.post(f"/console/requests/{handoff}/assign", staff=str(clerk_id))

    assert response.status_code == 200, response.text
    assert flash(response) == texts.CONSOLE_ASSIGNED.format(id=handoff, staff="clerk测试")
    assert re.search(r'id="request-owner">clerk测试<', response.text)
    request = await one(console, ServiceRequest, handoff)
    assert (request.status, request.assigned_staff_id) == ("assigned", clerk_id)
    last = (await history(console, handoff))[-1]
    assert (last.from_status, last.to_status, last.note, last.actor) == (
        "pending",
        "assigned",
        texts.CONSOLE_ASSIGNED_NOTE.format(staff="clerk测试"),
        f"staff:{console.staff['leader']}",
    )
    [assigned] = await console.audit("request_assigned")
    assert (assigned.target_type, assigned.target_id) == ("service_request", str(handoff))
    assert assigned.details == {"staff": clerk_id}
    # To someone else: still assigned, the history names the new owner.
    again = await leader.post(
        f"/console/requests/{handoff}/assign", staff=str(console.staff["duty"])
    )
    assert again.status_code == 200
    assert (await one(console, ServiceRequest, handoff)).assigned_staff_id == console.staff["duty"]
    assert (await history(console, handoff))[-1].note == "交给duty测试"


async def test_assigning_to_no_one_who_can_work_is_refused(console: Console) -> None:
    handoff = console.ids["request"]
    [gone] = await add(
        console, Staff(name="已离职", role="clerk", active=False, created_at=datetime.now(UTC))
    )
    closed = await add_request(
        console, "handoff", account_id=console.ids["account"], person_id=None, status="done"
    )
    leader = await browser(console, "leader")
    before = await console.snapshot()
    admin = str(console.staff["admin"])  # the IT person is given no requests
    for staff in (str(gone), admin, "999999", "0", "-1", "abc", "", "1e3", " "):
        response = await leader.post(f"/console/requests/{handoff}/assign", staff=staff)
        assert response.status_code == 409, staff
        assert flash(response) == texts.CONSOLE_NO_SUCH_STAFF, staff
    clerk = str(console.staff["clerk"])
    emergency = await leader.post(f"/console/requests/{console.ids['alert']}/assign", staff=clerk)
    assert emergency.status_code == 409
    assert flash(emergency) == texts.CONSOLE_ALERT_ON_BOARD.format(id=console.ids["alert"])
    done = await leader.post(f"/console/requests/{closed}/assign", staff=clerk)
    assert done.status_code == 409
    assert flash(done) == texts.REQUEST_ALREADY_CLOSED.format(id=closed, status="已完成")
    assert await console.snapshot() == before


async def test_an_escort_assigned_tells_the_retiree_who_goes_and_where(console: Console) -> None:
    person = console.ids["person"]
    account = await add_account(console, "console-zhang", person_id=person)
    escort = await add_request(
        console,
        "medical_escort",
        account_id=account,
        person_id=person,
        details={"hospital": "苏州大学附属第一医院", "department": "心内科"},
        day=date(2026, 12, 21),
        part="morning",
    )
    await console.update_staff(console.staff["duty"], phone="13700001111")
    sent = heard(console)
    clerk = await browser(console, "clerk")

    response = await clerk.post(
        f"/console/requests/{escort}/assign", staff=str(console.staff["duty"])
    )

    assert response.status_code == 200
    assert texts.CONSOLE_NOT_DELIVERED not in response.text
    [notice] = texts_to(sent, "console-zhang")
    assert "duty测试" in notice
    assert "苏州大学附属第一医院" in notice
    assert "13700001111" in notice
    assert "12月21日" in notice
    assert len(sent) == 1  # the retiree, nobody else
    request = await one(console, ServiceRequest, escort)
    assert (request.status, request.assigned_staff_id) == ("assigned", console.staff["duty"])
    # A hand-off assigned tells nobody.
    handoff = console.ids["request"]
    await clerk.post(f"/console/requests/{handoff}/assign", staff=str(console.staff["duty"]))
    assert len(sent) == 1


async def test_a_notice_that_cannot_be_delivered_is_said_on_the_page(console: Console) -> None:
    """The seeded account is on Telegram, which these tests do not configure."""
    escort = await add_request(
        console,
        "medical_escort",
        account_id=console.ids["account"],
        person_id=console.ids["person"],
        details={"hospital": "市立医院"},
    )
    leader = await browser(console, "leader")
    response = await leader.post(
        f"/console/requests/{escort}/assign", staff=str(console.staff["clerk"])
    )
    assert response.status_code == 200  # assigned all the same
    assert texts.CONSOLE_NOT_DELIVERED in flash(response)
    assert (await one(console, ServiceRequest, escort)).assigned_staff_id == console.staff["clerk"]


async def test_moving_a_request_on(console: Console) -> None:
    handoff, leader_id = console.ids["request"], console.staff["leader"]
    other = await add_request(
        console, "hospital_visit", account_id=None, person_id=console.ids["person"]
    )
    leader = await browser(console, "leader")

    booked = await leader.post(f"/console/requests/{other}/state", status="booked", note="周三去")
    assert booked.status_code == 200
    assert flash(booked) == texts.CONSOLE_MOVED.format(id=other, status="已预约")
    done = await leader.post(f"/console/requests/{handoff}/state", status="done", note="已电话解决")
    assert done.status_code == 200
    request = await one(console, ServiceRequest, handoff)
    assert (request.status, request.assigned_staff_id) == ("done", leader_id)
    last = (await history(console, handoff))[-1]
    assert (last.from_status, last.to_status, last.note) == ("pending", "done", "已电话解决")
    cancelled = await leader.post(
        f"/console/requests/{other}/state", status="cancelled", note="家属自己去了"
    )
    assert cancelled.status_code == 200
    assert (await one(console, ServiceRequest, other)).status == "cancelled"
    last = (await history(console, other))[-1]
    assert (last.from_status, last.to_status, last.note) == ("booked", "cancelled", "家属自己去了")
    moved = await console.audit("request_moved")
    assert [(e.target_id, e.details) for e in moved] == [
        (str(other), {"status": "booked"}),
        (str(handoff), {"status": "done"}),
        (str(other), {"status": "cancelled"}),
    ]

    before = await console.snapshot()
    for closed, status in ((handoff, "cancelled"), (handoff, "pending"), (other, "done")):
        refused = await leader.post(f"/console/requests/{closed}/state", status=status)
        assert refused.status_code == 409, (closed, status)
        assert "已经办结了" in flash(refused)
    assert await console.snapshot() == before


async def test_an_invalid_state_is_refused(console: Console) -> None:
    handoff, sos = console.ids["request"], console.ids["alert"]
    leader = await browser(console, "leader")
    before = await console.snapshot()
    for status in ("resolved", "closed", "open", "bogus", "", "DONE", " done", "已完成"):
        assert status not in STATES
        response = await leader.post(f"/console/requests/{handoff}/state", status=status)
        assert response.status_code == 409, status
        assert flash(response) == texts.CONSOLE_BAD_STATE, status
    emergency = await leader.post(f"/console/requests/{sos}/state", status="done")
    assert emergency.status_code == 409
    assert flash(emergency) == texts.CONSOLE_ALERT_ON_BOARD.format(id=sos)
    same = await leader.post(f"/console/requests/{handoff}/state", status="pending")
    assert same.status_code == 200  # where it is already: nothing to do, nothing written
    assert flash(same) == texts.CONSOLE_UNCHANGED
    assert await console.snapshot() == before
    # An emergency's page is the board's.
    page = await leader.get(f"/console/requests/{sos}")
    assert (page.status_code, page.headers["location"]) == (303, f"/console/alerts/{sos}")
    assert (await one(console, ServiceRequest, handoff)).status == "pending"


async def test_a_cancelled_booking_tells_the_retiree_why(console: Console) -> None:
    person = console.ids["person"]
    account = await add_account(console, "console-home", person_id=person)
    booking = await add_request(
        console,
        "eldercare",
        account_id=account,
        person_id=person,
        status="booked",
        details={"service": "cleaning"},
        day=date(2026, 12, 24),
        part="afternoon",
    )
    sent = heard(console)
    clerk = await browser(console, "clerk")
    before = await console.snapshot()
    for reason in ("", "   ", "\x00"):  # the retiree is told why: no reason, no cancelling
        refused = await clerk.post(
            f"/console/requests/{booking}/state", status="cancelled", note=reason
        )
        assert refused.status_code == 409
        assert flash(refused) == texts.CONSOLE_CANCEL_REASON_NEEDED
    assert sent == []
    assert await console.snapshot() == before

    response = await clerk.post(
        f"/console/requests/{booking}/state", status="cancelled", note="服务人员生病，改天再约"
    )

    assert response.status_code == 200
    [notice] = texts_to(sent, "console-home")
    assert "已由工作人员取消" in notice
    assert "服务人员生病，改天再约" in notice
    assert f"编号 {booking}" in notice
    assert "上门服务" in notice
    assert "12月24日" in notice
    last = (await history(console, booking))[-1]
    assert (last.from_status, last.to_status, last.note) == (
        "booked",
        "cancelled",
        "服务人员生病，改天再约",
    )
    [moved] = await console.audit("request_moved")
    assert moved.details == {"status": "cancelled"}


async def test_a_note_on_a_request_is_a_line_of_its_history(console: Console) -> None:
    handoff, clerk_id = console.ids["request"], console.staff["clerk"]
    clerk = await browser(console, "clerk")

    response = await clerk.post(f"/console/requests/{handoff}/note", note="已回电，老人说明天再聊")

    assert response.status_code == 200
    assert flash(response) == texts.CONSOLE_NOTED.format(id=handoff)
    last = (await history(console, handoff))[-1]
    assert (last.from_status, last.to_status) == ("pending", "pending")
    assert (last.note, last.actor) == ("已回电，老人说明天再聊", f"staff:{clerk_id}")
    assert (await one(console, ServiceRequest, handoff)).status == "pending"
    assert "备注" in response.text
    assert "已回电，老人说明天再聊" in response.text
    [noted] = await console.audit("request_noted")
    assert noted.target_id == str(handoff)
    long = await clerk.post(f"/console/requests/{handoff}/note", note="长" * 800)
    assert long.status_code == 200
    assert (await history(console, handoff))[-1].note == "长" * 500  # MAX_NOTE

    before = await console.snapshot()
    for empty in ("", "  ", "\x00"):
        refused = await clerk.post(f"/console/requests/{handoff}/note", note=empty)
        assert refused.status_code == 409
        assert flash(refused) == texts.CONSOLE_NOTE_EMPTY
    missing = await clerk.post(f"/console/requests/{handoff}/note")
    assert missing.status_code == 409
    gone = await clerk.post("/console/requests/999999/note", note="没有这件事")
    assert gone.status_code == 404
    assert await console.snapshot() == before


# ================================================================ hand-offs
async def test_answering_a_handoff(console: Console) -> None:
    handoff, person, account = (console.ids[k] for k in ("request", "person", "account"))
    leader_id = console.staff["leader"]
    user = await to_console_channel(console, account)
    sent = heard(console)
    leader = await browser(console, "leader")

    response = await leader.post(
        f"/console/requests/{handoff}/reply", text=" 您好，明天上午给您回电。 "
    )

    assert response.status_code == 200, response.text
    assert flash(response) == texts.CONSOLE_REPLIED.format(id=handoff)
    said = texts.STAFF_ANSWER.format(staff="leader测试", text="您好，明天上午给您回电。")
    assert texts_to(sent, user) == [said]
    [logged] = await rows(console, select(MessageRecord))
    assert (logged.direction, logged.kind, logged.text) == ("out", "staff", said)
    assert (logged.person_id, logged.account_id, logged.channel) == (person, account, "console")
    request = await one(console, ServiceRequest, handoff)
    assert (request.status, request.assigned_staff_id) == ("assigned", leader_id)
    last = (await history(console, handoff))[-1]
    assert (last.from_status, last.to_status, last.note) == (
        "pending",
        "assigned",
        "您好，明天上午给您回电。",
    )
    [answered] = await console.audit("handoff_answered")
    assert (answered.actor, answered.target_id) == (f"staff:{leader_id}", str(handoff))
    timeline = await leader.get(f"/console/people/{person}")
    assert f"回复：{said}" in timeline.text
    # A second answer: one more message, still assigned, a note in the history.
    await leader.post(f"/console/requests/{handoff}/reply", text="已经帮您约好了。")
    assert len(texts_to(sent, user)) == 2
    last = (await history(console, handoff))[-1]
    assert (last.from_status, last.to_status, last.note) == (
        "assigned",
        "assigned",
        "已经帮您约好了。",
    )


async def test_an_answer_that_cannot_go_is_refused(console: Console) -> None:
    handoff = console.ids["request"]
    nobody = await add_request(console, "handoff", account_id=None, person_id=console.ids["person"])
    leader = await browser(console, "leader")
    url = f"/console/requests/{handoff}/reply"
    before = await console.snapshot()
    for empty in ("", "   ", "\x00\x07"):
        refused = await leader.post(url, text=empty)
        assert refused.status_code == 409
        assert flash(refused) == texts.CONSOLE_REPLY_EMPTY
    assert (await leader.post(url)).status_code == 409  # no field at all
    too_long = await leader.post(url, text="字" * (MAX_REPLY + 1))
    assert too_long.status_code == 409
    assert flash(too_long) == texts.CONSOLE_REPLY_TOO_LONG.format(limit=MAX_REPLY)
    huge = await leader.post(url, text="字" * 1500)  # far past it
    assert huge.status_code == 409
    no_account = await leader.post(f"/console/requests/{nobody}/reply", text="您好")
    assert no_account.status_code == 409
    assert flash(no_account) == texts.CONSOLE_NO_CHANNEL
    assert "请打电话联系" in no_account.text
    assert await console.snapshot() == before

    await change(console, ChannelAccount, console.ids["account"], active=False)  # blocked us
    before = await console.snapshot()
    inactive = await leader.post(url, text="您好")
    assert inactive.status_code == 409
    assert flash(inactive) == texts.CONSOLE_NO_CHANNEL
    assert await console.snapshot() == before

    await change(console, ChannelAccount, console.ids["account"], active=True)
    await to_console_channel(console, console.ids["account"])
    exactly = await leader.post(url, text="字" * MAX_REPLY)  # the limit itself goes
    assert exactly.status_code == 200


async def test_an_answer_does_not_go_to_an_unbound_account(console: Console) -> None:
    handoff, account = console.ids["request"], console.ids["account"]
    user = await to_console_channel(console, account)
    sent = heard(console)
    clerk = await browser(console, "clerk")
    assert (await clerk.post(f"/console/accounts/{account}/revoke")).status_code == 200
    before = await console.snapshot()
    response = await clerk.post(f"/console/requests/{handoff}/reply", text="您的体检结果出来了")
    assert response.status_code == 409
    assert flash(response) == texts.CONSOLE_NO_CHANNEL
    assert texts_to(sent, user) == []
    assert await console.snapshot() == before


async def test_an_answer_does_not_take_an_emergency_behind_the_boards_back(
    console: Console,
) -> None:
    sos = console.ids["alert"]
    clerk = await browser(console, "clerk")
    await clerk.post(f"/console/requests/{sos}/reply", text="别急，我们马上到")
    request, alert = await one(console, ServiceRequest, sos), await alert_of(console, sos)
    # Whatever the answer did, the request and its alert must agree on who has it.
    assert (request.status == "assigned") == (alert.status == "acknowledged")
    assert request.assigned_staff_id == alert.acknowledged_by


async def test_the_wechat_window_is_shown_on_a_handoff(console: Console) -> None:
    person = console.ids["person"]
    wechat = await add_account(console, "oWx-li-001", channel="wechat", person_id=person)
    handoff = await add_request(console, "handoff", account_id=wechat, person_id=person)
    leader = await browser(console, "leader")
    url = f"/console/requests/{handoff}"
    opened, closed = "微信 48 小时内", "已超过微信 48 小时"

    page = await leader.get(url)  # never wrote: no window
    assert closed in page.text
    assert opened not in page.text
    [message] = await add(
        console,
        MessageRecord(
            channel="wechat",
            external_user_id="oWx-li-001",
            message_id="m-1",
            account_id=wechat,
            person_id=person,
            direction="in",
            kind="text",
            text="我想找人说说",
            created_at=datetime.now(UTC) - timedelta(hours=47),
        ),
    )
    page = await leader.get(url)
    assert opened in page.text
    assert closed not in page.text
    assert "我想找人说说" in page.text  # the conversation, for context
    await change(
        console, MessageRecord, message, created_at=datetime.now(UTC) - timedelta(hours=49)
    )
    page = await leader.get(url)
    assert closed in page.text
    assert opened not in page.text
    # Not WeChat: no window to speak of.
    telegram = await leader.get(f"/console/requests/{console.ids['request']}")
    assert opened not in telegram.text
    assert closed not in telegram.text


# =================================================================== people
def found_ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [int(i) for i in re.findall(r'<td data-label="档案号">(\d+)</td>', response.text)]


async def test_searching_the_roster(console: Console) -> None:
    zhang = console.ids["person"]
    async with UnitOfWork(console.sessions) as uow:
        seeded = await uow.people.get(zhang)
        assert seeded is not None
        seeded.phone = "13800138000"
        await uow.commit()
    li = await add_person(console, "李秀英", district="吴中区", phone="13912345678")
    jun = await add_person(console, "张建军", district="姑苏区")
    clerk = await browser(console, "clerk")

    assert sorted(found_ids(await clerk.get("/console/people", q="建"))) == sorted([zhang, jun])
    assert found_ids(await clerk.get("/console/people", q="秀")) == [li]
    assert found_ids(await clerk.get("/console/people", q="13800138000")) == [zhang]
    assert found_ids(await clerk.get("/console/people", q="138-0013-8000")) == [zhang]
    assert found_ids(await clerk.get("/console/people", q="+86 139 1234 5678")) == [li]
    assert found_ids(await clerk.get("/console/people", q="138001380")) == []  # not a prefix
    assert found_ids(await clerk.get("/console/people", q=str(li))) == [li]  # file number
    assert found_ids(await clerk.get("/console/people", district="吴中区")) == [li]
    both = await clerk.get("/console/people", q="张", district="姑苏区")
    assert sorted(found_ids(both)) == sorted([zhang, jun])
    assert found_ids(await clerk.get("/console/people", q="张", district="吴中区")) == []
    assert found_ids(await clerk.get("/console/people", q="%")) == []  # LIKE is escaped
    assert found_ids(await clerk.get("/console/people", q="_")) == []
    listed = await clerk.get("/console/people", q="13800138000")
    results = listed.text.split('id="people-results"', 1)[1]
    assert "138****8000" in results
    assert "13800138000" not in results  # a list shows phones masked
    # The phone is stored encrypted, and a search keeps no trace of what was looked for.
    async with console.engine.connect() as conn:
        raw = (
            await conn.execute(text("SELECT phone FROM people WHERE id = :id").bindparams(id=zhang))
        ).scalar()
    assert b"13800138000" not in bytes(raw)
    searched = await console.audit("people_searched")
    assert len(searched) == 13  # one a search
    assert all(set(e.details) == {"found"} for e in searched)
    assert "13800138000" not in str([(e.target_id, e.details) for e in searched])


async def test_paging_through_the_roster(console: Console) -> None:
    many = [await add_person(console, f"翻页{i:02d}", district="相城区") for i in range(60)]
    clerk = await browser(console, "clerk")
    first = await clerk.get("/console/people", district="相城区")
    assert "共 60 人" in first.text
    assert len(found_ids(first)) == 50
    assert "offset=50" in first.text
    assert "上一页" not in first.text
    second = await clerk.get("/console/people", district="相城区", offset="50")
    assert len(found_ids(second)) == 10
    assert "上一页" in second.text
    assert "下一页" not in second.text
    assert sorted(found_ids(first) + found_ids(second)) == sorted(many)
    past = await clerk.get("/console/people", district="相城区", offset="500")
    assert found_ids(past) == []


async def test_a_persons_timeline_has_everything_newest_first(
    console: Console, now: datetime
) -> None:
    person, account = console.ids["person"], console.ids["account"]
    handoff, sos = console.ids["request"], console.ids["alert"]
    async with UnitOfWork(console.sessions) as uow:
        request = await uow.requests.get(handoff)
        assert request is not None
        uow.requests.note(request, "约好下周回电", now=now + timedelta(hours=1), actor="staff:1")
        await uow.commit()
    [activity] = await add(
        console,
        Activity(
            title="书法班",
            category="class",
            starts_at=now + timedelta(days=7),
            place="老干部活动中心",
            capacity=20,
            created_at=now,
        ),
    )
    later = now + timedelta(hours=2)
    *_, broadcast = await add(
        console,
        Registration(
            activity_id=activity,
            person_id=person,
            attendee="self",
            status="registered",
            requested_by_account_id=account,
            created_at=later,
            updated_at=later,
        ),
        MessageRecord(
            channel="telegram",
            external_user_id="1001",
            message_id="t-1",
            account_id=account,
            person_id=person,
            direction="in",
            kind="text",
            text="我想问问体检的事",
            created_at=now + timedelta(hours=3),
        ),
        Broadcast(
            text="重阳节慰问通知：请于周五到局里领取慰问品",
            segment={},
            created_by=console.staff["leader"],
            status="done",
            created_at=now + timedelta(hours=4),
            updated_at=now + timedelta(hours=4),
        ),
    )
    await add(
        console,
        BroadcastRecipient(
            broadcast_id=broadcast,
            account_id=account,
            person_id=person,
            channel="telegram",
            status="sent",
            sent_at=now + timedelta(hours=4),
        ),
    )
    duty = await browser(console, "duty")

    page = await duty.get(f"/console/people/{person}")

    assert page.status_code == 200
    timeline = page.text.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    newest_first = [
        "群发通知：重阳节慰问通知",  # +4 h
        "收到：我想问问体检的事",  # +3 h
        "活动 <strong>书法班</strong>",  # +2 h
        f"编号 {handoff}：备注 · 约好下周回电",  # +1 h
        f'href="/console/alerts/{sos}">编号 {sos}</a>',  # +1 min
    ]
    places = [timeline.find(line) for line in newest_first]
    assert -1 not in places, list(zip(newest_first, places, strict=True))
    assert places == sorted(places)
    assert f'href="/console/requests/{handoff}">编号 {handoff}</a>' in timeline  # at `now`
    assert f"紧急求助 编号 {sos}：发起" in timeline  # the alert's first step
    times = re.findall(r"<time>([^<]+)</time>", timeline)
    assert len(times) >= 7
    assert times == sorted(times, reverse=True)
    [viewed] = await console.audit("person_viewed")
    assert (viewed.actor, viewed.target_id) == (f"staff:{console.staff['duty']}", str(person))


def file_form(person: Person, **changes: str) -> dict[str, str]:
    """The edit form as the page posts it: every field with its value, and the box."""
    form = {name: str(getattr(person, name) or "") for name in EDITABLE}
    form["lives_alone_shown"] = "1"
    if person.lives_alone:
        form["lives_alone"] = "1"
    return {**form, **changes}


async def test_editing_a_file_saves_and_audits_only_what_changed(console: Console) -> None:
    person_id, clerk_id = console.ids["person"], console.staff["clerk"]
    clerk = await browser(console, "clerk")
    person = await one(console, Person, person_id)
    url = f"/console/people/{person_id}/edit"

    response = await clerk.post(
        url, **file_form(person, phone="13912345678", health_notes="糖尿病，需要按时打胰岛素")
    )

    assert response.status_code == 200, response.text
    assert flash(response) == "已保存。"
    after = await one(console, Person, person_id)
    assert after.phone == "13912345678"
    assert after.health_notes == "糖尿病，需要按时打胰岛素"
    for name in ("address", "district", "notes", "emergency_contact", "emergency_phone"):
        assert getattr(after, name) == getattr(person, name), name
    assert after.lives_alone is False
    assert after.updated_at > person.updated_at
    [edited] = await console.audit("person_edited")
    assert (edited.actor, edited.target_type, edited.target_id) == (
        f"staff:{clerk_id}",
        "person",
        str(person_id),
    )
    assert edited.details == {"fields": ["phone", "health_notes"]}
    # The new phone is found through its blind index.
    assert found_ids(await clerk.get("/console/people", q="13912345678")) == [person_id]

    # The same form again: nothing changed, nothing audited.
    same = await clerk.post(url, **file_form(after))
    assert flash(same) == "没有改动。"
    assert len(await console.audit("person_edited")) == 1
    # Only the fields posted are touched; a field emptied is emptied.
    await clerk.post(url, notes="搬去女儿家住了")
    await clerk.post(url, health_notes="   ")
    # An empty box does not blank what the board relies on (the number to call at 3 a.m.).
    kept = await clerk.post(url, address="   ", phone="", emergency_phone=" ")
    assert flash(kept) == "没有改动。"
    before = await console.snapshot()
    wrong = await clerk.post(url, phone="12345", notes="不该保存")  # nothing saved at all
    assert wrong.status_code == 409
    assert flash(wrong).startswith("没有保存")
    assert await console.snapshot() == before
    last = await one(console, Person, person_id)
    assert (last.notes, last.health_notes) == ("搬去女儿家住了", None)
    assert (last.address, last.phone) == ("示范路1号", "13912345678")
    assert [e.details for e in await console.audit("person_edited")] == [
        {"fields": ["phone", "health_notes"]},
        {"fields": ["notes"]},
        {"fields": ["health_notes"]},
    ]
    # No value ever reaches the audit log, in any column.
    async with console.engine.connect() as conn:
        dumped = str([tuple(row) for row in await conn.execute(select(AuditEntry))])
    for secret in ("13912345678", "1234", "糖尿病", "胰岛素", "搬去女儿家", "示范路"):
        assert secret not in dumped, secret


async def test_lives_alone_toggles(console: Console) -> None:
    person_id = console.ids["person"]
    leader = await browser(console, "leader")
    url = f"/console/people/{person_id}/edit"
    await leader.post(url, lives_alone_shown="1", lives_alone="1")
    assert (await one(console, Person, person_id)).lives_alone is True
    assert "独居" in (await leader.get(f"/console/people/{person_id}")).text
    await leader.post(url, notes="x")  # the box was not on the form: left alone
    assert (await one(console, Person, person_id)).lives_alone is True
    await leader.post(url, lives_alone_shown="1")  # shown and unticked
    assert (await one(console, Person, person_id)).lives_alone is False
    await leader.post(url, lives_alone_shown="1", lives_alone="yes")  # only "1" ticks it
    assert (await one(console, Person, person_id)).lives_alone is False
    assert [e.details for e in await console.audit("person_edited")] == [
        {"fields": ["lives_alone"]},
        {"fields": ["notes"]},
        {"fields": ["lives_alone"]},
    ]


async def test_revoking_an_account(console: Console) -> None:
    account, person = console.ids["account"], console.ids["person"]
    clerk = await browser(console, "clerk")

    response = await clerk.post(f"/console/accounts/{account}/revoke")

    assert response.status_code == 200
    assert flash(response) == "已解除绑定。"
    assert "还没有绑定账号。" in response.text
    unbound = await one(console, ChannelAccount, account)
    assert (unbound.person_id, unbound.pending_person_id, unbound.bound_at) == (None, None, None)
    assert unbound.active  # a stranger again, who may bind afresh
    [revoked] = await console.audit("binding_revoked")
    assert (revoked.actor, revoked.target_type, revoked.target_id) == (
        f"staff:{console.staff['clerk']}",
        "channel_account",
        str(account),
    )
    assert revoked.details == {"person": person}
    # Its history stays in the file.
    assert (await one(console, ServiceRequest, console.ids["request"])).person_id == person

    before = await console.snapshot()
    again = await clerk.post(f"/console/accounts/{account}/revoke")
    assert again.status_code == 404
    staff_account = await add_account(
        console, "zhao-wecom", channel="wecom", role="staff", staff_id=console.staff["duty"]
    )
    await change(console, ChannelAccount, staff_account, person_id=person)  # even if bound
    before = await console.snapshot()
    refused = await clerk.post(f"/console/accounts/{staff_account}/revoke")
    assert refused.status_code == 404
    assert (await clerk.post("/console/accounts/999999/revoke")).status_code == 404
    assert await console.snapshot() == before


# ================================================================ bad input
NUL, SURROGATE = "\x00", "\ud800"
LONG_QUERY = "长" * 2_000 + "a" * 8_000  # 10,000 characters (httpx takes URLs to 64 KiB)
LONG_FORM = "长" * 500 + "a" * 9_500  # 10,000 characters, still under the 16 KiB a form may be
BAD = {"nul": NUL, "surrogate": SURROGATE, "long": LONG_FORM}
JUNK = {"all": NUL + SURROGATE + LONG_FORM[:1000]}  # in a field or parameter nobody reads

# What each POST route reads, with a value that does something.
POST_FIELDS: dict[str, Callable[[Console], dict[str, str]]] = {
    "/alerts/{id:int}/take": lambda c: {},
    "/alerts/{id:int}/note": lambda c: {"note": "已电话联系家属"},
    "/alerts/{id:int}/close": lambda c: {"outcome": "helped", "note": "已送医"},
    "/requests/{id:int}/assign": lambda c: {"staff": str(c.staff["clerk"])},
    "/requests/{id:int}/state": lambda c: {"status": "booked", "note": "已约好"},
    "/requests/{id:int}/note": lambda c: {"note": "已回电"},
    "/requests/{id:int}/reply": lambda c: {"text": "您好，我们收到了。"},
    "/people/{id:int}/edit": lambda c: {
        **{name: "13800138000" if "phone" in name else "改了" for name in EDITABLE},
        "lives_alone_shown": "1",
        "lives_alone": "1",
    },
    "/people/{id:int}/plan": lambda c: {
        "cadence": "weekly_care",
        "owner": "provider",
        "next_due": "2027-01-05",
        "note": "助浴",
    },
    "/people/{id:int}/contact": lambda c: {"staff": str(c.staff["clerk"])},
    "/people/{id:int}/doctor": lambda c: {
        "doctor": "王医生",
        "clinic": "社区卫生服务中心",
        "phone": "0512-65001234",
        "valid_until": "2027-06-30",
    },
    "/accounts/{id:int}/revoke": lambda c: {},
    "/import": lambda c: {"kind": "people"},  # the sheet itself is a file (multipart)
    "/import/apply": lambda c: {"batch": "1"},
    "/broadcasts": lambda c: {
        "text": "下周一体检",
        "district": "姑苏区",
        "category": "tuixiu",
        "tag": "",
        "family": "1",
        "send_at": "",
    },
    "/broadcasts/{id:int}/confirm": lambda c: {},
    "/broadcasts/{id:int}/cancel": lambda c: {},
    "/activities": lambda c: activity_form(),
    "/activities/{id:int}/edit": lambda c: activity_form(title="书法班", capacity="7"),
    "/activities/{id:int}/cancel": lambda c: {"reason": "场地维修"},
    "/activities/{id:int}/check-in": lambda c: {"registration": str(c.ids.get("registration"))},
    "/slots": lambda c: {
        "day": (datetime.now(TZ).date() + timedelta(days=5)).isoformat(),
        "capacity": "2",
    },
    "/slots/{id:int}/capacity": lambda c: {"capacity": "6"},
    "/hospitals": lambda c: {"name": "新医院"},
    "/hospitals/{id:int}/edit": lambda c: {"name": "市立医院", "address": "新路1号"},
    "/policies": lambda c: policy_form(title="新文章") | {"slug": "new-article"},
    "/policies/{id:int}/edit": lambda c: policy_form(caveat="新的提示。"),
    "/admissions/{id:int}/match": lambda c: {"person": str(c.ids["person"])},
    "/visits/{id:int}/log": lambda c: {"note": "送了慰问品 精神不错"},
    "/people/{id:int}/visit-occasion": lambda c: {"occasion": "hardship", "note": "家里困难"},
    "/admissions/{id:int}/dismiss": lambda c: {},
    "/volunteers": lambda c: {
        "person": str(c.ids["person"]),
        "skills": "escort",
        "districts": "姑苏区",
    },
    "/volunteers/offer": lambda c: {"request": str(c.ids.get("vol_request", 0))},
    "/volunteers/hours": lambda c: {"task": str(c.ids.get("vol_task", 0)), "hours": "2"},
    "/volunteers/redeem": lambda c: {
        "person": str(c.ids.get("vol_person", 0)),
        "request": str(c.ids.get("vol_redeem", 0)),
        "hours": "1",
    },
}
# What each GET route reads from its query.
GET_PARAMS = {
    "/": (),
    "/board": (),
    "/board/live": ("seen",),
    "/board/count": (),
    "/alerts/{id:int}": (),
    "/queue": ("kind", "status", "district", "due", "owner", "sort", "offset"),
    "/requests/{id:int}": (),
    "/people": ("q", "district", "offset"),
    "/people/{id:int}": (),
    "/audit": ("actor", "action", "target", "since", "until", "offset"),
    "/import": (),
    "/import/template": ("kind",),
    "/activities": (),
    "/activities/{id:int}": (),
    "/slots": (),
    "/hospitals": (),
    "/policies": (),
    "/policies/new": (),
    "/policies/preview": ("id", *POLICY_FIELDS, "question"),
    "/policies/{id:int}": (),
    "/reports": ("month",),
    "/reports/export": ("chart", "month"),
    "/broadcasts": ("district", "category", "tag", "family", "text"),
    "/broadcasts/{id:int}": (),
    "/activities/{id:int}/export": ("pii",),
    "/people/export": ("q", "district", "category", "tag", "pii"),
    "/people/{id:int}/export": ("pii",),
    "/queue/export": ("month", "pii"),
    "/admissions": (),
    "/volunteers": (),
}
# GET routes that answer a parameter naming nothing with 404 (no such kind of roster).
NAMED_BY_PARAMETER = {"/import/template"}
ID_OF = {"alerts": "alert", "requests": "request", "people": "person", "accounts": "account"}
ID_OF["broadcasts"] = "broadcast"  # seeded by with_broadcast()
ID_OF.update(activities="activity", slots="slot", hospitals="hospital")  # seed_catalogue()
ID_OF["activities"] = "activity"  # seeded by with_activity()
ID_OF["policies"] = "policy"  # seeded by seed_policies()
ID_OF["admissions"] = "admission"  # seeded by seed_admission()
ID_OF["visits"] = "visit"  # a must-visit task, seeded by with_visit()


async def with_broadcast(console: Console) -> None:
    """A broadcast draft for the routes under /broadcasts/{id} (the fixture seeds none); for
    a time far off, so that confirming it sends nothing while the tables are compared."""
    now, later = datetime.now(UTC), datetime(2100, 1, 1, tzinfo=UTC)
    async with UnitOfWork(console.sessions) as uow:
        draft = await uow.broadcasts.create(
            "草稿", {}, console.staff["clerk"], now, now.date(), send_at=later
        )
        draft.status = "draft"
        await uow.commit()
        console.ids["broadcast"] = draft.id
    await seed_catalogue(console)
    await seed_policies(console)
    await seed_admission(console)
    await with_visit(console)


def url_of(path: str, console: Console) -> str:
    if "{id:int}" in path:
        path = path.replace("{id:int}", str(console.ids[ID_OF[path.split("/")[1]]]))
    return "/console" + path


def wire(pairs: dict[str, str]) -> str:
    """Form or query encoding as a careless client does it: UTF-8 even of lone surrogates."""
    return "&".join(
        f"{quote_plus(k)}={quote_plus(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in pairs.items()
    )


def spoiled(value: str, bad: str) -> str:
    return bad if bad == LONG_FORM else value[:1] + bad + value[1:]


def unstorable(tables: dict[str, list[tuple[Any, ...]]]) -> list[tuple[str, str]]:
    """Stored text with characters no database should hold."""
    found = []
    for name, table in tables.items():
        for row in table:
            for value in row:
                if isinstance(value, str) and re.search(r"[\x00\ud800-\udfff]", value):
                    found.append((name, value[:40]))
    return found


def sound(response: httpx.Response, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:300])
    assert "Traceback" not in response.text, what
    assert 'File "' not in response.text, what


def without(tables: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in tables.items() if k not in names}


def test_the_bad_input_tables_cover_every_route() -> None:
    posts = {p for p, _, m, _ in ROUTES if "POST" in m} - {"/logout"}  # no fields; signs out
    gets = {p for p, _, m, _ in ROUTES if "GET" in m}
    assert set(POST_FIELDS) == posts
    assert set(GET_PARAMS) == gets


async def test_bad_text_in_every_field_is_never_a_5xx_and_refusals_write_nothing(
    console: Console,
) -> None:
    """A leader (who may do almost everything) posts NUL, a lone surrogate and 10,000
    characters into each field (the CSRF token too) of each route, and into each query
    parameter: never a 5xx or a trace, a refusal writes nothing, and no stored text holds
    NUL or a surrogate. (HTTP has no lone surrogates: it goes as the UTF-8 of one, as a
    careless client would send it, and arrives as U+FFFD.)"""
    leader = await browser(console, "leader")
    await with_broadcast(console)
    await with_activity(console)
    client = leader.client
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    tried = 0
    now = await console.snapshot()  # the tables as they are before each request
    for path, fields in POST_FIELDS.items():
        url = url_of(path, console)
        good = {**fields(console), "csrf": leader.token}
        for name in [*good, "junk"]:
            for kind, bad in (BAD if name != "junk" else JUNK).items():
                form = {**good, name: spoiled(good.get(name, "x"), bad)}
                response = await client.post(url, content=wire(form), headers=form_type)
                what = (path, name, kind)
                sound(response, what)
                tried += 1
                before, now = now, await console.snapshot()
                if response.status_code == 200:
                    continue
                assert response.status_code in {403, 404, 409}, (what, response.status_code)
                if path.endswith("/take") and response.status_code == 409:
                    # a late take is recorded by design (a step and an audit line)
                    assert without(now, "alert_steps", "audit_log") == without(
                        before, "alert_steps", "audit_log"
                    ), what
                else:
                    assert now == before, f"{what}: refused ({response.status_code}) but wrote"
    for path, params in GET_PARAMS.items():
        url = url_of(path, console)
        for name in [*params, "junk"]:
            for kind, bad in ({**BAD, "long": LONG_QUERY} if name != "junk" else JUNK).items():
                response = await client.get(f"{url}?{wire({name: spoiled('x1', bad)})}")
                sound(response, (path, name, kind))
                answers = {200, 303, 404} if path in NAMED_BY_PARAMETER else {200, 303}
                assert response.status_code in answers, (path, name, kind, response.status_code)
                tried += 1
                # Reading writes nothing but its audit line (a search, a file viewed).
                before, now = now, await console.snapshot()
                assert without(now, "audit_log") == without(before, "audit_log"), path
    assert tried > 150
    assert unstorable(await console.snapshot()) == []


async def test_undecodable_bytes_and_odd_bodies_are_never_a_5xx(console: Console) -> None:
    leader = await browser(console, "leader")
    url = url_of("/people/{id:int}/edit", console)
    token = leader.token.encode()
    boundary = b"----yinling"
    multipart = b"".join(
        [
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n',
            token + b"\r\n--" + boundary,
            b'\r\nContent-Disposition: form-data; name="notes"\r\n\r\n',
            b"\xed\xa0\x80\xff\xfe\x00bad\r\n--" + boundary + b"--\r\n",
        ]
    )
    bodies = [
        (b"csrf=" + token + b"&notes=\xed\xa0\x80\xff\x00raw", "application/x-www-form-urlencoded"),
        (multipart, "multipart/form-data; boundary=----yinling"),
        (b"--broken multipart", "multipart/form-data; boundary=x"),
        (b'{"notes": "json"}', "application/json"),
        (
            b"csrf=" + token + b"&" + b"&".join(b"f%d=1" % i for i in range(60)),
            "application/x-www-form-urlencoded",
        ),
        (b"\x00\x01\x02", "application/octet-stream"),
    ]
    for body, kind in bodies:
        response = await leader.client.post(url, content=body, headers={"Content-Type": kind})
        sound(response, kind)
    assert unstorable(await console.snapshot()) == []


async def test_digits_that_are_not_decimal_are_no_number(console: Console) -> None:
    leader = await browser(console, "leader")
    for url in ("/console/queue?offset=²", "/console/audit?offset=¹", "/console/people?offset=³"):
        sound(await leader.client.get(url), url)
    handoff = console.ids["request"]
    before = await console.snapshot()
    response = await leader.post(f"/console/requests/{handoff}/assign", staff="²")
    sound(response, "staff=²")
    assert response.status_code == 409
    assert await console.snapshot() == before


async def test_a_search_for_a_superscript_digit_finds_nobody(console: Console) -> None:
    clerk = await browser(console, "clerk")
    response = await clerk.get("/console/people", q="²")
    sound(response, "q=²")
    assert found_ids(response) == []


async def test_fullwidth_digits_are_a_file_number(console: Console) -> None:
    """What int() accepts as a number (any decimal digits) stays a file number."""
    person = console.ids["person"]
    wide = "".join(chr(ord(d) - ord("0") + ord("０")) for d in str(person))
    clerk = await browser(console, "clerk")
    assert found_ids(await clerk.get("/console/people", q=wide)) == [person]


async def test_an_oversized_body_is_a_413_page(console: Console) -> None:
    leader = await browser(console, "leader")
    await with_broadcast(console)
    posts = [(p, endpoint) for p, endpoint, m, _ in ROUTES if "POST" in m]
    before = await console.snapshot()
    for path, endpoint in posts:
        url = url_of(path, console)
        # A route that takes a file takes that much more (bot/console/web.guarded upload=).
        upload = inspect.getclosurevars(endpoint).nonlocals.get("upload", 0)  # type: ignore[arg-type]
        form = {"csrf": leader.token, "note": "a" * (MAX_FORM_BYTES + upload + 1), "text": "b"}
        response = await leader.client.post(url, data=form)
        assert response.status_code == 413, path
        assert "提交的内容太长" in response.text, path
        sound(response, path)

        async def chunks() -> AsyncIterator[bytes]:
            yield f"csrf={leader.token}&note=".encode()
            yield b"a" * 100

        chunked = await leader.client.post(
            url, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert chunked.status_code == 413, path  # no length said: no form taken
    assert await console.snapshot() == before
    # Just under the limit is a form like any other.
    fits = {"csrf": leader.token, "notes": "a" * 1000}
    fine = await leader.post(url_of("/people/{id:int}/edit", console), **fits)
    assert fine.status_code == 200


async def test_a_bad_id_in_the_path_is_a_404(console: Console) -> None:
    leader = await browser(console, "leader")
    ids = [
        "abc",
        "-1",
        "1.5",
        "0x10",
        "%00",
        "%ED%A0%80",
        "1%20",
        "99999999999999999999",
        "0",
        "999999999",
        "2147483648",
    ]
    before = await console.snapshot()
    for path, _, methods, _ in ROUTES:
        if "{id:int}" not in path:
            continue
        for ident in ids:
            url = "/console" + path.replace("{id:int}", ident)
            for method in methods:
                if method == "GET":
                    response = await leader.client.get(url)
                else:
                    form = {"csrf": leader.token, **POST_FIELDS[path](console)}
                    response = await leader.client.post(url, data=form)
                sound(response, (method, url))
                assert response.status_code == 404, (method, url, response.status_code)
    after = await console.snapshot()
    assert without(after, "audit_log") == without(before, "audit_log")
    assert len(after["audit_log"]) == len(before["audit_log"])  # not even a file viewed


# ==================================================================== audit
def audit_rows(response: httpx.Response) -> list[tuple[str, str]]:
    """(who, what) of each line of the audit page, in the words it shows them."""
    assert response.status_code == 200, response.text
    return re.findall(
        r'<td data-label="谁">([^<]*)</td>\s*<td data-label="做了什么">([^<]*)</td>', response.text
    )


async def test_the_audit_log_filters_by_actor_and_action(console: Console) -> None:
    clerk_id, leader_id = console.staff["clerk"], console.staff["leader"]
    clerk, leader = await browser(console, "clerk"), await browser(console, "leader")
    await leader.post(f"/console/alerts/{console.ids['alert']}/take")
    await clerk.post(f"/console/requests/{console.ids['request']}/note", note="已回电")
    await clerk.post(f"/console/alerts/{console.ids['alert']}/note", note="家属已到")

    noted, took = ACTIONS["request_noted"], ACTIONS["alert_taken"]
    by_clerk = audit_rows(await leader.get("/console/audit", actor=f"staff:{clerk_id}"))
    assert {who for who, _ in by_clerk} == {"clerk测试"}
    assert [what for _, what in by_clerk].count(noted) == 2
    assert len(by_clerk) == len(await rows(console, select(AuditEntry).where(
        AuditEntry.actor == f"staff:{clerk_id}")))  # fmt: skip
    taken = audit_rows(await leader.get("/console/audit", action="alert_taken"))
    assert taken == [("leader测试", took)]
    both = await leader.get("/console/audit", actor=f"staff:{clerk_id}", action="request_noted")
    assert audit_rows(both) == [("clerk测试", noted)] * 2
    assert "共 2 条" in both.text
    on_alerts = await leader.get("/console/audit", target="alert")
    assert {what for _, what in audit_rows(on_alerts)} == {took}
    assert audit_rows(await leader.get("/console/audit", action="no_such_action")) == []
    assert audit_rows(await leader.get("/console/audit", actor="staff:999")) == []
    assert (
        audit_rows(
            await leader.get("/console/audit", actor=f"staff:{leader_id}", since="2099-01-01")
        )
        == []
    )
    everything = audit_rows(await leader.get("/console/audit"))
    assert len(everything) == len(await console.audit())
    assert everything[0][1] == noted  # newest first
    admin = await browser(console, "admin")  # the IT person reads it too
    assert audit_rows(await admin.get("/console/audit", action="alert_taken")) == taken


async def test_the_audit_log_is_read_only(console: Console) -> None:
    assert [m for p, _, m, _ in ROUTES if p.startswith("/audit")] == [["GET"]]
    for role in ("leader", "admin"):
        member = await browser(console, role)
        before = await console.snapshot()
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await member.client.request(
                method, "/console/audit", data={"csrf": member.token, "action": "login"}
            )
            assert response.status_code == 405, (role, method)
            sound(response, (role, method))
        assert await console.snapshot() == before
