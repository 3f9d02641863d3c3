"""Which problems a document shows: live tree-sitter syntax problems; when there are none, what Nix's parser
would reject although the grammar accepts it (`parse_rules`), plus Nix's own verdict from the last save."""

from __future__ import annotations

from ..syntax.document import Document
from .parse_rules import parse_rule_problems
from .problem import Problem
from .syntax_errors import MAX_PROBLEMS, syntax_problems


def document_problems(
    doc: Document, nix_problem: Problem | None = None, limit: int = MAX_PROBLEMS, rules: bool = True
) -> list[Problem]:
    """At most `limit` problems, in document order. Syntax problems first and alone: while the text does not
    parse, rule checks would judge error recovery's guesses, and Nix stops at the first syntax error too.
    `rules=False` leaves out the parse-rule checks, whose first run over a new document is a whole-file pass."""
    problems = syntax_problems(doc, limit)
    if problems or not rules:
        return problems
    problems = parse_rule_problems(doc)[:limit]
    if nix_problem is not None and not _already_shown(doc, nix_problem, problems) and len(problems) < limit:
        problems.append(nix_problem)
        problems.sort(key=lambda p: (p.start, p.end))
    return problems


def _already_shown(doc: Document, nix_problem: Problem, problems: list[Problem]) -> bool:
    """Nix reports the first clash it meets, sometimes at the earlier of two definitions: a problem of ours
    on the same line, or pointing there, is the same finding in better words."""
    line = doc.line_of(nix_problem.start)
    for problem in problems:
        places = [problem.start, *(related.start for related in problem.related)]
        if any(doc.line_of(place) == line for place in places):
            return True
    return False
