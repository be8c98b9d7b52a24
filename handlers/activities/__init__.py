"""Activities: what is coming (numbered, so "2" signs up for the second), sign-ups for
oneself and/or the spouse with seats and a waitlist, and cancelling any booking.

The modules: ``listing`` (the list and questions about one activity), ``signup`` (the
sign-up flow, the waitlist), ``cancel`` (cancelling any booking or seat).
"""

from __future__ import annotations

from handlers.activities.cancel import CANCEL, booking_cancel
from handlers.activities.listing import (
    about_named,
    about_topic,
    activity_list,
    activity_time,
    asks_about,
)
from handlers.activities.signup import SIGNUP, signup

__all__ = [
    "CANCEL",
    "SIGNUP",
    "about_named",
    "about_topic",
    "activity_list",
    "activity_time",
    "asks_about",
    "booking_cancel",
    "signup",
]
