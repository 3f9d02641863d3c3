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


def minimal_edits(old: bytes, new: bytes) -> list[TextEdit]:
    """The changed runs between two versions, whole lines where lines changed, so that an editor shows (and
    undoes) exactly what differs and nothing else. Lines equal at both ends are set aside before diffing:
    requests change a few lines of long files."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    head = 0
    limit = min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    old_middle = old_lines[head : len(old_lines) - tail]
    new_middle = new_lines[head : len(new_lines) - tail]
    base = sum(map(len, old_lines[:head]))
    offsets = [base]
    for line in old_middle:
        offsets.append(offsets[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(a=old_middle, b=new_middle, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            text = b"".join(new_middle[j1:j2]).decode("utf-8", "surrogatepass")
            edits.append(TextEdit(offsets[i1], offsets[i2], text))
    return edits
