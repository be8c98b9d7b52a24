"""The emergency spool: an SOS that could not be written to the database is kept on disk.

When the database is down (or too slow to answer in time), an emergency is still answered
at once with the hotline, and the message goes into an append-only file, flushed to the
disk before the answer leaves. ``replay`` — every few seconds in every process that runs
the pipeline, and at its start — writes what the file holds as soon as the database is
back; the write is idempotent (the message's id is unique in the message log), so an
entry replayed twice, or one whose first attempt did commit after all, is written once.

Several processes may share the folder: every read and write holds an exclusive lock on
a lock file beside it (``flock``); a rewrite goes to a new file that replaces the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bot.messages import InboundMessage

__all__ = ["Spool", "SpoolEntry", "default_spool_dir"]

log = structlog.get_logger("yinling.spool")

FILE = "emergencies.jsonl"
LOCK = "emergencies.lock"


def default_spool_dir() -> Path:
    """``$XDG_STATE_HOME/yinling/spool`` (``~/.local/state/yinling/spool``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "yinling" / "spool"


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One emergency waiting for the database."""

    id: str
    reason: str
    message: InboundMessage


def _encode(entry: SpoolEntry) -> str:
    data: dict[str, Any] = asdict(entry.message)
    data["received_at"] = entry.message.received_at.isoformat()
    line = {"id": entry.id, "reason": entry.reason, "message": data}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _decode(line: str) -> SpoolEntry:
    data = json.loads(line)
    fields = dict(data["message"])
    fields["received_at"] = datetime.fromisoformat(fields["received_at"])
    return SpoolEntry(str(data["id"]), str(data.get("reason", "")), InboundMessage(**fields))


class Spool:
    """An append-only file of emergencies not yet in the database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, message: InboundMessage, reason: str) -> SpoolEntry:
        """Keep an emergency; on the disk (fsync) when this returns. Blocking, on purpose:
        it is a few hundred bytes, and it must also work while the task is cancelled."""
        entry = SpoolEntry(uuid.uuid4().hex, reason, message)
        with self._locked(), self.path.open("a", encoding="utf-8") as handle:
            handle.write(_encode(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        log.critical(
            "sos_spooled",
            entry=entry.id,
            reason=reason,
            channel=message.channel,
            message_id=message.message_id,
        )
        return entry

    def pending(self) -> list[SpoolEntry]:
        """What waits for the database, oldest first (unreadable lines are skipped, kept)."""
        if not self.path.exists():
            return []
        entries = []
        with self._locked(), self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entries.append(_decode(line))
                except (ValueError, KeyError, TypeError):
                    log.error("spool_line_unreadable", line=number)  # noqa: TRY400 - no trace of personal data
        return entries

    def __len__(self) -> int:
        return len(self.pending())

    def waiting(self) -> bool:
        """Whether anything waits (cheap: the file's size, no lock, no parsing)."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def writable(self) -> bool:
        """Whether an emergency could be kept here now."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.folder, os.W_OK)

    def remove(self, done: set[str]) -> None:
        """Drop written entries: the file is replaced by one with the others."""
        if not done:
            return
        with self._locked():
            if not self.path.exists():
                return
            kept = []
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    written = json.loads(line).get("id") in done
                except (ValueError, AttributeError):
                    written = False  # an unreadable line stays for a person to look at
                if line.strip() and not written:
                    kept.append(line + "\n")
            fresh = self.path.with_suffix(".tmp")
            with fresh.open("w", encoding="utf-8") as handle:
                handle.writelines(kept)
                handle.flush()
                os.fsync(handle.fileno())
            fresh.replace(self.path)
            folder = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
