"""foldingRange: multi-line sets, lists, `let` blocks, formals, `''` strings and comment blocks, with the closing
line left visible. selectionRange: from the token under the cursor outwards, strictly growing, to the whole
document."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from nix_humanity_ls.ide.folding import folding_ranges
from nix_humanity_ls.ide.selection import selection_chain
from nix_humanity_ls.syntax.document import Document
from tests.conftest import lsp_position, open_document, text_index

BASE = "file:///tmp/nix-humanity-folding"

CONFIGURATION = """\
# This is the system configuration.
# It has a header comment
# of three lines.
{ config
, pkgs
, ...
}:

let
  a = 1;
  b = 2;
in
{
  /* a block
     comment */
  environment.systemPackages = with pkgs; [
    git
    vim
  ];
  networking = {
    hostName = "nixos 😀";
  };
  single = { a = 1; };
  # one line comment
  text = ''
    line one
    line two
  '';
  # run
  # of two
  last = [ 1
    2 ];
}
"""

REGION = types.FoldingRangeKind.Region
COMMENT = types.FoldingRangeKind.Comment



async def _folds(client: LanguageClient, uri: str) -> list[tuple[int, int, str | None]]:
    result = await client.text_document_folding_range_async(types.FoldingRangeParams(types.TextDocumentIdentifier(uri)))
    return [(f.start_line, f.end_line, f.kind) for f in result or []]


async def test_folding_ranges_of_a_configuration(client: LanguageClient):
    uri = f"{BASE}/configuration.nix"
    await open_document(client, uri, CONFIGURATION)
    assert await _folds(client, uri) == [
        (0, 2, COMMENT),  # three `#` lines
        (3, 5, REGION),  # formals; `}:` stays visible
        (8, 10, REGION),  # let … up to the line before `in`
        (12, 31, REGION),  # the module's set; its `}` stays visible
        (13, 14, COMMENT),  # /* … */
        (15, 17, REGION),  # the list; `];` stays visible
        (19, 20, REGION),  # networking = { … }
        (24, 26, REGION),  # the '' string; its closing `'';` stays visible
        (28, 29, COMMENT),  # two `#` lines
        (30, 31, REGION),  # a list whose `]` ends a line with content folds to that line
    ]


async def test_folding_counts_crlf_and_lone_cr_lines(client: LanguageClient):
    text = "{\r\n  a = [\r    1\r\n  ];\r\n}\r\n"
    uri = f"{BASE}/crlf.nix"
    await open_document(client, uri, text)
    assert await _folds(client, uri) == [(0, 3, REGION), (1, 2, REGION)]


async def test_nothing_to_fold(client: LanguageClient):
    for i, text in enumerate(["", "{ a = 1; }", "# one comment\n{ }\n", "[\n]"]):
        uri = f"{BASE}/flat-{i}.nix"
        await open_document(client, uri, text)
        assert await _folds(client, uri) == [], text


def _chain(selection: types.SelectionRange) -> list[types.Range]:
    ranges = []
    current: types.SelectionRange | None = selection
    while current is not None:
        ranges.append(current.range)
        current = current.parent
    return ranges


def _span(text: str, range_: types.Range) -> tuple[int, int]:
    return text_index(text, range_.start), text_index(text, range_.end)


def _assert_strictly_growing(text: str, ranges: list[types.Range]) -> None:
    spans = [_span(text, r) for r in ranges]
    for inner, outer in zip(spans, spans[1:]):
        assert outer != inner and outer[0] <= inner[0] and inner[1] <= outer[1], (inner, outer)
    assert spans[-1] == (0, len(text))


async def test_selection_grows_from_an_identifier_to_the_document(client: LanguageClient):
    uri = f"{BASE}/selection.nix"
    await open_document(client, uri, CONFIGURATION)
    at = CONFIGURATION.index("hostName") + 3  # inside the identifier
    (selection,) = await client.text_document_selection_range_async(
        types.SelectionRangeParams(types.TextDocumentIdentifier(uri), [lsp_position(CONFIGURATION, at)])
    )
    ranges = _chain(selection)
    _assert_strictly_growing(CONFIGURATION, ranges)
    texts = [CONFIGURATION[slice(*_span(CONFIGURATION, r))] for r in ranges]
    assert texts[0] == "hostName"
    assert texts[1] == 'hostName = "nixos 😀";'
    assert 'networking = {\n    hostName = "nixos 😀";\n  };' in texts
    assert texts[-1] == CONFIGURATION


async def test_selection_for_several_positions(client: LanguageClient):
    uri = f"{BASE}/positions.nix"
    await open_document(client, uri, CONFIGURATION)
    indices = [
        CONFIGURATION.index("😀") + 1,  # after the emoji (a UTF-16 column), where the closing quote starts
        CONFIGURATION.index("git"),  # a list element
        CONFIGURATION.index("  b = 2;"),  # indentation before a binding
        0,  # the start
        len(CONFIGURATION),  # the end
    ]
    selections = await client.text_document_selection_range_async(
        types.SelectionRangeParams(
            types.TextDocumentIdentifier(uri), [lsp_position(CONFIGURATION, i) for i in indices]
        )
    )
    assert len(selections) == len(indices)
    for selection in selections:
        _assert_strictly_growing(CONFIGURATION, _chain(selection))
    first = [CONFIGURATION[slice(*_span(CONFIGURATION, r))] for r in _chain(selections[0])]
    assert first[:2] == ['"', '"nixos 😀"']
    second = [CONFIGURATION[slice(*_span(CONFIGURATION, r))] for r in _chain(selections[1])]
    assert second[0] == "git" and second[1] == "[\n    git\n    vim\n  ]"
    assert _chain(selections[4]) == [types.Range(types.Position(0, 0), lsp_position(CONFIGURATION, len(CONFIGURATION)))]


async def test_selection_in_a_broken_document(client: LanguageClient):
    text = "{\n  a = [ 1 2\n  b = { c = 😀; };\n"
    uri = f"{BASE}/broken.nix"
    await open_document(client, uri, text)
    positions = [lsp_position(text, i) for i in range(len(text) + 1) if not text[i - 1 : i + 1] == "\r\n"]
    selections = await client.text_document_selection_range_async(
        types.SelectionRangeParams(types.TextDocumentIdentifier(uri), positions)
    )
    for selection in selections:
        _assert_strictly_growing(text, _chain(selection))


@pytest.mark.timeout(15)
def test_very_deep_nesting_stays_linear():
    """Folding and selection on a set nested 50,000 levels deep (in process; the server test of deep documents
    is in test_robustness). Before the depth cap, tree-sitter's query cursor took about half a minute here and
    climbing `Node.parent` for the selection chain took seconds."""
    depth = 50_000
    doc = Document("file:///deep.nix", "{ a =\n" * depth + "1" + ";\n}" * depth)
    folds = folding_ranges(doc)
    assert folds[0].start_line == 0 and len(folds) > 100  # folds near the top, none from the depths
    middle = len(doc.source) // 2
    chain = selection_chain(doc, middle)
    assert len(chain) == 201 and chain[-1] == (0, len(doc.source))
    assert all(outer[0] <= inner[0] and inner[1] <= outer[1] for inner, outer in zip(chain, chain[1:]))
