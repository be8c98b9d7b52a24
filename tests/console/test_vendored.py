"""The front-end files shipped with the console are the ones their table names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "bot" / "console" / "static"
OWN = {"console.js", "reports.js"}  # written here, not vendored


def test_every_vendored_file_matches_its_recorded_sha256() -> None:
    table = (STATIC / "VENDORED.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+) \| .+ \| ([0-9a-f]{64}) \|$", table, re.M)
    assert rows, "VENDORED.md lists no files"
    for name, digest in rows:
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
    shipped = {p.name for p in STATIC.iterdir() if p.suffix == ".js"} - OWN
    assert shipped == {name for name, _ in rows}, "a script is shipped without its row"


def test_pages_load_nothing_from_elsewhere() -> None:
    templates = Path(__file__).resolve().parents[2] / "bot" / "console" / "templates"
    for page in templates.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), page.name
