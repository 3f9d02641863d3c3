"""Nix's own parser on save, over stdio against the real server and the real `nix-instantiate`.

On textDocument/didSave the server asks `nix-instantiate --parse` about a document tree-sitter accepts and
publishes Nix's problem. The document used names an attribute `${''a''}` and then `a`: whether `${''a''}` is
a static name differs between Nix versions, so our live checks stay quiet, and Nix 2.8 rejects the second
definition at parse time. A duplicated option is caught live by our own checks; after a save it must still
show once, not again in Nix's words.
"""

from __future__ import annotations

import shutil

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import open_document, send_changes

BASE = "file:///tmp/nix-humanity-save-test"
# `a` is defined twice as Nix 2.8 reads `${''a''}`. Non-ASCII text before the second one on its line makes the
# UTF-16 column (10) differ from Nix's byte column (11).
NIX_ONLY = "{\n  # café ☕\n  ${''a''} = true;\n  /* é */ a = false;\n}\n"
SECOND_A = types.Range(types.Position(3, 10), types.Position(3, 11))
TWICE = "{\n  services.openssh.enable = true;\n  services.openssh.enable = false;\n}\n"

pytestmark = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not on PATH")



async def _save(client: LanguageClient, uri: str) -> None:
    """didSave, then wait for the diagnostics the server publishes once Nix has answered."""
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await _published_for(client, uri)


async def _published_for(client: LanguageClient, uri: str, limit: int = 4) -> None:
    """Wait until diagnostics for `uri` arrive, letting through at most `limit` for other documents."""
    for _ in range(limit):
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri:
            return
    raise AssertionError(f"no diagnostics for {uri} among {limit} notifications")


async def _configure(client: LanguageClient, nix_parse_on_save: bool) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"nixHumanity": {"diagnostics": {"nixParseOnSave": nix_parse_on_save}}})
    )


async def _close(client: LanguageClient, uri: str) -> None:
    """Close a document (the server then clears its diagnostics), so later tests see no stray republishing."""
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await _published_for(client, uri)


def _from_nix(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    return [d for d in client.diagnostics[uri] if d.source == "nix-instantiate"]


async def test_nix_problem_appears_on_save_and_goes_when_fixed(client: LanguageClient):
    uri = f"{BASE}/nix-only.nix"
    doc = await open_document(client, uri, NIX_ONLY)
    assert len(client.diagnostics[uri]) == 0, "tree-sitter and the live checks accept this file"

    await _save(client, uri)
    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.source == "nix-instantiate"
    assert diagnostic.message == "attribute `a` already defined on line 3"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range == SECOND_A

    start = doc.text.index("a = false")
    await send_changes(client, doc, [doc.edit(start, start + 1, "b")])  # b = false;
    assert len(client.diagnostics[uri]) == 0, "Nix's verdict was about the old text"
    await _save(client, uri)
    assert len(client.diagnostics[uri]) == 0, "Nix accepts the fixed text"
    await _close(client, uri)


async def test_duplicate_shows_once_after_save(client: LanguageClient):
    """Our live check and Nix find the same clash; the diagnostic is not doubled."""
    uri = f"{BASE}/twice.nix"
    await open_document(client, uri, TWICE)
    (live,) = client.diagnostics[uri]
    assert (live.source, live.message) == ("nix-humanity", "`services.openssh.enable` is already defined on line 2")
    assert live.range.start == types.Position(2, 2)

    await _save(client, uri)
    assert [(d.source, d.message) for d in client.diagnostics[uri]] == [(live.source, live.message)]
    await _close(client, uri)


async def test_no_nix_problem_when_disabled(client: LanguageClient):
    """With `nixParseOnSave` off, a save asks Nix nothing. Document `off` is saved while it is off; then it
    is switched on and a second document with the same text is saved twice, one save after the other. Nix
    runs as soon as a save arrives, so by the time the second verdict is published, a check started for
    `off` before both would have been published too. (Last in the module: it changes a setting.)"""
    off, on = f"{BASE}/saved-while-off.nix", f"{BASE}/saved-while-on.nix"
    await _configure(client, False)
    await open_document(client, off, NIX_ONLY)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(off)))

    await _configure(client, True)
    await _published_for(client, off)  # a settings change republishes every open document
    assert len(client.diagnostics[off]) == 0
    await open_document(client, on, NIX_ONLY)
    await _save(client, on)
    await _save(client, on)
    assert [d.message for d in _from_nix(client, on)] == ["attribute `a` already defined on line 3"], (
        "control: Nix runs when on")
    assert _from_nix(client, off) == []
