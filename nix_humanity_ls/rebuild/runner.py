"""Runs the one child process a backend asked for, and is the only place that does.

The child starts in a session (and process group) of its own with stdin from /dev/null, so it can never wait
on a terminal and the whole group can be stopped at once: on cancel or timeout it gets SIGTERM, and SIGKILL
1.5 s later if anything is still there. Nix starts each builder in a session of its own, so the processes
found under the child when stopping are signalled too. stdout and stderr are read as they come, by one
thread each; the caller's thread turns the lines into events (`Progress`, `LogLine`, and the `Result` last),
appends the readable text to a log file (an operation's runs share one log, each under its own `$ command`
line), and keeps the plain stderr the explainer reads.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO

from .model import Action, Event, Launch, LogLine, Progress, Result
from .nix_log import read_messages
from .progress import ProgressTracker, plain_text

log = logging.getLogger(__name__)

TERM_GRACE = 1.5  # seconds between SIGTERM and SIGKILL
_DRAIN_AFTER_EXIT = 1.0  # a grandchild that keeps the pipes open after the child exits gets this long
_STORE_PATH = re.compile(r"^/\S+/[0-9a-df-np-sv-z]{32}-[^/\s]+$")  # nix base32 hash, then a name
_QUIET_ACTIONS = (Action.LIST_GENERATIONS, Action.ROLLBACK)


def run(launch: Launch, action: Action, on_event: Callable[[Event], None], cancel: threading.Event,
        timeout: float | None = None, log_path: str | None = None) -> Result:
    """Run `launch` to the end, a cancel or the timeout. Blocks; never raises for the child's failures.
    The log at `log_path` is appended to, never truncated."""
    started = time.monotonic()
    wall_start = time.time()
    logfile = _open_log(log_path, launch)
    try:
        return _Run(launch, action, on_event, cancel, timeout, logfile, started, wall_start).run()
    finally:
        if logfile is not None:
            logfile.close()


def _open_log(log_path: str | None, launch: Launch) -> IO[str] | None:
    if not log_path:
        return None
    try:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        logfile = open(log_path, "a", encoding="utf-8", errors="replace")
    except OSError as err:
        log.warning("cannot write the log %s: %s", log_path, err)
        return None
    logfile.write(("\n" if logfile.tell() else "") + f"$ {' '.join(launch.argv)}\n")
    return logfile


class _Run:
    def __init__(self, launch: Launch, action: Action, on_event: Callable[[Event], None], cancel: threading.Event,
                 timeout: float | None, logfile: IO[str] | None, started: float, wall_start: float) -> None:
        self.launch, self.action, self.on_event, self.cancel = launch, action, on_event, cancel
        self.timeout, self.logfile, self.started, self.wall_start = timeout, logfile, started, wall_start
        self.tracker = ProgressTracker()
        self.stderr_text: list[str] = []
        self.stdout_text: list[str] = []
        self.store_path: str | None = None
        self.data: object = None
        self.bridge_error: dict | None = None
        self.last_progress: Progress | None = None

    def run(self) -> Result:
        if self.action not in _QUIET_ACTIONS:
            self._emit(Progress("evaluating the configuration"))
        env = {**os.environ, **self.launch.env}
        try:
            if self.launch.cwd:
                os.makedirs(self.launch.cwd, exist_ok=True)
            proc = subprocess.Popen(list(self.launch.argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, cwd=self.launch.cwd, start_new_session=True)
        except FileNotFoundError:
            return self._finish(False, None, f"Cannot run {self.launch.argv[0]}: it is not installed or not on PATH.")
        except PermissionError:
            return self._finish(False, None, f"Cannot run {self.launch.argv[0]}: it is not executable.")
        except OSError as err:
            return self._finish(False, None, f"Cannot run {self.launch.argv[0]}: {err.strerror or err}.")
        lines: queue.Queue[tuple[str, bytes | None]] = queue.Queue()
        readers = [threading.Thread(target=_read, args=(name, pipe, lines), daemon=True, name=f"rebuild-{name}")
                   for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr))]
        for reader in readers:
            reader.start()
        stopped = self._pump(proc, lines)
        for reader in readers:
            reader.join(0.2)
        try:
            code: int | None = proc.wait(timeout=TERM_GRACE)
        except subprocess.TimeoutExpired:  # it could not be signalled (another user's process): leave it
            code = None
        while not lines.empty():  # lines that came while we were stopping
            name, raw = lines.get_nowait()
            if raw is not None:
                self._line(name, raw)
        for reader, pipe in zip(readers, (proc.stdout, proc.stderr)):
            if pipe is not None and not reader.is_alive():  # a reader still blocked keeps its pipe
                pipe.close()
        if stopped == "cancelled":
            return self._finish(False, code, f"{self.action.value} was cancelled; everything it started was stopped.",
                                cancelled=True)
        if stopped == "timed-out":
            return self._finish(False, code, f"{self.action.value} took longer than {self.timeout:g} s and was stopped.",
                                timed_out=True)
        ok = code == 0 and self.bridge_error is None
        return self._finish(ok, code, self._summary(ok, code))

    def _pump(self, proc: subprocess.Popen, lines: queue.Queue) -> str | None:
        """Hands lines on until the child has exited and both pipes are closed; stops the group on cancel,
        timeout, or a child that exited while something it left behind holds the pipes. Cancel and timeout
        are checked between lines too, so a flood of output cannot delay them."""
        deadline = None if self.timeout is None else self.started + self.timeout
        open_pipes, exited_at = 2, None
        while open_pipes or proc.poll() is None:
            if open_pipes:
                try:
                    name, raw = lines.get(timeout=0.05)
                except queue.Empty:
                    pass
                else:
                    if raw is None:
                        open_pipes -= 1
                    else:
                        self._line(name, raw)
            else:
                time.sleep(0.05)  # the pipes are closed but the child still runs
            if self.cancel.is_set():
                stop_group(proc)
                return "cancelled"
            if deadline is not None and time.monotonic() > deadline:
                stop_group(proc)
                return "timed-out"
            if open_pipes and proc.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > _DRAIN_AFTER_EXIT:
                    stop_group(proc)
                    return None
        return None

    def _line(self, stream: str, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if stream == "stdout":
            self._stdout_line(line)
            return
        text = plain_text(line)
        progress = self.tracker.feed(line)
        if text is not None:
            self.stderr_text.append(text)
            self._write(text)
            self._emit(LogLine(text))
        if progress is not None:
            self._emit(progress)

    def _stdout_line(self, line: str) -> None:
        if self.launch.bridge and self._bridge_line(line):
            return
        self.stdout_text.append(line)
        self._write(line)
        if _STORE_PATH.match(line.strip()):
            self.store_path = line.strip()
        elif line.startswith("[{"):
            self.store_path = _built_path(line) or self.store_path

    def _bridge_line(self, line: str) -> bool:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            return False
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return False
        kind = event["event"]
        if kind == "progress":
            percentage = event.get("percentage")
            self._emit(Progress(str(event.get("message") or ""), percentage if isinstance(percentage, int) else None))
        elif kind == "log":
            self._text(str(event.get("message") or ""))
        elif kind == "result":
            path = event.get("path")
            self.store_path = path if isinstance(path, str) and path else self.store_path
            self.data = event.get("data")
        elif kind == "error":
            self.bridge_error = event
            message = str(event.get("message") or "")
            if message:
                self._text(message if message.startswith("error:") else f"error: {message}")
        return True

    def _text(self, text: str) -> None:
        """A message from the bridge: it belongs to the stderr the explainer reads, and to the log."""
        for part in text.splitlines() or [""]:
            self.stderr_text.append(part)
            self._write(part)
            self._emit(LogLine(part))

    def _write(self, text: str) -> None:
        if self.logfile is not None:
            self.logfile.write(text + "\n")
            self.logfile.flush()

    def _emit(self, event: Event) -> None:
        if isinstance(event, Progress):
            if event == self.last_progress:
                return
            self.last_progress = event
        try:
            self.on_event(event)
        except Exception:  # a listener's bug must not leave a build running unwatched
            log.exception("rebuild event listener failed")

    def _result_link(self) -> str | None:
        """`nixos-rebuild build` leaves only a `result` link in its working directory."""
        if not self.launch.cwd:
            return None
        link = os.path.join(self.launch.cwd, "result")
        try:
            if os.lstat(link).st_mtime + 1 < self.wall_start:
                return None  # an older run's link
            return os.path.realpath(link)
        except OSError:
            return None

    def _summary(self, ok: bool, code: int | None) -> str:
        who = self.launch.backend
        if ok:
            path = self.store_path or self._result_link()
            tail = f" Result: {path}" if path and self.action not in _QUIET_ACTIONS else ""
            return f"{self.action.value} finished with {who}.{tail}"
        errors = [m for m in read_messages("\n".join(self.stderr_text)) if m.level == "error"]
        last_words = [line.strip() for line in self.stderr_text if line.strip()]
        reason = errors[-1].message.splitlines()[0] if errors else (last_words[-1] if last_words else "")
        if not reason and self.bridge_error is not None:
            reason = f"{self.bridge_error.get('type') or 'error'} (exit code {self.bridge_error.get('returncode')})"
        if code is not None and code < 0:
            reason = reason or f"it was killed by signal {-code}"
        return f"{self.action.value} failed with {who} (exit code {code})" + (f": {reason}" if reason else ".")

    def _finish(self, ok: bool, code: int | None, summary: str, cancelled: bool = False,
                timed_out: bool = False) -> Result:
        if not ok and code is None and not self.stderr_text:
            self.stderr_text.append(f"error: {summary}")
        result = Result(
            action=self.action, backend=self.launch.backend, ok=ok, summary=summary,
            store_path=(self.store_path or self._result_link()) if ok else self.store_path,
            exit_code=code, duration=time.monotonic() - self.started, cancelled=cancelled, timed_out=timed_out,
            stderr="\n".join(self.stderr_text), stdout="\n".join(self.stdout_text), data=self.data,
        )
        self._write(f"# {summary}")
        self._emit(result)
        return result


def _built_path(line: str) -> str | None:
    """The `out` path in `nix build --json`'s answer (Nix 2.8 has no `--print-out-paths`)."""
    try:
        built = json.loads(line)
    except json.JSONDecodeError:
        return None
    if isinstance(built, list) and built and isinstance(built[0], dict):
        out = (built[0].get("outputs") or {}).get("out")
        return out if isinstance(out, str) else None
    return None


def _read(name: str, pipe: IO[bytes], lines: queue.Queue) -> None:
    try:
        for raw in iter(pipe.readline, b""):
            lines.put((name, raw))
    except (OSError, ValueError):
        pass
    finally:
        lines.put((name, None))


# ---- stopping a process group ----------------------------------------------------------------------------------

def stop_group(proc: subprocess.Popen, grace: float = TERM_GRACE) -> None:
    """SIGTERM the child's process group and every process found under it, SIGKILL what is left after
    `grace` seconds. Nix starts builders in sessions of their own, so the group alone would miss them."""
    others = descendants(proc.pid)
    _signal(proc.pid, others, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        proc.poll()
        others |= descendants(proc.pid)
        if proc.returncode is not None and not _group_alive(proc.pid) and not any(map(_alive, others)):
            return
        time.sleep(0.02)
    _signal(proc.pid, others, signal.SIGKILL)


def _signal(group: int, others: set[int], sig: int) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in others:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_alive(pid) for pid in _pids_in_group(group))


def _pids_in_group(group: int) -> list[int]:
    return [pid for pid, (_, pgid, _) in _process_table().items() if pgid == group]


def _alive(pid: int) -> bool:
    """Running and not a zombie (a zombie is gone, it only waits to be reaped)."""
    state = _process_table_entry(pid)
    return state is not None and state[2] != "Z"


def descendants(root: int) -> set[int]:
    """Every process under `root` (by parent pid), from /proc; empty where there is no /proc."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in _process_table().items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _process_table() -> dict[int, tuple[int, int, str]]:
    table: dict[int, tuple[int, int, str]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            entry = _process_table_entry(int(name))
            if entry is not None:
                table[int(name)] = entry
    return table


def _process_table_entry(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, process group, state) from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read().decode("utf-8", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    if len(rest) < 3:
        return None
    return int(rest[1]), int(rest[2]), rest[0]
