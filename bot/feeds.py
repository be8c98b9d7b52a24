"""``POST /feeds/admissions``: hospitals and health information platforms push admissions and
discharges of people on the roster (the events themselves: handlers/admissions.py).

Each sending organisation has its own key (``YINLING_FEED_KEYS="org1:secret1,org2:…"``)
and signs every request::

    X-Yinling-Organisation: org1
    X-Yinling-Timestamp: 1765150200            (POSIX seconds)
    X-Yinling-Signature: sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>

An unknown organisation, a wrong signature, or a timestamp more than ``YINLING_FEED_WINDOW``
seconds (300) from ours gets 403 and a short JSON body, and nothing is stored. Within the
window a replayed request can only repeat its own event, and an event is acted on once per
(organisation, event_id): the second copy is answered 200 "already received". A signed body
that is not a readable event gets 400 saying what is wrong, and is kept (sealed) for a clerk.
The ID number is never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.replay import Replays
from bot.runtime import Runtime
from handlers.admissions import MalformedEventError, keep_invalid, parse_event, receive
from handlers.events import Event
from storage.admissions import AdmissionRepo
from storage.uow import UnitOfWork

__all__ = ["MAX_FEED_BYTES", "admission_feed", "sign"]

log = structlog.get_logger("yinling.feeds")

MAX_FEED_BYTES = 64 * 1024
ORGANISATION = "x-yinling-organisation"
TIMESTAMP = "x-yinling-timestamp"
SIGNATURE = "x-yinling-signature"
_NO_KEY = hashlib.sha256(b"yinling: no such organisation").digest()


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp``."""
    mac = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _refused(why: str) -> JSONResponse:
    return JSONResponse({"error": why}, 403)


async def _read(request: Request) -> bytes | None:
    """The body, or None when it is larger than ``MAX_FEED_BYTES`` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FEED_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FEED_BYTES:
            return None
    return bytes(body)


def _verify(request: Request, runtime: Runtime, body: bytes) -> tuple[str, str | None]:
    """(organisation, None) for a request signed by a known organisation within the window;
    else (organisation, why it is refused)."""
    keys = runtime.settings.feed_secrets()
    organisation = request.headers.get(ORGANISATION, "").strip()
    timestamp = request.headers.get(TIMESTAMP, "").strip()
    given = request.headers.get(SIGNATURE, "").strip().encode("latin-1", "replace")
    if not given.startswith(b"sha256="):
        given = b"sha256=" + given
    key = keys.get(organisation)
    expected = sign(key if key is not None else _NO_KEY, timestamp, body).encode()
    good = hmac.compare_digest(given.lower(), expected)
    if key is None:
        return organisation, "unknown organisation"
    if not good:
        return organisation, "bad signature"
    window = Replays(None, "", runtime.settings.feed_window, "feed")
    if not timestamp.isdigit() or not window.fresh(timestamp, time.time()):
        return organisation, "timestamp outside the allowed window"
    return organisation, None


async def admission_feed(request: Request) -> Response:
    """Receive one signed admission or discharge event."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.feed_secrets():
        return JSONResponse({"error": "the admission feed is not configured"}, 404)
    body = await _read(request)
    if body is None:
        return JSONResponse({"error": f"the body is larger than {MAX_FEED_BYTES} bytes"}, 413)
    organisation, why = _verify(request, runtime, body)
    if why is not None:
        log.info("feed_refused", reason=why)
        return _refused(why)
    now = datetime.now(UTC)
    try:
        return await _take(request, runtime, organisation, body, now)
    except Exception as e:  # the database away: the sender should try again
        log.warning("feed_failed", organisation=organisation, error=type(e).__name__)
        return JSONResponse({"error": "not stored, please send it again later"}, 503)


async def _take(
    request: Request, runtime: Runtime, organisation: str, body: bytes, now: datetime
) -> Response:
    try:
        event = parse_event(body)
    except MalformedEventError as e:
        async with UnitOfWork(runtime.sessions) as uow:
            row = await keep_invalid(uow, organisation, body, str(e), now)
            await uow.commit()
        log.info("feed_invalid", organisation=organisation, row=row.id, problem=str(e))
        return JSONResponse({"error": str(e), "kept": True}, 400)
    try:
        async with UnitOfWork(runtime.sessions) as uow:
            receipt = await receive(uow, organisation, event, now)
            await uow.commit()
    except IntegrityError:  # the same event, sent twice at the same moment
        async with UnitOfWork(runtime.sessions) as uow:
            earlier = await AdmissionRepo(uow.session).find(organisation, event.event_id)
        if earlier is None:
            raise
        return JSONResponse({"status": "already received", "event_id": event.event_id})
    log.info("feed_event", organisation=organisation, kind=event.kind, state=receipt.state,
             row=receipt.event_row)  # fmt: skip
    if receipt.state == "duplicate":
        return JSONResponse({"status": "already received", "event_id": event.event_id})
    if receipt.applied is not None and receipt.applied.events:
        await _dispatch(request, receipt.applied.events)
    return JSONResponse(
        {"status": "received", "event_id": event.event_id, "matched": receipt.state == "matched"}
    )


async def _dispatch(request: Request, events: Sequence[Event]) -> None:
    """Publish what was committed (as a retiree's own report would)."""
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is None:
        return
    try:
        async with asyncio.timeout(5):
            await jobs.dispatch([e.to_dict() for e in events])
    except Exception as e:  # the reconciler still does what was not kicked
        log.warning("feed_events_not_dispatched", error=type(e).__name__)
