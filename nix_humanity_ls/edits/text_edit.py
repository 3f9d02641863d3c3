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
    undoes) exactly what differs and nothing else."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    offsets = [0]
    for line in old_lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            text = b"".join(new_lines[j1:j2]).decode("utf-8", "surrogatepass")
            edits.append(TextEdit(offsets[i1], offsets[i2], text))
    return edits
