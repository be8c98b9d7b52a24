"""一人一策 on the person's page: the risk level with its reasons, the plan's items, the
contact and the family doctor; edits by a clerk are audited, a duty officer may only
read, and a form that does not read writes nothing."""

from __future__ import annotations

import html

from sqlalchemy import select

from storage.models import CareContact, CarePlanItem, DoctorContract
from storage.uow import UnitOfWork
from tests.console.conftest import Console


async def test_the_page_shows_the_risk_with_its_reasons(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    page = html.unescape((await clerk.get(f"/console/people/{console.ids['person']}")).text)
    # 高血压 in the health notes, and the open emergency the fixture seeds.
    assert '风险等级：<strong class="risk-medium">中</strong>' in page
    assert "慢性病：高血压" in page
    assert "近90天紧急求助1次" in page
    assert "还没有计划项目" in page
    assert "按风险等级建议还要加：每月电话问候、每季度上门看望、家庭医生随访" in page


async def test_a_clerk_edits_the_plan_the_contact_and_the_doctor_audited(
    console: Console,
) -> None:
    clerk = await console.signed_in("clerk")
    person = console.ids["person"]
    url = f"/console/people/{person}"
    token = await console.csrf(clerk)
    form = {"csrf": token, "cadence": "weekly_care", "owner": "provider",
            "next_due": "2027-01-05", "note": "助浴"}  # fmt: skip
    page = await clerk.post(f"{url}/plan", data=form)
    assert page.status_code == 200
    assert "每周上门照护 · 服务机构负责 · 下次 2027-01-05" in page.text
    chosen_form = {"csrf": token, "staff": str(console.staff["duty"])}
    contact = await clerk.post(f"{url}/contact", data=chosen_form)
    assert contact.status_code == 200
    doctor = {"csrf": token, "doctor": "刘文华", "clinic": "示范社区卫生服务中心",
              "phone": "0512-65001001", "valid_until": "2027-06-30"}  # fmt: skip
    assert (await clerk.post(f"{url}/doctor", data=doctor)).status_code == 200
    async with UnitOfWork(console.sessions) as uow:
        [item] = await uow.session.scalars(select(CarePlanItem))
        [chosen] = await uow.session.scalars(select(CareContact))
        [contract] = await uow.session.scalars(select(DoctorContract))
    assert (item.person_id, item.cadence, item.owner, item.note) == (
        person, "weekly_care", "provider", "助浴",
    )  # fmt: skip
    assert (chosen.person_id, chosen.staff_id) == (person, console.staff["duty"])
    assert (contract.doctor, str(contract.valid_until)) == ("刘文华", "2027-06-30")
    actions = [(e.action, e.actor) for e in await console.audit() if e.target_type == "person"]
    mine = f"staff:{console.staff['clerk']}"
    for action in ("plan_item_added", "contact_set", "doctor_contract_saved"):
        assert (action, mine) in actions, action
    # Ending the item: it leaves the page and the job's list.
    ended = await clerk.post(f"{url}/plan", data={"csrf": token, "remove": str(item.id)})
    assert ended.status_code == 200
    assert "还没有计划项目" in ended.text
    assert ("plan_item_ended", mine) in [(e.action, e.actor) for e in await console.audit()]


async def test_a_form_that_does_not_read_writes_nothing(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    url = f"/console/people/{console.ids['person']}"
    token = await console.csrf(clerk)
    before = await console.snapshot()
    for path, form in (
        ("plan", {"cadence": "daily", "owner": "staff", "next_due": "2027-01-05"}),
        ("plan", {"cadence": "weekly_care", "owner": "staff", "next_due": "明天"}),
        ("plan", {"remove": "999999"}),
        ("contact", {"staff": "999999"}),
        ("doctor", {"doctor": "刘文华", "phone": "12345", "valid_until": "2027-06-30"}),
        ("doctor", {"doctor": "", "valid_until": "2027-06-30"}),
    ):
        response = await clerk.post(f"{url}/{path}", data={"csrf": token, **form})
        assert response.status_code == 409, (path, form)
        assert "没有" in response.text
    assert await console.snapshot() == before


async def test_duty_reads_the_plan_but_cannot_change_it(console: Console) -> None:
    duty = await console.signed_in("duty")
    url = f"/console/people/{console.ids['person']}"
    page = await duty.get(url)
    assert "一人一策" in page.text
    assert "加一项计划" not in page.text  # no form for a role that may not
    before = await console.snapshot()
    form = {"csrf": await console.csrf(duty), "staff": str(console.staff["duty"])}
    assert (await duty.post(f"{url}/contact", data=form)).status_code == 403
    assert await console.snapshot() == before
