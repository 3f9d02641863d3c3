"""Conversions between lsprotocol types and the core's byte offsets and plain records. Nothing else here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from ..edits.text_edit import TextEdit
from ..ide.folding import Fold
from ..ide.problem import Problem, QuickFix
from ..ide.symbols import Symbol
from ..syntax.document import Change, Document, Position, PositionEncoding

if TYPE_CHECKING:  # the completion machinery loads on first use, not at start-up
    from ..ide.completion import Completions


def encoding(value: object) -> PositionEncoding:
    """The negotiated encoding (pygls stores an enum member or a plain string; none means UTF-16)."""
    raw = getattr(value, "value", value)
    for member in PositionEncoding:
        if member.value == raw:
            return member
    return PositionEncoding.UTF16


def change(event: types.TextDocumentContentChangeEvent) -> Change:
    if isinstance(event, types.TextDocumentContentChangePartial):
        return Change(event.text, position(event.range.start), position(event.range.end))
    return Change(event.text)


def position(value: types.Position) -> Position:
    return Position(value.line, value.character)


def offset(doc: Document, value: types.Position, enc: PositionEncoding) -> int:
    return doc.offset_at(position(value), enc)


def lsp_range(doc: Document, start: int, end: int, enc: PositionEncoding) -> types.Range:
    a, b = doc.position_at(start, enc), doc.position_at(end, enc)
    return types.Range(types.Position(a.line, a.character), types.Position(b.line, b.character))


def location(doc: Document, start: int, end: int, enc: PositionEncoding) -> types.Location:
    """A byte range of `doc` (the asked document or another file the core read) as an LSP location."""
    return types.Location(doc.uri, lsp_range(doc, start, end, enc))


def diagnostic(doc: Document, problem: Problem, enc: PositionEncoding) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(doc.uri, lsp_range(doc, item.start, item.end, enc)), item.message
        )
        for item in problem.related
    ]
    return types.Diagnostic(
        range=lsp_range(doc, problem.start, problem.end, enc),
        message=problem.message,
        severity=types.DiagnosticSeverity(int(problem.severity)),
        code=problem.code,
        source=problem.source,
        related_information=related or None,
    )


def document_symbol(doc: Document, symbol: Symbol, enc: PositionEncoding) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=symbol.name or "(unnamed)",
        kind=types.SymbolKind[symbol.kind.name],
        range=lsp_range(doc, symbol.start, symbol.end, enc),
        selection_range=lsp_range(doc, symbol.selection_start, symbol.selection_end, enc),
        detail=symbol.detail,
        children=[document_symbol(doc, child, enc) for child in symbol.children] or None,
    )


def folding_range(fold: Fold) -> types.FoldingRange:
    return types.FoldingRange(
        start_line=fold.start_line,
        end_line=fold.end_line,
        kind=types.FoldingRangeKind.Comment if fold.is_comment else types.FoldingRangeKind.Region,
    )


def selection_range(doc: Document, chain: Sequence[tuple[int, int]], enc: PositionEncoding) -> types.SelectionRange:
    """Nest a chain (innermost first) into LSP's parent-linked form, building from the outside in."""
    result: types.SelectionRange | None = None
    for start, end in reversed(chain):
        result = types.SelectionRange(range=lsp_range(doc, start, end, enc), parent=result)
    assert result is not None  # a chain always holds at least the whole document
    return result


def workspace_edit(doc: Document, edits: Sequence[TextEdit], enc: PositionEncoding) -> types.WorkspaceEdit:
    """Edits to one document, pinned to the version they were computed for."""
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
                edits=[types.TextEdit(lsp_range(doc, e.start, e.end, enc), e.text) for e in edits],
            )
        ]
    )


def code_action(
    doc: Document, title: str, edits: Sequence[TextEdit], preferred: bool, enc: PositionEncoding
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        is_preferred=preferred or None,
        edit=workspace_edit(doc, edits, enc),
    )


def fix_action(doc: Document, problem: Problem, fix: QuickFix, enc: PositionEncoding) -> types.CodeAction:
    """A problem's quick fix, carrying the diagnostic it resolves."""
    action = code_action(doc, fix.title, fix.edits, fix.preferred, enc)
    action.diagnostics = [diagnostic(doc, problem, enc)]
    return action


_COMPLETION_KINDS = {
    "option": types.CompletionItemKind.Property,
    "group": types.CompletionItemKind.Module,
    "package": types.CompletionItemKind.Value,
    "value": types.CompletionItemKind.EnumMember,
}


def completion_list(doc: Document, found: Completions, enc: PositionEncoding) -> types.CompletionList:
    """Items that replace the typed part of the last segment (or value); documentation comes on resolve,
    unless an item carries it. Values keep the order the core gives them (`true` before `false`)."""
    replace = lsp_range(doc, found.start, found.end, enc)
    return types.CompletionList(
        is_incomplete=found.incomplete,
        items=[
            types.CompletionItem(
                label=item.label,
                kind=_COMPLETION_KINDS[item.kind],
                detail=item.detail or None,
                documentation=types.MarkupContent(types.MarkupKind.Markdown, item.documentation)
                if item.documentation else None,
                filter_text=item.filter or None,
                sort_text=f"{number:05d}" if item.kind == "value" else None,
                text_edit=types.TextEdit(replace, item.label),
                data={"key": list(item.key)},
            )
            for number, item in enumerate(found.items)
        ],
    )
