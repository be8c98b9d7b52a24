"""The family list (导入 家属名单) on a person's page: who is on it (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import FamilyMember
from storage.uow import UnitOfWork
from tests.console.conftest import Console


async def test_the_persons_page_lists_the_family_from_the_bureaus_list(console: Console) -> None:
    person = console.ids["person"]
    url = f"/console/people/{person}"
    clerk = await console.signed_in("clerk")
    assert "家属名单里没有" in (await clerk.get(url)).text
    when = datetime(2026, 12, 1, tzinfo=UTC)
    async with UnitOfWork(console.sessions) as uow:
        uow.session.add(
            FamilyMember(person_id=person, name="张小明", relation="儿子", phone="13700001234",
                         notes="住在隔壁小区", created_at=when, updated_at=when)
        )  # fmt: skip
        await uow.commit()
    page = await clerk.get(url)
    assert page.status_code == 200
    assert "张小明（儿子） · 13700001234 · 住在隔壁小区" in page.text
