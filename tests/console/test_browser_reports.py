"""统计报表 in a real browser (Debian's Chromium driven by Playwright), against real ``yinling
serve`` and ``yinling worker`` processes on PostgreSQL with the demo roster: a leader opens
the month's report, every chart is drawn (ECharts, from static/reports.js, under the
console's Content-Security-Policy) and nothing is reported on the console; printed, the
menus and forms are gone.

Screenshots go to $YINLING_SCREENSHOTS when it is set (docs/ for the README), else to the
test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from storage.db import make_engine, make_sessions
from storage.models import (
    Alert,
    Broadcast,
    BroadcastRecipient,
    ChannelAccount,
    ServiceRequest,
)
from storage.reports import TZ, Month
from storage.uow import UnitOfWork
from storage.visits import VisitRepo
from tests.conftest import PG_SERVER, REDIS_URL
from tests.console.live import PASSWORD, Live, live_deployment, run_async

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DESKTOP = {"width": 1366, "height": 768}
CHARTS = ("weekly", "kinds", "sos", "escorts", "activities", "broadcasts", "visits", "contact")

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("YINLING_REQUIRE_BROWSER"),
    reason="Chromium is not installed: apt-get install chromium fonts-wqy-microhei",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    logs = tmp_path_factory.mktemp("console-reports-live")
    with live_deployment(PG_SERVER, REDIS_URL, logs) as deployment:
        run_async(_month_of_work(deployment.database_url))
        yield deployment


HOSPITALS = ("市立医院本部", "苏大附一院", "苏大附二院", "市中医医院")
KINDS = ("medical_escort", "eldercare", "handoff", "reimbursement", "hospital_visit")


async def _month_of_work(database_url: str) -> None:
    """This month so far: requests of several kinds, emergencies taken and closed (all of
    them closed: the board stays quiet), a broadcast on two channels."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    start = Month.of(now.astimezone(TZ).date()).start
    span = max((now - start).total_seconds() - 60, 60)
    try:
        async with UnitOfWork(make_sessions(engine)) as uow:
            s = uow.session
            people = await uow.people.all_ids()
            for i in range(60):
                when = start + timedelta(seconds=span * i / 60)
                kind = KINDS[i % len(KINDS) if i % 3 else 0]
                details = (
                    {"hospital": HOSPITALS[i % len(HOSPITALS)]} if kind == "medical_escort" else {}
                )
                s.add(
                    ServiceRequest(
                        kind=kind,
                        status="done",
                        details=details,
                        person_id=people[i % 5],
                        created_at=when,
                        updated_at=when,
                    )
                )
            for i, (taken, closed, outcome) in enumerate(
                [
                    (25, 900, "helped"),
                    (48, 1500, "helped"),
                    (70, 600, "false_alarm"),
                    (150, 2400, "helped"),
                    (35, 300, "cancelled"),
                ]
            ):
                when = start + timedelta(seconds=span * (i + 0.5) / 5)
                sos = ServiceRequest(
                    kind="sos",
                    status="resolved",
                    details={"outcome": outcome},
                    person_id=people[i],
                    created_at=when,
                    updated_at=when,
                )
                s.add(sos)
                await s.flush()
                s.add(
                    Alert(
                        request_id=sos.id,
                        person_id=people[i],
                        status="resolved",
                        level=1,
                        acknowledged_at=when + timedelta(seconds=taken),
                        resolved_at=when + timedelta(seconds=closed),
                        created_at=when,
                        updated_at=when,
                    )
                )
            first = start.astimezone(TZ).date()  # the ledger: two visits due, one made
            for i, pid in enumerate(people[:2]):
                person = await uow.people.get(pid)
                assert person is not None
                row = await VisitRepo(s).add(person, "situation", first, first, now=now, actor="t")
                if row is not None and i == 0:
                    row.visited_at = now
            staff = await uow.workbench.all_staff()
            broadcast = Broadcast(
                text="本月通知",
                created_by=staff[0].id,
                status="done",
                created_at=start,
                updated_at=start,
            )
            s.add(broadcast)
            await s.flush()
            found = await s.execute(
                select(ChannelAccount.id, ChannelAccount.channel, ChannelAccount.person_id)
            )
            for n, (account, channel, person) in enumerate(found):
                s.add(
                    BroadcastRecipient(
                        broadcast_id=broadcast.id,
                        account_id=account,
                        person_id=person,
                        channel=channel,
                        status="failed" if n % 4 == 3 else "sent",
                    )
                )
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        opened = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield opened
        opened.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    folder = os.environ.get("YINLING_SCREENSHOTS")
    return Path(folder) if folder else tmp_path


def signed_in(browser: Browser, live: Live, role: str, problems: list[str]) -> Page:
    """A fresh browser context signed in as the live deployment's ``role``; whatever the
    page's scripts (or the content policy) report goes to ``problems``."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(f"{live.url}/console/")
    page.get_by_label("用户名").fill(live.users[role])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/console/login" not in page.url
    return page


def test_a_leader_opens_the_report_and_every_chart_is_drawn(
    browser: Browser, live: Live, shots: Path
) -> None:
    problems: list[str] = []
    page = signed_in(browser, live, "leader", problems)
    page.get_by_role("link", name="统计报表").click()
    expect(page).to_have_url(re.compile(r"/console/reports$"))
    expect(page.get_by_role("heading", name=re.compile("统计报表"))).to_be_visible()
    for name in CHARTS:
        box = page.locator(f'.chart[data-chart="{name}"]')
        drawn = box.locator("canvas, svg").first
        expect(drawn).to_be_attached()
        size = drawn.bounding_box()
        assert size is not None, name
        assert size["width"] > 100, (name, size)
        assert size["height"] > 100, (name, size)
        assert page.locator(f"#report-{name} a", has_text="下载 Excel").count() == 1, name
    # A chart's pixels are not all one colour: something was drawn on it.
    painted = page.evaluate(
        """() => Array.from(document.querySelectorAll('.chart canvas')).map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4 * 97) {
                seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2] + ',' + d[i + 3]);
            }
            return seen.size; })"""
    )
    assert len(painted) == len(CHARTS), painted
    assert all(colours > 2 for colours in painted), painted
    page.screenshot(path=str(shots / "console-reports.png"), full_page=True)

    # The Excel download of a chart, as the browser gets it.
    with page.expect_download() as download:
        page.locator("#report-sos a", has_text="下载 Excel").click()
    assert download.value.suggested_filename.startswith("yinling-sos-")

    # Printed: no menu, no month form, no download links; the tables stay.
    page.emulate_media(media="print")
    expect(page.locator("header.top nav")).to_be_hidden()
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("#report-sos a", has_text="下载 Excel")).to_be_hidden()
    expect(page.locator("#report-sos table")).to_be_visible()
    page.emulate_media(media="screen")

    # Another month, chosen with the form.
    page.get_by_label("月份").fill("2026-01")
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(r"month=2026-01"))
    expect(page.locator('.chart[data-chart="weekly"] canvas').first).to_be_attached()
    assert problems == [], problems
    page.context.close()


def test_a_clerk_has_no_report(browser: Browser, live: Live) -> None:
    problems: list[str] = []
    page = signed_in(browser, live, "clerk", problems)
    expect(page.get_by_role("link", name="统计报表")).to_have_count(0)
    response = page.goto(f"{live.url}/console/reports")
    assert response is not None
    assert response.status == 403
    page.context.close()
