"""Position encodings negotiated per client: Neovim 0.11 offers UTF-8 first, Emacs UTF-32, VS Code offers
nothing (so UTF-16). Every position the server sends or reads, diagnostics, symbols, selections and change
ranges, counts characters in the negotiated encoding."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import (
    document_symbols,
    lsp_position,
    open_document,
    send_changes,
    server_config,
    start_session,
)

BASE = "file:///tmp/nix-humanity-encoding"
# `1` lacks its `;`: the diagnostic sits on it, after an accented letter and an emoji on the same line
TEXT = '# Grüße 😀\n{ a = "é😀"; b = 1 }\n'
ONE = TEXT.index("1 }")
# the column of `1` on line 1: 16 code points, 17 UTF-16 units (the emoji takes two), 20 UTF-8 bytes
COLUMNS = {"utf-8": 20, "utf-16": 17, "utf-32": 16}

RESULTS: dict[str, types.InitializeResult] = {}


@pytest_lsp.fixture(scope="module", config=server_config())
async def neovim(lsp_client: LanguageClient):
    RESULTS["neovim"] = await start_session(lsp_client, "neovim")
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=server_config())
async def emacs(lsp_client: LanguageClient):
    RESULTS["emacs"] = await start_session(lsp_client, "emacs")
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=server_config())
async def vscode(lsp_client: LanguageClient):
    RESULTS["vscode"] = await start_session(lsp_client, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


async def _check(client: LanguageClient, name: str, encoding: str) -> None:
    assert RESULTS[name].capabilities.position_encoding == encoding
    uri = f"{BASE}/{name}.nix"
    doc = await open_document(client, uri, TEXT, encoding=encoding)

    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.message == "missing `;` after the value of `b`"
    column = COLUMNS[encoding]
    assert diagnostic.range == types.Range(types.Position(1, column), types.Position(1, column + 1))
    assert diagnostic.range.start == lsp_position(TEXT, ONE, encoding)

    a, b = await document_symbols(client, uri)
    assert (a.name, b.name) == ("a", "b")
    assert b.selection_range.start == types.Position(1, COLUMNS[encoding] - 4)
    assert a.range.end == lsp_position(TEXT, TEXT.index(" b ="), encoding)

    (selection,) = await client.text_document_selection_range_async(
        types.SelectionRangeParams(types.TextDocumentIdentifier(uri), [lsp_position(TEXT, ONE, encoding)])
    )
    assert selection.range == diagnostic.range  # the `1` itself

    # a change whose range counts in the same encoding: after the emoji on line 0, and the missing `;`
    after_emoji = TEXT.index("😀") + 1
    await send_changes(client, doc, [doc.edit(ONE + 1, ONE + 1, ";"), doc.edit(after_emoji, after_emoji, " ✓ 😀")])
    assert doc.text == '# Grüße 😀 ✓ 😀\n{ a = "é😀"; b = 1; }\n'
    assert len(client.diagnostics[uri]) == 0
    # and a change across the emoji in the string: the server must cut exactly around it
    start = doc.text.index('"é😀"')
    await send_changes(client, doc, [doc.edit(start + 2, start + 3, "x")])  # 😀 → x
    a, _b = await document_symbols(client, uri)
    assert a.range.end == lsp_position(doc.text, doc.text.index(" b ="), encoding)
    assert len(client.diagnostics[uri]) == 0
    # a stray emoji: the diagnostic covers exactly it, 4, 2 or 1 units wide
    await send_changes(client, doc, [doc.edit(start + 1, start + 2, '"😀 ')])  # { a = ""😀 x"; …
    (stray,) = client.diagnostics[uri]
    emoji = doc.text.index("😀", start)
    assert stray.message == "unexpected `😀`"
    assert stray.range == types.Range(
        lsp_position(doc.text, emoji, encoding), lsp_position(doc.text, emoji + 1, encoding)
    )
    assert stray.range.end.character - stray.range.start.character == {"utf-8": 4, "utf-16": 2, "utf-32": 1}[encoding]
    await send_changes(client, doc, [doc.replace_all(TEXT)])
    (again,) = client.diagnostics[uri]
    assert again.range == diagnostic.range


async def test_neovim_negotiates_utf8(neovim: LanguageClient):
    await _check(neovim, "neovim", "utf-8")


async def test_emacs_negotiates_utf32(emacs: LanguageClient):
    await _check(emacs, "emacs", "utf-32")


async def test_vscode_gets_utf16(vscode: LanguageClient):
    await _check(vscode, "vscode", "utf-16")
