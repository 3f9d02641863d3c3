"""The last build's findings, per file, as an editor shows them: byte ranges, problems and fixes.

A finding's place is a line and column in a file as it was when the build read it; its fixes are byte-offset
edits of that same text. So each file's report keeps those bytes (`source`), and a caller offers the findings
and their fixes only while the file still holds them: after an edit they would point at the wrong place.
Findings Nix gave no file for go on the configuration's entry file, at its start. A good build clears every
report; a failed one replaces them; a cancelled, refused or declined one leaves them as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from ..edits.text_edit import TextEdit
from ..files import FileProblem, read_nix_file
from ..ide.problem import Problem, Severity
from ..syntax.document import Document, Position, PositionEncoding

if TYPE_CHECKING:
    from .explain import Finding, Fix
    from .operations import OperationOutcome

SOURCE = "nixos-rebuild"


@attrs.frozen
class FileFix:
    """One fix: edits of one or more files, each against the text its file's report keeps."""

    title: str
    edits: tuple[tuple[str, TextEdit], ...]  # (path, edit)
    preferred: bool = False

    def edits_by_file(self) -> list[tuple[str, list[TextEdit]]]:
        grouped: dict[str, list[TextEdit]] = {}
        for path, edit in self.edits:
            grouped.setdefault(path, []).append(edit)
        return list(grouped.items())


@attrs.frozen
class LocatedFinding:
    finding: Finding
    problem: Problem  # the finding at its byte range, as every checker reports
    fixes: tuple[FileFix, ...] = ()


@attrs.frozen
class FileReport:
    path: str
    source: bytes  # the file as the build read it
    log_file: str | None
    items: tuple[LocatedFinding, ...]


class BuildFindings:
    def __init__(self) -> None:
        self._reports: dict[str, FileReport] = {}
        self._sources: dict[str, bytes] = {}

    def update(self, outcome: OperationOutcome) -> set[str]:
        """Take in an operation's outcome; returns the files whose reports changed (to show again)."""
        if outcome.status == "ok" and outcome.result is not None:
            changed = set(self._reports)
            self._reports, self._sources = {}, {}
            return changed
        if outcome.status != "failed" or outcome.result is None:
            return set()  # nothing was built: what was known stays
        sources = dict(outcome.sources)
        reports = locate(outcome.findings, sources, outcome.entry_file, outcome.log_file)
        changed = set(self._reports) | set(reports)
        self._reports, self._sources = reports, sources
        return changed

    def report(self, path: str) -> FileReport | None:
        return self._reports.get(path)

    def source(self, path: str) -> bytes | None:
        """The text a fix's edits of `path` were computed for."""
        return self._sources.get(path)

    def paths(self) -> list[str]:
        return list(self._reports)


def locate(findings: Iterable[Finding], sources: dict[str, bytes], entry_file: str | None,
           log_file: str | None) -> dict[str, FileReport]:
    """Group findings by file, with byte ranges; `sources` gains every file read here."""
    grouped: dict[str, list[LocatedFinding]] = {}
    documents: dict[str, Document | None] = {}
    for finding in findings:
        path = finding.file or entry_file
        if path is None:
            continue
        doc = _document(path, sources, documents)
        if doc is None:
            continue
        start, end = _range(doc, finding) if finding.file else (0, 0)
        fixes = tuple(fix for fix in (_fix(f, sources, documents) for f in finding.fixes) if fix is not None)
        problem = Problem(
            start, end, f"{finding.title}: {finding.explanation}",
            Severity.WARNING if finding.severity == "warning" else Severity.ERROR, code=finding.kind, source=SOURCE,
        )
        grouped.setdefault(path, []).append(LocatedFinding(finding, problem, fixes))
    return {path: FileReport(path, sources[path], log_file, tuple(items)) for path, items in grouped.items()}


def _document(path: str, sources: dict[str, bytes], documents: dict[str, Document | None]) -> Document | None:
    if path not in documents:
        if path not in sources:
            try:
                sources[path] = read_nix_file(path)
            except FileProblem:
                documents[path] = None
                return None
        documents[path] = Document(path, sources[path])
    return documents[path]


def _range(doc: Document, finding: Finding) -> tuple[int, int]:
    """Byte range of a finding's 1-based line and column (characters); without an end, to the end of the
    line's text."""
    if not finding.line:
        return 0, 0
    start = doc.offset_at(Position(finding.line - 1, (finding.column or 1) - 1), PositionEncoding.UTF32)
    if finding.end_line:
        end = doc.offset_at(Position(finding.end_line - 1, (finding.end_column or 1) - 1), PositionEncoding.UTF32)
    else:
        end = doc.line_span(doc.line_of(start))[1]
    return start, max(start, end)


def _fix(fix: Fix, sources: dict[str, bytes], documents: dict[str, Document | None]) -> FileFix | None:
    """A fix that makes a change (not only advice), when its file can be read."""
    if not fix.file or not fix.edits or _document(fix.file, sources, documents) is None:
        return None
    return FileFix(fix.title, tuple((fix.file, edit) for edit in fix.edits))


def snapshot(paths: Iterable[str]) -> Mapping[str, bytes]:
    """The bytes of each readable file: what a build about to start will read."""
    found: dict[str, bytes] = {}
    for path in paths:
        try:
            found[path] = read_nix_file(path)
        except FileProblem:
            continue
    return found
