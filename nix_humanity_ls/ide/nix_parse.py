"""A second opinion on syntax from the real Nix parser: `nix-instantiate --parse`, run on stdin.

tree-sitter's grammar accepts a few things Nix rejects (a duplicated attribute, a path with a trailing slash,
an integer too large), so on save the document is also handed to Nix. Nix stops at its first error and
answers with a JSON `msg` event (1-based line, 1-based *byte* column). The call has a timeout, and a missing
or broken `nix-instantiate` is reported as `NixUnavailable`, never as a problem in the user's file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import attrs

from ..rebuild.nix_log import strip_ansi
from .problem import Problem

_PLAIN_POSITION = re.compile(r"at (?:«[^»]*»|\(string\)|[^\s:]+):(\d+):(\d+)")
_QUOTED = re.compile(r"'([^']+)'")
_DEFINED_AT = re.compile(r" at (?:«[^»]*»|\(string\)|\S+?):(\d+):(\d+)")
_SYNTAX_ONLY = b"with {}; "


class NixUnavailable(Exception):
    """`nix-instantiate` is missing, timed out, or answered in a way we cannot read."""


def nix_parse_problem(
    source: bytes, executable: str = "nix-instantiate", timeout: float = 10.0, cwd: str | None = None
) -> Problem | None:
    """Nix's own verdict on `source`: None when it parses, else the first problem Nix reports."""
    path = shutil.which(executable)
    if path is None:
        raise NixUnavailable(f"`{executable}` was not found on PATH")
    try:
        result = subprocess.run(
            [path, "--log-format", "internal-json", "--parse", "-"],
            input=source,
            capture_output=True,
            timeout=timeout,
            cwd=cwd if cwd and os.path.isdir(cwd) else None,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise NixUnavailable(f"`nix-instantiate --parse` took longer than {timeout:g} s") from error
    except OSError as error:
        raise NixUnavailable(f"could not run `{executable}`: {error}") from error
    if result.returncode == 0:
        return None
    return _problem_from_output(source, result.stderr.decode("utf-8", "replace"))


def nix_syntax_problem(
    source: bytes, executable: str = "nix-instantiate", timeout: float = 10.0, cwd: str | None = None
) -> Problem | None:
    """Nix's verdict on `source` as syntax alone: like `nix_parse_problem`, but blind to undefined variables,
    which `--parse` also rejects. The text is handed to Nix as `with {}; <source>`, the prefix on the source's
    first line: inside a `with` Nix leaves unknown names to run time, and the `with` body is any expression,
    so every other objection stays (an empty or comment-only file is still rejected). No line is added, so
    Nix's line numbers are the source's; the problem's offsets are moved back by the prefix."""
    problem = nix_parse_problem(_SYNTAX_ONLY + source, executable, timeout, cwd)
    if problem is None:
        return None
    shift = len(_SYNTAX_ONLY)
    return attrs.evolve(problem, start=max(problem.start - shift, 0), end=max(problem.end - shift, 0))


def _problem_from_output(source: bytes, stderr: str) -> Problem:
    line = column = None
    message = None
    for raw in stderr.splitlines():
        if raw.startswith("@nix "):
            try:
                event = json.loads(raw[5:])
            except json.JSONDecodeError:
                continue
            if event.get("action") == "msg" and event.get("level", 0) == 0:
                message = strip_ansi(str(event.get("raw_msg") or event.get("msg") or ""))
                line, column = event.get("line"), event.get("column")
                break
    if message is None:  # an older or newer Nix that ignored --log-format: read the plain text
        plain = strip_ansi(stderr)
        message = next((m for m in plain.splitlines() if m.startswith("error:")), plain.strip() or "error")
        message = message.removeprefix("error:").strip()
        found = _PLAIN_POSITION.search(plain)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
    offset = _offset(source, line, column)
    return Problem(offset, _end(source, offset, message), _plain(message), code=_code(message), source="nix-instantiate")


def _end(source: bytes, offset: int, message: str) -> int:
    """End of the problem's range: the whole name when Nix's message quotes the one found at `offset`
    (`undefined variable 'pkgs'`, `attribute 'a' already defined`), else one byte."""
    quoted = _QUOTED.search(message)
    if quoted is not None:
        name = quoted.group(1).encode("utf-8")
        if name and source.startswith(name, offset):
            return offset + len(name)
    return min(offset + 1, len(source))


def _offset(source: bytes, line: object, column: object) -> int:
    """Byte offset of Nix's 1-based line and 1-based byte column; the start of the file if unknown.

    Nix's lexer ends a line at `\\n`, `\\r\\n` or a lone `\\r`, exactly what `bytes.splitlines` splits on."""
    if not isinstance(line, int) or not isinstance(column, int) or line < 1:
        return 0
    start = 0
    lines = source.splitlines(keepends=True)
    for text in lines[: line - 1]:
        start += len(text)
    if line > len(lines):
        return len(source)
    content = lines[line - 1].rstrip(b"\r\n")
    return start + min(max(column - 1, 0), len(content))


def _code(message: str) -> str:
    if message.startswith("undefined variable"):
        return "undefined-variable"
    return "syntax-error"


def _plain(message: str) -> str:
    """Nix's wording with Nix's quoting turned into code marks, and source positions into line numbers."""
    message = _DEFINED_AT.sub(lambda m: f" on line {m.group(1)}", message)
    message = re.sub(r"'([^']*)'", r"`\1`", message)
    message = message.replace("syntax error, unexpected", "syntax error: unexpected")
    message = message.replace(", expecting", ", expected")
    return message
