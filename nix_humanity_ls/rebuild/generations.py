"""The system generations on this machine, read from the profile directory without root.

A generation is a link `<profile dir>/system-<N>-link` to a built system; the link `system` names the current
one. For each we read what nixos-rebuild's own `list-generations` reads: the link's date, `nixos-version`
and the kernel under `kernel-modules/lib/modules/`. Our history adds which ones were switched to
successfully, so the one to go back to can be suggested: the newest of those that is not current.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

import attrs

PROFILE_DIR = Path("/nix/var/nix/profiles")
_LINK = re.compile(r"^(?P<profile>.+)-(?P<id>\d+)-link$")


@attrs.frozen
class Generation:
    id: int
    link: str  # the profile link, e.g. /nix/var/nix/profiles/system-42-link
    store_path: str | None  # where it points; None when the link is dangling
    date: float  # seconds since the epoch, the link's own time
    nixos_version: str | None
    kernel: str | None
    current: bool
    switched_ok: bool = False  # our history says a switch to it succeeded

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.date))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "date": self.when(), "nixosVersion": self.nixos_version, "kernel": self.kernel,
            "current": self.current, "storePath": self.store_path, "link": self.link, "switchedOk": self.switched_ok,
        }


def profile_dir() -> Path:
    """Where the system profile lives: `NIX_HUMANITY_PROFILE_DIR` when set (tests, unusual layouts)."""
    return Path(os.environ.get("NIX_HUMANITY_PROFILE_DIR") or PROFILE_DIR)


def list_generations(directory: Path | None = None, profile: str = "system",
                     switched: Mapping[str, float] | None = None) -> list[Generation]:
    """Every generation of `profile` in `directory`, newest first. `switched` holds the store paths our
    history says were switched to successfully."""
    directory = directory if directory is not None else profile_dir()
    try:
        current = os.readlink(directory / profile)
    except OSError:
        current = None
    found = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        match = _LINK.match(entry.name)
        if not match or match.group("profile") != profile or not entry.is_symlink():
            continue
        link = Path(entry.path)
        target = os.path.realpath(link) if link.exists() else None
        found.append(Generation(
            id=int(match.group("id")),
            link=str(link),
            store_path=target,
            date=entry.stat(follow_symlinks=False).st_mtime,
            nixos_version=_first_line(link / "nixos-version"),
            kernel=_kernel(link),
            current=current is not None and os.path.basename(current) == entry.name,
            switched_ok=target is not None and switched is not None and target in switched,
        ))
    return sorted(found, key=lambda g: g.id, reverse=True)


def _first_line(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return text.splitlines()[0] if text else None


def _kernel(link: Path) -> str | None:
    try:
        names = sorted(entry.name for entry in os.scandir(link / "kernel-modules" / "lib" / "modules") if entry.is_dir())
    except OSError:
        return None
    return names[0] if names else None


def suggested(generations: list[Generation]) -> Generation | None:
    """The generation to roll back to: the newest non-current one a switch succeeded to, else the newest
    non-current one older than the current (what `--rollback` would pick)."""
    others = [g for g in generations if not g.current and g.store_path is not None]
    known_good = [g for g in others if g.switched_ok]
    if known_good:
        return known_good[0]
    current = next((g for g in generations if g.current), None)
    older = [g for g in others if current is None or g.id < current.id]
    return older[0] if older else None


def previous(generations: list[Generation]) -> Generation | None:
    """The generation `nixos-rebuild --rollback` goes to: the newest one older than the current."""
    current = next((g for g in generations if g.current), None)
    if current is None:
        return None
    return next((g for g in generations if g.id < current.id and g.store_path is not None), None)
