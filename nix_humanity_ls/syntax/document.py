"""A Nix document: its UTF-8 bytes, its line table and its tree-sitter tree, edited incrementally.

Three coordinate systems meet here and nowhere else:
- LSP positions: (line, character) where lines end at `\\n`, `\\r\\n` or `\\r` and characters count in the
  negotiated encoding (UTF-16 code units by default, or UTF-8 bytes, or UTF-32 code points);
- byte offsets into the UTF-8 source, which is what tree-sitter and every feature in this package use;
- tree-sitter points (row, byte column), whose rows end at `\\n` only.
Everything outside this module speaks byte offsets; conversion happens at the edges.
"""

from __future__ import annotations

import enum
import itertools
from bisect import bisect_right
from collections.abc import Iterable

import attrs
import tree_sitter

from . import parser


class PositionEncoding(enum.Enum):
    """How the `character` of a position counts: the three encodings LSP 3.17 defines."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@attrs.frozen
class Position:
    """A zero-based (line, character) position, `character` counted in some `PositionEncoding`."""

    line: int
    character: int


@attrs.frozen
class Change:
    """One content change: replace `start`..`end` with `text`; `start is None` replaces the whole text."""

    text: str
    start: Position | None = None
    end: Position | None = None


@attrs.frozen
class Edit:
    """The byte range one change touched: `start`..`old_end` in the old bytes became `start`..`new_end`."""

    start: int
    old_end: int
    new_end: int


def encode(text: str) -> bytes:
    """UTF-8 bytes of `text`; lone surrogates (legal in JSON strings) survive instead of raising."""
    return text.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    """Inverse of `encode`; bytes that are not UTF-8 at all become U+FFFD rather than an exception."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def _line_starts(data: bytes, base: int = 0) -> list[int]:
    """Byte offsets at which lines start, LSP style (`bytes.splitlines` splits on exactly \\n, \\r\\n, \\r)."""
    lines = data.splitlines(keepends=True)
    starts = list(itertools.accumulate(map(len, lines), initial=base))
    if lines and not data.endswith((b"\n", b"\r")):
        starts.pop()  # the last line has no break, so nothing starts after it
    return starts


def _units(text: str, encoding: PositionEncoding) -> int:
    """Length of `text` in the units of `encoding`."""
    if encoding is PositionEncoding.UTF32:
        return len(text)
    if encoding is PositionEncoding.UTF16:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(encode(text))


class Document:
    """Text + tree of one open file. Not thread-safe: one owner applies changes and reads."""

    def __init__(self, uri: str, text: str | bytes, version: int | None = None) -> None:
        self.uri = uri
        self.version = version
        self.source = text if isinstance(text, bytes) else encode(text)
        self._text: str | None = text if isinstance(text, str) else None
        self.line_starts = _line_starts(self.source)
        self.tree: tree_sitter.Tree = parser.parse(self.source)

    # -- reading -----------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = decode(self.source)
        return self._text

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_span(self, line: int) -> tuple[int, int]:
        """Byte range of `line` without its line break."""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.source)
        while end > start and self.source[end - 1] in b"\r\n":
            end -= 1
        return start, end

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset) - 1

    def offset_at(self, position: Position, encoding: PositionEncoding = PositionEncoding.UTF16) -> int:
        """Byte offset of an LSP position; positions past a line's end clamp to it, past the end to the end."""
        if position.line < 0:
            return 0
        if position.line >= len(self.line_starts):
            return len(self.source)
        start, end = self.line_span(position.line)
        raw = self.source[start:end]
        want = max(position.character, 0)
        if raw.isascii():
            return start + min(want, len(raw))
        if encoding is PositionEncoding.UTF8:
            col = min(want, len(raw))
            while 0 < col < len(raw) and (raw[col] & 0xC0) == 0x80:  # never stop inside a character
                col -= 1
            return start + col
        count = 0
        col = 0
        for char in decode(raw):
            if count >= want:
                break
            count += 2 if encoding is PositionEncoding.UTF16 and ord(char) > 0xFFFF else 1
            col += len(encode(char))
        return start + col

    def position_at(self, offset: int, encoding: PositionEncoding = PositionEncoding.UTF16) -> Position:
        """LSP position of a byte offset (clamped to the document)."""
        offset = min(max(offset, 0), len(self.source))
        line = self.line_of(offset)
        prefix = self.source[self.line_starts[line] : offset]
        if prefix.isascii() or encoding is PositionEncoding.UTF8:
            return Position(line, len(prefix))
        return Position(line, _units(decode(prefix), encoding))

    def point_at(self, offset: int, data: bytes | None = None) -> tuple[int, int]:
        """tree-sitter point (row counted by `\\n` only, byte column) of `offset` in `data` (default: source)."""
        data = self.source if data is None else data
        row = data.count(b"\n", 0, offset)
        return row, offset - (data.rfind(b"\n", 0, offset) + 1)

    def slice(self, start: int, end: int) -> str:
        return decode(self.source[start:end])

    # -- editing -----------------------------------------------------------------------------------

    def apply(
        self, changes: Iterable[Change], version: int | None = None, encoding: PositionEncoding = PositionEncoding.UTF16
    ) -> list[Edit]:
        """Apply LSP content changes in order, editing the tree and reparsing once at the end.

        Returns the byte ranges touched, in the coordinates of the text after all changes.
        """
        edits: list[Edit] = []
        for change in changes:
            if change.start is None or change.end is None:
                edits = [self._replace(0, len(self.source), encode(change.text))]
            else:
                start = self.offset_at(change.start, encoding)
                end = max(start, self.offset_at(change.end, encoding))
                edit = self._replace(start, end, encode(change.text))
                edits = [_shift(e, edit) for e in edits] + [edit]
        self.tree = parser.parse(self.source, self.tree)
        if version is not None:
            self.version = version
        return edits

    def edited(self, replacements: Iterable[tuple[int, int, str]]) -> Document:
        """A new document with byte ranges replaced (non-overlapping, in original offsets), parsed
        incrementally from a copy of this tree; this document is left as it is."""
        result = Document.__new__(Document)
        result.uri, result.version = self.uri, None
        result.source, result._text, result.line_starts = self.source, None, list(self.line_starts)
        result.tree = self.tree.copy()
        for start, end, text in sorted(replacements, key=lambda r: (r[0], r[1]), reverse=True):
            result._replace(start, end, encode(text))
        result.tree = parser.parse(result.source, result.tree)
        return result

    def _replace(self, start: int, end: int, new: bytes) -> Edit:
        old = self.source
        data = old[:start] + new + old[end:]
        edit = Edit(start, end, start + len(new))
        self.tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=edit.new_end,
            start_point=self.point_at(start, old),
            old_end_point=self.point_at(end, old),
            new_end_point=self.point_at(edit.new_end, data),
        )
        self._update_line_starts(start, end, data)
        self.source = data
        self._text = None
        return edit

    def _update_line_starts(self, start: int, end: int, data: bytes) -> None:
        """Recompute line starts only around the edit: from the line before it to one full line after it.

        The extra line on each side covers a `\\r` and a `\\n` meeting (or parting) at the edit's borders.
        """
        starts = self.line_starts
        delta = len(data) - len(self.source)
        first = max(bisect_right(starts, start) - 2, 0)
        last = bisect_right(starts, end) + 1  # index of the line start that follows one untouched line
        region_start = starts[first]
        if last < len(starts):
            region_end = starts[last] + delta
            tail = [s + delta for s in starts[last:]]
        else:
            region_end = len(data)
            tail = []
        middle = _line_starts(data[region_start:region_end], region_start)
        if tail and middle and middle[-1] == tail[0]:
            middle.pop()
        self.line_starts = starts[:first] + middle + tail


def _shift(edit: Edit, later: Edit) -> Edit:
    """Map an earlier edit's range through a later edit so all ranges refer to the final text."""
    delta = later.new_end - later.old_end

    def move(offset: int) -> int:
        if offset <= later.start:
            return offset
        if offset >= later.old_end:
            return offset + delta
        return later.new_end

    return Edit(move(edit.start), move(edit.old_end), move(edit.new_end))
