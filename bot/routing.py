"""The router: which handler answers a message. Read it top to bottom; the first rule wins.

1. An emergency always wins, bound or not, in a flow or not (the flow is parked) — except
   a staff member's typed alert command ("代报求助 张建国 摔倒了"), which is about someone else.
   One the classifier alone is unsure of is asked about first ("您是遇到紧急情况了吗？"),
   and pages anyway when the question goes unanswered (``urgency``).
2. What channels report (a follow, an unfollow, a binding code, a shared contact or
   location, a picture) is handled as such, bound or not; staff get the staff handler.
3. Someone not yet on the roster is led through binding (a person can still be asked for;
   a typed binding code binds at once); someone whose binding waits to be proven may
   type the SMS code, ask policy questions or ask for a person — nothing else.
4. ``stop`` always leaves the current flow.
5. A person on staff can always be reached; a retiree asking to add a son or daughter gets
   a family code to pass on; "同意绑定"/"不是我们" answers a notice of a new binding;
   "删除我的信息"/"不想用了" files a request to staff to delete the person's data.
6. The active flow gets the turn (answers, corrections, confirmation); another request
   parks it, and it is offered back ("刚才的“看病陪诊”还没办完") or resumed when asked for.
7. Low confidence asks a short question with numbered choices; the second time running a
   person is offered first.
8. Otherwise the intent's handler; anything unknown gets a kind answer and the menu.

How urgent a message is, is bot/urgency.py; parking a flow and taking it up again,
bot/parking.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.parking import (
    FLOWS,
    aside_for,
    offer_back,
    park,
    resume,
    resumes,
    set_aside,
    stop,
    suspension_over,
)
from bot.queueing import remember_second, take_up
from bot.urgency import ASK, NOW, urgency
from handlers import (
    activities,
    binding,
    care,
    chat,
    eldercare,
    flows,
    handoff,
    medical,
    phrases,
    policy,
    records,
    slots,
    sos,
    staff,
    volunteers,
)
from handlers.base import Ctx, Handler, Reply, Turn
from handlers.wording import menu_reply

__all__ = ["ASK", "CHANNEL_EVENTS", "FLOWS", "NOW", "ROUTES", "route", "unsure", "urgency"]

# The person's own account answering about a new binding (buttons; or typed, see phrases).
OWNER_YES, OWNER_NO = "binding_approve", "binding_reject"

ROUTES: Mapping[str, Handler] = {
    "greet": chat.greet,
    "thanks_bye": chat.thanks_bye,
    "out_of_scope": chat.out_of_scope,
    "lonely": chat.lonely,
    "menu": chat.menu,
    "affirm": chat.menu,
    "deny": chat.menu,
    "inform": chat.menu,
    "change": chat.menu,
    "stop": stop,
    "resume": resume,
    "sos": sos.sos,
    "human_agent": handoff.handoff,
    "medical_escort": medical.escort,
    "hospital_admission": medical.admission,
    "reimbursement": medical.reimbursement,
    "eldercare_booking": eldercare.eldercare,
    "activity_list": activities.activity_list,
    "activity_signup": activities.signup,
    "booking_cancel": activities.booking_cancel,
    "my_records": records.my_records,
    "my_plan": care.my_plan,
    "my_contact": care.my_contact,
    "my_doctor": care.my_doctor,
    "policy_question": policy.policy_question,
    "volunteer_register": volunteers.register,
    "time_bank": volunteers.time_bank,
    "volunteer_answer": volunteers.answer,  # the buttons of an offer or an hours question
    # reported by channels, never guessed by the NLU
    "subscribe": binding.subscribe,
    "unsubscribe": binding.unsubscribe,
    "bind": binding.bind_code,
    "contact": binding.contact,
    "location": chat.location,
    "media": chat.media,
}
CHANNEL_EVENTS = frozenset({"subscribe", "unsubscribe", "bind", "contact", "location", "media"})


def _other_reading(turn: Turn) -> dict[str, object]:
    """What the message is if not an emergency: its best other intent, to go on with."""
    for name, confidence in turn.ranking:
        if name != "sos" and name in ROUTES and name not in CHANNEL_EVENTS:
            if confidence < chat.OFFER_CONFIDENCE:
                break
            entities = [dict(e) for e in turn.entities]
            return {
                "intent": name,
                "confidence": confidence,
                "text": turn.text,
                "entities": entities,
            }
    return {"text": turn.text}


async def _sos_answer(ctx: Ctx, yes: bool, request_id: int | None = None) -> list[Reply]:
    """The answer to "您是遇到紧急情况了吗？": page now, or go on with what was asked."""
    if yes:
        park(ctx)
        return await sos.confirm(ctx, request_id)
    then = dict(ctx.conv.pending_sos or {})
    replies = await sos.deny(ctx, request_id)
    intent = str(then.get("intent") or "")
    if intent not in ROUTES:
        return [menu_reply(replies[0].text, ctx.config)]
    entities = tuple(then.get("entities") or ())
    confidence = float(then.get("confidence") or 0.0)
    text = str(then.get("text") or "")
    ctx.turn = Turn(
        text, ctx.turn.kind, None, intent, confidence, entities, ((intent, confidence),)
    )
    return [*replies, *await route(ctx)]


def _request_number(turn: Turn) -> int | None:
    value = next((e.get("value") for e in turn.entities if e.get("entity") == "request"), None)
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def unsure(turn: Turn, threshold: float, margin: float) -> bool:
    """True when the NLU's best guess is too weak, or too close to the second, to act on."""
    if turn.payload is not None or not turn.ranking:
        return False
    top = turn.confidence
    second = turn.ranking[1][1] if len(turn.ranking) > 1 else 0.0
    return top < threshold or (top - second < margin and top < threshold + 0.2)


def _answers_the_flow(ctx: Ctx) -> bool:
    """Only the classifier (not the emergency rules) is unsure it is an emergency, and the
    message answers the question the bot asked ("头晌", "上午 他得推轮椅"): an answer."""
    flow = FLOWS.get(ctx.conv.flow or "")
    return flow is not None and ctx.turn.guard != "force" and flows.answers(ctx, flow)


def _for_the_flow(ctx: Ctx) -> bool:
    """A stop or a call for a person that still answers the open flow: a yes with a way to
    reach them ("对 来之前打我电话139…"), or a day dropped for another ("那明天不弄了 礼拜二
    上午吧": the value after the words of stopping)."""
    flow = FLOWS.get(ctx.conv.flow or "")
    turn = ctx.turn
    if flow is None or turn.payload is not None:
        return False
    if ctx.conv.step == "confirm" and flows.said_yes(turn.text):
        return True
    if turn.intent == "human_agent" and turn.values("phone"):
        return True  # "有事打我电话 137…": a number to reach them, kept with the booking
    dropped = phrases.DROPPED.search(turn.text)
    if turn.intent != "stop" or dropped is None:
        return False
    later = [e for e in turn.entities if int(e.get("start") or 0) >= dropped.end()]
    return any(e["entity"] in {"date", "time"} for e in later)


async def route(ctx: Ctx) -> list[Reply]:
    """Pick and run the handler for one message."""
    turn, conv, config = ctx.turn, ctx.conv, ctx.config
    confident = turn.confidence >= config.confidence_threshold
    if suspension_over(ctx):
        conv.suspended = None
    staff_member = ctx.account is not None and ctx.account.role == "staff" and ctx.account.active
    if staff_member and staff.is_command(turn.text):
        return await staff.staff(ctx)  # e.g. raising an emergency for a retiree
    if turn.payload is not None and turn.intent in {"sos_confirm", "sos_deny"}:
        return await _sos_answer(ctx, turn.intent == "sos_confirm", _request_number(turn))
    pending = ctx.person is None and ctx.account is not None and ctx.account.pending_person_id
    if pending and turn.payload is None and phrases.SMS_CODE.match(turn.text.strip()):
        return await binding.pending(ctx)  # six digits are the code, even "120119"
    level = urgency(turn)
    if conv.pending_sos is not None and turn.payload is None:
        # Answered in words ("是的", "不是"), or not answered but written of something else.
        if level == NOW or turn.intent == "affirm":
            return await _sos_answer(ctx, True)
        if turn.intent == "deny":
            return await _sos_answer(ctx, False)
        if level is None and confident:
            await sos.deny(ctx)  # a clear other request: taken for a no
    if level == NOW:
        park(ctx)
        return await sos.sos(ctx)
    if level == ASK and not _answers_the_flow(ctx):
        return await sos.ask(ctx, _other_reading(turn))
    if turn.intent in CHANNEL_EVENTS and turn.payload:
        return await ROUTES[turn.intent](ctx)
    if staff_member:
        return await staff.staff(ctx)
    said = turn.text.strip()
    if turn.payload is None and phrases.STILL_WAITING.search(said):
        alert = await sos.open_alert(ctx)
        if alert is not None and alert.status != "unconfirmed":
            return await sos.still_waiting(ctx, alert)  # "还没有人来吗" after their SOS
    asks_to_forget = turn.payload is None and bool(phrases.FORGET_ME.search(said))
    if ctx.person is None:
        return await _stranger(ctx, asks_to_forget=asks_to_forget, confident=confident)
    if turn.intent in {OWNER_YES, OWNER_NO} and turn.payload:
        return await binding.owner_answer(ctx, turn.intent == OWNER_YES)
    if turn.payload is None and (
        phrases.OWNER_APPROVE.match(said) or phrases.OWNER_REJECT.match(said)
    ):
        return await binding.owner_answer(ctx, bool(phrases.OWNER_APPROVE.match(said)))
    if asks_to_forget:
        return await binding.forget_me(ctx)
    if turn.intent == "volunteer_answer" and turn.payload:
        return await volunteers.answer(ctx)  # a button of an offer or hours question we sent
    if turn.kind != "button":
        answered = await volunteers.typed_answer(ctx)  # "1 接受" to an offer we sent
        if answered is not None:
            return answered
    early = turn.intent in {"stop", "human_agent", "resume"} and (confident or turn.payload)
    if early and not _for_the_flow(ctx):
        return await _early(ctx)
    if not conv.flow and turn.payload is None and phrases.FAMILY_INVITE.search(turn.text):
        return await binding.invite_family(ctx)
    parked: dict[str, object] | None = None
    if conv.flow:
        replies, parked = await _in_flow(ctx)
        if replies is not None:
            return replies
    replies = await _handle(ctx, parked, confident)
    if conv.flow:
        remember_second(ctx, FLOWS.get(conv.flow))  # "约个理发 再给他报个健康讲座"
    return replies


async def _in_flow(ctx: Ctx) -> tuple[list[Reply] | None, dict[str, object] | None]:
    """The active flow's turn; or, when the message is another request, the flow set aside
    (to be offered back) and no replies."""
    conv = ctx.conv
    flow = FLOWS.get(conv.flow or "")
    parked = None
    if flow is not None:
        replies = await flows.continue_flow(ctx, flow)
        if replies is not None:
            conv.misses = 0
            if conv.flow is None and conv.queued:
                replies = [*replies, *await take_up(ctx, ROUTES)]  # the second request
            return replies, None
        parked = set_aside(ctx, flow)  # another request: this one waits, and is offered
    conv.end_flow()
    return None, parked


async def _early(ctx: Ctx) -> list[Reply]:
    """Stop, a person, or going on, whatever the flow asked (a person asked for in the middle
    of a booking leaves the booking waiting)."""
    handler = ROUTES[ctx.turn.intent]
    return await (aside_for(ctx, handler) if ctx.turn.intent == "human_agent" else handler(ctx))


async def _stranger(ctx: Ctx, *, asks_to_forget: bool, confident: bool) -> list[Reply]:
    """Someone not (yet) bound to a person on the roster: their code, their emergency's
    details, binding, or a person."""
    turn, said = ctx.turn, ctx.turn.text.strip()
    pending = ctx.account is not None and ctx.account.pending_person_id is not None
    if pending and phrases.SMS_CODE.match(said):
        return await binding.pending(ctx)
    alert = await sos.open_alert(ctx)
    if alert is not None:  # their emergency is open: what they write goes to the staff
        return await sos.add_detail(ctx, alert)
    if pending:
        return await (binding.forget_me(ctx) if asks_to_forget else binding.pending(ctx))
    typed = phrases.TYPED_CODE.match(said)
    if typed:  # before any reading of the words: the digits decide (the model may say hand-off)
        return await binding.bind_code(ctx, typed[1])
    if turn.intent == "human_agent" and confident:
        return await handoff.handoff(ctx)
    if ctx.conv.flow == binding.BINDING.name:
        replies = await flows.continue_flow(ctx, binding.BINDING)
        if replies is not None:
            return replies
    return await binding.welcome(ctx)


async def _handle(ctx: Ctx, parked: dict[str, object] | None, confident: bool) -> list[Reply]:
    """The intent's handler (or a clarifying question), with a parked flow offered back."""
    turn, conv, config = ctx.turn, ctx.conv, ctx.config
    suspended = conv.suspended
    if parked is None and suspended is not None and resumes(ctx, suspended, confident):
        return await resume(ctx)  # "那先把刚才看病的办了", "好 接着办": the one that was waiting
    if parked is not None:
        conv.suspended = parked
    moved = _move_target(ctx)
    if moved is not None:
        return await ROUTES[moved](ctx)  # "下礼拜三那个陪诊 改到礼拜四": that booking, moved
    if (
        turn.intent in {"my_records", "medical_escort", "eldercare_booking", "reimbursement"}
        and turn.payload is None
        and phrases.ASKS_WHO_WHEN.search(turn.text)
    ):
        answer = await records.who_and_when(ctx)
        if answer is not None:
            return answer  # "谁陪我去 / 几点来": from the booking's assignment
    if not turn.payload and (
        turn.intent in {"policy_question", "out_of_scope"} or activities.asks_about(turn)
    ):
        about = await activities.about_named(ctx)
        if about is not None:
            return about  # "离休干部座谈会谁能参加": that activity's facts
    if _about_the_topic(ctx, confident):
        about = await activities.about_topic(ctx) or await activities.about_named(ctx)
        if about is not None:
            return offer_back(ctx, about, parked)  # "几点集合 在哪": the one talked about
    if unsure(turn, config.confidence_threshold, config.ambiguity_margin):
        replies = chat.clarify(ctx)
    else:
        if turn.intent != "out_of_scope":
            conv.misses = 0
        replies = await ROUTES.get(turn.intent, chat.out_of_scope)(ctx)
    return offer_back(ctx, replies, parked)


# Intents a question about the activity just talked about is read as, when it names none.
ABOUT_THE_TOPIC = frozenset({"policy_question", "out_of_scope", "activity_list", "my_records"})


def _about_the_topic(ctx: Ctx, confident: bool) -> bool:
    """Whether the message may be a question about the activity just talked about: read as
    a question or unsure, or anything but another service right after that activity was
    shown ("哪天？上午还是下午" is no home service there)."""
    turn = ctx.turn
    if turn.payload is not None or phrases.LIST_WORDS.search(turn.text):
        return False
    if turn.intent in ABOUT_THE_TOPIC or not confident:
        return True
    shown = any(o.startswith("/activity_signup{") for o in ctx.conv.options)
    other = turn.values("service_type") or turn.values("hospital") or turn.values("department")
    return shown and not other and turn.intent not in NEVER_ABOUT_THE_TOPIC


# Intents that are never a question about an activity's particulars.
NEVER_ABOUT_THE_TOPIC = frozenset(
    {"sos", "stop", "human_agent", "booking_cancel", "activity_signup"}
)


BOOKING_INTENTS = frozenset(
    {"eldercare_booking", "medical_escort", "reimbursement", "booking_cancel", "my_records"}
)


def _move_target(ctx: Ctx) -> str | None:
    """Which kind of booking a "move it" message is about, when its words say so."""
    turn = ctx.turn
    if turn.payload is not None or turn.intent not in BOOKING_INTENTS:
        return None
    if ctx.person is None or slots.move_said(ctx) is None:
        return None
    if (
        phrases.ESCORT_WORDS.search(turn.text)
        or turn.values("hospital")
        or turn.values("department")
    ):
        return "medical_escort"
    if phrases.CLAIM_WORDS.search(turn.text):
        return "reimbursement"
    if turn.values("service_type"):
        return "eldercare_booking"
    return None
