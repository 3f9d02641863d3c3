"""`nix-humanity dry-build|build|test|switch|boot|dry-activate|build-vm|rollback|generations|history`: rebuilds
from a terminal.

The same core as the language server (rebuild/operations.py). The operation runs in a worker thread so the
main thread can turn Ctrl-C into a cancel that stops the whole process group. On a terminal, progress is one
line redrawn in place and a confirmation is asked for; otherwise progress is printed as plain lines, and an
operation that needs a confirmation is refused unless `--yes` was given (there is nobody to answer).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from .rebuild.model import Action, Event, LogLine, Progress
from .settings import Elevation

if TYPE_CHECKING:
    from .rebuild.explain import Finding
    from .rebuild.history import Record
    from .rebuild.operations import OperationOutcome

ACTIONS = {
    "dry-build": (Action.DRY_BUILD, "evaluate and list what would be built or downloaded, without building"),
    "build": (Action.BUILD, "build the system, without activating it"),
    "test": (Action.TEST, "build and activate the system until the next reboot (no boot entry)"),
    "switch": (Action.SWITCH, "build, show what changes, ask, then activate it and make it the boot default"),
    "boot": (Action.BOOT, "build, show what changes, ask, then make it the boot default (active after reboot)"),
    "dry-activate": (Action.DRY_ACTIVATE, "build the system and show what activating it would change, without "
                     "changing anything (needs root, like test)"),
    "build-vm": (Action.BUILD_VM, "build a virtual machine of the system (config.system.build.vm; its "
                 "bin/run-<host>-vm starts it)"),
    "rollback": (Action.ROLLBACK, "go back to the previous generation, or the one given with --generation"),
}
EXIT = {"ok": 0, "failed": 1, "error": 1, "unsupported": 1, "declined": 2, "needs-root": 3, "timed-out": 124,
        "cancelled": 130}
REFUSED = 2
BAR_WIDTH = 24
STOP_WAIT = 15.0  # seconds to wait for the runner to stop everything after Ctrl-C (it takes about 2)


def _seconds(text: str) -> float:
    """A timeout as argparse reads it: a finite number above 0, else a usage error rather than a traceback."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0, not {text!r}")
    return value


def add_rebuild_commands(commands: argparse._SubParsersAction) -> None:
    """Add the rebuild subcommands to the `nix-humanity` parser."""
    for name, (action, text) in ACTIONS.items():
        parser = commands.add_parser(name, help=text, description=(
            f"{text[0].upper()}{text[1:]}. The backend (nixos-rebuild-ng's Python module, nixos-rebuild, or plain "
            "nix) is chosen automatically and reported. Exit status: 0 done, 1 failed, 2 declined or refused "
            "(no terminal to confirm on and no --yes), 3 root needed and no way to get it, 124 timed out, "
            "130 cancelled."))
        _target_options(parser)
        parser.add_argument("--yes", "-y", action="store_true", help="do not ask before switch, boot or rollback")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        parser.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="stop it after this long (default 3600)")
        parser.add_argument("--backend", choices=("auto", "module", "cli", "nix"), default="auto",
                            help="module: nixos-rebuild-ng's Python module; cli: the nixos-rebuild command; "
                                 "nix: plain nix-build (no activation)")
        parser.add_argument("--verbose", "-v", action="store_true", help="also print Nix's own output")
        parser.add_argument("--style", choices=("friendly", "concise", "expert"), default="friendly",
                            help="how errors are explained")
        parser.add_argument("--elevation", choices=[e.value for e in Elevation], default=Elevation.AUTO.value,
                            help="how test, switch, boot, dry-activate and rollback get root when not run as root "
                                 "(as the rebuild.elevation setting): auto is passwordless sudo -n, else run0, else "
                                 "pkexec; none refuses and says what to do (default auto)")
        if action is Action.ROLLBACK:
            parser.add_argument("--generation", type=int, metavar="N", help="the generation to go back to")
        parser.set_defaults(rebuild_action=action)
    generations = commands.add_parser(
        "generations", help="list the system generations",
        description="List the system generations (id, date, NixOS version, kernel, current) and suggest the one "
                    "to roll back to: the newest that a switch succeeded to, by our own record. Always exits 0.")
    generations.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    generations.set_defaults(rebuild_action=Action.LIST_GENERATIONS)
    history = commands.add_parser(
        "history", help="show past rebuild operations",
        description="Show the operations run by nix-humanity (newest last): when, what, which backend, how long, "
                    "how it ended, and the log file. Always exits 0.")
    history.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    history.add_argument("--limit", type=int, default=20, metavar="N", help="the newest N (default 20; 0: all)")


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flake", metavar="REF", help="the flake (default: a flake.nix that defines "
                        "nixosConfigurations in the folder of --file or above it up to the current folder, else "
                        "/etc/nixos/flake.nix; without one, a channel build)")
    parser.add_argument("--host", metavar="NAME", help="nixosConfigurations.NAME (default: this machine's name)")
    parser.add_argument("--file", metavar="PATH", help="for a channel build: the configuration.nix, or a module it "
                        "imports (nixos-config= the configuration.nix beside or above it that imports it, else "
                        "PATH; default /etc/nixos/configuration.nix)")
    parser.add_argument("--target-host", metavar="HOST", help="deploy to this machine over SSH")
    parser.add_argument("--build-host", metavar="HOST", help="build on this machine over SSH")
    parser.add_argument("--nixpkgs", metavar="PATH", help="the nixpkgs to build a channel-style configuration with "
                        "(default: <nixpkgs> from NIX_PATH or the channels)")


def rebuild_command(args: argparse.Namespace) -> int:
    from .rebuild.history import History

    if args.command == "history":
        return _history(History().records(), args.json, args.limit)
    return _operation(args)


def _operation(args: argparse.Namespace) -> int:
    from .rebuild.operations import Request, run_operation
    from .settings import RebuildSettings

    action: Action = args.rebuild_action
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    yes = getattr(args, "yes", False)
    if action.confirms and not yes and not interactive:
        print(f"nix-humanity: {args.command} asks before it changes the system, and there is no terminal to ask on; "
              "run it again with --yes to go ahead without asking.", file=sys.stderr)
        return REFUSED
    settings = RebuildSettings(elevation=Elevation(getattr(args, "elevation", Elevation.AUTO.value)))
    if getattr(args, "timeout", None):
        settings.timeout = args.timeout
    request = Request(
        action=action, flake=getattr(args, "flake", None), host=getattr(args, "host", None),
        file=getattr(args, "file", None), target_host=getattr(args, "target_host", None),
        build_host=getattr(args, "build_host", None), generation=getattr(args, "generation", None),
        workspace=os.getcwd(), backend=getattr(args, "backend", "auto"), nixpkgs=getattr(args, "nixpkgs", None),
    )
    show = _Display(sys.stderr, interactive and not args.json, getattr(args, "verbose", False))
    cancel = threading.Event()
    found: list[OperationOutcome] = []

    finished = threading.Event()  # not Thread.join: a join broken by Ctrl-C may later return at once

    def work() -> None:
        try:
            found.append(run_operation(request, settings, show.event, cancel, _confirm(yes, show),
                                       style=getattr(args, "style", "friendly")))
        finally:
            finished.set()

    threading.Thread(target=work, name="nix-humanity-rebuild", daemon=True).start()
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        cancel.set()
        show.done()
        print("nix-humanity: stopping…", file=sys.stderr)
        _wait_through_interrupts(finished, STOP_WAIT)
        if not found:
            return EXIT["cancelled"]
    show.done()
    outcome = found[0]
    if args.json:
        data = outcome.to_json()
        data["findings"] = [finding_json(f) for f in outcome.findings]
        print(json.dumps(data))
    else:
        _print_outcome(outcome)
    return EXIT.get(outcome.status, 1)


def _wait_through_interrupts(finished: threading.Event, seconds: float) -> None:
    """Wait while the runner stops the process group; more Ctrl-C presses do not cut that short."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if finished.wait(0.1):
                return
        except KeyboardInterrupt:
            continue


def _confirm(yes: bool, show: _Display) -> Callable[[str], bool]:
    def ask(question: str) -> bool:
        if yes:
            return True
        show.done()
        try:
            answer = input(f"{question}\nGo ahead? [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return ask


class _Display:
    """Progress on stderr: a bar redrawn in place on a terminal, plain lines (each new message once) otherwise."""

    def __init__(self, stream: TextIO, bar: bool, verbose: bool) -> None:
        self.stream, self.bar, self.verbose = stream, bar, verbose
        self.last = ""
        self.drawn = False
        self.lock = threading.Lock()
        self.shown_at = 0.0

    def event(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, LogLine) and self.verbose:
                self._clear()
                print(event.text, file=self.stream)
            elif isinstance(event, Progress):
                self._progress(event)

    def _progress(self, event: Progress) -> None:
        if not self.bar:
            if event.message != self.last:
                print(event.message, file=self.stream, flush=True)
            self.last = event.message
            return
        now = time.monotonic()
        if now - self.shown_at < 0.1 and event.message == self.last:
            return
        self.shown_at, self.last = now, event.message
        width = shutil.get_terminal_size((80, 24)).columns
        if event.percentage is not None:
            filled = BAR_WIDTH * max(0, min(100, event.percentage)) // 100
            head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {event.percentage:3d}% "
        else:
            head = "[" + "".join("#" if (i - int(now * 8)) % 6 == 0 else "." for i in range(BAR_WIDTH)) + "]      "
        self.stream.write("\r\x1b[K" + (head + event.message)[: max(10, width - 1)])
        self.stream.flush()
        self.drawn = True

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False

    def done(self) -> None:
        with self.lock:
            self._clear()


def finding_json(f: Finding) -> dict[str, object]:
    """A finding as `nix-humanity explain --json` prints it."""
    return {
        "kind": f.kind, "title": f.title, "explanation": f.explanation, "file": f.file, "line": f.line,
        "column": f.column, "option": f.option, "fixes": [{"title": fix.title} for fix in f.fixes],
    }


def _print_outcome(outcome: OperationOutcome) -> None:
    stream = sys.stdout if outcome.ok or outcome.status == "declined" else sys.stderr
    print(f"{outcome.status}: {outcome.summary}", file=stream)
    if outcome.generations:
        print(f"{'':2}{'id':>5}  {'date':19}  {'NixOS':24}  {'kernel':16}")
        for g in outcome.generations:
            mark = "*" if g.current else ("+" if outcome.suggested is g else " ")
            print(f"{mark:2}{g.id:>5}  {g.when():19}  {(g.nixos_version or 'unknown'):24}  {g.kernel or 'unknown'}")
        print("* current" + ("   + suggested to roll back to (last switched to successfully)" if outcome.suggested else ""))
    if outcome.backend:
        print(f"backend: {outcome.backend}" + (f" ({outcome.backend_reason})" if outcome.backend_reason else ""))
    if outcome.changes is not None and not outcome.ok:
        print(f"changes: {outcome.changes.summary()}")
    print_findings(outcome.findings)
    if outcome.log_file:
        print(f"log: {outcome.log_file}")


def print_findings(findings: Sequence[Finding]) -> None:
    """Findings as `nix-humanity explain` prints them."""
    for f in findings:
        where = f"{f.file}:{f.line}:{f.column}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        print(f"{where}{f.title} [{f.kind}]")
        print(f"  {f.explanation}")
        for fix in f.fixes:
            print(f"  fix: {fix.title}" + (f" ({fix.edit})" if fix.edit else ""))


def _history(records: Sequence[Record], as_json: bool, limit: int) -> int:
    shown = records[-limit:] if limit > 0 else records
    if as_json:
        for record in shown:
            print(json.dumps(record.to_json()))
        return 0
    if not shown:
        print("No operations recorded yet.")
    for r in shown:
        print(f"{r.when()}  {r.action:<16} {r.status:<11} {r.duration:7.1f} s  {r.backend or '-':<14} {r.summary}")
        if r.log_file:
            print(f"{'':21}log: {r.log_file}")
    return 0
