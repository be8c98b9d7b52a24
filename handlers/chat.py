"""Small talk: greetings, thanks, the menu, and a kind answer to everything else."""

from __future__ import annotations

from datetime import timedelta

from handlers import sos, texts
from handlers.base import Ctx, Option, Reply, Turn, payload
from handlers.events import AlertLocated
from handlers.wording import ctx_address, greeting, menu_reply

__all__ = [
    "clarify",
    "greet",
    "location",
    "lonely",
    "media",
    "menu",
    "out_of_scope",
    "thanks_bye",
]

# An SOS this recent gets the location the person shares next.
SOS_LOCATION_WINDOW = timedelta(minutes=30)
# Below this, an intent is not offered as a choice when we did not understand.
OFFER_CONFIDENCE = 0.08


async def greet(ctx: Ctx) -> list[Reply]:
    """Greeting and the numbered main menu."""
    hello = texts.GREET.format(
        greeting=greeting(ctx.local_now), address=ctx_address(ctx), bureau=ctx.config.bureau
    )
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def menu(ctx: Ctx) -> list[Reply]:
    """The main menu again."""
    return [menu_reply(texts.MENU_AGAIN, ctx.config)]


async def thanks_bye(ctx: Ctx) -> list[Reply]:
    """You are welcome; we are here."""
    return [Reply(texts.THANKS_BYE.format(address=ctx_address(ctx)))]


async def lonely(ctx: Ctx) -> list[Reply]:
    """Loneliness, low spirits: a warm word, someone to come and talk, or a person to call —
    not the emergency text and not the menu."""
    options = (
        Option(texts.LONELY_VISIT, payload("eldercare_booking", service_type="companionship")),
        Option(texts.LONELY_CALL, payload("human_agent")),
        Option(texts.LONELY_NO, payload("thanks_bye")),
    )
    return [Reply(texts.LONELY.format(address=ctx_address(ctx)), options)]


async def out_of_scope(ctx: Ctx) -> list[Reply]:
    """A kind sentence, the likeliest things we can do, and a person (not the whole menu)."""
    return clarify(ctx, texts.OUT_OF_SCOPE, texts.OUT_OF_SCOPE_AGAIN, unsure=False)


def clarify(
    ctx: Ctx,
    first: str = texts.CLARIFY,
    again_text: str = texts.CLARIFY_AGAIN,
    *,
    unsure: bool = True,
) -> list[Reply]:
    """Not understood, or not ours: said once, briefly, with the two or three likeliest
    choices and a person; the second time running a person is offered first (and opened
    only if chosen). Where the classifier was unsure, an emergency among its first guesses
    is always offered."""
    conv, turn = ctx.conv, ctx.turn
    again = conv.misses >= 1
    conv.misses = 0 if again else conv.misses + 1
    ranking = turn.ranking[:3]
    names = [n for n, c in ranking if n in texts.INTENT_LABELS and c >= OFFER_CONFIDENCE]
    if unsure and any(n == "sos" for n, _ in turn.ranking[:4]):
        names = ["sos", *[n for n in names if n != "sos"]]
    names = [n for n in names if n != "human_agent"] or ["menu"]
    names = ["human_agent", *names] if again else [*names, "human_agent"]
    said = _details(turn)
    options = tuple(
        Option(
            texts.INTENT_LABELS[n],
            payload(n, **said, **{KEPT: 1}) if n in CARRIED and said else payload(n),
        )
        for n in names
    )
    return [Reply(again_text if again else first, options)]


# The requests whose details said in an unclear message are kept for the one chosen: "摔了
# 一跤 没骨折 腰还疼 约个推拿" asked about, then "上门服务" (or just "后天下午") is the massage.
CARRIED = frozenset({
    "medical_escort", "hospital_admission", "reimbursement", "eldercare_booking",
    "activity_signup", "booking_cancel",
})  # fmt: skip
KEPT = "kept"  # marks an offer carrying the details of the message it answers
_DETAILS = ("service_type", "hospital", "department", "activity", "date", "time")


def _details(turn: Turn) -> dict[str, object]:
    """The first value of each detail the message gave (a service, a place, a day…)."""
    said: dict[str, object] = {}
    for entity in turn.entities:
        if entity["entity"] in _DETAILS:
            said.setdefault(entity["entity"], entity["value"])
    return said


async def location(ctx: Ctx) -> list[Reply]:
    """A shared location: kept on the conversation, and given to staff if an SOS is open."""
    if ctx.person is not None:
        for request in await ctx.uow.requests.for_person(
            ctx.person.id, kinds=("sos",), open_only=True
        ):
            if ctx.now - request.created_at <= SOS_LOCATION_WINDOW:
                request.details = {**request.details, "location": ctx.conv.location}
                ctx.uow.audit.record(
                    ctx.now, ctx.actor, "sos_location", "service_request", request.id
                )
                alert = await ctx.uow.alerts.for_request(request.id)
                place, _ = sos.where(ctx)
                if alert is not None and place:
                    alert.location = place[:200]
                    ctx.uow.alerts.step(alert, "located", ctx.now, note=place[:200])
                    ctx.emit(AlertLocated(alert_id=alert.id))
                return [Reply(texts.LOCATION_TO_DUTY)]
    # WeChat reports locations on its own every few minutes; those need no answer.
    return [] if ctx.turn.values("quiet") else [Reply(texts.LOCATION_NOTED)]


async def media(ctx: Ctx) -> list[Reply]:
    """A picture, a video or an unrecognised voice note: acknowledged, never lost."""
    kind = next(iter(ctx.turn.values("kind")), ctx.turn.kind)
    if kind == "voice":
        return [menu_reply(texts.VOICE_NOT_UNDERSTOOD, ctx.config)]
    if kind == "image" and ctx.person is not None:
        media_id = next(iter(ctx.turn.values("media_id")), None)
        open_requests = await ctx.uow.requests.for_person(ctx.person.id, open_only=True)
        for request in open_requests:
            if request.kind in texts.REQUEST_KINDS and request.kind not in {"sos"} and media_id:
                attachments = [*request.details.get("attachments", []), media_id]
                request.details = {**request.details, "attachments": attachments}
                what = texts.REQUEST_KINDS[request.kind]
                return [Reply(texts.IMAGE_ATTACHED.format(what=what))]
        return [Reply(texts.IMAGE_NOTED)]
    return [menu_reply(texts.MEDIA_NOTED, ctx.config)]
