"""All user-facing Chinese, kept together and grouped by area, one module each.

Style for readers in their eighties: "您", short sentences, at most three lines per
reply, one question at a time, choices as numbered options, dates as
``11月25日（周三）上午``, and always a way to reach a person.

Callers read every text from here (``from handlers import texts``, then ``texts.X``); the
modules below are where a text is written, found by the area it belongs to.
"""

from __future__ import annotations

from handlers.texts.activities import *  # noqa: F403
from handlers.texts.admissions import *  # noqa: F403
from handlers.texts.booking import *  # noqa: F403
from handlers.texts.care import *  # noqa: F403
from handlers.texts.channels import *  # noqa: F403
from handlers.texts.common import *  # noqa: F403
from handlers.texts.eldercare import *  # noqa: F403
from handlers.texts.emergencies import *  # noqa: F403
from handlers.texts.identity import *  # noqa: F403
from handlers.texts.medical import *  # noqa: F403
from handlers.texts.policy import *  # noqa: F403
from handlers.texts.staff import *  # noqa: F403
from handlers.texts.visits import *  # noqa: F403
from handlers.texts.volunteers import *  # noqa: F403
