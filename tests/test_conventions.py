"""House rules, checked: where Chinese text lives, every contract intent routed, templates sound."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from bot.routing import ROUTES
from handlers import texts
from tests.nlu.test_engine import CONTRACT_INTENTS

REPO = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HANDLERS = REPO / "handlers"
# Where Chinese may be written in handlers/: the texts package (one module per area) and the
# phrases the NLU's words are matched against. Every other handler module, at any depth, holds
# none.
TEXT_HOMES = {HANDLERS / "phrases.py", *(HANDLERS / "texts").glob("*.py")}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_chinese_lives_in_texts_and_phrases_only() -> None:
    assert HANDLERS / "texts" / "common.py" in TEXT_HOMES  # the homes are found where they are
    offenders = []
    for path in sorted(HANDLERS.rglob("*.py")):
        if path in TEXT_HOMES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
            ) and CJK.search(node.value):
                offenders.append(f"{path.relative_to(HANDLERS)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_every_contract_intent_has_a_route() -> None:
    assert set(ROUTES) >= CONTRACT_INTENTS


def test_texts_are_well_formed() -> None:
    for name in dir(texts):
        value = getattr(texts, name)
        if not name.isupper() or not isinstance(value, str):
            continue
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        assert all(f.isidentifier() for f in fields), (name, fields)  # named placeholders only
        assert len(value.splitlines()) <= 3, name  # at most three lines per reply


def test_no_stored_status_name_reaches_a_reply() -> None:
    """Every status a request, sign-up, claim or alert is stored with reads as words; an
    unknown one as "办理中", never as the stored name."""
    from handlers.wording import status_name
    from storage.repos import CLOSED_STATUSES

    stored = set(CLOSED_STATUSES) | {
        "pending", "assigned", "booked", "reported", "open", "acknowledged", "rescheduled",
        "unconfirmed", "registered", "waitlisted", "submitted", "reviewing", "approved",
        "paid", "returned",
    }  # fmt: skip
    for status in sorted(stored):
        assert CJK.search(status_name(status)), status
        assert not re.search("[a-z]", status_name(status)), status
    assert status_name("some_new_state") == texts.STATUS_OTHER
