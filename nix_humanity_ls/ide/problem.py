"""What every checker reports: a problem at a byte range, with a plain-language message."""

from __future__ import annotations

import enum

import attrs

from ..edits.text_edit import TextEdit


class Severity(enum.IntEnum):
    """Same order and numbers as LSP's DiagnosticSeverity, so the edge converts by value."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@attrs.frozen
class Related:
    """Another place that explains a problem, e.g. the `[` that an unclosed-list error is about."""

    start: int
    end: int
    message: str


@attrs.frozen
class QuickFix:
    """A one-click way out of a problem: byte-offset edits of the same document. The edited text must still
    parse; checkers build fixes that keep it so, and the code-action layer checks again before offering."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False


@attrs.frozen
class Problem:
    """A problem found in a document. `start`/`end` are byte offsets; `source` names the checker."""

    start: int
    end: int
    message: str
    severity: Severity = Severity.ERROR
    code: str = "syntax-error"
    source: str = "nix-humanity"
    related: tuple[Related, ...] = ()
    fixes: tuple[QuickFix, ...] = ()
