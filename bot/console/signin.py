"""Signing in and out of the console."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console.access import first_page
from bot.console.auth import (
    MAX_PASSWORD,
    SessionCodec,
    check_password,
    count_miss,
    csrf_ok,
    login_blocked,
)
from bot.console.web import Signed, clean, codec_of, guarded, read_form, render, runtime_of
from storage.uow import UnitOfWork

__all__ = ["home", "login", "logout"]

log = structlog.get_logger("yinling.console")

MAX_NAME = 40


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _next(value: str | None) -> str | None:
    """Only our own pages are places to go back to after signing in: a path under
    /console/ with no way out of it (no dot segments, no second slash, no backslash, also
    when percent-encoded)."""
    if not value or not value.startswith("/console/"):
        return None
    path = unquote(value.partition("?")[0])
    if "//" in path or "\\" in path or any(part in {".", ".."} for part in path.split("/")):
        return None
    if "//" in value or "\\" in value:
        return None
    return value


async def login(request: Request) -> Response:
    """GET: the form; POST: check the name and password."""
    codec = codec_of(request)
    session = codec.read(request)
    if request.method == "GET":
        fresh = session if session is not None else SessionCodec.fresh(None)
        page = render(
            request,
            "login.html",
            {
                "csrf": fresh.csrf,
                "next": _next(request.query_params.get("next")),
                "expired": request.query_params.get("expired") == "1",
            },
        )
        if session is None:
            codec.write(request, page, fresh)
        return page
    form = await read_form(request)
    if form is None:
        return render(request, "login.html", {"error": "提交的内容太长。", "csrf": ""}, status=413)
    token = form.get("csrf")
    if not csrf_ok(request, session, token if isinstance(token, str) else None):
        fresh = SessionCodec.fresh(None)
        page = render(
            request,
            "login.html",
            {"error": "页面已过期，请再输入一次。", "csrf": fresh.csrf},
            status=403,
        )
        codec.write(request, page, fresh)
        return page
    assert session is not None  # noqa: S101 - csrf_ok needs one
    typed = form.get("username")
    username = clean(typed if isinstance(typed, str) else "", MAX_NAME).strip()
    password = str(form.get("password") or "")[:MAX_PASSWORD]
    now = datetime.now(UTC)
    address = _address(request)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        member = await uow.workbench.staff_by_username(username) if username else None
        # A name nobody has is not written down: it may be a password typed in the wrong box.
        actor = f"console:{member.username}"[:40] if member else "console:unknown"
        if await login_blocked(uow, username, address, now):
            uow.audit.record(now, actor, "login_throttled", "staff", member.id if member else None)
            await uow.commit()
            return render(
                request,
                "login.html",
                {
                    "error": "密码错误次数太多，请 15 分钟后再试，或联系系统管理员。",
                    "csrf": session.csrf,
                },
                status=429,
            )
        good = await check_password(member.password_hash if member else None, password)
        if not good or member is None or not member.active:
            count_miss(uow, username, address, now)
            uow.audit.record(
                now,
                actor,
                "login_failed",
                "staff",
                member.id if member else None,
            )
            await uow.commit()
            return render(
                request,
                "login.html",
                {"error": "用户名或密码不对。", "csrf": session.csrf, "username": username},
                status=401,
            )
        landing = first_page(member.role)
        uow.audit.record(now, f"staff:{member.id}", "login", "staff", member.id)
        await uow.commit()
    if landing is None:
        return render(
            request,
            "login.html",
            {"error": "这个账号没有可用的页面。", "csrf": session.csrf},
            status=403,
        )
    target = _next(str(form.get("next") or "")) or landing
    response = RedirectResponse(target, 303)
    codec.write(request, response, SessionCodec.fresh(member.id))  # a new session id
    return response


@guarded(None)
async def logout(request: Request, who: Signed) -> Response:
    """Sign out: the cookie goes."""
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        member = await uow.staff.get(who.member.id)
        if member is not None:
            member.sessions_valid_from = now  # the cookie is void wherever it is kept
        uow.audit.record(now, f"staff:{who.member.id}", "logout", "staff", who.member.id)
        await uow.commit()
    response = RedirectResponse("/console/login", 303)
    SessionCodec.clear(response)
    return response


@guarded(None)
async def home(request: Request, who: Signed) -> Response:
    """/console/: the first page the role may see."""
    landing = first_page(who.role)
    if landing is None:
        return render(
            request,
            "error.html",
            {"title": "没有可用的页面", "why": "请联系系统管理员。"},
            who=who,
            status=403,
        )
    return RedirectResponse(landing, 303)
