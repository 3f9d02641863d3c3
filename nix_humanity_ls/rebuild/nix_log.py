"""Reading Nix's output into messages: plain text from Nix 2.8 through current, and `--log-format
internal-json` lines (`@nix {...}`), in the same stream or apart. In internal-json, `msg` events are the
messages, and a builder's output lines (`result` events of type 101) are read like the lines a plain build log
prints before its error.

Nix prints one error as a block: a first line starting `error:` (or `warning:`/`trace:`) and indented
continuation lines holding positions (`at FILE:L:C:`), code frames and, with newer Nix or `--show-trace`,
`… while evaluating …` frames. Newer Nix (2.13+) starts the block with a bare `error:` and puts the real
message last, as an indented `error: …` line after the frames. The explainer wants the real message, its own
position (not the frames'), and everything else kept as the raw text.
"""

from __future__ import annotations

import json
import re

import attrs

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STARTER = re.compile(r"^(error|warning|trace|evaluation warning):")
# `at /etc/nixos/configuration.nix:4:23:`, `at «string»:1:12:`, `at (string):1:1`
_POSITION = re.compile(r"^\s*at («[^»]*»|\([^)]*\)|\S+?):(\d+):(\d+)(?::|\s|$)")
# a Nix that dies on an uncaught exception prints `terminate called …` then `  what():  error: …`
_UNCAUGHT = re.compile(r"^\s*what\(\):\s+(?=(?:error|warning):)")
_INNER_ERROR = re.compile(r"^\s+error: ?(.*)$")
_FRAME = re.compile(r"^\s*(…|\.\.\.) ")
_CODE_LINE = re.compile(r"^\s+(\d+\|| +\|)")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@attrs.frozen
class NixMessage:
    """One error, warning or trace from Nix: `message` is Nix's own wording without frames or code, `raw` the
    whole block as printed; `context` holds the output lines just before it (a build's log tail)."""

    level: str  # error, warning, trace
    message: str
    raw: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    context: tuple[str, ...] = ()


def read_messages(text: str) -> list[NixMessage]:
    """Every error, warning and trace in `text`, in order. `@nix` lines become messages of their own; the
    remaining lines are read as plain output, so a mixed stream (a build log with JSON events) works too."""
    messages: list[NixMessage] = []
    plain: list[str] = []
    for line in text.splitlines():
        if line.startswith("@nix "):
            log_line = _json_log_line(line[5:])
            if log_line is not None:
                plain.append(strip_ansi(log_line))  # a builder's output: the log tail of a failure after it
                continue
            found = _json_message(line[5:])
            if found is not None:
                before, context = _plain_messages(plain)
                messages.extend(before)
                plain = []
                messages.append(attrs.evolve(found, context=context))
            continue
        plain.append(strip_ansi(line.rstrip("\r")))
    messages.extend(_plain_messages(plain)[0])
    return messages


def _json_log_line(payload: str) -> str | None:
    """The text of a `{"action":"result","type":101,"fields":["line"]}` event (resBuildLogLine)."""
    if '"type":101' not in payload.replace(" ", ""):
        return None
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        return None
    fields = event.get("fields") if isinstance(event, dict) and event.get("action") == "result" else None
    return str(fields[0]) if isinstance(fields, list) and fields and event.get("type") == 101 else None


_JSON_LEVELS = {0: "error", 1: "warning", 2: "warning"}  # lvlError, lvlWarn, lvlNotice


def _json_message(payload: str) -> NixMessage | None:
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("action") != "msg":
        return None
    level = event.get("level", 0)
    full = strip_ansi(str(event.get("msg") or ""))
    raw_msg = strip_ansi(str(event.get("raw_msg") or ""))
    if level not in _JSON_LEVELS:
        return None
    if full.startswith("trace:"):
        kind = "trace"
    else:
        kind = _JSON_LEVELS[level]
    parsed = _parse_block(full.splitlines() or [raw_msg]) if full else None
    message = raw_msg or (parsed.message if parsed else "")
    if parsed is not None and not raw_msg:
        message = parsed.message
    line, column = event.get("line"), event.get("column")
    file = event.get("file")
    if (line is None or not file) and parsed is not None:
        file, line, column = parsed.file, parsed.line, parsed.column
    return NixMessage(
        kind, message.strip(), full or raw_msg, file if isinstance(file, str) and file else None,
        line if isinstance(line, int) else None, column if isinstance(column, int) else None,
    )


def _plain_messages(lines: list[str]) -> tuple[list[NixMessage], tuple[str, ...]]:
    """The messages in plain lines, and the lines after the last one (the context of what comes next)."""
    found: list[NixMessage] = []
    context: list[str] = []
    block: list[str] | None = None
    for line in lines:
        line = _UNCAUGHT.sub("", line)
        if _STARTER.match(line):
            if block is not None:
                found.append(_parse_block(block, tuple(context)))
                context = []
            block = [line]
        elif block is not None and (not line.strip() or line[:1].isspace()):
            block.append(line)
        else:
            if block is not None:
                found.append(_parse_block(block, tuple(context)))
                context = []
                block = None
            if line.strip():
                context.append(line)
    if block is not None:
        found.append(_parse_block(block, tuple(context)))
        context = []
    return found, tuple(context)


def _parse_block(block: list[str], context: tuple[str, ...] = ()) -> NixMessage:
    """Split a block into Nix's message and its position. With newer Nix the message is the last indented
    `error:` line (after the `… while …` frames); its position is the first `at` line after it."""
    head = _STARTER.match(block[0])
    level = {"evaluation warning": "warning"}.get(head.group(1), head.group(1)) if head else "error"
    start, first = 0, block[0][head.end():].strip() if head else block[0]
    for index in range(len(block) - 1, 0, -1):
        inner = _INNER_ERROR.match(block[index])
        if inner:
            start, first = index, inner.group(1).strip()
            break
    message_lines = [first]
    file = line = column = None
    in_frame = False
    for text in block[start + 1:]:
        position = _POSITION.match(text)
        if position:
            if file is None and not in_frame:
                file, line, column = position.group(1), int(position.group(2)), int(position.group(3))
            in_frame = False
            continue
        if text.strip().startswith("Did you mean"):
            message_lines.append(text.strip())  # Nix 2.8 prints its suggestion after the code frame
            continue
        if _FRAME.match(text):
            in_frame = True
            continue
        if _CODE_LINE.match(text) or file is not None or in_frame:
            continue
        message_lines.append(text.strip())
    message = re.sub(r"\n\s*\n+", "\n", "\n".join(message_lines)).strip()
    if file is not None and (file.startswith(("«", "("))):
        file = None  # «string», (string), «stdin»: no file the user could open
    return NixMessage(level, message, "\n".join(block).rstrip(), file, line, column, context)
