"""What the user picked when a request was ambiguous, so it ranks first next time.

A small JSON file under the XDG state directory. A missing, corrupt or unwritable file is never an error
for the user: it is logged and the request goes on without the memory.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "nix-humanity"


class ChoiceMemory:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else state_dir() / "choices.json"

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.warning("ignoring the remembered choices in %s: %s", self.path, error)
            return {}
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, dict):
            log.warning("ignoring the remembered choices in %s: not the expected layout", self.path)
            return {}
        return {str(k): str(v) for k, v in choices.items() if isinstance(v, str)}

    def remember(self, subject: str, key: str) -> None:
        choices = self.load()
        choices[subject] = key
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, encoding="utf-8") as handle:
                json.dump({"version": 1, "choices": choices}, handle, indent=1, sort_keys=True)
            os.replace(handle.name, self.path)
        except OSError as error:
            log.warning("could not remember the choice in %s: %s", self.path, error)
