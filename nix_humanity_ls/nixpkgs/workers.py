"""Reading a share of a nixpkgs tree in another process: `python -m nix_humanity_ls.nixpkgs.workers ROOT I N`
reads every N-th module file and `pkgs/by-name` shard starting at the I-th and writes the facts, as plain
tuples in `marshal` form, to stdout.

Plain processes started with an argument list, not `multiprocessing`: a spawned multiprocessing pool
re-imports the calling program's main module in every worker, which runs a script's top-level code again
when it lacks an `if __name__ == "__main__":` guard. Here a worker only ever imports this package.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT = 600.0  # seconds for a worker; far beyond what a full nixpkgs takes


class WorkerFailed(Exception):
    """A worker could not be started, failed, timed out or answered something unreadable."""


def worker_environment() -> tuple[dict[str, str], str]:
    """The environment and working folder for `python -m nix_humanity_ls.…` in a child process, so that the
    child imports this very package (`-m` looks in the working folder first: make that this package's home)."""
    package_parent = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    return env, package_parent


def start_workers(root: str, count: int) -> list[subprocess.Popen[bytes]]:
    """Start `count` workers on `root` (an absolute path); each reads its own share."""
    env, cwd = worker_environment()
    started: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(count):
            started.append(subprocess.Popen(
                [sys.executable, "-m", __name__, root, str(index), str(count)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
            ))
    except OSError as error:
        stop_workers(started)
        raise WorkerFailed(f"could not start a worker: {error}") from error
    return started


def collect(workers: list[subprocess.Popen[bytes]], timeout: float = TIMEOUT) -> list[Any]:
    """Each worker's share, in order; `WorkerFailed` (after stopping the others) when one went wrong."""
    shares = []
    try:
        for worker in workers:
            try:
                out, err = worker.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as error:
                raise WorkerFailed(f"a worker took longer than {timeout:g} s") from error
            if worker.returncode != 0:
                last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {worker.returncode}"]
                raise WorkerFailed(f"a worker failed: {last[0]}")
            try:
                shares.append(marshal.loads(out))
            except (EOFError, ValueError, TypeError) as error:
                raise WorkerFailed(f"a worker's answer is unreadable: {error}") from error
    except WorkerFailed:
        stop_workers(workers)
        raise
    return shares


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()


def main(argv: list[str]) -> int:
    from .static_index import read_share

    root, index, count = argv
    marshal.dump(read_share(root, int(index), int(count)), sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
