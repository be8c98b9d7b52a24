"""群发 in a real browser, against real ``yinling serve`` and ``yinling worker`` processes
and the Telegram API double: a clerk drafts a broadcast to a segment, a leader confirms it,
the page follows its progress, and every recipient gets it exactly once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import PG_SERVER, REDIS_URL
from tests.console.live import GROUP_TAG, TELEGRAM_RETIREE, Live, live_deployment, wait_for
from tests.console.test_browser import CHROMIUM, LAUNCH_ARGS, PROBLEMS, signed_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is not installed: apt-get install chromium"
)

GROUP = 3  # demo people bound on Telegram and tagged GROUP_TAG


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    logs = tmp_path_factory.mktemp("console-broadcasts")
    with live_deployment(PG_SERVER, REDIS_URL, logs, group=GROUP) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        opened = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield opened
        opened.close()


@pytest.fixture
def slow_telegram(live: Live) -> Iterator[None]:
    """Telegram answers the group's messages slowly (one, three and four seconds), so that
    the broadcast is seen being sent."""
    api: Any = live.telegram_api
    fast = api._sendmessage
    delays = {chat: 1.0 + 1.5 * n for n, chat in enumerate(sorted(live.group))}

    async def slow(params: dict[str, Any]) -> Any:
        await asyncio.sleep(delays.get(int(params["chat_id"]), 0.0))
        return await fast(params)

    api._sendmessage = slow
    try:
        yield
    finally:
        api._sendmessage = fast


def test_a_broadcast_drafted_and_confirmed_reaches_each_recipient_once(
    browser: Browser, live: Live, slow_telegram: None, tmp_path: Path
) -> None:
    assert len(live.group) == GROUP
    seen = len(PROBLEMS)  # (the other browser tests' are theirs)
    text = "浏览器测试：本周五上午九点，活动中心有健康讲座。"
    clerk = signed_in(browser, live, "clerk")
    clerk.get_by_role("link", name="群发").click()
    expect(clerk.get_by_role("heading", name="群发通知")).to_be_visible()
    clerk.get_by_label("标签").select_option(GROUP_TAG)
    expect(clerk.locator("#audience-count")).to_contain_text(f"共 {GROUP} 个账号")
    expect(clerk.locator("#audience-sample li")).to_have_count(GROUP)
    expect(clerk.locator("#audience-sample")).to_contain_text("老")
    clerk.get_by_label("正文").fill(text)
    clerk.get_by_role("button", name="保存草稿，交领导确认").click()
    expect(clerk.get_by_text("草稿已保存，等领导确认后发送。")).to_be_visible()
    expect(clerk).to_have_url(re.compile(r"/console/broadcasts/\d+$"))
    draft_url = clerk.url
    expect(clerk.get_by_role("button", name=re.compile("确认发送"))).to_have_count(0)
    expect(clerk.locator("#broadcast-status")).to_have_text("草稿，等领导确认")
    assert all(live.telegram_sent(chat) == [] for chat in live.group)  # nothing went out

    leader = signed_in(browser, live, "leader")
    leader.goto(draft_url)
    expect(leader.locator("#broadcast-text")).to_contain_text(text)
    expect(leader.locator("#confirm")).to_contain_text(f"发给 {GROUP} 个账号")
    leader.get_by_role("button", name=f"确认发送给 {GROUP} 人").click()
    expect(leader.get_by_text(f"已确认，正在发给 {GROUP} 人。")).to_be_visible()
    # While it is sent, the page shows it (polled), then ends at done with every count.
    expect(leader.locator("#broadcast-status")).to_have_text("正在发送")
    total = leader.locator('#progress tr[data-channel="all"]')
    expect(total.locator(".count-waiting")).not_to_have_text("0")
    leader.screenshot(path=str(tmp_path / "console-broadcast-sending.png"), full_page=True)
    expect(leader.locator("#broadcast-status")).to_have_text("已发完", timeout=30_000)
    expect(total.locator(".count-sent")).to_have_text(str(GROUP))
    for name in ("failed", "blocked", "skipped", "waiting"):
        expect(total.locator(f".count-{name}")).to_have_text("0")
    expect(leader.locator('#progress tr[data-channel="telegram"] .count-sent')).to_have_text("3")
    assert leader.url == draft_url  # the same page all along: htmx swapped the progress in

    # Every recipient once; nobody outside the segment.
    for chat in live.group:
        got = wait_for(lambda c=chat: live.telegram_sent(c), what=f"chat {chat}'s message")
        assert len([t for t in got if text in t]) == 1, (chat, got)
    assert not [t for t in live.telegram_sent(TELEGRAM_RETIREE) if text in t]
    assert not PROBLEMS[seen:], PROBLEMS[seen:]
    clerk.context.close()
    leader.context.close()
