"""The console's plumbing: templates, the guard every route goes through (signed in, role,
CSRF), and small helpers for pages.

Pages are server-rendered Jinja2 templates with named blocks; htmx asks for a block (its
polling of the board, a filtered list) and gets only that fragment (jinja2-fragments).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import structlog
from jinja2_fragments.starlette import Jinja2Blocks
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console.access import PERMISSIONS, allowed
from bot.console.auth import COOKIE, Session, SessionCodec, csrf_ok, still_valid
from bot.runtime import Runtime
from handlers import texts
from handlers.base import TZ
from handlers.wording import format_when, mask_phone, status_name
from storage.models import Staff
from storage.uow import UnitOfWork

__all__ = ["Signed", "guarded", "render", "runtime_of"]

log = structlog.get_logger("yinling.console")

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 16 * 1024
TEMPLATES = Jinja2Blocks(directory=HERE / "templates")


def _local(value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    return value.astimezone(TZ).strftime(fmt) if value else ""


def _age(birth: date | None, today: date | None = None) -> str:
    if birth is None:
        return ""
    today = today or datetime.now(TZ).date()
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return str(years)


def _waited(since: datetime | None) -> str:
    if since is None:
        return ""
    seconds = max(0, int((datetime.now(UTC) - since).total_seconds()))
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds}秒"
    if seconds < 3600:  # noqa: PLR2004
        return f"{seconds // 60}分钟"
    if seconds < 86400:  # noqa: PLR2004
        return f"{seconds // 3600}小时{seconds % 3600 // 60}分"
    return f"{seconds // 86400}天"


def _actor(actor: str, names: Mapping[int, str]) -> str:
    kind, _, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit():
        return names.get(int(ident), f"工作人员 {ident}")
    if kind == "account":
        return "本人或家属（聊天）"
    return "系统" if actor == "system" else actor


def _pager(query: Mapping[str, str], offset: int) -> str:
    return urlencode({**{k: v for k, v in query.items() if k != "offset"}, "offset": offset})


def staff_ids(actors: Iterable[str]) -> list[int]:
    """The staff ids in actor strings ("staff:3")."""
    found = []
    for actor in actors:
        kind, _, ident = actor.partition(":")
        if kind == "staff" and ident.isdigit():
            found.append(int(ident))
    return found


TEMPLATES.env.filters.update(
    actor=_actor,
    pager=_pager,
    local=_local,
    age=_age,
    waited=_waited,
    status=status_name,
    kind=lambda k: texts.REQUEST_KINDS.get(k, k),
    mask=lambda p: mask_phone(p) if p else "",
    when=format_when,
)
TEMPLATES.env.globals.update(allowed=allowed, outcomes=texts.CONSOLE_OUTCOMES)


def runtime_of(request: Request) -> Runtime:
    """The app's runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def codec_of(request: Request) -> SessionCodec:
    """The app's session codec (made once per app)."""
    state = request.app.state
    codec: SessionCodec | None = getattr(state, "console_codec", None)
    if codec is None:
        codec = SessionCodec(runtime_of(request).settings)
        state.console_codec = codec
    return codec


@dataclass(slots=True)
class Signed:
    """The signed-in staff member on this request, and what they posted."""

    member: Staff
    session: Session
    form: FormData | None = None

    @property
    def role(self) -> str:
        """Their role."""
        return self.member.role

    def field(self, name: str, limit: int = 2000) -> str:
        """A posted field as text (at most ``limit`` characters, no control characters)."""
        value = self.form.get(name) if self.form is not None else None
        return clean(value, limit) if isinstance(value, str) else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: str | None, limit: int) -> str:
    """Text as typed, without characters no database column takes (NUL, lone surrogates,
    control characters), cut to ``limit`` characters."""
    return _CONTROL.sub("", value or "")[:limit]


def param(request: Request, name: str, limit: int = 40) -> str:
    """A query parameter as clean text."""
    return clean(request.query_params.get(name), limit).strip()


# Pages hold personal data: never cached, never framed, scripts and styles only our own.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    who: Signed | None = None,
    status: int = 200,
    block: str | None = None,
) -> Response:
    """A page, or one of its blocks (for htmx)."""
    full = {
        "request": request,
        "who": who,
        "csrf": who.session.csrf if who else context.get("csrf", ""),
        **context,
    }
    headers = PAGE_HEADERS
    if block is not None:
        return TEMPLATES.TemplateResponse(
            request, name, full, status_code=status, headers=headers, block_name=block
        )
    return TEMPLATES.TemplateResponse(request, name, full, status_code=status, headers=headers)


def _to_login(request: Request, *, expired: bool = False) -> Response:
    """Signed out: to the sign-in form, and back to the page afterwards (for htmx, the page
    the browser shows, not the fragment it polled)."""
    target = "/console/login"
    back = ""
    if request.headers.get("hx-request"):
        shown = urlsplit(request.headers.get("hx-current-url", ""))
        back = shown.path + (f"?{shown.query}" if shown.query else "")
    elif request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = []
    if back.startswith("/console/") and back != "/console/":
        query.append("next=" + quote(back))
    if expired:
        query.append("expired=1")  # the sign-in page says the session is over
    if query:
        target += "?" + "&".join(query)
    if request.headers.get("hx-request"):
        # htmx follows this header with a full page load.
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, 303)


def forbidden(request: Request, who: Signed, why: str = "") -> Response:
    """403 with a page that says so plainly."""
    return render(
        request,
        "error.html",
        {"title": "没有权限", "why": why or "您的账号不能打开这一页。如需要，请联系系统管理员。"},
        who=who,
        status=403,
    )


Endpoint = Callable[[Request, Signed], Awaitable[Response]]
Route = Callable[[Request], Awaitable[Response]]


def guarded(
    permission: str | None, *, upload: int = 0
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Every console route but sign-in goes through this: a valid session of an active
    staff member, the role's permission (None: any signed-in staff), and for POSTs a
    form within limits and the session's CSRF token. ``upload``: the route takes one file
    of at most this many bytes (multipart)."""
    if permission is not None and permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    def wrap(endpoint: Endpoint) -> Route:
        @functools.wraps(endpoint)
        async def guard(request: Request) -> Response:
            codec = codec_of(request)
            session = codec.read(request)
            if session is None or session.staff_id is None:
                # A cookie that no longer holds: say so on the sign-in page.
                return _to_login(request, expired=session is None and COOKIE in request.cookies)
            async with UnitOfWork(runtime_of(request).sessions) as uow:
                member = await uow.staff.get(session.staff_id)
            if member is None or not still_valid(session, member):
                response = _to_login(request, expired=True)
                SessionCodec.clear(response)
                return response
            who = Signed(member, session)
            if permission is not None and not allowed(member.role, permission):
                return forbidden(request, who)
            if request.method == "POST":
                form = await read_form(request, upload)
                if form is None:
                    return render(
                        request,
                        "error.html",
                        {"title": "提交的内容太长", "why": "请缩短后再试。"},
                        who=who,
                        status=413,
                    )
                who.form = form
                token = form.get("csrf")
                if not csrf_ok(request, session, token if isinstance(token, str) else None):
                    await form.close()
                    return forbidden(request, who, "页面已过期，请刷新后再试。")
            try:
                response = await endpoint(request, who)
            except Exception:
                # The database away, a bug: a plain page, never a trace (the log has it).
                log.exception("console_page_failed", path=request.url.path)
                return render(request, "error.html", {"title": "系统暂时出了问题",
                              "why": "请稍后再试。有紧急情况请直接打电话处理。"},
                              who=who, status=503)  # fmt: skip
            finally:
                if who.form is not None:
                    await who.form.close()  # an uploaded file's temporary copy goes
            if time.time() - session.signed_at > codec.max_age / 2:
                # In use: the session goes on (it ends after max_age of not being used).
                codec.write(request, response, Session(member.id, session.csrf, time.time()))
            return response

        return guard

    return wrap


async def read_form(request: Request, upload: int = 0) -> FormData | None:
    """A posted form, or None when it is larger than allowed (``MAX_FORM_BYTES``, or one
    file of ``upload`` bytes and a little more)."""
    limit = upload + MAX_FORM_BYTES if upload else MAX_FORM_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    if not declared.isdigit() and request.headers.get("transfer-encoding"):
        return None  # a chunked form: we take none
    try:
        return await request.form(
            max_files=1 if upload else 0, max_fields=50, max_part_size=max(upload, MAX_FORM_BYTES)
        )
    except Exception as e:  # a malformed body is the sender's problem, not a 500
        log.info("console_bad_form", error=type(e).__name__)
        return FormData()


def number(value: object, default: int = 0) -> int:
    """A non-negative integer from a query or form value, else ``default``."""
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else default  # noqa: PLR2004
