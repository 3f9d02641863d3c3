"""What every checker reports: a problem at a byte range, with a plain-language message."""

from __future__ import annotations

import enum

import attrs


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
class Problem:
    """A problem found in a document. `start`/`end` are byte offsets; `source` names the checker."""

    start: int
    end: int
    message: str
    severity: Severity = Severity.ERROR
    code: str = "syntax-error"
    source: str = "nix-humanity"
    related: tuple[Related, ...] = ()
