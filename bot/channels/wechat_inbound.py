"""WeChat pushes as the pipeline's messages.

* A message's id is its MsgId (``msg:…``); an event has none, so it is FromUserName +
  CreateTime + Event, as WeChat advises (``evt:…``).
* CLICK menu keys and QR-code scans become payloads (straight to the intent, no NLU);
  voice comes with WeChat's recognition as its text when there is one.
* A shared location counts only with real coordinates; ids longer than WeChat's are
  dropped; a message type WeChat added later is "other".
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from bot.messages import InboundMessage
from handlers import texts
from handlers.base import payload

__all__ = ["MAX_ID_CHARS", "MENU_KEYS", "to_inbound"]

log = structlog.get_logger("yinling.wechat")

CHANNEL = "wechat"
MAX_ID_CHARS = 128  # OpenIDs (28) and MediaIds (64) are far shorter; longer is not WeChat
# Message types as WeChat documents them; anything else is logged as "other".
KNOWN_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
# CLICK menu keys -> payloads: a key goes straight to its intent, no NLU in between.
MENU_KEYS = {
    intent.upper(): payload(intent) for _, items in texts.CHANNEL_MENU for _, intent in items
}


def to_inbound(message: Any, now: datetime) -> InboundMessage | None:
    """A parsed push as the pipeline's message, or None for pushes that need no answer.
    Raises ValueError (and the like) for a push whose fields are not as documented."""
    user = str(message.source)
    if message.type == "event":
        return _event(message, user, now)
    make = partial(InboundMessage, CHANNEL, user, f"msg:{int(message.id)}", now)
    kind = str(message.type)
    if kind == "text":
        content = message.content
        text = content if isinstance(content, str) else " ".join(map(str, content or []))
        return make(text=text)
    media_id = str(getattr(message, "media_id", None) or "") or None
    if media_id is not None and len(media_id) > MAX_ID_CHARS:
        log.warning("wechat_bad_media_id", length=len(media_id))
        media_id = None
    if kind == "voice":
        if message.recognition:
            return make(text=str(message.recognition), kind="voice", media_id=media_id)
        return make(kind="voice", payload=payload("media", kind="voice"), media_id=media_id)
    if kind == "location":
        latitude, longitude = message.location
        where = _place(latitude, longitude, message.label)
        if where is None:
            return make(kind="location", payload=payload("location", quiet=True))
        return make(kind="location", payload=payload("location"), location=where)
    if kind not in KNOWN_KINDS:  # a type WeChat added, or a mini-program card
        log.info("wechat_unknown_type", kind=kind[:40])
        return make(kind="other", payload=payload("media", kind=kind[:40]), media_id=media_id)
    media = payload("media", kind=kind, media_id=media_id or "")
    return make(kind=kind, payload=media, media_id=media_id)


def _event(message: Any, user: str, now: datetime) -> InboundMessage | None:
    event = str(message.event)
    # Events have no MsgId: WeChat's advice is FromUserName + CreateTime (+ Event).
    make = partial(InboundMessage, CHANNEL, user, f"evt:{message.time}:{event}", now, kind="event")
    if event == "subscribe":
        return make(payload=payload("subscribe"))
    if event == "subscribe_scan":
        return make(payload=payload("subscribe", code=str(message.scene_id)))
    if event == "scan":
        return make(payload=payload("bind", code=str(message.scene_id)))
    if event == "unsubscribe":
        return make(payload=payload("unsubscribe"))
    if event == "click":
        return make(payload=MENU_KEYS.get(str(message.key), payload("menu")))
    if event == "location":
        where = _place(message.latitude, message.longitude, None)
        if where is None:
            return None
        return make(payload=payload("location", quiet=True), location=where)
    return None  # VIEW, delivery reports and anything new: nothing to say


def _place(latitude: object, longitude: object, label: object) -> dict[str, Any] | None:
    """A shared location, if its coordinates are real ones (finite, on the globe); else
    None, with a log line: NaN or 1e999 could never be written as JSON."""
    try:
        lat, lon = float(str(latitude)), float(str(longitude))
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):  # noqa: PLR2004
        log.warning("wechat_location_ignored")
        return None
    where: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if label:
        where["label"] = str(label)[:100]
    return where
