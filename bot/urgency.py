"""How urgent a message is: page ``NOW``, ``ASK`` "is this an emergency?" first, or neither,
from the intent classifier, the emergency rules (nlu/sos.py) and the emergency model
(nlu/engine.py). The router (bot/routing.py) and the pipeline's own emergency path
(bot/reading.py) read it the same way.
"""

from __future__ import annotations

from handlers.base import Turn

__all__ = ["ASK", "NOW", "SOS_CONFIDENCE", "SOS_SURE", "urgency"]

# Confidence from which an sos prediction is an emergency at all (below: a clarifying
# question offers it first), and from which the classifier alone pages without asking.
SOS_CONFIDENCE = 0.5
SOS_SURE = 0.8
# The emergency model (nlu/engine.py) against the rules and the intent classifier: below
# EMERGENCY_DOUBT it makes their emergency a question first; from EMERGENCY_LIKELY it makes
# the bot ask about a message neither of them took for one. Chosen by holding out one
# writer's set at a time (benchmarks/sos_blind.py --by-writer), never on the blind sets.
EMERGENCY_DOUBT = 0.3
EMERGENCY_LIKELY = 0.3
# The classifier sure (SOS_SURE) and the emergency model from here: two readings agree on
# an emergency now, which pages even where the rules saw a question or a booking around it
# ("约个明天上午骨科 哦对了我刚在浴缸里滑倒了 出不来").
EMERGENCY_AGREED = 0.9
NOW, ASK = "now", "ask"


def urgency(turn: Turn) -> str | None:
    """Page ``NOW``, ``ASK`` "is this an emergency?" first, or neither.

    The emergency rules (nlu/sos.py) finding danger now page at once; so does the classifier
    alone when it is sure and the rules found nothing calming — unless the emergency model
    doubts it, which makes it a question first — and the classifier and the emergency
    model both sure, whatever the rules found, unless the rules found its danger words
    denied ("不是那种突然晕倒的"), which the models cannot read. A classifier that is not
    sure, or whose emergency the rules found to be a past event, a plan, a question or a
    false alarm, and a message the emergency model alone finds likely, make the bot ask —
    never route it as a booking."""
    if turn.payload is not None:
        return NOW if turn.intent == "sos" else None
    if turn.guard == "denied":
        return None  # "不是那种突然晕倒的": the words the models react to, denied
    model = turn.emergency_now
    doubted = model is not None and model < EMERGENCY_DOUBT
    top = turn.intent == "sos" and turn.confidence >= SOS_CONFIDENCE
    forced = turn.intent == "sos" and turn.guard == "force"
    if not doubted and (forced or (top and turn.guard != "calm" and turn.confidence >= SOS_SURE)):
        return NOW
    if model is not None and model >= EMERGENCY_AGREED and turn.classifier_sos >= SOS_SURE:
        return NOW
    likely = model is not None and model >= EMERGENCY_LIKELY
    if forced or top or turn.classifier_sos >= SOS_CONFIDENCE or likely:
        return ASK
    return None
