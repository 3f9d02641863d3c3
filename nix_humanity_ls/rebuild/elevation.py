"""How an operation that changes the system gets root, decided before anything runs.

An editor has no terminal to type a password into, so nothing here may wait on one: sudo is only used
non-interactively (`sudo -n`, checked first with `sudo -n true`), run0 and pkexec only through polkit (a
graphical agent answers, or they fail at once; the runner starts children without a controlling terminal and
with stdin from /dev/null). When no way works, the decision says so at once, with what the user can do.
As root nothing is needed. Over SSH (`targetHost`) root is gained on the other machine, by nixos-rebuild's
own sudo support, so the local tools do not matter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import attrs

from ..settings import Elevation
from .model import Action

PROBE_TIMEOUT = 10.0  # seconds for `sudo -n true`; it never prompts, so it answers quickly


@attrs.frozen
class ElevationDecision:
    """`prefix` goes in `Plan.elevate` (empty when none is needed); `problem` is set when root is needed and
    there is no way to get it here: then nothing may run, and the text says what to do."""

    prefix: tuple[str, ...] = ()
    tool: str | None = None  # "sudo", "run0", "pkexec"; None as root or when not needed
    problem: str | None = None
    remote: bool = False  # root is gained on the target host


def sudo_without_password(sudo: str) -> bool:
    """Whether `sudo -n` works for this user now (no password needed, or a cached sudo ticket)."""
    try:
        done = subprocess.run([sudo, "-n", "true"], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=PROBE_TIMEOUT, start_new_session=True, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def decide_elevation(
    action: Action,
    setting: Elevation = Elevation.AUTO,
    *,
    is_root: bool | None = None,
    path: str | None = None,
    target_host: str | None = None,
    sudo_works: Callable[[str], bool] = sudo_without_password,
) -> ElevationDecision:
    """The way `action` gains root. `is_root` defaults to the effective user id; `path` to `$PATH` (where
    sudo, run0 and pkexec are looked for); `sudo_works` asks whether a found sudo runs without a password."""
    if not action.activates:
        return ElevationDecision()
    if target_host:
        if setting is Elevation.NONE:
            return ElevationDecision(remote=True)
        tool = "run0" if setting is Elevation.RUN0 else "sudo"
        return ElevationDecision((tool,), tool, remote=True)
    if is_root if is_root is not None else os.geteuid() == 0:
        return ElevationDecision()
    verb = _VERBS.get(action, action.value)
    if setting is Elevation.NONE:
        return ElevationDecision(problem=(
            f"{verb} needs root, and elevation is `none` (the `rebuild.elevation` setting, or `--elevation`). Run "
            f"it as root (`sudo nix-humanity {_command(action)}` in a terminal), or set it to `auto`."
        ))
    wanted = (setting.value,) if setting is not Elevation.AUTO else ("sudo", "run0", "pkexec")
    found = {tool: shutil.which(tool, path=path) for tool in wanted}
    notes = []
    for tool in wanted:
        where = found[tool]
        if where is None:
            notes.append(f"{tool} is not installed")
        elif tool != "sudo":
            return ElevationDecision((where,), tool)
        elif sudo_works(where):
            return ElevationDecision((where, "-n"), tool)
        else:
            notes.append("sudo needs a password, and there is no terminal here to type it in")
    return ElevationDecision(problem=(
        f"{verb} needs root, and there is no way to get it here: {'; '.join(notes)}. Do one of these: run "
        f"`sudo nix-humanity {_command(action)}` in a terminal; allow your user to run nixos-rebuild with sudo "
        "without a password; or run a polkit agent and set `rebuild.elevation` (or `--elevation`) to `run0` or "
        "`pkexec`."
    ))


_VERBS = {
    Action.SWITCH: "Switching to the new system",
    Action.BOOT: "Making the new system the boot default",
    Action.TEST: "Activating the new system",
    Action.DRY_ACTIVATE: "Checking what activation would do",
    Action.ROLLBACK: "Rolling back",
}


def _command(action: Action) -> str:
    return "rollback" if action is Action.ROLLBACK else action.value
