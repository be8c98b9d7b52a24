"""Binding an unknown channel user to the roster, proving who they are.

First the privacy notice (PIPL: what is kept, why, who sees it, how to withdraw), agreed
to once and recorded with its version. Then either a one-time code from staff or the
person (QR scene, deep link, typed), or a phone number Telegram vouches for, binds at
once; or a name and phone found on the roster make a *pending* binding, proven by the SMS
code sent to the roster's phone, by a staff member ("核实 N"), or by the person's own
bound account ("同意绑定"). Until then the user may raise an emergency, ask policy
questions and reach a person — nothing that shows or changes the person's records.

Wrong codes and unmatched names count against the user and everyone (within an hour,
storage/verification.py): after the limit the user is told when to try again.

The modules: ``flow`` (the notice, codes, a shared phone, name and phone), ``checks``
(pending bindings and their proof), ``pending`` (what a pending user may do), ``account``
(follow, unfollow, family invites, forget me), ``guard`` (limits on tries, consent kept).
"""

from __future__ import annotations

from handlers.binding.account import forget_me, invite_family, subscribe, unsubscribe
from handlers.binding.checks import owner_answer, verify
from handlers.binding.flow import BINDING, bind_code, contact, welcome
from handlers.binding.guard import MAX_ATTEMPTS
from handlers.binding.pending import pending

__all__ = [
    "BINDING",
    "MAX_ATTEMPTS",
    "bind_code",
    "contact",
    "forget_me",
    "invite_family",
    "owner_answer",
    "pending",
    "subscribe",
    "unsubscribe",
    "verify",
    "welcome",
]
