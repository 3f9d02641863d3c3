"""How a file is laid out, so that new text looks as if the user wrote it: line ending, indentation unit,
the indentation of a given line, and where a new binding goes inside a set."""

from __future__ import annotations

from collections import Counter

import attrs
from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import direct_bindings
from .text_edit import TextEdit


@attrs.frozen
class Layout:
    newline: str
    indent_unit: str


def layout_of(doc: Document) -> Layout:
    """CRLF when the file uses it; the indentation step most lines use (tabs when lines start with tabs)."""
    source = doc.source
    newline = "\r\n" if b"\r\n" in source else "\n"
    widths: Counter[int] = Counter()
    tabs = spaces = 0
    previous = 0
    for line in source.splitlines():
        if not line.strip():
            continue
        stripped = line.lstrip(b" \t")
        indent = line[: len(line) - len(stripped)]
        if indent.startswith(b"\t"):
            tabs += 1
        elif indent:
            spaces += 1
        width = len(indent)
        if width > previous and not indent.startswith(b"\t"):
            widths[width - previous] += 1
        previous = width
    if tabs > spaces:
        return Layout(newline, "\t")
    step = next((w for w, _ in widths.most_common() if 1 < w <= 8), 2)
    return Layout(newline, " " * step)


def line_indent(doc: Document, offset: int) -> str:
    """The white space that starts the line holding `offset`."""
    start = doc.line_starts[doc.line_of(offset)]
    line = doc.source[start : doc.line_span(doc.line_of(offset))[1]]
    return line[: len(line) - len(line.lstrip(b" \t"))].decode()


def starts_line(doc: Document, offset: int) -> bool:
    start = doc.line_starts[doc.line_of(offset)]
    return not doc.source[start:offset].strip(b" \t")


def line_end(doc: Document, offset: int) -> int:
    """Offset of the end of the line holding `offset`, before its line break."""
    return doc.line_span(doc.line_of(offset))[1]


def closing_brace(attrset: Node) -> Node | None:
    last = attrset.children[-1] if attrset.children else None
    return last if last is not None and last.type == "}" and not last.is_missing else None


def insert_binding(doc: Document, attrset: Node, text: str, after: Node | None = None) -> TextEdit:
    """A TextEdit that adds the binding `text` (e.g. `services.openssh.enable = true;`) to `attrset`, after
    the binding `after` (default: the last one), on its own line when the set spans lines, inline otherwise."""
    layout = layout_of(doc)
    brace = closing_brace(attrset)
    if brace is None:
        raise ValueError("the attribute set has no closing `}`")
    existing = list(direct_bindings(attrset)) + [
        c for b in attrset.named_children if b.type == "binding_set" for c in b.named_children if c.type != "binding"
    ]
    anchor = after if after is not None else max(existing, key=lambda n: n.end_byte, default=None)
    multiline = doc.line_of(attrset.start_byte) != doc.line_of(brace.start_byte)
    if anchor is None:
        if multiline:
            indent = line_indent(doc, brace.start_byte) + layout.indent_unit
            position = doc.line_starts[doc.line_of(brace.start_byte)] if starts_line(doc, brace.start_byte) else brace.start_byte
            prefix = "" if starts_line(doc, brace.start_byte) else layout.newline
            return TextEdit(position, position, f"{prefix}{indent}{text}{layout.newline}")
        if attrset.parent is not None and attrset.parent.type in ("source_code", "function_expression", "let_expression"):
            # an empty module `{ }`: open it up the way configuration.nix files are written
            indent = line_indent(doc, attrset.start_byte)
            opener_end = attrset.children[0].end_byte
            return TextEdit(opener_end, brace.start_byte, f"{layout.newline}{indent}{layout.indent_unit}{text}{layout.newline}{indent}")
        return TextEdit(attrset.children[0].end_byte, brace.start_byte, f" {text} ")
    if multiline and starts_line(doc, anchor.start_byte) and doc.line_of(anchor.end_byte) != doc.line_of(brace.start_byte):
        end = line_end(doc, anchor.end_byte)
        return TextEdit(end, end, f"{layout.newline}{line_indent(doc, anchor.start_byte)}{text}")
    return TextEdit(anchor.end_byte, anchor.end_byte, f" {text}")
