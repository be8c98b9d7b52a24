"""The 住院提醒 feed (bot/feeds.py, handlers/admissions.py) through the real ASGI app, on
SQLite and PostgreSQL: signed events from a hospital make one stay and one visit task per
event however often they come; anything not signed by a known organisation within the
window is refused with 403 and stores nothing; an event nobody on the roster matches is
listed for a clerk, who matches it to a person (then the stay is made) or dismisses it."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feeds import sign
from bot.settings import Settings
from nlu.engine import EmbeddedEngine
from services.retention import expire
from storage.models import AdmissionEvent, AuditEntry, Person, RequestStatusChange, ServiceRequest
from storage.uow import UnitOfWork
from tests.console.conftest import Console, open_console

KEYS = {"city-hospital": b"secret-of-the-city-hospital", "platform": b"platform-secret"}
SETTINGS = Settings(feed_keys=",".join(f"{o}:{k.decode()}" for o, k in KEYS.items()))
ID_NUMBER = "32050219450312201X"  # the seeded person's, on the roster
STRANGER = "320502194807150016"  # nobody's on the roster
URL = "/feeds/admissions"


@pytest.fixture
async def feed(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, now: datetime, password_hash: str
) -> AsyncIterator[Console]:
    """The app with two organisations' keys, its seeded person's ID number on the roster."""
    async with open_console(db, engine_nlu, now, password_hash, SETTINGS) as console:
        async with UnitOfWork(console.sessions) as uow:
            person = await uow.people.get(console.ids["person"])
            assert person is not None
            person.id_number = ID_NUMBER
            await uow.commit()
        yield console


def event(event_id: str = "A-1001", **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "admission", "id_number": ID_NUMBER,
        "name": "张建国", "hospital": "市立医院", "department": "心内科", "ward": "5病区",
        "bed": "12", "time": "2026-12-07T21:40:00+08:00", **fields,
    }  # fmt: skip


async def send(
    console: Console,
    body: dict[str, Any] | bytes,
    *,
    organisation: str = "city-hospital",
    key: bytes | None = None,
    at: float | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time() if at is None else at))
    signature = sign(key if key is not None else KEYS.get(organisation, b"x"), stamp, raw)
    headers = {
        "Content-Type": "application/json",
        "X-Yinling-Organisation": organisation,
        "X-Yinling-Timestamp": stamp,
        "X-Yinling-Signature": signature,
    }
    client = console.client(raise_errors=False)
    return await client.post(URL, content=raw, headers=headers)


async def requests_of(console: Console, kind: str) -> list[ServiceRequest]:
    async with UnitOfWork(console.sessions) as uow:
        query = select(ServiceRequest).where(ServiceRequest.kind == kind)
        return list(await uow.session.scalars(query.order_by(ServiceRequest.id)))


async def events_stored(console: Console) -> list[AdmissionEvent]:
    async with UnitOfWork(console.sessions) as uow:
        query = select(AdmissionEvent).order_by(AdmissionEvent.id)
        return list(await uow.session.scalars(query))


async def seed_admission(console: Console) -> int:
    """An unmatched admission waiting for a clerk (for the console's route tables)."""
    now = datetime.now(UTC)
    async with UnitOfWork(console.sessions) as uow:
        row = AdmissionEvent(
            organisation="city-hospital", event_id="seeded-1", kind="admission",
            state="unmatched", id_number=STRANGER, name="张建国", hospital="市立医院",
            occurred_at=now, received_at=now, updated_at=now,
        )  # fmt: skip
        uow.session.add(row)
        await uow.commit()
        console.ids["admission"] = row.id
        return row.id


# ------------------------------------------------------------------ matched events
async def test_a_signed_admission_makes_one_stay_and_one_visit_task_even_sent_twice(
    feed: Console, json_logs: io.StringIO
) -> None:
    started = datetime.now(UTC)
    first = await send(feed, event())
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "received", "event_id": "A-1001", "matched": True}
    again = await send(feed, event())
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "already received"
    # The other organisation's event of the same id is another event (same hospital: linked).
    other = await send(feed, event(), organisation="platform")
    assert other.status_code == 200
    assert other.json()["matched"] is True

    [stay] = await requests_of(feed, "hospital_admission")
    [visit] = await requests_of(feed, "hospital_visit")
    person = feed.ids["person"]
    assert (stay.person_id, stay.status, stay.beneficiary) == (person, "reported", "self")
    assert stay.details["hospital"] == "市立医院"
    assert stay.details["department"] == "心内科"
    assert stay.details["since"] == "2026-12-07"
    assert stay.details["bed"] == "12"
    assert stay.scheduled_date is not None
    assert stay.scheduled_date.isoformat() == "2026-12-07"
    assert (visit.person_id, visit.status) == (person, "pending")
    assert visit.details["stay_request_id"] == stay.id
    assert visit.due_at is not None
    assert timedelta(hours=23) < visit.due_at - started < timedelta(hours=25)
    rows = await events_stored(feed)
    assert [(r.organisation, r.state, r.stay_request_id) for r in rows] == [
        ("city-hospital", "matched", stay.id),
        ("platform", "matched", stay.id),
    ]
    # The ID number is sealed at rest and never in a log line.
    async with feed.engine.connect() as conn:
        sealed = (await conn.execute(text("SELECT id_number FROM admission_events"))).scalars()
        assert all(ID_NUMBER.encode() not in bytes(value) for value in sealed)
    assert ID_NUMBER not in json_logs.getvalue()
    assert ID_NUMBER[-6:] not in json_logs.getvalue()
    assert "feed_event" in json_logs.getvalue()


async def test_copies_sent_at_the_same_moment_make_one_stay(feed: Console) -> None:
    answers = await asyncio.gather(*(send(feed, event("A-2002")) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sorted(a.json()["status"] for a in answers) == ["already received"] * 3 + ["received"]
    assert len(await requests_of(feed, "hospital_admission")) == 1
    assert len(await requests_of(feed, "hospital_visit")) == 1
    assert len(await events_stored(feed)) == 1


async def test_a_discharge_closes_the_stay(feed: Console) -> None:
    assert (await send(feed, event())).status_code == 200
    out = event("A-1002", type="discharge", time="2026-12-12T10:00:00+08:00")
    response = await send(feed, out)
    assert response.status_code == 200
    assert response.json()["matched"] is True
    [stay] = await requests_of(feed, "hospital_admission")
    assert stay.status == "done"
    assert stay.details["discharged"] == "2026-12-12"
    [visit] = await requests_of(feed, "hospital_visit")
    async with UnitOfWork(feed.sessions) as uow:
        query = select(RequestStatusChange).where(RequestStatusChange.request_id == visit.id)
        notes = [c.note for c in await uow.session.scalars(query)]
    assert any(note and "出院" in note for note in notes), notes


# ------------------------------------------------------------------ refused
async def test_unsigned_stale_future_and_unknown_senders_get_403_and_nothing_is_stored(
    feed: Console,
) -> None:
    before = await feed.snapshot()
    body = json.dumps(event()).encode()
    refused = {
        "bad signature": await send(feed, body, key=b"not-the-key"),
        "stale": await send(feed, body, at=time.time() - 301),
        "future": await send(feed, body, at=time.time() + 301),
        "unknown": await send(feed, body, organisation="somebody-else"),
        "no organisation": await send(feed, body, organisation=""),
    }
    unsigned = await feed.client(raise_errors=False).post(URL, content=body)
    refused["unsigned"] = unsigned
    assert await feed.snapshot() == before
    tampered = await send(feed, body)  # signed; then another body under its signature
    assert tampered.status_code == 200
    before = await feed.snapshot()
    headers = {k: v for k, v in tampered.request.headers.items() if k.startswith("x-yinling")}
    forged = await feed.client(raise_errors=False).post(
        URL, content=json.dumps(event("A-9")).encode(), headers=headers
    )
    refused["forged body"] = forged
    for why, response in refused.items():
        assert response.status_code == 403, (why, response.status_code, response.text)
        assert set(response.json()) == {"error"}, why
        assert "Traceback" not in response.text
    assert refused["unknown"].json() == {"error": "unknown organisation"}
    assert refused["bad signature"].json() == {"error": "bad signature"}
    assert refused["stale"].json() == {"error": "timestamp outside the allowed window"}
    assert await feed.snapshot() == before


async def test_a_signed_body_that_is_no_event_gets_400_and_is_kept_for_the_clerk(
    feed: Console,
) -> None:
    cases = {
        b"{not json": "not JSON",
        b"[1, 2]": "JSON object",
        json.dumps({"event_id": "B-1"}).encode(): "missing fields",
        json.dumps(event("B-2", type="transfer")).encode(): "type",
        json.dumps(event("B-3", id_number="123")).encode(): "id_number",
        json.dumps(event("B-4", time="yesterday")).encode(): "time",
        json.dumps(event("B-5", hospital="医" * 101)).encode(): "hospital",
        b"\xff\xfe\x00": "not JSON",
    }
    for body, said in cases.items():
        response = await send(feed, body)
        assert response.status_code == 400, (body, response.text)
        assert said in response.json()["error"]
        assert response.json()["kept"] is True
        assert ID_NUMBER not in response.text
    rows = await events_stored(feed)
    assert [r.state for r in rows] == ["invalid"] * len(cases)
    assert all(r.event_id is None and r.raw for r in rows)
    assert await requests_of(feed, "hospital_admission") == []
    # Corrected and sent again under the same id, it counts.
    assert (await send(feed, event("B-3"))).json()["status"] == "received"
    clerk = await feed.signed_in("clerk")
    page = await clerk.get("/console/admissions")
    assert page.status_code == 200
    assert page.text.count("格式不对") >= len(cases)


async def test_no_keys_no_feed(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, now: datetime, password_hash: str
) -> None:
    async with open_console(db, engine_nlu, now, password_hash) as console:
        before = await console.snapshot()
        response = await send(console, event())
        assert response.status_code == 404
        assert await console.snapshot() == before


# ------------------------------------------------------------------ the clerk
async def test_an_unmatched_event_is_listed_for_the_clerk_and_matched_from_the_console(
    feed: Console,
) -> None:
    response = await send(feed, event("C-1", id_number=STRANGER))
    assert response.json() == {"status": "received", "event_id": "C-1", "matched": False}
    assert await requests_of(feed, "hospital_admission") == []
    [row] = await events_stored(feed)
    [task] = await requests_of(feed, "admission_review")  # the clerk's task in the queue
    assert (task.status, task.person_id, row.task_request_id) == ("pending", None, task.id)
    assert task.details["admission_event"] == row.id
    assert STRANGER not in json.dumps(task.details)
    assert row.state == "unmatched"
    assert row.person_id is None

    clerk = await feed.signed_in("clerk")
    page = await clerk.get("/console/admissions")
    assert page.status_code == 200
    assert "张建国" in page.text
    assert "市立医院" in page.text
    assert STRANGER not in page.text  # masked
    assert STRANGER[:6] + "********" + STRANGER[-4:] in page.text
    assert f"/console/admissions/{row.id}/match" in page.text
    assert f'name="person" value="{feed.ids["person"]}"' in page.text  # suggested by name
    assert [e.action for e in await feed.audit("feed_viewed")] == ["feed_viewed"]

    url = f"/console/admissions/{row.id}/match"
    duty = await feed.signed_in("duty")  # reads files, does not match them
    before = await feed.snapshot()
    refused = await duty.post(url, data={"person": str(feed.ids["person"]),
                                         "csrf": await feed.csrf(duty)})  # fmt: skip
    assert refused.status_code == 403
    assert await feed.snapshot() == before
    nobody = await clerk.post(url, data={"person": "999999", "csrf": await feed.csrf(clerk)})
    assert nobody.status_code == 409
    assert await feed.snapshot() == before

    done = await clerk.post(url, data={"person": str(feed.ids["person"]),
                                       "csrf": await feed.csrf(clerk)})  # fmt: skip
    assert done.status_code == 200, done.text
    assert "已对上张建国" in done.text
    [task] = await requests_of(feed, "admission_review")
    assert task.status == "done"
    [stay] = await requests_of(feed, "hospital_admission")
    [visit] = await requests_of(feed, "hospital_visit")
    assert stay.person_id == visit.person_id == feed.ids["person"]
    assert visit.details["stay_request_id"] == stay.id
    [row] = await events_stored(feed)
    assert (row.state, row.person_id, row.stay_request_id) == (
        "matched",
        feed.ids["person"],
        stay.id,
    )
    audit = await feed.audit("feed_matched")
    assert [(a.actor, a.target_id) for a in audit] == [
        (f"staff:{feed.staff['clerk']}", str(row.id))
    ]
    assert audit[0].details == {"person": feed.ids["person"], "stay": stay.id}
    # Matched once: again is refused, and the list is empty.
    again = await clerk.post(url, data={"person": str(feed.ids["person"]),
                                        "csrf": await feed.csrf(clerk)})  # fmt: skip
    assert again.status_code == 409
    assert len(await requests_of(feed, "hospital_admission")) == 1
    assert "没有待处理的推送" in (await clerk.get("/console/admissions")).text


async def test_a_clerk_dismisses_an_event(feed: Console) -> None:
    row_id = await seed_admission(feed)
    leader = await feed.signed_in("leader")
    url = f"/console/admissions/{row_id}/dismiss"
    response = await leader.post(url, data={"csrf": await feed.csrf(leader)})
    assert response.status_code == 200
    [row] = await events_stored(feed)
    assert row.state == "dismissed"
    assert await requests_of(feed, "hospital_admission") == []
    assert [a.target_id for a in await feed.audit("feed_dismissed")] == [str(row_id)]
    admin = await feed.signed_in("admin")  # the IT person opens no personal data
    assert (await admin.get("/console/admissions")).status_code == 403


async def test_retention_forgets_the_id_number(feed: Console) -> None:
    """The retention job (services/retention.py) blanks an old event's ID number and name;
    the roster and the stays are not touched."""
    assert (await send(feed, event("D-1", id_number=STRANGER))).status_code == 200
    assert (await send(feed, event("D-2"))).status_code == 200
    jobs = SimpleNamespace(sessions=feed.sessions, retention_days=0)
    await expire(jobs, datetime.now(UTC) + timedelta(seconds=1))  # type: ignore[arg-type]
    rows = await events_stored(feed)
    assert [(r.id_number, r.id_index, r.name) for r in rows] == [(None, None, None)] * 2
    assert len(await requests_of(feed, "hospital_admission")) == 1
    async with UnitOfWork(feed.sessions) as uow:
        person = await uow.session.get(Person, feed.ids["person"])
        assert person is not None
        assert person.id_number == ID_NUMBER
        entries = list(await uow.session.scalars(select(AuditEntry)))
    assert all(ID_NUMBER not in json.dumps(e.details) for e in entries)
