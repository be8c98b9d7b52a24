"""Shared pieces of the property-based endpoint tests (test_fuzz_*.py): hypothesis settings,
strategies for message bodies, and the tally each run checks at its end.

Each endpoint gets ``EXAMPLES`` generated bodies (2,000 by default; ``YINLING_FUZZ_EXAMPLES``
changes it) through the whole app on PostgreSQL and Redis. The bodies mix well-formed
messages of every type with broken ones: missing, repeated and oversized fields,
non-numeric ids, non-finite coordinates, unknown types, control characters, bad encryption,
deep nesting. Runs are derandomised (the same bodies each run) so CI is repeatable; set
``YINLING_FUZZ_RANDOM=1`` to explore new ones.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.models import MessageRecord

EXAMPLES = int(os.environ.get("YINLING_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("YINLING_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)
SERVER_ERROR = 500

serial = itertools.count(1)
nonces = itertools.count(7_000_000_001)


@dataclass
class Tally:
    """What one endpoint's run saw: statuses, and the well-formed messages to find logged."""

    statuses: list[int] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)  # (user, message id)

    def check(self, name: str) -> None:
        """At least EXAMPLES bodies, none answered with a 5xx."""
        print(f"\n{name}: {len(self.statuses)} bodies, statuses {sorted(set(self.statuses))}")  # noqa: T201
        assert len(self.statuses) >= EXAMPLES
        assert all(s < SERVER_ERROR for s in self.statuses)


async def not_logged(runtime: Any, channel: str, expected: list[tuple[str, str]]) -> list[Any]:
    """The expected (user, message id) pairs that have no inbound line in the message log."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(MessageRecord.external_user_id, MessageRecord.message_id).where(
                MessageRecord.channel == channel, MessageRecord.direction == "in"
            )
        )
        found = {(str(u), str(m)) for u, m in rows}
    return [e for e in expected if e not in found]


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80) | (
    st.sampled_from(["救命", "我摔倒了", "我的记录", "", " ", "]]>", "<x/>", "&amp;", "1" * 5000])
)
clean_words = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=200
).filter(lambda t: bool(t.strip()))
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "", "abc", "１２３"]),
    words,
)
msg_types = st.sampled_from(
    ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "file",
     "miniprogrampage", "unknown_type_that_is_far_too_long_for_the_column", ""]
) | words  # fmt: skip
events = (
    st.sampled_from(
        ["subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "TEMPLATESENDJOBFINISH"]
    )
    | words
)
OPTIONAL = {
    "Content": words, "MsgId": numbers, "CreateTime": numbers, "Event": events,
    "EventKey": st.sampled_from(["qrscene_12345678", "qrscene_", "SOS"]) | words,
    "Location_X": numbers, "Location_Y": numbers, "Scale": numbers, "Label": words,
    "Latitude": numbers, "Longitude": numbers, "Precision": numbers, "MediaId": words,
    "Recognition": words, "Format": words, "PicUrl": words, "Status": words, "AgentID": numbers,
}  # fmt: skip


def element(name: str, value: str, cdata: bool) -> str:
    """One XML element, its text in CDATA or escaped."""
    if cdata and "]]>" not in value:
        return f"<{name}><![CDATA[{value}]]></{name}>"
    return f"<{name}>{escape(value)}</{name}>"


def text_message(user: str, content: str, msg_id: str, cdata: bool, extra: str = "") -> str:
    """A well-formed text message as WeChat (and WeCom, with ``extra`` AgentID) push it."""
    return (
        "<xml><ToUserName><![CDATA[gh_fuzz]]></ToUserName>"
        + element("FromUserName", user, True)
        + f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        + element("Content", content, cdata)
        + f"<MsgId>{msg_id}</MsgId>{extra}</xml>"
    )


@st.composite
def xml_messages(draw: st.DrawFn) -> tuple[str, str | None, str | None]:
    """(XML, user, message id) — user and id are set only for a well-formed text message,
    which must end up in the message log."""
    if draw(st.integers(0, 9)) < 3:
        user = f"ofuzz{next(serial):023d}"
        msg_id = str(draw(st.integers(1, 2**63)))
        return text_message(user, draw(clean_words), msg_id, draw(st.booleans())), user, msg_id
    fields: list[tuple[str, str]] = [("ToUserName", "gh_fuzz")]
    if draw(st.booleans()):
        fields.append(("FromUserName", draw(st.just(f"ofuzz{next(serial):023d}") | words)))
    fields.append(("MsgType", draw(msg_types)))
    if draw(st.booleans()):
        fields.append(("MsgType", draw(msg_types)))  # two of them
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=8)):
        fields.append((name, draw(OPTIONAL[name])))
    body = "".join(element(n, v, draw(st.booleans())) for n, v in fields)
    shape = draw(st.integers(0, 19))
    if shape == 0:
        return draw(st.text(max_size=300)), None, None  # not XML at all
    if shape == 1:
        return "<xml>" + "<a>" * draw(st.integers(50, 2000)) + "x", None, None  # deep, unclosed
    return f"<xml>{body}</xml>", None, None
