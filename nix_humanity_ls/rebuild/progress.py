"""Nix's log, line by line, into progress a person can follow ("building 3 of 17: firefox-128.0") and into the
plain text Nix would have printed without `--log-format internal-json`.

With `--log-format internal-json -v`, Nix writes `@nix {...}` events on stderr: activities start and stop
(`type` is Nix's `ActivityType`), and report results (`ResultType`: counts of builds done and expected, bytes
downloaded, a builder's log line, a build phase). Nix's own progress bar adds the numbers up per activity type;
`ProgressTracker` does the same. Without JSON (an old nixos-rebuild, or plain output) it reads the lines Nix and
nixos-rebuild print: `these 3 derivations will be built:`, `building '/nix/store/…-x.drv'...`,
`copying path '…' from 'https://cache.nixos.org'...`, `activating the configuration...`.
"""

from __future__ import annotations

import json
import re

import attrs

from .model import Progress
from .nix_log import strip_ansi

# Nix's ActivityType (src/libutil/logging.hh)
ACT_UNKNOWN = 0
ACT_COPY_PATH = 100
ACT_FILE_TRANSFER = 101
ACT_REALISE = 102
ACT_COPY_PATHS = 103
ACT_BUILDS = 104
ACT_BUILD = 105
ACT_SUBSTITUTE = 108
ACT_QUERY_PATH_INFO = 109
ACT_POST_BUILD_HOOK = 110
ACT_BUILD_WAITING = 111
# Nix's ResultType
RES_BUILD_LOG_LINE = 101
RES_SET_PHASE = 104
RES_PROGRESS = 105
RES_SET_EXPECTED = 106
RES_POST_BUILD_LOG_LINE = 107

SHOWN_LEVEL = 4  # lvlTalkative: what `-v` makes Nix print
_MIB = 1024 * 1024


def json_event(line: str) -> dict | None:
    """The event of an `@nix {...}` line, or None for any other line."""
    if not line.startswith("@nix "):
        return None
    try:
        event = json.loads(line[5:])
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def plain_text(line: str) -> str | None:
    """The line as Nix's plain logger would print it with `-v`; None for events it would not print."""
    event = json_event(line)
    if event is None:
        return strip_ansi(line.rstrip("\r\n"))
    action = event.get("action")
    if action == "msg":
        return strip_ansi(str(event.get("msg") or event.get("raw_msg") or ""))
    if action == "start":
        text = str(event.get("text") or "")
        level = event.get("level", 0)
        if text and isinstance(level, int) and level <= SHOWN_LEVEL and event.get("type") != ACT_BUILD_WAITING:
            return strip_ansi(text) + "..."
        return None
    if action == "result" and event.get("type") in (RES_BUILD_LOG_LINE, RES_POST_BUILD_LOG_LINE):
        fields = event.get("fields") or [""]
        return strip_ansi(str(fields[0]))
    return None


def store_name(path: str) -> str:
    """`/nix/store/<hash>-firefox-128.0.drv` → `firefox-128.0`."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    name = base.split("-", 1)[1] if "-" in base else base
    return name[:-4] if name.endswith(".drv") else name


@attrs.define
class _Activity:
    type: int
    text: str
    fields: list
    done: int = 0
    expected: int = 0
    running: int = 0
    phase: str = ""
    counted: bool = True  # a download that is part of a substitution, not a question to a binary cache


_PLAIN_BUILDS = re.compile(r"^(?:these (\d+) derivations? will|this derivation will) be built:$")
_PLAIN_FETCHES = re.compile(r"^(?:these (\d+) paths? will|this path will) be fetched"
                            r"(?: \(([\d.]+) MiB download, [\d.]+ MiB unpacked\))?:$")
_PLAIN_BUILDING = re.compile(r"^building '(/[^']+)'(?: on '[^']*')?\.\.\.$")
_PLAIN_COPYING = re.compile(r"^copying path '(/[^']+)' (from|to) '([^']+)'\.\.\.$")
# nixos-rebuild's own steps (the bash script and nixos-rebuild-ng word them the same), and switch-to-configuration's
_STEPS = (
    (re.compile(r"^evaluating file '"), "evaluating the configuration"),
    (re.compile(r"^building Nix\.\.\.$"), "building Nix"),
    (re.compile(r"^building the system configuration\.\.\.$"), "building the system configuration"),
    (re.compile(r"^copying closure\b|^copying \d+ paths?\.\.\.$"), "copying the system to the target"),
    (re.compile(r"^activating the configuration\.\.\.$"), "activating the configuration"),
    (re.compile(r"^setting up /etc\.\.\.$"), "setting up /etc"),
    (re.compile(r"^updating (?:GRUB 2|systemd-boot|the boot)"), "updating the boot menu"),
    (re.compile(r"^(?:stopping|starting|restarting|reloading) the following units:"), "restarting services"),
    (re.compile(r"^reloading user units for "), "reloading user services"),
)


class ProgressTracker:
    """Reads Nix's stderr a line at a time; `feed` answers the new progress when what a person should see
    changed, else None. Counts and sizes are added up per activity type as Nix's progress bar does."""

    def __init__(self) -> None:
        self._acts: dict[int, _Activity] = {}
        self._order: list[int] = []  # live activities, oldest first
        self._expected: dict[tuple[int, int], int] = {}  # (activity id, activity type) → resSetExpected
        self._finished_done: dict[int, int] = {}  # activity type → done of stopped activities
        self._started_builds = 0  # actBuild activities seen: the number of the newest build
        self._plain_builds = self._plain_built = 0
        self._plain_fetches = self._plain_fetched = 0
        self._plain_download_mib = 0.0
        self._step: Progress | None = None  # the latest plain line that said what is happening
        self._last: Progress | None = None

    def feed(self, line: str) -> Progress | None:
        event = json_event(line)
        if event is None:
            self._plain(strip_ansi(line.rstrip("\r\n")))
        elif event.get("action") == "msg":
            self._plain(plain_text(line) or "")
        else:
            self._json(event)
        current = self.current()
        if current is None or current == self._last:
            return None
        self._last = current
        return current

    # ---- internal-json events ----

    def _json(self, event: dict) -> None:
        action, ident = event.get("action"), event.get("id")
        if not isinstance(ident, int):
            return
        if action == "start":
            kind = event.get("type", 0)
            act = _Activity(kind if isinstance(kind, int) else 0, strip_ansi(str(event.get("text") or "")),
                            list(event.get("fields") or []))
            if act.type == ACT_BUILD:
                self._started_builds += 1
            if act.type == ACT_FILE_TRANSFER:
                act.counted = bool(self._live(ACT_SUBSTITUTE) or self._live(ACT_COPY_PATH))
            self._acts[ident] = act
            self._order.append(ident)
            if self._acts[ident].type not in (ACT_UNKNOWN, ACT_QUERY_PATH_INFO, ACT_BUILD_WAITING):
                self._step = None  # real work started: its numbers say more than the last step line
        elif action == "stop":
            act = self._acts.pop(ident, None)
            if act is not None:
                self._order.remove(ident)
                if act.counted:
                    self._finished_done[act.type] = self._finished_done.get(act.type, 0) + act.done
        elif action == "result":
            act = self._acts.get(ident)
            fields = event.get("fields") or []
            kind = event.get("type")
            if act is None:
                return
            if kind == RES_PROGRESS and len(fields) >= 3 and all(isinstance(f, int) for f in fields[:3]):
                act.done, act.expected, act.running = fields[0], fields[1], fields[2]
            elif kind == RES_SET_EXPECTED and len(fields) >= 2 and all(isinstance(f, int) for f in fields[:2]):
                self._expected[(ident, fields[0])] = fields[1]
            elif kind == RES_SET_PHASE and fields:
                act.phase = str(fields[0])

    def _live(self, kind: int) -> list[_Activity]:
        return [self._acts[i] for i in self._order if self._acts[i].type == kind]

    def _total_expected(self, kind: int) -> int:
        return sum(value for (_, k), value in self._expected.items() if k == kind)

    def _total_done(self, kind: int) -> int:
        return self._finished_done.get(kind, 0) + sum(a.done for a in self._live(kind) if a.counted)

    def _json_progress(self) -> Progress | None:
        builds = self._live(ACT_BUILD)
        if builds:
            current = builds[-1]
            name = store_name(str(current.fields[0])) if current.fields else current.text
            phase = f" ({current.phase})" if current.phase else ""
            counts = self._live(ACT_BUILDS)
            if counts and counts[-1].expected:
                total = counts[-1]
                number = min(self._started_builds, total.expected)
                return Progress(f"building {number} of {total.expected}: {name}{phase}",
                                _percent(total.done, total.expected))
            return Progress(f"building {name}{phase}")
        transfers = [a for a in self._live(ACT_FILE_TRANSFER) if a.counted]
        substitutes = self._live(ACT_SUBSTITUTE)
        if transfers or substitutes:
            expected = self._total_expected(ACT_FILE_TRANSFER)
            done = self._total_done(ACT_FILE_TRANSFER)
            if not expected and transfers:
                done, expected = transfers[-1].done, transfers[-1].expected
            sub = substitutes[-1] if substitutes else None
            name = store_name(str(sub.fields[0])) if sub is not None and sub.fields else ""
            if expected:
                what = f": {name}" if name else ""
                return Progress(f"downloading {_mib(done)} of {_mib(expected)} MiB{what}", _percent(done, expected))
            source = str(sub.fields[1]) if sub is not None and len(sub.fields) > 1 else ""
            verb = "copying" if source.startswith("local") else "fetching"
            return Progress(" ".join(part for part in (verb, name, "from" if source else "", source) if part))
        copies = self._live(ACT_COPY_PATHS)
        if copies and copies[-1].expected and (copies[-1].running or copies[-1].done):
            total = copies[-1]
            number = min(total.done + max(total.running, 1), total.expected)
            return Progress(f"copying path {number} of {total.expected}", _percent(total.done, total.expected))
        single = self._live(ACT_COPY_PATH)
        if single:
            return Progress(f"copying {store_name(str(single[-1].fields[0]))}" if single[-1].fields else single[-1].text)
        hooks = self._live(ACT_POST_BUILD_HOOK)
        if hooks:
            return Progress(f"running the post-build hook for {store_name(str(hooks[-1].fields[0]))}"
                            if hooks[-1].fields else "running the post-build hook")
        if self._live(ACT_QUERY_PATH_INFO) or self._live(ACT_FILE_TRANSFER):
            return Progress("asking the binary caches what they have")
        for ident in reversed(self._order):
            act = self._acts[ident]
            if act.type == ACT_UNKNOWN and act.text.startswith("evaluating"):
                return Progress("evaluating the configuration")
        return None

    # ---- plain lines ----

    def _plain(self, text: str) -> None:
        text = text.strip()
        found = _PLAIN_BUILDS.match(text)
        if found:
            self._plain_builds += int(found.group(1) or 1)
            self._step = None
            return
        found = _PLAIN_FETCHES.match(text)
        if found:
            self._plain_fetches += int(found.group(1) or 1)
            self._plain_download_mib += float(found.group(2) or 0)
            self._step = None
            return
        found = _PLAIN_BUILDING.match(text)
        if found:
            self._plain_built += 1
            total = max(self._plain_builds, self._plain_built)
            self._step = Progress(f"building {self._plain_built} of {total}: {store_name(found.group(1))}",
                                  _percent(self._plain_built - 1, total))
            return
        found = _PLAIN_COPYING.match(text)
        if found:
            self._plain_fetched += 1
            total = max(self._plain_fetches, self._plain_fetched)
            remote = found.group(3).startswith(("http://", "https://", "s3://"))
            verb = "downloading" if found.group(2) == "from" and remote else "copying"
            size = f", {self._plain_download_mib:.0f} MiB in all" if verb == "downloading" and self._plain_download_mib else ""
            self._step = Progress(f"{verb} {self._plain_fetched} of {total}{size}: {store_name(found.group(1))}",
                                  _percent(self._plain_fetched - 1, total))
            return
        for pattern, words in _STEPS:
            if pattern.match(text):
                self._step = Progress(words)
                return

    def current(self) -> Progress | None:
        """What is happening now: a step line when it came last, else the live activities."""
        if self._step is not None:
            return self._step
        return self._json_progress()


def _percent(done: int, expected: int) -> int | None:
    if expected <= 0:
        return None
    return max(0, min(100, done * 100 // expected))


def _mib(size: int) -> str:
    value = size / _MIB
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"
