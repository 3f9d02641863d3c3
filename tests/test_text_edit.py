"""Edits as the edit engine produces them: minimal line edits between two texts, and documents derived by
incremental parsing that equal a fresh parse."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nix_humanity_ls.ide.ask import nix_rejection
from nix_humanity_ls.edits.text_edit import TextEdit, apply_edits, minimal_edits
from nix_humanity_ls.syntax import parser
from nix_humanity_ls.syntax.document import Document, _line_starts

LINES = st.sampled_from(
    ["{\n", "}\n", "  a = 1;\r\n", "  b = [ x ];\n", "# é 😀\n", "\n", "\r", "  c = \"s\";", "  d = {\n", "  };\n"]
)
TEXTS = st.lists(LINES, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS)
def test_minimal_edits_rebuild_the_new_text_from_whole_lines(old: str, new: str):
    old_bytes, new_bytes = old.encode(), new.encode()
    edits = minimal_edits(old_bytes, new_bytes)
    assert apply_edits(old_bytes, edits) == new_bytes
    for edit in edits:
        assert edit.start == 0 or old_bytes[edit.start - 1 : edit.start] in (b"\n", b"\r")
    if old == new:
        assert edits == []


def test_minimal_edits_touch_only_the_changed_line():
    old = b"".join(b"line %d\n" % i for i in range(2000))
    new = old.replace(b"line 1000\n", b"line 1000\nadded\n")
    (edit,) = minimal_edits(old, new)
    assert (edit.start, edit.end, edit.text) == (old.index(b"line 1001\n"), old.index(b"line 1001\n"), "added\n")


REPLACEMENTS = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 6), st.sampled_from(["", "x", " = 1;", "\n", "é", "{ }", "\r\n"])),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(TEXTS, REPLACEMENTS)
def test_edited_document_equals_a_fresh_parse(text: str, raw: list[tuple[int, int, str]]):
    doc = Document("u", text)

    def offset(index: int) -> int:  # replacements are chosen in characters, applied in bytes
        return len(text[: min(index, len(text))].encode())

    edits: list[TextEdit] = []
    for start, length, new in sorted(raw):
        if not edits or offset(start) >= edits[-1].end:  # keep them apart
            edits.append(TextEdit(offset(start), offset(start + length), new))
    result = doc.edited((e.start, e.end, e.text) for e in edits)
    expected = apply_edits(doc.source, edits)
    assert result.source == expected
    assert result.line_starts == _line_starts(expected)
    assert str(result.tree.root_node) == str(parser.parse(expected).root_node)
    assert doc.source == text.encode()  # the original is left alone


needs_nix = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not installed")


@needs_nix
def test_nix_rejection_names_only_new_objections():
    good = b"{ a = 1; }"
    duplicate = b"{ a = 1; a = 2; }"
    assert nix_rejection(good, b"{ a = 1; b = 2; }") is None
    assert nix_rejection(good, duplicate) == "attribute `a` already defined on line 1"
    assert nix_rejection(duplicate, duplicate + b" ") is None  # the file had that problem before the change
    assert nix_rejection(good, duplicate, nix_instantiate="/nonexistent/nix-instantiate") is None
