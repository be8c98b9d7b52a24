"""群发 in the console: whom a segment reaches (count, masked sample, WeChat's window), a
clerk's draft that only a leader's confirmation sends, the progress, and the audit rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import Broadcast, BroadcastRecipient, ChannelAccount, MessageRecord, Person
from storage.uow import UnitOfWork
from tests.console.conftest import Console


async def _more_people(console: Console) -> None:
    """Two 离休 people in 吴中区 with the tag 书画组, on WeChat: one wrote an hour ago (inside
    the 48-hour window), one a week ago (outside it)."""
    now = datetime.now(UTC)
    async with UnitOfWork(console.sessions) as uow:
        for n, (name, phone, wrote) in enumerate(
            (
                ("李秀英", "13900001111", timedelta(hours=1)),
                ("王德明", "13900002222", timedelta(days=7)),
            )
        ):
            person = await uow.people.add(
                Person(name=name, category="lixiu", district="吴中区", phone=phone,
                       lives_alone=False, created_at=now, updated_at=now)
            )  # fmt: skip
            account = ChannelAccount(
                channel="wechat", external_id=f"o_bc_{n}", role="retiree", person_id=person.id,
                active=True, created_at=now, bound_at=now,
            )  # fmt: skip
            uow.session.add(account)
            await uow.session.flush()
            uow.session.add(
                MessageRecord(
                    channel="wechat", external_user_id=f"o_bc_{n}", message_id=f"m{n}",
                    account_id=account.id, person_id=person.id, direction="in", kind="text",
                    text="你好", created_at=now - wrote,
                )
            )  # fmt: skip
            await uow.people.tag(person.id, "书画组", now)
        await uow.commit()


async def _broadcast(console: Console, broadcast_id: int) -> Broadcast:
    async with UnitOfWork(console.sessions) as uow:
        found = await uow.broadcasts.get(broadcast_id)
        assert found is not None
        return found


async def _only_broadcast(console: Console) -> Broadcast:
    async with UnitOfWork(console.sessions) as uow:
        rows = list(await uow.session.scalars(select(Broadcast)))
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_segment_shows_its_count_a_masked_sample_and_wechats_window(
    console: Console,
) -> None:
    await _more_people(console)
    clerk = await console.signed_in("clerk")
    page = await clerk.get("/console/broadcasts", params={"category": "lixiu"})
    assert page.status_code == 200
    assert "共 <strong>2</strong> 个账号" in page.text
    assert "李老" in page.text
    assert "王老" in page.text
    assert "李秀英" not in page.text
    assert "王德明" not in page.text
    assert "13900001111" not in page.text
    assert "1111" not in page.text
    assert "张老" not in page.text  # 退休: not in this segment
    assert "1 人在 48 小时内" in page.text
    assert "1 人超过 48 小时" in page.text
    # The same by a tag, and everyone; htmx asks for the preview block alone.
    tagged = await clerk.get(
        "/console/broadcasts", params={"tag": "书画组"}, headers={"HX-Request": "true",
                                                                "HX-Target": "preview"}
    )  # fmt: skip
    assert tagged.status_code == 200
    assert tagged.text.lstrip().startswith('<div id="preview">')
    assert "共 <strong>2</strong>" in tagged.text
    everyone = await clerk.get("/console/broadcasts")
    assert "共 <strong>3</strong> 个账号" in everyone.text
    district = await clerk.get("/console/broadcasts", params={"district": "姑苏区"})
    assert "共 <strong>1</strong> 个账号" in district.text
    assert "张老" in district.text
    # Reading the page writes nothing, and the admin does not see it at all.
    assert await console.audit("broadcast_drafted") == []
    admin = await console.signed_in("admin")
    assert (await admin.get("/console/broadcasts")).status_code == 403


async def test_a_clerks_draft_waits_and_a_clerk_cannot_send_it(console: Console) -> None:
    await _more_people(console)
    clerk = await console.signed_in("clerk")
    form = {
        "text": "明天上午九点活动中心有讲座",
        "tag": "书画组",
        "csrf": await console.csrf(clerk),
    }
    drafted = await clerk.post("/console/broadcasts", data=form)
    assert drafted.status_code == 200, drafted.text
    draft = await _only_broadcast(console)
    assert (draft.status, draft.total, draft.segment) == ("draft", 2, {"tag": "书画组"})
    assert drafted.headers["HX-Push-Url"] == f"/console/broadcasts/{draft.id}"
    assert "要等领导在这一页确认后才会发送" in drafted.text
    assert "确认发送给" not in drafted.text  # a clerk has no button
    [row] = await console.audit("broadcast_drafted")
    assert row.actor == f"staff:{console.staff['clerk']}"
    before = await console.snapshot()
    csrf = await console.csrf(clerk)
    for action in ("confirm", "cancel"):
        refused = await clerk.post(f"/console/broadcasts/{draft.id}/{action}", data={"csrf": csrf})
        assert refused.status_code == 403
    assert await console.snapshot() == before
    await asyncio.sleep(0.3)
    assert (await _broadcast(console, draft.id)).status == "draft"  # nothing sends a draft


async def test_a_leaders_confirmation_sends_it_and_the_page_follows(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    form = {"text": "通知：下周一体检", "district": "姑苏区", "csrf": await console.csrf(clerk)}
    assert (await clerk.post("/console/broadcasts", data=form)).status_code == 200
    draft = await _only_broadcast(console)
    leader = await console.signed_in("leader")
    page = await leader.get(f"/console/broadcasts/{draft.id}")
    assert "确认发送给 1 人" in page.text
    assert "通知：下周一体检" in page.text
    csrf = await console.csrf(leader)
    confirmed = await leader.post(f"/console/broadcasts/{draft.id}/confirm", data={"csrf": csrf})
    assert confirmed.status_code == 200, confirmed.text
    assert "已确认，正在发给 1 人" in confirmed.text
    for _ in range(100):  # the in-process job sends it
        shown = await _broadcast(console, draft.id)
        if shown.status == "done":
            break
        await asyncio.sleep(0.1)
    assert shown.status == "done"
    async with UnitOfWork(console.sessions) as uow:
        rows = list(await uow.session.scalars(select(BroadcastRecipient)))
    assert [r.account_id for r in rows] == [console.ids["account"]]
    assert rows[0].status in {"sent", "skipped", "failed"}
    progress = await leader.get(
        f"/console/broadcasts/{draft.id}", headers={"HX-Request": "true", "HX-Target": "progress"}
    )
    assert progress.text.lstrip().startswith('<section class="card" id="progress"')
    assert "hx-trigger" not in progress.text  # done: no more polling
    assert "已发完" in progress.text
    [row] = await console.audit("broadcast_confirmed")
    assert row.actor == f"staff:{console.staff['leader']}"
    assert row.target_id == str(draft.id)
    again = await leader.post(f"/console/broadcasts/{draft.id}/confirm", data={"csrf": csrf})
    assert again.status_code == 409
    assert len(await console.audit("broadcast_confirmed")) == 1


async def test_a_leader_may_withdraw_a_draft_or_schedule_one(console: Console) -> None:
    leader = await console.signed_in("leader")
    csrf = await console.csrf(leader)
    later = (datetime.now(UTC) + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    form = {"text": "后天的通知", "send_at": later, "csrf": csrf}
    assert (await leader.post("/console/broadcasts", data=form)).status_code == 200
    first = await _only_broadcast(console)
    assert first.send_at is not None
    assert first.status == "draft"
    done = await leader.post(f"/console/broadcasts/{first.id}/confirm", data={"csrf": csrf})
    assert "到时间会自动发送" in done.text
    assert (await _broadcast(console, first.id)).status == "scheduled"
    form = {"text": "写错了的通知", "csrf": csrf}
    assert (await leader.post("/console/broadcasts", data=form)).status_code == 200
    async with UnitOfWork(console.sessions) as uow:
        second = max(await uow.session.scalars(select(Broadcast.id)))
    withdrawn = await leader.post(f"/console/broadcasts/{second}/cancel", data={"csrf": csrf})
    assert withdrawn.status_code == 200
    assert "已撤回" in withdrawn.text
    assert (await _broadcast(console, second)).status == "cancelled"
    [row] = await console.audit("broadcast_cancelled")
    assert (row.actor, row.target_id) == (f"staff:{console.staff['leader']}", str(second))
    # Too long, empty, or nobody in the segment: refused, nothing written.
    before = await console.snapshot()
    for bad in ({"text": "长" * 1001}, {"text": " "}, {"text": "x", "district": "没有这个区"}):
        refused = await leader.post("/console/broadcasts", data={**bad, "csrf": csrf})
        assert refused.status_code == 409, bad
    assert await console.snapshot() == before
