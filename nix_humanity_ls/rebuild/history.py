"""Our own record of every rebuild operation, and where each one's log goes.

One JSON object per line in `$XDG_STATE_HOME/nix-humanity/history.jsonl`: when, what, which backend, how long,
how it ended, the store path built and the fingerprint of the inputs. It answers `nix-humanity history`, lets a
dry-build of unchanged inputs answer from the last good one, and says which generations were switched to
successfully (nixos-rebuild keeps no such record). A damaged line is skipped, and a record that cannot be
written is logged, never an error for the operation. Logs are `logs/<time>-<action>.log` beside it; only the
newest `KEEP_LOGS` are kept.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from ..language.memory import state_dir

log = logging.getLogger(__name__)

KEEP_LOGS = 50


@attrs.frozen
class Record:
    """One operation as it ended. `status` is an `OperationOutcome` status (ok, failed, cancelled, …)."""

    action: str
    status: str
    backend: str | None = None
    summary: str = ""
    duration: float = 0.0
    started: float = attrs.field(factory=time.time)  # seconds since the epoch
    target: str | None = None
    store_path: str | None = None
    log_file: str | None = None
    fingerprint: str | None = None  # of the configuration files and nixpkgs (see fingerprint.py)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.action, "status": self.status, "backend": self.backend, "summary": self.summary,
            "duration": round(self.duration, 3), "started": self.started, "time": self.when(),
            "target": self.target, "storePath": self.store_path, "logFile": self.log_file,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Record:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        action, status = text("action"), text("status")
        started, duration = data.get("started"), data.get("duration")
        if action is None or status is None or not isinstance(started, (int, float)):
            raise ValueError("a record needs action, status and started")
        return cls(
            action=action, status=status, backend=text("backend"), summary=text("summary") or "",
            duration=float(duration) if isinstance(duration, (int, float)) else 0.0, started=float(started),
            target=text("target"), store_path=text("storePath"), log_file=text("logFile"),
            fingerprint=text("fingerprint"),
        )


class History:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else state_dir()
        self.path = self.directory / "history.jsonl"

    def append(self, record: Record) -> None:
        line = json.dumps(record.to_json(), ensure_ascii=False) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as error:
            log.warning("could not record the operation in %s: %s", self.path, error)

    def records(self) -> list[Record]:
        """Every readable record, oldest first."""
        return list(self._read())

    def _read(self) -> Iterator[Record]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            return
        except OSError as error:
            log.warning("cannot read the history in %s: %s", self.path, error)
            return
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                yield Record.from_json(data)
            except ValueError as error:
                log.warning("skipping line %d of %s: %s", number, self.path, error)

    def last_success(self, action: str, fingerprint: str) -> Record | None:
        """The newest successful `action` whose inputs had this fingerprint."""
        return next((r for r in reversed(self.records())
                     if r.ok and r.action == action and r.fingerprint == fingerprint), None)

    def switched(self) -> dict[str, float]:
        """Store paths of systems we switched to (or rolled back to) successfully → when, newest time kept."""
        found: dict[str, float] = {}
        for record in self.records():
            if record.ok and record.action in ("switch", "rollback") and record.store_path:
                found[record.store_path] = record.started
        return found

    def new_log(self, action: str) -> Path:
        """A fresh log file path for one operation (the directory exists; old logs are pruned)."""
        logs = self.directory / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = logs / f"{stamp}-{action}.log"
        number = 1
        while path.exists():
            number += 1
            path = logs / f"{stamp}-{action}-{number}.log"
        path.touch()
        old = sorted(logs.glob("*.log"), key=lambda p: p.stat().st_mtime)[:-KEEP_LOGS]
        for stale in old:
            try:
                os.unlink(stale)
            except OSError:
                pass
        return path
