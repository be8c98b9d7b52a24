"""The ``yinling`` command as a newcomer runs it (a real subprocess each time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOW = "2026-11-22T10:00:00+08:00"
REPO = Path(__file__).resolve().parent.parent


def yinling(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_simulate_greeting() -> None:
    result = yinling("simulate", "--now", NOW, stdin='{"user":"u1","text":"你好"}\n')
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    data = json.loads(line)
    assert set(data) == {"user", "text", "intent", "replies", "events", "notices"}
    assert data["intent"] == "greet"
    [reply] = data["replies"]
    assert "您好" in reply["text"] or "早上好" in reply["text"]
    assert reply["options"][0].startswith("1. ")
    assert len(reply["options"]) == 8


def test_simulate_a_stranger_with_a_retirees_name_and_phone() -> None:
    """Issue 15's "done when": through yinling simulate, a stranger who types a demo
    retiree's name and phone sees no booking and no address, can still raise an emergency,
    and the retiree's bound account is told; 20 wrong codes are throttled before the 20th."""
    lines: list[dict[str, object]] = [
        {"user": "owner", "text": "报名书法班"},
        {"user": "owner", "text": "确认"},
        {"user": "stranger", "text": "你好", "unbound": True},
        {"user": "stranger", "text": "同意", "unbound": True},
        {"user": "stranger", "text": "张建国", "unbound": True},
        {"user": "stranger", "text": "13900000001", "unbound": True},
        {"user": "stranger", "text": "我的记录", "unbound": True},
        {"user": "stranger", "text": "取消书法班", "unbound": True},
        {"user": "stranger", "text": "我住哪里", "unbound": True},
        {"user": "stranger", "text": "救命 我摔倒了", "unbound": True},
    ]
    lines += [
        {"user": "guesser", "text": f"绑定码 {20_000_000 + i}", "unbound": True} for i in range(20)
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    result = yinling("simulate", "--now", NOW, stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    stranger = [o for o in out if o["user"] == "stranger"]
    shown = json.dumps([o["replies"] for o in stranger], ensure_ascii=False)
    assert "书法" not in shown  # no booking
    assert "示范路" not in shown  # no address (the demo addresses are on 示范路)
    assert [e["type"] for e in stranger[-1]["events"]] == ["sos_raised"]
    told = [n for o in stranger for n in o["notices"] if n["to"] == "owner"]
    assert told
    assert "张建国" in told[0]["replies"][0]["text"]
    guesses = [o for o in out if o["user"] == "guesser"]
    throttled = [i for i, o in enumerate(guesses) if "以后再试" in o["replies"][0]["text"]]
    assert throttled
    assert throttled[0] < 19


def test_simulate_users_and_bad_lines() -> None:
    lines = [
        {"user": "a", "text": "你好"},
        {"user": "b", "text": "你好"},
        {"user": "c", "text": "你好", "unbound": True},
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n"
    result = yinling("simulate", "--now", NOW, stdin=stdin)
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 4
    assert "张老" in out[0]["replies"][0]["text"]
    assert "王老" in out[1]["replies"][0]["text"]  # a distinct demo retiree
    assert "您同意吗" in out[2]["replies"][0]["text"]  # unbound: the notice, then binding
    assert "error" in out[3]


def test_nlu_parse_issue_examples() -> None:
    stdin = "我老伴昨天摔了一跤现在起不来\n下礼拜三想去省人民医院看看心内科\n"
    result = yinling("nlu", "parse", "--now", NOW, stdin=stdin)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(x) for x in result.stdout.splitlines())
    assert first["intent"]["name"] == "sos"
    assert second["intent"]["name"] == "medical_escort"
    assert {("date", "2026-11-25"), ("hospital", "省人民医院"), ("department", "心内科")} <= {
        (e["entity"], e["value"]) for e in second["entities"]
    }


def test_nlu_evaluate_prints_the_figures() -> None:
    result = yinling("nlu", "evaluate", "--data", "tests/nlu/heldout.jsonl", "--now", NOW)
    assert result.returncode == 0, result.stderr
    for label in ("intent accuracy", "macro F1", "sos recall", "confusions", "date", "hospital"):
        assert label in result.stdout


def test_issue_a_family_code_then_the_wechat_menu(tmp_path: Path) -> None:
    env = {"YINLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"}
    seeded = yinling("db", "seed", env=env)
    assert seeded.returncode == 0, seeded.stderr
    issued = yinling("code", "--person", "1", "--family", "女儿", env=env)
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.strip().isdigit()
    assert len(issued.stdout.strip()) == 8
    assert yinling("code", "--person", "999", env=env).returncode == 2
    menu = yinling("wechat", "menu", "--print")
    assert menu.returncode == 0, menu.stderr
    assert len(json.loads(menu.stdout)["button"]) == 3


def test_the_duty_roster(tmp_path: Path) -> None:
    env = {"YINLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"}
    assert yinling("db", "seed", env=env).returncode == 0
    at = "2030-01-02T10:00:00+08:00"
    assert "王晓明" not in yinling("duty", "list", "--at", at, env=env).stdout
    added = yinling(
        "duty", "add", "--staff", "2", "--level", "1",
        "--from", "2030-01-02T08:00:00+08:00", "--to", "2030-01-02T20:00:00+08:00", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = yinling("duty", "list", "--at", at, env=env)
    assert listed.stdout.splitlines() == [
        "level 1  李娟 (staff 2)  2030-01-02T00:00:00+00:00 - 2030-01-02T12:00:00+00:00"
    ]
    refused = yinling(
        "duty", "add", "--staff", "99", "--level", "1", "--from", at, "--to", at, env=env
    )
    assert refused.returncode == 2


def test_tags_on_people_and_a_broadcast_by_tag(tmp_path: Path) -> None:
    env = {"YINLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"}
    assert yinling("db", "seed", env=env).returncode == 0
    added = yinling("tag", "add", "书画组", "--person", "1", "--person", "2", env=env)
    assert added.returncode == 0, added.stderr
    assert yinling("tag", "list", "--person", "1", env=env).stdout.split() == ["书画组"]
    assert yinling("tag", "remove", "书画组", "--person", "1", env=env).returncode == 0
    assert yinling("tag", "list", "--person", "1", env=env).stdout.split() == []
    assert yinling("tag", "add", "书画组", "--person", "999", env=env).returncode == 2
    dry = yinling("broadcast", "--text", "书画组活动改期", "--tag", "书画组", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "tag=书画组" in dry.stdout


def test_check_lists_what_would_let_an_emergency_page_nobody(tmp_path: Path) -> None:
    env = {
        "YINLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'y.db'}",
        "YINLING_SPOOL_DIR": str(tmp_path / "spool"),
        "YINLING_HOTLINE": "0512-65000000",
    }
    generated = yinling("keys", "generate", env=env)
    assert generated.returncode == 0, generated.stderr
    keys = dict(
        line.split("=", 1) for line in generated.stdout.splitlines() if line.startswith("YINLING")
    )
    assert set(keys) == {"YINLING_DATA_KEYS", "YINLING_INDEX_KEY"}
    assert "development key" in yinling("check", env=env).stdout
    env |= keys
    assert yinling("db", "seed", env=env).returncode == 0  # duty roster for four weeks
    found = yinling("check", env=env)
    assert found.returncode == 1
    errors = [line for line in found.stdout.splitlines() if line.startswith("ERROR")]
    assert any("YINLING_HOTLINE is the demo number" in line for line in errors)
    on_call = [line for line in errors if "is on call" in line]
    assert len(on_call) == 3  # the three staff on the roster have no account to page
    assert not [line for line in errors if "nobody on duty" in line]
    # The bureau's number; the staff paged on WeCom, which is not configured yet.
    env["YINLING_HOTLINE"] = "0512-12345678"
    for staff in ("1", "2", "3"):
        bound = yinling("staff", "wecom", "--staff", staff, "--user", f"u{staff}", env=env)
        assert bound.returncode == 0, bound.stderr
    found = yinling("check", env=env)
    assert found.returncode == 1
    assert "staff are bound on wecom but it cannot send" in found.stdout
    env |= {
        "YINLING_WECOM__CORP_ID": "ww1",
        "YINLING_WECOM__SECRET": "s",
        "YINLING_WECOM__AGENT_ID": "1000002",
    }
    found = yinling("check", env=env)
    assert found.returncode == 0, found.stdout
    assert "0 errors" in found.stdout
    assert "YINLING_REDIS_URL is not set" in found.stdout  # still worth a word
    # No duty roster at all: nobody on duty for the whole week.
    empty = tmp_path / "empty.db"
    env["YINLING_DATABASE_URL"] = f"sqlite+aiosqlite:///{empty}"
    assert yinling("db", "upgrade", env=env).returncode == 0
    found = yinling("check", env=env)
    assert found.returncode == 1
    assert "nobody on duty (level 1) from" in found.stdout


def test_the_demo_chat_shows_no_log_lines() -> None:
    """A newcomer's first minutes: the chat shows the bot, not a library's debug line (bm25s
    logs one when the first policy question builds its index)."""
    result = yinling("chat", "--now", NOW, stdin="退休金怎么算\n你好\n")
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert "银龄通：" in result.stdout
    for noise in ("[debug", "[info", "bm25s", "Building index"):
        assert noise not in shown
