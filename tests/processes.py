"""Which processes are alive, read from /proc: what the cancel and timeout tests check (the processes are gone,
not how long it took)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie waiting for its parent counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def processes_mentioning(marker: str) -> list[int]:
    """Live processes other than this one whose command line holds `marker`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if marker.encode() in f.read() and alive(int(name)):
                        found.append(int(name))
            except OSError:
                continue
    return found
