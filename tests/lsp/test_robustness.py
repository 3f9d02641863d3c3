"""Whatever a client opens, the server answers and keeps serving: empty files, control characters, 5 MB,
nesting ten thousand levels deep, prose. Requests about documents that are not open get a readable LSP error,
and a change with a version that does not move forward leaves the server's view correct."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.conftest import (
    ROOT,
    ClientDocument,
    document_symbols,
    lsp_position,
    open_document,
    plain,
    send_changes,
)

BASE = "file:///tmp/nix-humanity-robust"
NORMAL = '{ pkgs, ... }:\n{\n  networking.hostName = "nixos";\n  services.openssh.enable = true;\n}\n'



def _big_configuration() -> str:
    """About 5 MB of bindings, lists, strings and comments."""
    block = (
        "  # service {i}\n"
        "  services.svc{i} = {{\n"
        "    enable = true;\n"
        '    description = "service number {i} — ünïcödé 😀";\n'
        "    ports = [ {i} 80 443 ];\n"
        "  }};\n"
    )
    body = "".join(block.format(i=i) for i in range(40_000))
    return "{ config, pkgs, ... }:\n{\n" + body + "}\n"


ODD_DOCUMENTS = {
    "empty": "",
    "whitespace": " \r\n\t\r \n",
    "control": '{ a = "\x00\x01\x02\x1b\x7f"; }\x00\x0c\x0b\u2028\u0085\ufeff\x00',
    "lone-surrogate": '{ "\ud800" = 1; b = "\udfff"; }',
    "big": _big_configuration(),
    "deep-list": "[" * 10_000 + "]" * 10_000,
    "deep-set": "{a=" * 10_000 + "1" + ";}" * 10_000,
    "deep-set-lines": "{ a =\n" * 10_000 + "1" + ";\n}" * 10_000,
    "deeper-set": "{a=" * 50_000 + "1" + ";}" * 50_000,  # tree-sitter queries were quadratic in depth here
    "unclosed-sets": "{a=" * 10_000,
    "unclosed-parens": "(\n" * 10_000,
    "deep-let": "let a = " * 10_000,
    "deep-strings": '"${' * 3_000,
    "prose": (
        "Dear user,\n\nThis is not a Nix file — it is a letter. It has commas, semicolons; (parentheses),\n"
        "braces { like these } and \"quotes\", a 😀 and some ünïcödé.\n\nKind regards,\nThe editor\n"
    ) * 300,
    "python": (ROOT / "nix_humanity_ls" / "syntax" / "document.py").read_text(encoding="utf-8"),
    "json": json.dumps({f"key{i}": [i, {"x": "y, z; (a) 😀"}, None] for i in range(300)}, indent=2),
}


def _sample_positions(text: str) -> list[types.Position]:
    """The start, the middle and the end of the document."""
    middle = len(text) // 2
    if 0 < middle < len(text) and text[middle - 1 : middle + 1] == "\r\n":
        middle += 1
    return [lsp_position(text, 0), lsp_position(text, middle), lsp_position(text, len(text))]


@pytest.mark.parametrize("name", list(ODD_DOCUMENTS))
@pytest.mark.timeout(60)
async def test_odd_document_is_served(client: LanguageClient, name: str):
    text = ODD_DOCUMENTS[name]
    uri = f"{BASE}/{name}.nix"
    doc = await open_document(client, uri, text)
    assert len(client.diagnostics[uri]) <= 20  # the default diagnostics.maxProblems
    identifier = types.TextDocumentIdentifier(uri)

    await document_symbols(client, uri)
    await client.text_document_folding_range_async(types.FoldingRangeParams(identifier))
    positions = _sample_positions(text)
    selections = await client.text_document_selection_range_async(types.SelectionRangeParams(identifier, positions))
    assert len(selections) == len(positions)
    whole_end = positions[-1]
    for selection in selections:
        while selection.parent is not None:
            selection = selection.parent
        assert selection.range == types.Range(types.Position(0, 0), whole_end)  # the outermost is the document

    # an edit at the start and one at the end, in one notification
    await send_changes(client, doc, [doc.edit(0, 0, "x "), doc.edit(len(doc.text), len(doc.text), "\n# end\n")])
    await document_symbols(client, uri)
    client.text_document_did_close(types.DidCloseTextDocumentParams(identifier))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    # and the server still serves a normal document
    normal = f"{BASE}/after-{name}.nix"
    await open_document(client, normal, NORMAL)
    names = [s.name for s in await document_symbols(client, normal)]
    assert names == ["pkgs", "networking.hostName", "services.openssh.enable"]


@pytest.mark.parametrize(
    "method, params",
    [
        ("documentSymbol", lambda i: types.DocumentSymbolParams(i)),
        ("foldingRange", lambda i: types.FoldingRangeParams(i)),
        ("selectionRange", lambda i: types.SelectionRangeParams(i, [types.Position(0, 0)])),
    ],
)
async def test_request_for_a_document_that_is_not_open(client: LanguageClient, method: str, params):
    uri = f"{BASE}/never-opened.nix"
    send = {
        "documentSymbol": client.text_document_document_symbol_async,
        "foldingRange": client.text_document_folding_range_async,
        "selectionRange": client.text_document_selection_range_async,
    }[method]
    with pytest.raises(JsonRpcException) as caught:
        await send(params(types.TextDocumentIdentifier(uri)))
    message = str(caught.value)
    assert "is not open" in message and uri in message
    assert caught.value.code == types.ErrorCodes.InvalidParams  # a client error, not an internal one


async def test_request_after_close_says_not_open(client: LanguageClient):
    uri = f"{BASE}/closed.nix"
    await open_document(client, uri, NORMAL)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    with pytest.raises(JsonRpcException, match="is not open"):
        await document_symbols(client, uri)


async def _same_view(client: LanguageClient, doc: ClientDocument, name: str) -> None:
    """The server's symbols and diagnostics for `doc` equal those for a fresh document with the client's text."""
    fresh = f"{BASE}/fresh-{name}.nix"
    await open_document(client, fresh, doc.text)
    assert plain(await document_symbols(client, doc.uri)) == plain(await document_symbols(client, fresh))
    assert plain(client.diagnostics[doc.uri], doc.uri) == plain(client.diagnostics[fresh], fresh)


@pytest.mark.parametrize("stale", [5, 3], ids=["repeated", "lower"])
async def test_stale_version_is_logged_and_the_view_stays_correct(client: LanguageClient, stale: int):
    # a form feed and a U+2028 are not LSP line breaks, but Python's `str.splitlines` breaks at them
    text = '{\n  a = "x\x0cy\u2028z";\n  b = 1;\n}\n'
    doc = await open_document(client, f"{BASE}/stale-{stale}.nix", text, version=5)
    before = len(client.log_messages)
    index = doc.text.index("b = 1")
    await send_changes(client, doc, [doc.edit(index, index + 1, "renamed")], version=stale)
    logged = [m.message for m in client.log_messages[before:]]
    assert any(f"version 5, not {stale}" in m for m in logged), logged
    await _same_view(client, doc, f"stale-{stale}")
    assert "renamed" in [s.name for s in await document_symbols(client, doc.uri)]
    # later changes with increasing versions go on from there
    index = doc.text.index("renamed")
    await send_changes(client, doc, [doc.edit(index, index + len("renamed"), "c")], version=9)
    await _same_view(client, doc, f"stale-{stale}-after")


async def test_many_documents_open_at_once(client: LanguageClient):
    docs = [await open_document(client, f"{BASE}/many-{i}.nix", NORMAL.replace("nixos", f"host{i}")) for i in range(30)]
    for doc in docs[::7]:
        assert len(await document_symbols(client, doc.uri)) == 3
    for doc in docs:
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(doc.uri)))
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def test_change_to_a_document_that_is_not_open(client: LanguageClient):
    uri = f"{BASE}/not-open-change.nix"
    before = len(client.log_messages)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangePartial(types.Range(types.Position(0, 0), types.Position(0, 0)), "x")],
        )
    )
    normal = f"{BASE}/after-not-open-change.nix"
    await open_document(client, normal, NORMAL)  # the server goes on
    assert any("is not open" in m.message for m in client.log_messages[before:])
    assert uri not in client.diagnostics
    with pytest.raises(JsonRpcException, match="is not open"):
        await document_symbols(client, uri)
