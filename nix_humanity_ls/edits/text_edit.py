"""Text edits in byte offsets, and how to turn a before/after pair into the smallest set of them."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import attrs


@attrs.frozen
class TextEdit:
    """Replace bytes `start`..`end` of the original source with `text`."""

    start: int
    end: int
    text: str


def apply_edits(source: bytes, edits: Sequence[TextEdit]) -> bytes:
    """Apply non-overlapping edits (any order) to `source`."""
    result = source
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        result = result[: edit.start] + edit.text.encode("utf-8", "surrogatepass") + result[edit.end :]
    return result


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by halving: each comparison runs in C, so long files stay cheap."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def minimal_edits(old: bytes, new: bytes) -> list[TextEdit]:
    """The changed runs between two versions, whole lines where lines changed, so that an editor shows (and
    undoes) exactly what differs and nothing else. Requests change a few lines of long files, so the
    lines equal at both ends are found by byte comparison first and only the middle is diffed."""
    head = _common_prefix(old, new)
    head = max(old.rfind(b"\n", 0, head), old.rfind(b"\r", 0, head)) + 1  # back to a line start
    if head and old[head - 1 : head] == b"\r" and old[head : head + 1] == b"\n":
        head -= 1  # never split a CRLF
        head = max(old.rfind(b"\n", 0, head), old.rfind(b"\r", 0, head)) + 1
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    old_end, new_end = len(old) - tail, len(new) - tail
    # widen the end to a line end in `old` so whole lines are compared
    while old_end < len(old) and old[old_end - 1 : old_end] not in (b"\n", b"\r") and old_end > head:
        old_end += 1
        new_end += 1
    old_lines = old[head:old_end].splitlines(keepends=True)
    new_lines = new[head:new_end].splitlines(keepends=True)
    offsets = [head]
    for line in old_lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            text = b"".join(new_lines[j1:j2]).decode("utf-8", "surrogatepass")
            edits.append(TextEdit(offsets[i1], offsets[i2], text))
    return edits
