"""Which problems a document shows: live tree-sitter syntax problems; when there are none, what Nix's parser
would reject although the grammar accepts it (`parse_rules`), what the module sets that the user's nixpkgs
says is wrong (`option_checks`: unknown, renamed or removed options, wrong literal values, unknown packages),
variables that nothing defines (`scope_check`), plus Nix's own verdict from the last save.

The checks after the syntax ones are listed in `CHECKS` and run one by one: a check that raises is logged
with its name and left out, so one bug never hides the other checks' problems."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, NamedTuple

from ..syntax.document import Document
from .parse_rules import parse_rule_problems
from .problem import Problem
from .scope_check import scope_problems
from .syntax_errors import MAX_PROBLEMS, syntax_problems

if TYPE_CHECKING:
    from .hover import Sources

log = logging.getLogger(__name__)


class Check(NamedTuple):
    """One kind of problem finding, named in the log when it fails."""

    name: str
    run: Callable[[Document, "Sources | None", str], list[Problem]]


def _option_checks(doc: Document, sources: Sources | None, style: str) -> list[Problem]:
    if sources is None:
        return []
    from .option_checks import option_problems  # loaded once a nixpkgs index is there

    return option_problems(doc, sources, style)


CHECKS = (
    Check("parse rules", lambda doc, sources, style: parse_rule_problems(doc)),
    Check("option and package checks", _option_checks),  # a package in an option's list is judged here first
    Check("undefined names", lambda doc, sources, style: scope_problems(doc, sources.packages if sources else None, style)),
)


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
    problems = checked_problems(doc, CHECKS, sources, style)
    problems.sort(key=lambda p: (p.start, p.end))
    problems = problems[:limit]
    if nix_problem is not None and not _already_shown(doc, nix_problem, problems) and len(problems) < limit:
        problems.append(nix_problem)
        problems.sort(key=lambda p: (p.start, p.end))
    return problems


def checked_problems(doc: Document, checks: tuple[Check, ...], sources: Sources | None, style: str) -> list[Problem]:
    """The problems of each check in turn, less those an earlier check found already (same place, same code).
    A check that raises is logged with its name and traceback and contributes nothing; the rest still run."""
    problems: list[Problem] = []
    shown: set[tuple[int, int, str]] = set()
    for check in checks:
        try:
            found = check.run(doc, sources, style)
        except Exception:
            log.exception("the %s failed on %s; its problems are left out", check.name, doc.uri)
            continue
        found = [p for p in found if (p.start, p.end, p.code) not in shown]
        shown.update((p.start, p.end, p.code) for p in found)
        problems += found
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
