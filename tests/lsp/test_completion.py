"""Completion over stdio: option path segments where a name is typed (from the user's nixpkgs index when
there is one, here a small tree the test writes), package names in lists, documentation on resolve."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import ClientDocument, lsp_position, open_document, send_changes, server_config, start_session
from tests.nixpkgs_fixture import write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-completion-nixpkgs-")))
BASE = "{ config, pkgs, ... }:\n{\n  services = {\n    \n  };\n  environment.systemPackages = with pkgs; [ git ];\n}\n"
URI = "file:///tmp/nix-humanity-completion/configuration.nix"


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client, initialization_options={"nixHumanity": {"nixpkgsPath": str(TREE)}})
    for _ in range(50):  # wait until the server says the index is ready
        await lsp_client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if any(m.message.startswith("nixpkgs:") for m in lsp_client.log_messages):
            break
    yield
    await lsp_client.shutdown_session()


async def _complete_after(client: LanguageClient, doc: ClientDocument, needle: str) -> types.CompletionList:
    position = lsp_position(doc.text, doc.text.index(needle) + len(needle))
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(doc.uri), position)
    )
    assert isinstance(result, types.CompletionList)
    return result


async def test_segments_inside_a_nested_set_while_typing(client: LanguageClient):
    doc = await open_document(client, URI, BASE)
    at = doc.text.index("    \n") + 4
    await send_changes(client, doc, [doc.edit(at, at, "open")])
    found = await _complete_after(client, doc, "    open")
    (item,) = found.items
    assert item.label == "openssh" and item.kind == types.CompletionItemKind.Module
    assert item.text_edit.range == types.Range(lsp_position(doc.text, at), lsp_position(doc.text, at + 4))
    at = doc.text.index("open") + 4
    await send_changes(client, doc, [doc.edit(at, at, "ssh.")])
    labels = [i.label for i in (await _complete_after(client, doc, "openssh.")).items]
    assert {"enable", "ports", "settings", "package"} <= set(labels)
    assert "hostKeys" not in labels  # internal options are not offered


async def test_documentation_on_resolve(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "resolve"), BASE.replace("    \n", "    openssh.\n"))
    items = (await _complete_after(client, doc, "openssh.")).items
    ports = next(i for i in items if i.label == "ports")
    assert ports.documentation is None and ports.detail == "types.listOf types.port"
    resolved = await client.completion_item_resolve_async(ports)
    assert "Specifies on which ports the SSH daemon listens." in resolved.documentation.value


async def test_package_names_in_a_with_pkgs_list(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "packages"), BASE.replace("[ git ]", "[ git fire ]"))
    labels = [i.label for i in (await _complete_after(client, doc, "fire")).items]
    assert "firefox" in labels and all(label.startswith("fire") for label in labels)
    assert (await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(doc.uri), lsp_position(doc.text, doc.text.index("config,")))
    )) is None  # the function's arguments are not a place for options
