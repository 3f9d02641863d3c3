"""Quick fixes for comments that read like requests: `# add firefox`, `# enable the ssh server`, and the
installer's own `# Enable the OpenSSH daemon.` above `# services.openssh.enable = true;`.

A comment the user typed as a request is removed by the fix; an explanatory comment (a sentence ending in
a period, or one that heads a commented-out setting, as the installer writes them) stays.
"""

from __future__ import annotations

import re

import attrs
from tree_sitter import Node

from ..edits.text_edit import TextEdit, apply_edits, minimal_edits
from ..language.resolve import Knowledge
from ..syntax.document import Document
from ..syntax.query import comments, text_of
from .ask import AskResult, ask

MAX_ALTERNATIVES = 5
_COMMENTED_CODE = re.compile(r"^\s*#\s*[\w.\"'-]+\s*=.*;")


@attrs.frozen
class RequestAction:
    title: str
    edits: tuple[TextEdit, ...]
    new: bytes  # the whole text after the fix, for a final check by Nix's parser
    preferred: bool = False


def request_actions(doc: Document, start: int, end: int, knowledge: Knowledge) -> list[RequestAction]:
    """Fixes for request comments on the lines from `start` to `end` (byte offsets)."""
    if doc.tree.root_node.has_error:
        return []
    first_line = doc.line_starts[doc.line_of(start)]
    last_line = doc.line_span(doc.line_of(end))[1]
    actions: list[RequestAction] = []
    for comment in comments(doc.tree.root_node, first_line, last_line):
        request = _request_text(doc, comment)
        if request is not None:
            actions.extend(_actions_for(doc, comment, request, knowledge))
    return actions


def _request_text(doc: Document, comment: Node) -> str | None:
    """The words of a `#` comment on a line of its own, unless it is commented-out code."""
    text = text_of(comment)
    if not text.startswith("#") or _COMMENTED_CODE.match(text):
        return None
    line_start = doc.line_starts[doc.line_of(comment.start_byte)]
    if doc.source[line_start : comment.start_byte].strip(b" \t"):
        return None
    words = text.lstrip("#").strip()
    return words or None


def _actions_for(doc: Document, comment: Node, request: str, knowledge: Knowledge) -> list[RequestAction]:
    result = ask(doc, request, knowledge)
    if result.status == "proposed" and result.options <= 1:
        return [_action(doc, comment, result, preferred=True)]
    count = result.options if result.status == "proposed" else len(result.candidates)
    if result.status not in ("proposed", "ambiguous"):
        return []
    actions = []
    for number in range(1, min(count, MAX_ALTERNATIVES) + 1):
        # with alternatives, the first pick is the result already at hand (the recommended choice)
        picked = result if number == 1 and result.status == "proposed" else ask(doc, request, knowledge, pick=number)
        if picked.status == "proposed":
            actions.append(_action(doc, comment, picked, preferred=number == 1 and result.status == "proposed"))
    return actions


def _action(doc: Document, comment: Node, result: AskResult, preferred: bool) -> RequestAction:
    assert result.new is not None
    new = result.new
    if _is_typed_request(doc, comment):
        new = _without_comment_line(doc, comment, new)
    title = "; ".join(choice.title for choice in result.choices)
    return RequestAction(title, tuple(minimal_edits(doc.source, new)), new, preferred)


def _is_typed_request(doc: Document, comment: Node) -> bool:
    """True for `# add firefox`; False for an explanatory sentence or a heading over commented-out code."""
    if text_of(comment).rstrip().endswith("."):
        return False
    line = doc.line_of(comment.start_byte)
    if line + 1 < doc.line_count:
        start, stop = doc.line_span(line + 1)
        if _COMMENTED_CODE.match(doc.source[start:stop].decode("utf-8", "replace")):
            return False
    return True


def _without_comment_line(doc: Document, comment: Node, new: bytes) -> bytes:
    """Remove the request comment's line from the new text. The comment's bytes are unchanged there (the
    edits never touch a comment they did not uncomment), so it is found by its text and line neighbourhood."""
    line = doc.line_of(comment.start_byte)
    line_start = doc.line_starts[line]
    line_stop = doc.line_starts[line + 1] if line + 1 < doc.line_count else len(doc.source)
    whole_line = doc.source[line_start:line_stop]
    edits_before = [e for e in minimal_edits(doc.source, new) if e.end <= line_start]
    shift = sum(len(e.text.encode()) - (e.end - e.start) for e in edits_before)
    position = line_start + shift
    if new[position : position + len(whole_line)] != whole_line:
        return new
    return apply_edits(new, [TextEdit(position, position + len(whole_line), "")])
