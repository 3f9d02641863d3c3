"""Folding ranges: multi-line sets, lists, `let` blocks, formals, `''` strings and comment blocks."""

from __future__ import annotations

import attrs
from tree_sitter import Node, QueryCursor

from ..syntax.document import Document
from ..syntax.parser import load_query

_FOLDS = load_query("folds")
MAX_RANGES = 5000
# Tree depth below which no fold starts. Without a cap, tree-sitter's query cursor is quadratic in nesting depth
# (a 60,000-level `{a={a=…` took 48 s); with it the query skips deep subtrees. 1,000 tree levels are about
# 300 levels of Nix nesting, far past anything a person folds.
MAX_DEPTH = 1000


@attrs.frozen
class Fold:
    start_line: int
    end_line: int
    is_comment: bool = False


def folding_ranges(doc: Document) -> list[Fold]:
    cursor = QueryCursor(_FOLDS)
    cursor.set_max_start_depth(MAX_DEPTH)
    nodes = cursor.captures(doc.tree.root_node).get("fold", [])
    folds: dict[int, Fold] = {}
    comment_run: list[int] = []  # lines of consecutive whole-line `#` comments

    def flush_comments() -> None:
        if len(comment_run) > 1:
            folds.setdefault(comment_run[0], Fold(comment_run[0], comment_run[-1], True))
        comment_run.clear()

    for node in sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte)):
        start = doc.line_of(node.start_byte)
        last = doc.line_of(max(node.end_byte - 1, node.start_byte))
        if node.type == "comment":
            if node.text and node.text.startswith(b"#") and _starts_line(doc, node.start_byte):
                if comment_run and comment_run[-1] != start - 1:
                    flush_comments()
                comment_run.append(start)
                continue
            if last > start:
                folds.setdefault(start, Fold(start, last, True))
            continue
        end = last
        if node.type == "let_expression":
            keyword_in = next((c for c in node.children if c.type == "in"), None)
            if keyword_in is None:
                continue
            end = doc.line_of(keyword_in.start_byte)
            if _starts_line(doc, keyword_in.start_byte):
                end -= 1
        elif _starts_line(doc, _closer_start(node)):
            end -= 1  # keep the closing bracket (or `''`) visible
        if end > start:
            folds.setdefault(start, Fold(start, end))
        if len(folds) >= MAX_RANGES:
            break
    flush_comments()
    return sorted(folds.values(), key=lambda f: f.start_line)


def _closer_start(node: Node) -> int:
    """Where the node's last token starts: `}`, `]`, or the two-character `''` that ends an indented string."""
    last = node.child(node.child_count - 1) if node.child_count else None
    return last.start_byte if last is not None and last.end_byte > last.start_byte else max(node.end_byte - 1, 0)


def _starts_line(doc: Document, offset: int) -> bool:
    """True when only spaces or tabs stand between the line's start and `offset`."""
    line_start = doc.line_starts[doc.line_of(offset)]
    return not doc.source[line_start:offset].strip(b" \t")
