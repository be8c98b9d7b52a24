"""Declarative multi-turn flows: slots, questions, validation, one confirmation, completion.

Every service describes its flow as data (a ``Flow`` of ``Slot`` s); this package runs
all of them the same way:

* slots are filled from the entities of any turn (one sentence may fill several, and a
  later turn may correct one: "不对，是下周四");
* missing slots are asked one at a time, with numbered options where choices exist;
* every value is validated (a past date, an unknown hospital, a full slot) and a
  rejection says why and offers alternatives;
* before anything is written, one short summary is confirmed (确认 / 要修改 / 不办了);
* the active flow lives in the conversation state and expires when left idle.

The modules: ``model`` (the declarations), ``filling`` (a turn read into slots),
``runner`` (start, continue, confirm, complete).
"""

from __future__ import annotations

from handlers.flows.filling import kept, notes_line, said_yes
from handlers.flows.model import SERVICE_INTENTS, Flow, Rejection, Slot, Slots, Validate
from handlers.flows.runner import answers, ask_again, continue_flow, reprompt, resume, start_flow

__all__ = [
    "SERVICE_INTENTS",
    "Flow",
    "Rejection",
    "Slot",
    "Slots",
    "Validate",
    "answers",
    "ask_again",
    "continue_flow",
    "kept",
    "notes_line",
    "reprompt",
    "resume",
    "said_yes",
    "start_flow",
]
