"""Selection ranges: from the token under the cursor outwards through every enclosing syntax node."""

from __future__ import annotations

from ..syntax.document import Document

MAX_DEPTH = 200  # a chain this long is already more than anyone expands; deeper ones keep the innermost


def selection_chain(doc: Document, offset: int) -> list[tuple[int, int]]:
    """Byte ranges around `offset`, innermost first, each strictly larger than the one before."""
    node = doc.tree.root_node.descendant_for_byte_range(offset, offset)
    chain: list[tuple[int, int]] = []
    while node is not None and len(chain) < MAX_DEPTH:
        span = (node.start_byte, node.end_byte)
        if not chain or (span != chain[-1] and span[0] <= chain[-1][0] and span[1] >= chain[-1][1]):
            chain.append(span)
        node = node.parent
    whole = (0, len(doc.source))
    if not chain or chain[-1] != whole:
        chain.append(whole)
    return chain
