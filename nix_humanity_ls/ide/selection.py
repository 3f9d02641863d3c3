"""Selection ranges: from the token under the cursor outwards through every enclosing syntax node."""

from __future__ import annotations

from ..syntax.document import Document

MAX_DEPTH = 200  # a chain this long is already more than anyone expands; deeper ones keep the innermost


def selection_chain(doc: Document, offset: int) -> list[tuple[int, int]]:
    """Byte ranges around `offset`, innermost first, each strictly larger than the one before.

    The enclosing nodes are collected on one walk down from the root with a tree cursor rather than by
    climbing `Node.parent`: tree-sitter answers `parent` by searching down from the root again, so a climb is
    quadratic in depth (seconds on a document nested 30,000 levels deep), and for zero-width nodes thousands
    of levels deep that search recurses in C and can crash the process.
    """
    cursor = doc.tree.walk()
    spans = [(cursor.node.start_byte, cursor.node.end_byte)]  # root first, innermost last
    while cursor.goto_first_child_for_byte(offset) is not None:
        node = cursor.node
        if node.start_byte > offset:  # the cursor sits between children: nothing smaller encloses it
            break
        spans.append((node.start_byte, node.end_byte))
    chain: list[tuple[int, int]] = []
    for span in reversed(spans):
        if len(chain) == MAX_DEPTH:
            break
        if not chain or (span != chain[-1] and span[0] <= chain[-1][0] and span[1] >= chain[-1][1]):
            chain.append(span)
    whole = (0, len(doc.source))
    if not chain or chain[-1] != whole:
        chain.append(whole)
    return chain
