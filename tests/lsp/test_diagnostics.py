"""Syntax diagnostics over stdio: they appear on open, follow incremental edits, and clear when fixed."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient


URI = "file:///tmp/nix-humanity-test/configuration.nix"



async def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="nix", version=version, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def _change(client: LanguageClient, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(types.Range(types.Position(*start), types.Position(*end)), text)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def test_missing_semicolon_appears_and_clears(client: LanguageClient):
    uri = URI
    await _open(client, uri, "{\n  services.openssh.enable = true\n  networking.hostName = \"nixos\";\n}\n")
    diagnostics = client.diagnostics[uri]
    assert len(diagnostics) == 1
    assert diagnostics[0].message == "missing `;` after the value of `services.openssh.enable`"
    assert diagnostics[0].range.start == types.Position(1, 28)
    assert diagnostics[0].severity == types.DiagnosticSeverity.Error

    await _change(client, uri, 2, (1, 32), (1, 32), ";")
    assert len(client.diagnostics[uri]) == 0


async def test_unclosed_list_names_its_line(client: LanguageClient):
    uri = URI.replace("configuration", "unclosed")
    await _open(client, uri, "{\n  environment.systemPackages = with pkgs; [\n    firefox\n\n  time.timeZone = \"UTC\";\n}\n")
    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.message == "unclosed `[` opened on line 2: add `]` after `firefox`"
    assert diagnostic.range.start == types.Position(2, 4)
    assert diagnostic.related_information and diagnostic.related_information[0].location.range.start.line == 1


async def test_close_clears_diagnostics(client: LanguageClient):
    uri = URI.replace("configuration", "closing")
    await _open(client, uri, "{ a = 1 }")
    assert len(client.diagnostics[uri]) == 1
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert len(client.diagnostics[uri]) == 0


async def test_big_file_gets_syntax_first_then_the_whole_file_rules(client: LanguageClient):
    uri = URI.replace("configuration", "big")
    body = "".join(f"  services.s{i}.enable = true;\n" for i in range(3000))  # about 90 kB
    text = "{\n  networking.hostName = \"a\";\n" + body + "  networking.hostName = \"b\";\n}\n"
    await _open(client, uri, text)
    assert len(client.diagnostics[uri]) == 0  # syntax alone: the file parses
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    (duplicate,) = client.diagnostics[uri]
    assert duplicate.range.start.line == 3002
    assert "networking.hostName" in duplicate.message
