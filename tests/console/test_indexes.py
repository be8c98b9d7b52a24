"""The open queue's partial index (migration 0013) is only used while its condition is the
queue's own: the statuses it leaves out must be storage.repos.CLOSED_STATUSES."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from storage.models import ServiceRequest
from storage.repos import CLOSED_STATUSES

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "storage" / "migrations" / "versions" / "0013_console_indexes.py"
)  # fmt: skip


def test_the_partial_index_leaves_out_exactly_the_closed_statuses() -> None:
    spec = importlib.util.spec_from_file_location("m0013", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(re.findall(r"'(\w+)'", module.OPEN)) == CLOSED_STATUSES
    [index] = [i for i in ServiceRequest.__table__.indexes if i.name.endswith("open_created_at")]
    where = str(index.dialect_options["postgresql"]["where"])
    assert set(re.findall(r"'(\w+)'", where)) == CLOSED_STATUSES
