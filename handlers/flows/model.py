"""A flow described as data: its ``Slot`` s (how each is asked, read, checked, defaulted)
and the ``Flow`` (title, summary, completion); a ``Rejection`` says why a value is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.base import Ctx, Option, Reply, payload

Slots = dict[str, Any]


# Intents that start a service; one of them with confidence leaves the current flow.
SERVICE_INTENTS = {
    "medical_escort", "hospital_admission", "reimbursement", "eldercare_booking",
    "activity_list", "activity_signup", "booking_cancel", "my_records", "policy_question",
    "volunteer_register", "time_bank", "my_plan", "my_contact", "my_doctor",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a value cannot be taken, with alternatives to choose from."""

    text: str
    options: tuple[Option, ...] = ()
    # The options offer one way on, so a yes takes it ("先只办本人的，好吗？" "对").
    yes_takes_it: bool = False


Ask = Callable[[Ctx, Slots], Awaitable[Reply]]
Pick = Callable[[Ctx, list[str]], Any]
Parse = Callable[[Ctx, str], Any]
Validate = Callable[[Ctx, Any, Slots], Awaitable[Rejection | None]]
Normalize = Callable[[Ctx, Any], Awaitable[Any]]
Needed = Callable[[Ctx, Slots], bool]
Default = Callable[[Ctx, Slots], Any]


@dataclass(frozen=True, slots=True)
class Slot:
    """One piece of information a flow needs."""

    name: str
    label: str  # shown when asking which item to change
    ask: Ask
    entity: str | None = None  # entity type that fills it (default: the slot's name)
    pick: Pick | None = None  # which of several entity values to take
    parse: Parse | None = None  # read a free-text answer when this slot was asked
    normalize: Normalize | None = None  # e.g. an activity's name -> its id
    validate: Validate | None = None
    needed: Needed | None = None  # default: always
    default: Default | None = None  # filled without asking when this returns a value
    # A value the message implies without an entity ("两个人都去" for whom), any turn.
    infer: Callable[[Ctx], Any] | None = None

    def option(self, label: str, value: Any) -> Option:
        """A numbered choice that fills this slot."""
        return Option(label, payload("inform", **{self.name: value}))


@dataclass(frozen=True, slots=True)
class Flow:
    """A service's conversation, described as data."""

    name: str
    title: str
    slots: tuple[Slot, ...]
    summary: Callable[[Ctx, Slots], Awaitable[str]]
    complete: Callable[[Ctx, Slots], Awaitable[list[Reply]]]
    confirm: bool = True
    # The same thing already booked ("打扫的 是礼拜二上午对吧" after "我的记录"): what to say
    # instead of reading back a second booking of it.
    already: Callable[[Ctx, Slots], Awaitable[str | None]] | None = None
    slot_map: dict[str, Slot] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.slot_map.update({s.name: s for s in self.slots})
