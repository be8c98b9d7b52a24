"""What WeChat and WeCom share: their XML bodies, read safely, and their text replies.

* Bodies are size-limited and parsed without DTDs or entities, with ``<xml>`` as the root,
  before wechatpy reads them (and again after decryption).
* Replies are texts of at most 2,048 bytes; options become "回复 1 …" lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.parsers import expat

import xmltodict

from handlers import texts
from handlers.base import Reply

__all__ = ["MAX_BODY", "MAX_REPLY_BYTES", "cdata_safe", "check_xml", "render_text"]

MAX_BODY = 64 * 1024  # pushes are a few hundred bytes
MAX_REPLY_BYTES = 2048  # WeChat's limit for one text message


def render_text(replies: Sequence[Reply]) -> list[str]:
    """Replies as WeChat texts: options become "回复 1 …" lines; each text at most 2,048 bytes."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        lines += [
            texts.REPLY_WITH_NUMBER.format(n=n, label=option.label)
            for n, option in enumerate(reply.options, 1)
        ]
        blocks.append("\n".join(lines))
    chunks: list[str] = []
    current = ""
    for line in "\n\n".join(blocks).split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= MAX_REPLY_BYTES:
            current = candidate
            continue
        if current:
            chunks.append(current)
        rest = line
        while len(rest.encode()) > MAX_REPLY_BYTES:  # one very long line: cut it
            cut = len(rest.encode()[:MAX_REPLY_BYTES].decode(errors="ignore"))
            chunks.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current.strip():
        chunks.append(current)
    return chunks


def _forbid(*_args: Any) -> Any:
    raise ValueError("DTDs and entities are not allowed")


class _NoDTDExpat:
    """An expat for xmltodict that refuses any DOCTYPE or entity declaration."""

    @staticmethod
    def ParserCreate(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - expat's name
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _forbid
        parser.EntityDeclHandler = _forbid
        parser.ExternalEntityRefHandler = _forbid
        return parser


def check_xml(body: bytes | str) -> None:
    """Refuse oversized, DTD-carrying or non-<xml> bodies before wechatpy parses them."""
    if len(body) > MAX_BODY:
        raise ValueError("body too large")
    document = xmltodict.parse(body, expat=_NoDTDExpat)
    if not isinstance(document.get("xml"), dict):
        raise TypeError("the root element must be <xml>")


def cdata_safe(text: str) -> str:
    """A text for a reply's CDATA: wechatpy does not escape "]]>", so it is split."""
    return text.replace("]]>", "]]]]><![CDATA[>")
