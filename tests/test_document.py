"""The document model against a plain-string reference: incremental edits, the LSP line table, the incremental
tree, and position conversion in UTF-8, UTF-16 and UTF-32.

The reference here is written independently of `syntax/document.py`: it works on Python `str` indices and
finds line breaks with a regular expression, so a shared mistake cannot hide.
"""

from __future__ import annotations

import re

import pytest
import tree_sitter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nix_humanity_ls.syntax import parser
from nix_humanity_ls.syntax.document import Change, Document, Position, PositionEncoding, encode

ENCODINGS = list(PositionEncoding)
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Pieces documents are built from: ASCII, a 2-byte character, an astral one (2 UTF-16 units, 4 UTF-8 bytes),
# every LSP line break, and Nix tokens that open and close constructs (so edits change the tree's shape).
PIECES = [
    "a", "x", "Z", "1", " ", "\t", "é", "😀", "ß", "\r\n", "\r", "\n",
    "{", "}", "[", "]", "(", ")", "=", ";", ".", ":", ",", '"', "''", "${", "#", "/*", "*/",
    "let ", " in ", "rec ", "with ", "pkgs", "enable = true;", "# Grüße 😀\n", "...",
]

fragments = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
documents = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


# -- the reference -----------------------------------------------------------------------------------------


def ref_line_starts(text: str) -> list[int]:
    """Code-point indices at which LSP lines start."""
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


def units(text: str, encoding: PositionEncoding) -> int:
    if encoding is PositionEncoding.UTF8:
        return len(text.encode("utf-8"))
    if encoding is PositionEncoding.UTF16:
        return sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return len(text)


def ref_position(text: str, index: int, encoding: PositionEncoding) -> Position:
    starts = ref_line_starts(text)
    line = max(i for i, start in enumerate(starts) if start <= index)
    return Position(line, units(text[starts[line] : index], encoding))


def valid_indices(text: str) -> list[int]:
    """Code-point indices an LSP client can name: every one except between the `\\r` and `\\n` of a pair."""
    return [i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n")]


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def assert_matches(doc: Document, text: str) -> None:
    """The document holds `text`, its line table is right, and its incremental tree equals a fresh parse."""
    assert doc.text == text
    assert doc.source == text.encode("utf-8")
    assert doc.line_starts == [byte_offset(text, i) for i in ref_line_starts(text)]
    fresh = parser.parse(doc.source)
    assert str(doc.tree.root_node) == str(fresh.root_node)
    assert node_spans(doc.tree) == node_spans(fresh)  # the S-expression has no positions; compare them too


def node_spans(tree: tree_sitter.Tree) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node's type, byte range and (row, column) points, in document order."""
    spans = []
    cursor = tree.walk()
    while True:
        node = cursor.node
        spans.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point)))
        if cursor.goto_first_child() or cursor.goto_next_sibling():
            continue
        while cursor.goto_parent():
            if cursor.goto_next_sibling():
                break
        else:
            return spans


@st.composite
def change_on(draw: st.DrawFn, text: str, encoding: PositionEncoding) -> tuple[Change, str]:
    """A random change to `text` as a client would send it, and the text after it."""
    indices = valid_indices(text)
    a = draw(st.sampled_from(indices))
    b = draw(st.sampled_from([i for i in indices if i >= a]))
    new = draw(fragments)
    return Change(new, ref_position(text, a, encoding), ref_position(text, b, encoding)), text[:a] + new + text[b:]


# -- properties --------------------------------------------------------------------------------------------


PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.value)
@PROPERTY_SETTINGS
@given(initial=documents, data=st.data())
def test_incremental_edits_match_reference(encoding: PositionEncoding, initial: str, data: st.DataObject):
    doc = Document("file:///t.nix", initial, 1)
    assert_matches(doc, initial)
    text = initial
    for version in range(2, 2 + data.draw(st.integers(1, 8), label="edits")):
        change, text = data.draw(change_on(text, encoding))
        doc.apply([change], version, encoding)
        assert doc.version == version
        assert_matches(doc, text)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.value)
@PROPERTY_SETTINGS
@given(initial=documents, data=st.data())
def test_several_changes_in_one_apply(encoding: PositionEncoding, initial: str, data: st.DataObject):
    """Each change in a batch is relative to the text the previous one left; the tree is reparsed once."""
    doc = Document("file:///t.nix", initial, 1)
    text = initial
    changes = []
    for _ in range(data.draw(st.integers(2, 5), label="batch")):
        if data.draw(st.integers(0, 9), label="replace?") == 0:
            text = data.draw(documents)
            changes.append(Change(text))
        else:
            change, text = data.draw(change_on(text, encoding))
            changes.append(change)
    edits = doc.apply(changes, 7, encoding)
    assert_matches(doc, text)
    for edit in edits:  # every reported range lies in the final text
        assert 0 <= edit.start <= edit.new_end <= len(doc.source)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.value)
@PROPERTY_SETTINGS
@given(text=documents)
def test_positions_round_trip(encoding: PositionEncoding, text: str):
    doc = Document("file:///t.nix", text)
    for index in valid_indices(text):
        offset = byte_offset(text, index)
        position = doc.position_at(offset, encoding)
        assert position == ref_position(text, index, encoding)
        assert doc.offset_at(position, encoding) == offset


# -- examples ----------------------------------------------------------------------------------------------


def test_emoji_columns_per_encoding():
    doc = Document("file:///t.nix", '{ a = "😀é"; }')
    after = doc.source.index(b'";')  # just after `é`
    assert doc.position_at(after, PositionEncoding.UTF8) == Position(0, 13)
    assert doc.position_at(after, PositionEncoding.UTF16) == Position(0, 10)
    assert doc.position_at(after, PositionEncoding.UTF32) == Position(0, 9)
    for encoding, column in ((PositionEncoding.UTF8, 13), (PositionEncoding.UTF16, 10), (PositionEncoding.UTF32, 9)):
        assert doc.offset_at(Position(0, column), encoding) == after


def test_utf16_position_inside_a_surrogate_pair_does_not_split_the_character():
    doc = Document("file:///t.nix", "😀x")
    offset = doc.offset_at(Position(0, 1), PositionEncoding.UTF16)
    assert offset in (0, 4)  # before or after the emoji, never inside its four bytes
    doc.apply([Change("y", Position(0, 1), Position(0, 1))], 2, PositionEncoding.UTF16)
    assert doc.text in ("y😀x", "😀yx")


def test_utf8_position_inside_a_character_moves_to_its_start():
    doc = Document("file:///t.nix", "é😀")
    assert doc.offset_at(Position(0, 1), PositionEncoding.UTF8) == 0
    assert doc.offset_at(Position(0, 4), PositionEncoding.UTF8) == 2


def test_crlf_and_lone_cr_line_ends():
    doc = Document("file:///t.nix", "a\r\nb\rc\nd")
    assert doc.line_starts == [0, 3, 5, 7]
    assert doc.line_count == 4
    assert doc.line_span(0) == (0, 1)  # without its `\r\n`
    assert doc.position_at(1) == Position(0, 1)
    assert doc.position_at(3) == Position(1, 0)
    assert doc.offset_at(Position(2, 0)) == 5
    # joining `\r` + `\n` across an edit turns two lines into one break
    doc.apply([Change("", Position(1, 0), Position(2, 0))], 2)  # delete "b\r"
    assert doc.text == "a\r\nc\nd"
    assert doc.line_starts == [0, 3, 5]
    doc.apply([Change("\r", Position(0, 1), Position(0, 1))], 3)  # "a\r\r\n…": a lone CR, then CRLF
    assert doc.line_starts == [0, 2, 4, 6]


def test_inserting_lf_after_cr_merges_the_breaks():
    doc = Document("file:///t.nix", "a\rb")
    assert doc.line_starts == [0, 2]
    doc.apply([Change("\n", Position(1, 0), Position(1, 0))], 2)
    assert doc.text == "a\r\nb"
    assert doc.line_starts == [0, 3]


def test_positions_past_the_end_clamp():
    doc = Document("file:///t.nix", "ab\r\ncd")
    for encoding in ENCODINGS:
        assert doc.offset_at(Position(0, 99), encoding) == 2  # end of line 0, before `\r\n`
        assert doc.offset_at(Position(1, 99), encoding) == 6
        assert doc.offset_at(Position(7, 0), encoding) == 6
        assert doc.offset_at(Position(-1, 3), encoding) == 0
    assert doc.position_at(99) == Position(1, 2)
    assert doc.position_at(-5) == Position(0, 0)
    doc.apply([Change("!", Position(0, 50), Position(0, 60))], 2)
    assert doc.text == "ab!\r\ncd"


def test_reversed_range_inserts_at_its_start():
    doc = Document("file:///t.nix", "abcdef")
    doc.apply([Change("X", Position(0, 4), Position(0, 2))], 2)
    assert doc.text == "abcdXef"


def test_full_replace_then_partial_in_one_batch():
    doc = Document("file:///t.nix", "{ a = 1; }")
    edits = doc.apply([Change("{ b = 2; }\n"), Change("c", Position(0, 2), Position(0, 3))], 2)
    assert doc.text == "{ c = 2; }\n"
    assert_matches(doc, "{ c = 2; }\n")
    assert edits[-1].start == 2 and edits[-1].new_end == 3


def test_lone_surrogate_from_json_survives():
    doc = Document("file:///t.nix", '"\ud800"')
    assert doc.source == encode('"\ud800"')
    assert doc.position_at(len(doc.source), PositionEncoding.UTF16) == Position(0, 3)
    doc.apply([Change("x", Position(0, 2), Position(0, 2))], 2)
    assert doc.text == '"\ud800x"'
