"""Which problems a document shows: live tree-sitter syntax problems; when there are none, what Nix's parser
would reject although the grammar accepts it (`parse_rules`), what the module sets that the user's nixpkgs
says is wrong (`option_checks`: unknown, renamed or removed options, wrong literal values, unknown packages),
variables that nothing defines (`scope_check`), plus Nix's own verdict from the last save."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..syntax.document import Document
from .parse_rules import parse_rule_problems
from .problem import Problem
from .scope_check import scope_problems
from .syntax_errors import MAX_PROBLEMS, syntax_problems

if TYPE_CHECKING:
    from .hover import Sources


def document_problems(
    doc: Document, nix_problem: Problem | None = None, limit: int = MAX_PROBLEMS, rules: bool = True,
    sources: Sources | None = None, style: str = "friendly",
) -> list[Problem]:
    """At most `limit` problems, in document order. Syntax problems first and alone: while the text does not
    parse, rule checks would judge error recovery's guesses, and Nix stops at the first syntax error too.
    `rules=False` leaves out the parse-rule checks, whose first run over a new document is a whole-file pass.
    `sources` (with the user's nixpkgs index) adds the checks of what the module sets, worded in `style`."""
    problems = syntax_problems(doc, limit)
    if problems or not rules:
        return problems
    problems = parse_rule_problems(doc)
    if sources is not None:
        from .option_checks import option_problems  # loaded once a nixpkgs index is there

        problems += option_problems(doc, sources, style)
    shown = {(p.start, p.end, p.code) for p in problems}  # a package in an option's list is judged there first
    problems += [p for p in scope_problems(doc, sources.packages if sources else None, style) if
                 (p.start, p.end, p.code) not in shown]
    problems.sort(key=lambda p: (p.start, p.end))
    problems = problems[:limit]
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
