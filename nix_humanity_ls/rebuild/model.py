"""The words every rebuild part shares: what to build, how a backend is asked to do it, and what it reports.

A backend (`python-module`, `nixos-rebuild` or `nix`) never runs anything itself: it turns a `Plan` into the
argv of one child process (`Launch`). One runner starts that child in its own process group, reads its
output as it comes (nix's `internal-json` log on stderr, the bridge's JSON lines on stdout), turns it into
`Event`s and can stop the whole group. So progress, cancel, timeouts and logs work the same for all three.

The bridge (the `python-module` backend's child, `Launch.bridge`) writes one JSON object per line on stdout,
each with an `"event"` key; anything else it needs to say goes to stderr, where nix's own log also arrives:

* `{"event": "progress", "message": "activating the configuration", "percentage": null}` → a `Progress`;
* `{"event": "log", "message": "building the system configuration..."}` → a `LogLine`, and part of
  `Result.stderr` (what nixos-rebuild itself would have printed);
* `{"event": "result", "path": "/nix/store/…" | null, "data": <any JSON>}` → `Result.store_path` and
  `Result.data` (e.g. the generations list for list-generations);
* `{"event": "error", "type": "CalledProcessError", "returncode": 1, "cmd": ["nix-build", …], "message": ""}`:
  the operation failed. `message` is set only when the failure has words nix did not already print on stderr
  (`NixOSRebuildError`, a missing binary, a signature the bridge does not know); it is added to
  `Result.stderr` as `error: <message>`. The bridge exits non-zero after it.

Lines that are not JSON objects with an `"event"` are kept as plain output.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol

import attrs


class Action(enum.Enum):
    """The operations users ask for; values are nixos-rebuild's own action words."""

    DRY_BUILD = "dry-build"
    BUILD = "build"
    TEST = "test"
    SWITCH = "switch"
    BOOT = "boot"
    DRY_ACTIVATE = "dry-activate"
    BUILD_VM = "build-vm"
    LIST_GENERATIONS = "list-generations"
    ROLLBACK = "rollback"

    @property
    def activates(self) -> bool:
        """Changes the running system or the boot menu: needs root and, for some, a confirmation."""
        return self in (Action.TEST, Action.SWITCH, Action.BOOT, Action.DRY_ACTIVATE, Action.ROLLBACK)

    @property
    def confirms(self) -> bool:
        """Asked about first (unless `confirmSwitch` is false): these outlive a reboot."""
        return self in (Action.SWITCH, Action.BOOT, Action.ROLLBACK)


@attrs.frozen
class Target:
    """Which system configuration: a flake output or a channel-style `nixos-config` file."""

    kind: str  # "flake" or "channel"
    flake: str | None = None  # flake reference without fragment, e.g. "/etc/nixos" or "path:/work/cfg"
    host: str | None = None  # nixosConfigurations.<host>
    config_file: str | None = None  # nixos-config=<file> for channels
    nixpkgs: str | None = None  # -I nixpkgs=<path> when not taken from NIX_PATH
    target_host: str | None = None  # deploy over SSH (nixos-rebuild's --target-host)
    build_host: str | None = None  # build over SSH (nixos-rebuild's --build-host)
    files: tuple[str, ...] = ()  # the configuration's own files, for "nothing changed" checks and diagnostics

    def describe(self) -> str:
        if self.kind == "flake":
            return f"{self.flake}#nixosConfigurations.{self.host}"
        return f"nixos-config={self.config_file}"


@attrs.frozen
class Plan:
    """One operation, fully decided: what, on which target, how verbose, with which extra nix flags."""

    action: Action
    target: Target
    generation: int | None = None  # rollback to this generation rather than the previous one
    elevate: tuple[str, ...] = ()  # prefix that gains root ("sudo", "-n" / "run0" / "pkexec"), empty as root
    nix_flags: tuple[str, ...] = ()  # passed through to nix (e.g. "--show-trace", "--option", "x", "y")
    profile_name: str | None = None  # nixos-rebuild's --profile-name; None is the "system" profile


@attrs.frozen
class Launch:
    """The child process a backend wants run. `argv` is a list, never a shell line."""

    backend: str  # "python-module", "nixos-rebuild" or "nix"
    argv: tuple[str, ...]
    env: Mapping[str, str] = attrs.field(factory=dict)  # added to the inherited environment
    json_log: bool = True  # stderr carries nix's internal-json log (`@nix {...}` lines)
    bridge: bool = False  # stdout carries the bridge's JSON lines rather than a store path
    cwd: str | None = None  # run here; a `result` link the child makes here during the run names the result


class Backend(Protocol):
    """One way of running nixos-rebuild's work; `launch` raises `Unsupported` for actions it cannot do."""

    name: str

    def launch(self, plan: Plan) -> Launch: ...


class Unsupported(Exception):
    """This backend cannot do this action here; the message says what to do instead."""


@attrs.frozen
class Progress:
    """A step of work as nix reports it: "building 3 of 17", "downloading 45 of 210 MB"."""

    message: str
    percentage: int | None = None  # 0..100 when nix told us how much is expected


@attrs.frozen
class LogLine:
    """One line of nix's own output, as text, for the log the user can open."""

    text: str


@attrs.frozen
class Result:
    """How an operation ended. `ok` is False for failures, cancels and timeouts; `stderr` is the plain text
    of everything nix printed (what the explainer reads)."""

    action: Action
    backend: str
    ok: bool
    summary: str  # one plain sentence
    store_path: str | None = None
    exit_code: int | None = None
    duration: float = 0.0  # seconds
    cancelled: bool = False
    timed_out: bool = False
    stderr: str = ""
    stdout: str = ""  # what the child printed on stdout (without the bridge's JSON lines)
    data: object = None  # the bridge's `result` data, when it sent any


Event = Progress | LogLine | Result
