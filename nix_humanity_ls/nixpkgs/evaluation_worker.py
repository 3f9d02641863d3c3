"""The process that evaluates the options of the user's system:
`python -m nix_humanity_ls.nixpkgs.evaluation_worker JOB`, where JOB is a JSON object with the Nix command
(an argument list), the memory cap in bytes and the nixpkgs root.

Why a process of its own, between the server and Nix:
- the memory cap (`RLIMIT_AS`) is set here, first thing, and Nix inherits it; the server's own limits stay as
  they are, and no `preexec_fn` runs in the server, whose threads make that unsafe;
- the server starts this process in a new session, so at its timeout it stops this process and Nix together
  by killing the process group; if the server itself goes away, this process notices and stops Nix;
- Nix answers with tens of megabytes of JSON for a full NixOS; it is read here, and only compact rows go back
  to the server, in `marshal` form.

Only the standard library is imported, so the cap is not spent on the package.

The answer on stdout: `("options", host, rows)` where each row is
`(path, type, default, example, description, declaring files, internal, read_only)`, declaring files relative
to the nixpkgs root when inside it; or `("failed", reason, text)` with reason `memory` (Nix or this process ran
out of the memory it may use), `nix` (Nix reported an error; `text` is its output) or `answer` (Nix's output
was not what the expression gives).
"""

from __future__ import annotations

import json
import marshal
import os
import resource
import subprocess
import sys
from typing import Any

POLL = 0.5  # seconds between checks that the server is still there
_OUT_OF_MEMORY = ("out of memory", "Out of Memory", "std::bad_alloc", "Cannot allocate memory")


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    limit = int(job["memory"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        answer = evaluate(job["command"], job["root"])
    except MemoryError:
        answer = ("failed", "memory", "")
    marshal.dump(answer, sys.stdout.buffer)
    return 0


def evaluate(command: list[str], root: str) -> tuple:
    parent = os.getppid()
    try:
        nix = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as error:
        return ("failed", "nix", f"error: cannot run {command[0]}: {error.strerror or error}")
    while True:
        try:
            out, err = nix.communicate(timeout=POLL)
            break
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:  # the server is gone: nobody waits for the answer
                nix.kill()
                nix.communicate()
                sys.exit(1)
    errors = err.decode("utf-8", "replace")
    if nix.returncode != 0:
        return ("failed", "memory" if any(s in errors for s in _OUT_OF_MEMORY) else "nix", errors)
    try:
        answer = json.loads(out)
    except ValueError as error:
        return ("failed", "answer", f"{error}: {out[:200].decode('utf-8', 'replace')}")
    del out
    host = None
    if isinstance(answer, dict):  # a flake: the configuration chosen, and its options
        host, answer = answer.get("host"), answer.get("options")
    if not isinstance(answer, list):
        return ("failed", "answer", f"expected a list of options, got {type(answer).__name__}")
    prefix = root.rstrip("/") + "/"
    rows = [row for row in (_row(entry, prefix) for entry in answer) if row is not None]
    return ("options", host if isinstance(host, str) else None, rows)


def _row(entry: Any, prefix: str) -> tuple | None:
    """One entry of the expression's list as a row; None when it names no option."""
    if not isinstance(entry, dict):
        return None
    loc = entry.get("loc")
    if not (isinstance(loc, list) and loc and all(isinstance(s, str) for s in loc)):
        return None
    files = tuple(
        d[len(prefix):] if d.startswith(prefix) else d
        for d in entry.get("declarations") or () if isinstance(d, str)
    )
    return (
        tuple(loc),
        _text(entry.get("type")) or "",
        _text(entry.get("default")),
        _text(entry.get("example")),
        _text(entry.get("description")) or "",
        files,
        entry.get("internal") is True or entry.get("visible") is False,
        entry.get("readOnly") is True,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
