"""The console in a real browser (Debian's Chromium driven by Playwright), against real
``yinling serve`` and ``yinling worker`` processes, PostgreSQL, Redis, and the WeChat and
Telegram API doubles: what a duty officer and a clerk do all day.

Screenshots go to $YINLING_SCREENSHOTS when it is set (docs/ for the README), else to the
test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import text

from handlers.base import TZ
from storage.db import make_engine, make_sessions
from storage.uow import UnitOfWork
from tests.conftest import PG_SERVER, REDIS_URL
from tests.console.live import (
    PASSWORD,
    TELEGRAM_DUTY,
    Live,
    live_deployment,
    run_async,
    wait_for,
)
from tests.test_imports import HEAD, MISTAKES, TEMPLATES, _csv

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PROBLEMS: list[str] = []  # errors the pages' scripts (or the content policy) reported
REQUESTS_OF = (
    "SELECT id FROM service_requests WHERE kind = :kind AND person_id = :p ORDER BY id DESC"
)

# On a developer's machine without Chromium these are skipped (README says how to install
# it); CI sets YINLING_REQUIRE_BROWSER, and there a missing browser is a failure.
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("YINLING_REQUIRE_BROWSER"),
    reason="Chromium is not installed: apt-get install chromium fonts-wqy-microhei",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    logs = tmp_path_factory.mktemp("console-live")
    with live_deployment(PG_SERVER, REDIS_URL, logs) as deployment:
        yield deployment


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


def _problem(kind: str, text: str, url: str) -> None:
    # A refusal (409: taken by someone else) is an answer the page shows, not a fault.
    if kind == "error" and "status of 409" not in text:
        PROBLEMS.append(f"{text} ({url})")


def signed_in(browser: Browser, live: Live, role: str, viewport: dict[str, int] = DESKTOP) -> Page:
    """A fresh browser context signed in as the live deployment's ``role``."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on("console", lambda m: _problem(m.type, m.text, page.url))
    page.on("pageerror", lambda e: PROBLEMS.append(f"{e} ({page.url})"))
    page.goto(f"{live.url}/console/")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("用户名").fill(live.users[role])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/console/login" not in page.url
    return page


def _query(live: Live, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of a query on the live deployment's database (fixed SQL with our own ids)."""

    async def run() -> list[tuple[object, ...]]:
        engine = make_engine(live.database_url)
        try:
            async with UnitOfWork(make_sessions(engine)) as uow:
                return [tuple(r) for r in await uow.session.execute(text(sql), params)]
        finally:
            await engine.dispose()

    return run_async(run())


# ----------------------------------------------------------------- emergencies
def test_an_sos_on_wechat_is_on_the_board_within_5_s_taken_and_closed(
    browser: Browser, live: Live, shots: Path
) -> None:
    page = signed_in(browser, live, "duty")
    expect(page).to_have_url(re.compile(r"/console/board$"))
    reply = live.wechat("救命 我在家摔倒了 起不来")
    pushed = time.monotonic()
    assert reply  # the retiree was answered at once
    card = page.locator("article.alert").filter(has_text="我在家摔倒了")
    expect(card).to_be_visible(timeout=5000)
    waited = time.monotonic() - pushed
    assert waited <= 5.0, f"the board showed the SOS after {waited:.1f} s"
    expect(card).to_contain_text("无人接手")
    expect(page).to_have_title(re.compile(r"^\(\d+\) 紧急求助"))  # seen from another tab
    expect(card).to_contain_text("地址")
    # The duty officer was paged on Telegram, and the board says so.
    wait_for(lambda: live.telegram_sent(TELEGRAM_DUTY), what="the page to the duty officer")
    expect(card).to_contain_text("呼叫", timeout=5000)
    page.screenshot(path=str(shots / "console-board.png"))

    card.get_by_role("button", name="我来处理").click()
    expect(page.locator("#alert-status")).to_contain_text("已接手")
    # The retiree's chat gets "someone is coming" (the worker's job, through WeChat's API).
    told = wait_for(
        lambda: [t for t in live.wechat_sent() if "已经接手您的求助" in t],
        what="the retiree being told someone is coming",
    )
    assert "马上联系您" in told[0]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("误报").check()
    page.get_by_label("情况说明").fill("老人说是手机误触，已电话确认平安")
    page.get_by_role("button", name="办结").click()
    expect(page.locator("#alert-status")).to_contain_text("已办结")
    history = page.locator("ol.history")
    for step in ("发起", "呼叫", "接手", "办结"):
        expect(history).to_contain_text(step)
    expect(history).to_contain_text("误报：老人说是手机误触")
    # Off the board.
    page.goto(f"{live.url}/console/board")
    expect(page.locator("article.alert").filter(has_text="我在家摔倒了")).to_have_count(0)


def test_the_first_to_take_an_emergency_gets_it(browser: Browser, live: Live) -> None:
    duty = signed_in(browser, live, "duty")
    leader = signed_in(browser, live, "leader")
    live.wechat("快来人 我喘不上气")
    card = duty.locator("article.alert").filter(has_text="我喘不上气")
    expect(card).to_be_visible(timeout=5000)
    number = card.get_attribute("data-request")
    # Both open the emergency's page (it does not refresh itself); the duty officer is first.
    leader.goto(f"{live.url}/console/alerts/{number}")
    card.get_by_role("button", name="我来处理").click()
    expect(duty.locator("#alert-status")).to_contain_text("已接手")
    leader.get_by_role("button", name="我来处理").click()
    expect(leader.locator(".flash.bad")).to_contain_text("已由 王晓明 接手")
    expect(leader.locator("#alert-status")).to_contain_text("王晓明 已接手")
    expect(leader.locator("ol.history")).to_contain_text("晚了一步")
    leader.once("dialog", lambda dialog: dialog.accept())
    leader.get_by_label("已处置").check()
    leader.get_by_label("情况说明").fill("王晓明已送医")
    leader.get_by_role("button", name="办结").click()
    expect(leader.locator("#alert-status")).to_contain_text("已办结")


def test_what_a_stranger_adds_after_an_sos_is_on_the_card_with_a_number_to_call(
    browser: Browser, live: Live
) -> None:
    """Someone not on the roster cries for help, then says where they are and their phone:
    the duty officer sees it on the board at once, with the number as a link to call."""
    page = signed_in(browser, live, "duty", PHONE)
    live.wechat("救命 我老伴晕倒了 叫不醒", openid="o_console_stranger")
    live.wechat("我在幸福小区5栋302 电话13912345678", openid="o_console_stranger")
    card = page.locator("article.alert").filter(has_text="我老伴晕倒了")
    expect(card).to_be_visible(timeout=5000)
    expect(card).to_contain_text("未登记的用户")
    expect(card).to_contain_text("幸福小区5栋302", timeout=5000)
    call = card.locator("a.call[href='tel:13912345678']")
    expect(call).to_be_visible()
    expect(card).to_contain_text("本人发来的")
    card.get_by_role("button", name="我来处理").click()
    expect(page.locator("#alert-status")).to_contain_text("已接手")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("已处置").check()
    page.get_by_label("情况说明").fill("已打 120，社区医生到场")
    page.get_by_role("button", name="办结").click()
    expect(page.locator("#alert-status")).to_contain_text("已办结")


# ----------------------------------------------------------------- the queue
def test_an_escort_assigned_from_the_queue_tells_the_retiree_who(
    browser: Browser, live: Live
) -> None:
    live.telegram("后天上午去市立医院看心内科，帮我约个陪诊")
    wait_for(lambda: any("对吗" in t for t in live.telegram_sent()), what="the read-back")
    live.telegram("对")
    booked = wait_for(
        lambda: _query(live, REQUESTS_OF, kind="medical_escort", p=live.people["telegram"]),
        what="the escort booking",
    )  # fmt: skip
    request_id = int(str(booked[0][0]))
    page = signed_in(browser, live, "clerk")
    page.goto(f"{live.url}/console/queue")
    page.get_by_label("类别").select_option("medical_escort")
    row = page.locator(f"tr[data-request='{request_id}']")
    expect(row).to_be_visible()
    row.get_by_role("link", name=str(request_id)).click()
    expect(page.get_by_role("heading", name=re.compile(f"编号 {request_id}"))).to_be_visible()
    choice = page.get_by_label("交给").locator("option", has_text="李娟")
    page.get_by_label("交给").select_option(choice.get_attribute("value"))
    page.get_by_role("button", name="分配").click()
    expect(page.locator(".flash.ok")).to_contain_text("已交给李娟")
    expect(page.locator("#request-owner")).to_have_text("李娟")
    told = wait_for(
        lambda: [t for t in live.telegram_sent() if "陪诊的工作人员是李娟" in t],
        what="the retiree being told who escorts them",
    )
    assert "市立医院" in told[0] or "医院" in told[0]


def test_a_booking_made_in_chat_is_on_the_persons_timeline(
    browser: Browser, live: Live, shots: Path
) -> None:
    said = live.wechat("后天上午帮我约个上门理发")
    assert "对吗" in said, said
    done = live.wechat("对")
    assert "已约好" in done, done
    page = signed_in(browser, live, "clerk")
    page.goto(f"{live.url}/console/people")
    name = _query(live, "SELECT name FROM people WHERE id = :p", p=live.people["wechat"])[0][0]
    page.get_by_label("姓名、电话或档案号").fill(str(name))
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=str(name)).first.click()
    timeline = page.locator("#timeline")
    day = (datetime.now(TZ) + timedelta(days=2)).date()
    expect(timeline.locator("li.t-request").first).to_contain_text("上门服务")
    expect(timeline).to_contain_text(f"{day.month}月{day.day}日")
    expect(timeline).to_contain_text("后天上午帮我约个上门理发")  # the transcript
    page.screenshot(path=str(shots / "console-person.png"), full_page=False)


# ----------------------------------------------------------------- imports
def test_a_roster_with_twenty_mistakes_is_reported_row_by_row_and_nothing_written(
    browser: Browser, live: Live
) -> None:
    before = _query(live, "SELECT count(*) FROM people")[0][0]
    page = signed_in(browser, live, "clerk")
    page.goto(f"{live.url}/console/import")
    page.get_by_label("种类").select_option("people")
    rows = [HEAD, *[m for m, _ in MISTAKES]]
    sheet = {"name": "名册.csv", "mimeType": "text/csv", "buffer": _csv(rows)}
    page.get_by_label("文件（.xlsx 或 .csv）").set_input_files(sheet)
    page.get_by_role("button", name="检查").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text(f"有错 {len(MISTAKES)}")
    for offset, (_, column) in enumerate(MISTAKES):
        row = report.locator(f"tr[data-row='{2 + offset}']")
        expect(row).to_contain_text(f"“{column}”")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert _query(live, "SELECT count(*) FROM people")[0][0] == before
    # The template itself: checked, confirmed, written; the same file again changes nothing.
    for attempt in ("first", "again"):
        page.goto(f"{live.url}/console/import")
        page.get_by_label("种类").select_option("people")
        template_file = {"name": "people.xlsx", "buffer": (TEMPLATES / "people.xlsx").read_bytes(),
                         "mimeType": "application/octet-stream"}  # fmt: skip
        page.get_by_label("文件（.xlsx 或 .csv）").set_input_files(template_file)
        page.get_by_role("button", name="检查").click()
        page.get_by_role("button", name="确认导入").click()
        done = page.locator("#import-done")
        expect(done).to_contain_text("新增 2 行" if attempt == "first" else "2 行不变")
    assert _query(live, "SELECT count(*) FROM people")[0][0] == before + 2


# ----------------------------------------------------------------- hand-offs
def test_a_handoff_answered_from_the_console_reaches_telegram(browser: Browser, live: Live) -> None:
    live.telegram("我要找工作人员，问一下报销的事")
    found = wait_for(
        lambda: _query(live, REQUESTS_OF, kind="handoff", p=live.people["telegram"]),
        what="the hand-off",
    )  # fmt: skip
    request_id = int(str(found[0][0]))
    page = signed_in(browser, live, "clerk")
    page.goto(f"{live.url}/console/queue?kind=handoff")
    page.locator(f"tr[data-request='{request_id}']").get_by_role("link").first.click()
    expect(page.locator("#conversation")).to_contain_text("问一下报销的事")
    page.get_by_label("回复").fill("李老您好，报销单据周三上午送到局里一楼就行。")
    page.get_by_role("button", name="发送回复").click()
    expect(page.locator(".flash.ok")).to_contain_text("回复已发出")
    sent = wait_for(
        lambda: [t for t in live.telegram_sent() if "周三上午送到局里一楼" in t],
        what="the answer on Telegram",
    )
    assert sent[0].startswith("【工作人员")
    expect(page.locator("#conversation")).to_contain_text("周三上午送到局里一楼")


# ----------------------------------------------------------------- layout
def test_the_board_fits_a_phone_and_an_office_screen(browser: Browser, live: Live) -> None:
    live.wechat("救命 头很晕 站不住")
    for viewport in (PHONE, DESKTOP):
        page = signed_in(browser, live, "duty", viewport)
        page.goto(f"{live.url}/console/board")
        expect(page.locator("article.alert").first).to_be_visible(timeout=5000)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"{wide}px wide on a {viewport['width']}px screen"
        page.goto(f"{live.url}/console/queue")
        # Away from the board, the menu still counts the emergencies nobody has taken.
        expect(page.locator("#sos-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"the queue is {wide}px on {viewport['width']}px"
        page.context.close()


def test_no_page_reported_a_script_error_or_a_blocked_resource() -> None:
    """Runs after the others (file order): htmx, the board's script and the content
    security policy got along on every page the tests opened."""
    assert PROBLEMS == []
