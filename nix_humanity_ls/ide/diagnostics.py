"""Which problems a document shows: live tree-sitter syntax problems, plus Nix's own verdict from the last
save when tree-sitter saw nothing wrong (Nix rejects a few things the grammar accepts)."""

from __future__ import annotations

from ..syntax.document import Document
from .problem import Problem
from .syntax_errors import MAX_PROBLEMS, syntax_problems


def document_problems(
    doc: Document, nix_problem: Problem | None = None, limit: int = MAX_PROBLEMS
) -> list[Problem]:
    problems = syntax_problems(doc, limit)
    if not problems and nix_problem is not None:
        problems = [nix_problem]
    return problems
