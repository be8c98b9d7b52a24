"""Signing staff in and out of the console: passwords (argon2id, never kept or shown in
plain text), the wrong-password limit, where one lands, the session cookie (its flags,
forgery, expiry) and everything that ends a session at once: signing out, a new password
(`yinling staff password`), deactivation."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from bot.console.access import ROLES, first_page
from bot.console.auth import (
    COOKIE,
    LOGIN_TRIES,
    LOGIN_TRIES_PER_ADDRESS,
    Session,
    SessionCodec,
    check_password,
)
from bot.settings import Settings
from nlu.engine import EmbeddedEngine
from storage.models import Staff
from storage.uow import UnitOfWork
from tests.console.conftest import PASSWORD, Console, Ran, cookie_of, location, open_console

WRONG = "Wrong-Password-1"
POLITE = "用户名或密码不对。"
Yinling = Callable[..., Any]


# ------------------------------------------------------------------ passwords
async def test_the_right_password_lands_on_the_roles_first_page(console: Console) -> None:
    for role in ROLES:
        browser = console.client()
        response = await console.login(role, PASSWORD, browser)
        assert response.status_code == 303, role
        assert location(response) == first_page(role), role
        page = await browser.get(location(response))
        assert page.status_code == 200, role
        assert f"{role}测试" in page.text  # the name of who is signed in
        home = await browser.get("/console/")
        assert (home.status_code, location(home)) == (303, first_page(role))
    logins = await console.audit("login")
    assert [(e.actor, e.target_id) for e in logins] == [
        (f"staff:{console.staff[r]}", str(console.staff[r])) for r in ROLES
    ]


async def test_a_wrong_password_is_refused_politely_and_audited(console: Console) -> None:
    browser = console.client()
    response = await console.login("clerk", WRONG, browser)
    assert response.status_code == 401
    assert POLITE in response.text
    assert WRONG not in response.text
    assert (await browser.get("/console/board")).status_code == 303  # not signed in
    [failed] = await console.audit("login_failed")
    assert failed.actor == "console:clerk"
    assert failed.target_id == str(console.staff["clerk"])
    # The user name is kept in the form (they only retype the password).
    assert 'value="clerk"' in response.text


async def test_an_unknown_name_gets_the_same_answer(console: Console) -> None:
    known = await console.login("clerk", WRONG)
    unknown = await console.login("nobody-here", WRONG)
    empty = await console.login("", WRONG)
    for response in (unknown, empty):
        assert response.status_code == known.status_code == 401
        assert POLITE in response.text
    failed = await console.audit("login_failed")
    assert [(e.actor, e.target_id) for e in failed] == [
        ("console:clerk", str(console.staff["clerk"])),
        ("console:unknown", None),  # a name nobody has may be a password in the wrong box
        ("console:unknown", None),
    ]


async def test_after_five_wrong_passwords_even_the_right_one_waits(console: Console) -> None:
    assert LOGIN_TRIES == 5
    for _ in range(LOGIN_TRIES):
        assert (await console.login("duty", WRONG)).status_code == 401
    browser = console.client()
    blocked = await console.login("duty", PASSWORD, browser)
    assert blocked.status_code == 429
    assert "15 分钟" in blocked.text
    assert (await browser.get("/console/board")).status_code == 303  # not signed in
    assert len(await console.audit("login_throttled")) == 1
    assert await console.audit("login") == []
    # The limit is per name: a colleague at the same desk still signs in.
    assert (await console.login("leader", PASSWORD)).status_code == 303


async def test_too_many_wrong_passwords_from_one_address(console: Console) -> None:
    """Guessing over many names is limited per address as well."""
    for i in range(LOGIN_TRIES_PER_ADDRESS):
        name = f"guess{i // (LOGIN_TRIES - 1)}"  # under the per-name limit each
        assert (await console.login(name, WRONG)).status_code == 401, i
    assert (await console.login("leader", PASSWORD)).status_code == 429


async def test_signing_in_starts_a_new_session(console: Console) -> None:
    """No session fixation: what a browser held before signing in is worth nothing after."""
    browser = console.client()
    before = await console.csrf(browser)
    anonymous = browser.cookies[COOKIE]
    assert (await console.login("leader", PASSWORD, browser)).status_code == 303
    assert browser.cookies[COOKIE] != anonymous
    url = f"/console/people/{console.ids['person']}/edit"
    stale = await browser.post(url, data={"notes": "旧令牌", "csrf": before})
    assert stale.status_code == 403
    fresh = await browser.post(url, data={"notes": "新令牌", "csrf": await console.csrf(browser)})
    assert fresh.status_code == 200
    assert await console.csrf(browser) != before


async def test_a_member_without_a_password_cannot_sign_in(console: Console) -> None:
    """Staff who only answer pages on WeCom have no password: no way in, and a session
    of theirs ends when the password is taken away."""
    duty = await console.signed_in("duty")
    await console.update_staff(console.staff["duty"], password_hash=None)
    assert (await duty.get("/console/board")).status_code == 303
    for password in (PASSWORD, ""):
        response = await console.login("duty", password)
        assert response.status_code == 401
        assert POLITE in response.text


async def test_a_deactivated_member_cannot_sign_in(console: Console) -> None:
    await console.update_staff(console.staff["clerk"], active=False)
    response = await console.login("clerk", PASSWORD)
    assert response.status_code == 401
    assert POLITE in response.text  # no telling that the account exists


# ---------------------------------------------------------------- next=
SAFE_NEXT = ["/console/queue?status=pending", "/console/people/1", "/console/audit"]
UNSAFE_NEXT = [
    "//evil.com",
    "https://evil.com",
    "http://t/console/board",
    "/\\evil.com",
    "/console/\\evil.com",
    "/console//evil.com",
    "//evil.com/console/",
    "javascript:alert(1)",
    "/healthz",
    "/console",
    "console/board",
    " /console/board",
]


async def test_next_is_honoured_for_console_pages_only(console: Console) -> None:
    for target in SAFE_NEXT:
        response = await console.login("leader", next=target)
        assert (response.status_code, location(response)) == (303, target), target
    for target in UNSAFE_NEXT:
        response = await console.login("leader", next=target)
        assert (response.status_code, location(response)) == (303, "/console/board"), target
        form = await console.client().get("/console/login", params={"next": target})
        assert 'name="next"' not in form.text, target  # not even put in the form


async def test_next_cannot_climb_out_of_the_console(console: Console) -> None:
    """A browser resolves dot segments (written plainly or percent-encoded) in Location:
    /console/../x is /x. (Let through before 36f19a6.)"""
    for target in (
        "/console/../healthz",
        "/console/%2e%2e/healthz",
        "/console/%2E%2E/metrics",
        "/console/./../healthz",
        "/console/board/../../healthz",
        "/console/..",
        "/console/%2f%2fevil.com",
        "/console/%5cevil.com",
    ):
        response = await console.login("leader", next=target)
        assert (response.status_code, location(response)) == (303, "/console/board"), target


async def test_a_page_asked_for_signed_out_is_reached_after_signing_in(console: Console) -> None:
    browser = console.client()
    asked = await browser.get("/console/queue?status=pending")
    assert asked.status_code == 303
    form_url = location(asked)
    assert form_url == "/console/login?next=" + quote("/console/queue?status=pending")
    form = await browser.get(form_url)
    assert 'name="next" value="/console/queue?status=pending"' in form.text
    token = await console.csrf(browser)
    response = await browser.post(
        "/console/login",
        data={
            "csrf": token,
            "username": "clerk",
            "password": PASSWORD,
            "next": parse_qs(urlsplit(form_url).query)["next"][0],
        },
    )
    assert location(response) == "/console/queue?status=pending"
    assert (await browser.get(location(response))).status_code == 200


async def test_after_the_boards_poll_finds_the_session_over_one_lands_on_the_board(
    console: Console,
) -> None:
    """htmx polls /console/board/live, a bare fragment: when the session is over, signing
    in again leads back to the board htmx was showing, not to the fragment (a page without
    layout that polls no more). (Fixed in 36f19a6.)"""
    browser = console.client()
    poll = await browser.get(
        "/console/board/live",
        headers={"HX-Request": "true", "HX-Current-URL": "http://t/console/board"},
    )
    assert poll.status_code == 401
    form_url = poll.headers["HX-Redirect"]
    target = parse_qs(urlsplit(form_url).query).get("next", [""])[0]
    response = await console.login("duty", next=target)
    assert location(response) == "/console/board"


# --------------------------------------------------------------- the cookie
async def test_the_cookie_is_httponly_strict_and_only_for_the_console(console: Console) -> None:
    browser = console.client()
    anonymous = await browser.get("/console/login")
    signed = await console.login("clerk", PASSWORD, browser)
    for response in (anonymous, signed):
        flags = cookie_of(response)
        assert "httponly" in flags
        assert flags["samesite"].lower() == "strict"
        assert flags["path"] == "/console"
        assert flags["max-age"] == str(8 * 3600)
        assert "secure" not in flags  # plain http (a developer's machine)
        assert "domain" not in flags
    assert cookie_of(anonymous)["value"] != cookie_of(signed)["value"]  # a new session
    secure = await console.login("clerk", PASSWORD, console.client("https://t"))
    assert "secure" in cookie_of(secure)


def _payload(cookie: str) -> dict[str, Any]:
    """What a session cookie holds (itsdangerous: payload.timestamp.signature, the payload
    zlib-compressed behind a leading dot when that is shorter)."""
    body = cookie.rsplit(".", 2)[0]
    raw = base64.urlsafe_b64decode(body.lstrip(".") + "=" * (-len(body.lstrip(".")) % 4))
    data: dict[str, Any] = json.loads(zlib.decompress(raw) if body.startswith(".") else raw)
    return data


def made_by(codec: SessionCodec, session: Session) -> str:
    """The cookie a codec writes for a session."""
    scope = {"type": "http", "scheme": "http", "server": ("t", 80), "path": "/", "headers": []}
    response = Response()
    codec.write(Request(scope), response, session)
    return response.headers["set-cookie"].split(";")[0].partition("=")[2]


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_tampered_cookie_is_signed_out(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    cookie = clerk.cookies[COOKIE]
    assert (await console.with_cookie(cookie).get("/console/board")).status_code == 200
    body, stamp, signature = cookie.rsplit(".", 2)
    as_leader = {**_payload(cookie), "s": console.staff["leader"]}
    flipped = "B" if signature[0] == "A" else "A"
    anonymous = cookie_of(await console.client().get("/console/login"))["value"]
    other_key = URLSafeTimedSerializer("not our secret", salt="yinling-console")
    forged = {
        "a changed signature": f"{body}.{stamp}.{flipped}{signature[1:]}",
        "another staff id": f"{_encode(as_leader)}.{stamp}.{signature}",
        "no signature": body,
        "signed with another key": other_key.dumps(as_leader),
        "an anonymous session": made_by(SessionCodec(Settings()), SessionCodec.fresh(None)),
        "the sign-in form's session": anonymous,
        "rubbish": "%%%",
    }
    before = await console.snapshot()
    for name, value in forged.items():
        browser = console.with_cookie(value)
        page = await browser.get("/console/audit")
        assert page.status_code == 303, name
        assert location(page).startswith("/console/login"), name
        form = {"notes": "伪造", "csrf": _payload(cookie)["c"]}
        post = await browser.post(f"/console/people/{console.ids['person']}/edit", data=form)
        assert post.status_code == 303, name
    assert await console.snapshot() == before


async def test_a_cookie_signed_with_the_console_secret_is_checked_against_it(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, now: datetime, password_hash: str
) -> None:
    """With YINLING_CONSOLE_SECRET set, a cookie of the default (derived) key is void."""
    settings = Settings(console_secret=SecretStr("a-secret-of-this-deployment"))
    async with open_console(db, engine_nlu, now, password_hash, settings) as secret:
        browser = await secret.signed_in("clerk")
        assert (await browser.get("/console/board")).status_code == 200
        staff_id = _payload(browser.cookies[COOKIE])["s"]
        derived = made_by(SessionCodec(Settings()), SessionCodec.fresh(staff_id))
        page = await secret.with_cookie(derived).get("/console/board")
        assert page.status_code == 303


async def test_an_expired_cookie_is_signed_out(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = await console.signed_in("clerk")
    hours = Settings().console_session_hours
    real = TimestampSigner.get_timestamp
    assert (await clerk.get("/console/board")).status_code == 200

    def later(seconds: float) -> None:
        monkeypatch.setattr(
            TimestampSigner, "get_timestamp", lambda self: real(self) + int(seconds)
        )

    later(hours * 3600 - 60)
    assert (await clerk.get("/console/board")).status_code == 200  # a minute left
    later(hours * 3600 + 2)
    expired = await clerk.get("/console/board")
    assert expired.status_code == 303
    assert location(expired).startswith("/console/login")
    # And a deployment that sets a shorter session gets it.
    short = SessionCodec(Settings(console_session_hours=0.5))
    assert short.max_age == 1800


# ---------------------------------------------------------- ending sessions
async def test_signing_out_voids_the_old_cookie_everywhere(console: Console) -> None:
    office = await console.signed_in("leader")
    home = await console.signed_in("leader")  # the same person on another computer
    old = office.cookies[COOKIE]
    response = await office.post("/console/logout", data={"csrf": await console.csrf(office)})
    assert (response.status_code, location(response)) == (303, "/console/login")
    removed = cookie_of(response)
    assert removed["value"] in {"", '""'}
    assert removed.get("max-age") == "0" or "1970" in removed.get("expires", "")
    for browser in (console.with_cookie(old), home):
        page = await browser.get("/console/board")
        assert page.status_code == 303
        assert location(page).startswith("/console/login")
    assert len(await console.audit("logout")) == 1
    again = await console.signed_in("leader")  # signing in again works at once
    assert (await again.get("/console/board")).status_code == 200


async def test_a_new_password_from_the_cli_voids_the_old_session(
    console: Console, yinling: Yinling
) -> None:
    clerk = await console.signed_in("clerk")
    old = clerk.cookies[COOKIE]
    new = "Xin-Mi-Ma-2027"
    ran: Ran = await yinling(
        console.engine, "staff", "password", "--username", "clerk", "--password-stdin",
        stdin=new + "\n",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert new not in ran.out + ran.err
    page = await console.with_cookie(old).get("/console/board")
    assert page.status_code == 303
    assert (await console.login("clerk", PASSWORD)).status_code == 401
    assert (await console.login("clerk", new)).status_code == 303
    member = await console.member(console.staff["clerk"])
    assert member.password_hash is not None
    assert member.password_hash.startswith("$argon2id$")
    assert [e.action for e in await console.audit("staff_password_set")] == ["staff_password_set"]


async def test_deactivation_signs_out_at_once(console: Console, yinling: Yinling) -> None:
    duty = await console.signed_in("duty")
    clerk = await console.signed_in("clerk")
    ran = await yinling(console.engine, "staff", "deactivate", "--username", "duty")
    assert ran.code == 0, ran.err
    page = await duty.get("/console/board")
    # Back to the board afterwards; the sign-in page says the session is over.
    assert (page.status_code, location(page)) == (
        303,
        "/console/login?next=/console/board&expired=1",
    )
    # Also when only the flag changes (no new sessions_valid_from): checked on every request.
    await console.update_staff(console.staff["clerk"], active=False)
    form = {"note": "还在吗", "csrf": _token_of(clerk)}
    refused = await clerk.post(f"/console/alerts/{console.ids['alert']}/note", data=form)
    assert refused.status_code == 303
    assert await console.audit("request_noted") == []
    assert (await clerk.get("/console/board")).status_code == 303


def _token_of(browser: httpx.AsyncClient) -> str:
    """The CSRF token a browser's session cookie holds."""
    return str(_payload(browser.cookies[COOKIE])["c"])


# --------------------------------------------------------- yinling staff add
async def test_staff_add_refuses_a_short_password_and_a_taken_name(
    console: Console, yinling: Yinling
) -> None:
    async def staff_count() -> int:
        async with UnitOfWork(console.sessions) as uow:
            return len(list(await uow.session.scalars(select(Staff))))

    count = await staff_count()
    add = ("staff", "add", "--name", "李四", "--role", "clerk", "--password-stdin")
    short = await yinling(console.engine, *add, "--username", "lisi", stdin="short-1\n")
    assert short.code == 2
    assert "at least 10 characters" in short.err
    same = await yinling(console.engine, *add, "--username", "lisi", stdin="aaaaaaaaaaaa\n")
    assert same.code == 2
    assert "too few different characters" in same.err
    taken = await yinling(console.engine, *add, "--username", "clerk", stdin=PASSWORD + "\n")
    assert taken.code == 2
    assert "clerk is taken" in taken.err
    spaced = await yinling(console.engine, *add, "--username", "li si", stdin=PASSWORD + "\n")
    assert spaced.code == 2
    assert await staff_count() == count
    good = "Li-Si-Mi-Ma-88"
    added = await yinling(console.engine, *add, "--username", "lisi", stdin=good + "\n")
    assert added.code == 0, added.err
    assert await staff_count() == count + 1
    response = await console.login("lisi", good)
    assert (response.status_code, location(response)) == (303, "/console/board")


async def test_a_password_too_long_to_type_in_is_refused(
    console: Console, yinling: Yinling
) -> None:
    long = "Chang-Mi-Ma-" * 20  # 240 characters, from a password manager
    added = await yinling(
        console.engine, "staff", "add", "--name", "赵六", "--role", "clerk",
        "--username", "zhaoliu", "--password-stdin", stdin=long + "\n",
    )  # fmt: skip
    if added.code == 0:  # accepted: then it must work
        assert (await console.login("zhaoliu", long)).status_code == 303
    else:
        assert added.code == 2


async def test_passwords_are_argon2id_and_never_shown_or_kept(
    console: Console, yinling: Yinling, json_logs: Any
) -> None:
    new = "Mi-Ma-Bu-Jian-77"
    added = await yinling(
        console.engine, "staff", "add", "--name", "王五", "--role", "leader",
        "--username", "wangwu", "--password-stdin", stdin=new + "\n",
    )  # fmt: skip
    assert added.code == 0, added.err
    from bot.logs import configure_logging

    configure_logging("json", "DEBUG", stream=json_logs)  # the CLI set its own
    await console.login("wangwu", WRONG)
    await console.login("wangwu", PASSWORD)
    assert (await console.login("wangwu", new)).status_code == 303
    async with UnitOfWork(console.sessions) as uow:
        member = await uow.workbench.staff_by_username("wangwu")
        assert member is not None
        stored = member.password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored  # OWASP's minimum, as auth.py says
    assert await check_password(stored, new)
    assert not await check_password(stored, WRONG)
    assert not await check_password(None, new)  # no hash: never a match
    everything = repr(await console.snapshot())  # every table, audit log included
    for password in (new, WRONG, PASSWORD):
        assert password not in everything
        assert password not in json_logs.getvalue()
        assert password not in added.out + added.err
    assert any(e.action == "staff_added" for e in await console.audit())


# ------------------------------------------------------ PostgreSQL's widths
async def test_a_long_user_name_is_refused_and_counted_like_any_other(
    pg_console: Console,
) -> None:
    """A user name of 33-40 characters (`staff add` allows 40) made the audit actor
    "console:<name>" longer than its VARCHAR(40): on PostgreSQL a 500, and the wrong
    password was never counted, so the limit never came (fixed in 36f19a6)."""
    name = "a-rather-long-user-name-of-36-chars"
    name += "x" * (36 - len(name))
    async with UnitOfWork(pg_console.sessions) as uow:
        await uow.staff.add(
            Staff(
                name="长名字",
                role="clerk",
                active=True,
                created_at=datetime.now(UTC),
                username=name,
                password_hash=(await pg_console.member(pg_console.staff["clerk"])).password_hash,
            )
        )
        await uow.commit()
    browser = pg_console.client(raise_errors=False)  # a 500, not the exception
    for _ in range(LOGIN_TRIES):
        response = await pg_console.login(name, WRONG, browser)
        assert response.status_code == 401
    assert len(await pg_console.audit("login_failed")) == LOGIN_TRIES
    assert (await pg_console.login(name, PASSWORD, browser)).status_code == 429
    longest = await pg_console.login("y" * 60, WRONG, browser)  # cut to 40 on the way in
    assert longest.status_code == 401
