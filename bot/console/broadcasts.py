"""群发: compose a broadcast to a segment (the CLI's and the chat's segments), see whom it
reaches (a count, a sample with masked names, per channel, WeChat's 48-hour window), and
send it only with a leader's confirmation; then watch its progress.

A draft is a broadcast with status ``draft``: its recipients are fixed when it is written
(storage/broadcasts.py), and nothing sends a draft (a job only takes a broadcast that is
``sending``, the reconciler only starts a ``scheduled`` one). A leader's confirmation moves
it on to ``sending`` (or ``scheduled``, for a time to come) and kicks the job, exactly as
the chat's 群发 does; what the leader confirmed is what the page showed: that text, those
recipients. Drafts, confirmations and withdrawals are in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, desc, func, select, update
from starlette.requests import Request
from starlette.responses import Response

from bot.channels.wechat_api import CS_WINDOW
from bot.console.actions import after_commit
from bot.console.web import Signed, guarded, number, param, render, runtime_of
from handlers.base import TZ
from handlers.events import BroadcastCreated
from handlers.wording import surname
from handlers.workbench import Done
from services.broadcasts import message
from storage.broadcasts import MAX_TEXT, RESULTS, check_segment
from storage.models import Broadcast, BroadcastRecipient, MessageRecord, Person, PersonTag
from storage.segments import audience as audience_query
from storage.uow import UnitOfWork

__all__ = [
    "broadcast_cancel",
    "broadcast_confirm",
    "broadcast_draft",
    "broadcast_page",
    "broadcasts",
]

SAMPLE = 10
CATEGORY_NAMES = {"lixiu": "离休", "tuixiu": "退休"}
LIVE = ("scheduled", "sending")  # the progress block polls while the broadcast is one of these
LABELS: dict[str, Any] = {
    "channel_names": {"wechat": "微信", "telegram": "Telegram"},
    "status_names": {
        "draft": "草稿，等领导确认",
        "scheduled": "已确认，定时发送",
        "sending": "正在发送",
        "done": "已发完",
        "cancelled": "已撤回",
    },
    "result_names": {
        "sent": "已送达",
        "failed": "失败",
        "blocked": "已屏蔽",
        "skipped": "跳过",
        "waiting": "待发送",
    },
}
ALREADY = "这条群发已经确认或撤回了（只有草稿可以确认或撤回）。"


def masked(name: str | None) -> str:
    """How a retiree's name shows in a sample: the surname and 老 (张建国 → 张老)."""
    return f"{surname(name)}老" if name else "（未登记姓名）"


def describe(segment: dict[str, Any]) -> str:
    """The segment in Chinese, for staff."""
    parts = []
    if segment.get("district"):
        parts.append(str(segment["district"]))
    if segment.get("category"):
        parts.append(CATEGORY_NAMES.get(segment["category"], str(segment["category"])))
    if segment.get("tag"):
        parts.append(f"标签“{segment['tag']}”")
    for key, value in segment.items():
        if key not in {"district", "category", "tag", "family"}:
            parts.append(f"{key}={value}")
    who = "、".join(parts) or "全部老干部"
    return who + ("（含家属）" if segment.get("family") else "")


def _segment(who: Signed | None, request: Request) -> dict[str, Any]:
    """The segment chosen on the form (POST) or in the address (GET)."""

    def value(name: str, limit: int) -> str:
        if who is not None and who.form is not None:
            return who.field(name, limit).strip()
        return param(request, name, limit)

    raw: dict[str, Any] = {
        "district": value("district", 40) or None,
        "category": value("category", 10) or None,
        "tag": value("tag", 20) or None,
        "family": True if value("family", 3) == "1" else None,
    }
    if raw["category"] not in (None, *CATEGORY_NAMES):
        raw["category"] = None
    return check_segment(raw)


async def _preview(uow: UnitOfWork, segment: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Who a broadcast to the segment would reach now: counts, a masked sample, WeChat's
    window (customer-service text inside 48 hours of their last message, else template)."""
    today = now.astimezone(TZ).date()
    audience = audience_query(segment, today).subquery()
    rows = await uow.session.execute(
        select(audience.c.channel, func.count()).group_by(audience.c.channel)
    )
    channels = {str(channel): int(n) for channel, n in rows}
    recent = (
        select(MessageRecord.account_id)
        .where(MessageRecord.direction == "in", MessageRecord.created_at > now - CS_WINDOW)
        .distinct()
    )
    in_window = await uow.session.scalar(
        select(func.count()).where(audience.c.channel == "wechat", audience.c.id.in_(recent))
    )
    sample_query: Select[Any] = (
        select(Person.name, audience.c.channel)
        .join(audience, audience.c.person_id == Person.id)
        .order_by(Person.id, audience.c.id)
        .limit(SAMPLE)
    )
    sample = [
        (masked(name), str(channel)) for name, channel in await uow.session.execute(sample_query)
    ]
    wechat = channels.get("wechat", 0)
    return {
        "count": sum(channels.values()),
        "channels": channels,
        "wechat_window": int(in_window or 0),
        "wechat_template": wechat - int(in_window or 0),
        "sample": sample,
    }


def _texts(text: str, request: Request) -> dict[str, str]:
    """What a recipient reads, per channel (WeChat's template carries at most 200 chars)."""
    config = runtime_of(request).settings.service_config()
    shown = Broadcast(text=text or "（正文）", link=None)
    body = message(shown, config).text
    return {"telegram": body, "wechat": body, "template": body[:200]}


async def _choices(uow: UnitOfWork) -> dict[str, Any]:
    tags = await uow.session.scalars(select(PersonTag.tag).distinct().order_by(PersonTag.tag))
    return {"districts": await uow.workbench.districts(), "tags": list(tags)}


@guarded("broadcast.view")
async def broadcasts(request: Request, who: Signed) -> Response:
    """The composer (its preview block alone for htmx) and the latest broadcasts."""
    segment = _segment(None, request)
    text = param(request, "text", MAX_TEXT)
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        preview = await _preview(uow, segment, now)
        choices = await _choices(uow)
        latest = list(
            await uow.session.scalars(select(Broadcast).order_by(desc(Broadcast.id)).limit(20))
        )
        names = await uow.workbench.staff_names([b.created_by for b in latest])
    context = {
        **LABELS,
        "nav": "broadcasts",
        "segment": segment,
        "who_text": describe(segment),
        "preview": preview,
        "shown": _texts(text, request),
        "text": text,
        "max_text": MAX_TEXT,
        "latest": latest,
        "names": names,
        "describe": describe,
        **choices,
    }
    block = "preview" if request.headers.get("hx-target") == "preview" else None
    return render(request, "broadcasts.html", context, who=who, block=block)


def _send_at(value: str, now: datetime) -> datetime | None:
    """A time typed in the form (Asia/Shanghai); None for now or a time already past."""
    if not value:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError("发送时间的格式不对") from e
    when = local.replace(tzinfo=TZ) if local.tzinfo is None else local
    if when > now + timedelta(days=60):
        raise ValueError("发送时间最多可以定在 60 天以后")
    return when if when > now else None


def _check_text(text: str) -> None:
    if not text:
        raise ValueError("请写上通知的内容")
    if len(text) > MAX_TEXT:
        raise ValueError(f"通知最多 {MAX_TEXT} 字，现在 {len(text)} 字")


@guarded("broadcast.view")
async def broadcast_draft(request: Request, who: Signed) -> Response:
    """Write a draft; its page is the confirmation step (a leader confirms there)."""
    text = who.field("text", MAX_TEXT + 1).strip()
    now = datetime.now(UTC)
    try:
        segment = _segment(who, request)
        send_at = _send_at(who.field("send_at", 20).strip(), now)
        _check_text(text)
    except ValueError as e:
        return render(
            request, "error.html", {"title": "没法起草", "why": str(e)}, who=who, status=409
        )
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        if not await uow.broadcasts.audience_size(segment, now.astimezone(TZ).date()):
            return render(
                request,
                "error.html",
                {"title": "没法起草", "why": "这个范围里没有绑定了微信或 Telegram 的人。"},
                who=who,
                status=409,
            )
        draft = await uow.broadcasts.create(
            text, segment, who.member.id, now, now.astimezone(TZ).date(), send_at=send_at
        )
        draft.status = "draft"
        uow.audit.record(
            now, f"staff:{who.member.id}", "broadcast_drafted", "broadcast", draft.id,
            segment=segment, recipients=draft.total,
            send_at=send_at.isoformat() if send_at else None,
        )  # fmt: skip
        await uow.commit()
        draft_id = draft.id
    response = await _page(request, who, draft_id, "草稿已保存，等领导确认后发送。", ok=True)
    response.headers["HX-Push-Url"] = f"/console/broadcasts/{draft_id}"
    return response


async def _context(request: Request, broadcast_id: int) -> dict[str, Any] | None:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        item = await uow.broadcasts.get(broadcast_id)
        if item is None:
            return None
        rows = await uow.session.execute(
            select(BroadcastRecipient.channel, BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(BroadcastRecipient.channel, BroadcastRecipient.status)
        )
        by_channel: dict[str, dict[str, int]] = {}
        for channel, status, n in rows:
            by_channel.setdefault(str(channel), {})[str(status)] = int(n)
        sample_rows = await uow.session.execute(
            select(Person.name, BroadcastRecipient.channel)
            .join(Person, Person.id == BroadcastRecipient.person_id)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .order_by(BroadcastRecipient.id)
            .limit(SAMPLE)
        )
        sample = [(masked(name), str(channel)) for name, channel in sample_rows]
        names = await uow.workbench.staff_names([item.created_by])
    overall = {s: sum(c.get(s, 0) for c in by_channel.values()) for s in RESULTS}
    overall["waiting"] = sum(c.get("pending", 0) + c.get("sending", 0) for c in by_channel.values())
    return {
        **LABELS,
        "nav": "broadcasts",
        "item": item,
        "who_text": describe(dict(item.segment or {})),
        "channels": {
            ch: {
                **{s: c.get(s, 0) for s in RESULTS},
                "waiting": c.get("pending", 0) + c.get("sending", 0),
                "total": sum(c.values()),
            }
            for ch, c in sorted(by_channel.items())
        },
        "overall": overall,
        "sample": sample,
        "names": names,
        "shown": _texts(item.text, request),
        "live": item.status in LIVE,
        "columns": (*RESULTS, "waiting"),
    }


async def _page(
    request: Request,
    who: Signed,
    broadcast_id: int,
    flash: str = "",
    *,
    ok: bool = True,
    status: int = 200,
) -> Response:
    context = await _context(request, broadcast_id)
    if context is None:
        return render(
            request,
            "error.html",
            {"title": "没有找到", "why": f"没有编号为 {broadcast_id} 的群发。"},
            who=who,
            status=404,
        )
    block = "progress" if request.headers.get("hx-target") == "progress" else None
    return render(
        request,
        "broadcast.html",
        {**context, "flash": flash, "ok": ok},
        who=who,
        status=status,
        block=block,
    )


@guarded("broadcast.view")
async def broadcast_page(request: Request, who: Signed) -> Response:
    """One broadcast: the draft to confirm, or its progress (polled while it is sent)."""
    return await _page(request, who, number(request.path_params.get("id")))


async def _move(uow: UnitOfWork, broadcast_id: int, to: str, now: datetime) -> bool:
    """Move a draft on (a conditional update: a draft is confirmed or withdrawn once)."""
    done = await uow.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "draft")
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


@guarded("broadcast.send")
async def broadcast_confirm(request: Request, who: Signed) -> Response:
    """A leader confirms a draft: it goes out now (or at its time)."""
    broadcast_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        item = await uow.broadcasts.get(broadcast_id)
        later = item is not None and item.send_at is not None and item.send_at > now
        moved = item is not None and await _move(
            uow, broadcast_id, "scheduled" if later else "sending", now
        )
        if item is not None and moved:
            uow.audit.record(
                now, f"staff:{who.member.id}", "broadcast_confirmed", "broadcast", broadcast_id,
                recipients=item.total, drafted_by=item.created_by,
                send_at=item.send_at.isoformat() if later and item.send_at else None,
            )  # fmt: skip
            await uow.commit()
        total = item.total if item is not None else 0
    if item is None:
        return await _page(request, who, broadcast_id)
    if not moved:
        return await _page(request, who, broadcast_id, ALREADY, ok=False, status=409)
    events = [] if later else [BroadcastCreated(broadcast_id=broadcast_id, recipients=total)]
    await after_commit(request, Done(True, "", events=list(events)))
    flash = "已确认，到时间会自动发送。" if later else f"已确认，正在发给 {total} 人。"
    return await _page(request, who, broadcast_id, flash)


@guarded("broadcast.send")
async def broadcast_cancel(request: Request, who: Signed) -> Response:
    """A leader withdraws a draft (nothing is sent)."""
    broadcast_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        moved = await _move(uow, broadcast_id, "cancelled", now)
        if moved:
            uow.audit.record(
                now, f"staff:{who.member.id}", "broadcast_cancelled", "broadcast", broadcast_id
            )
            await uow.commit()
    if not moved:
        return await _page(request, who, broadcast_id, ALREADY, ok=False, status=409)
    return await _page(request, who, broadcast_id, "草稿已撤回，不会发送。")
