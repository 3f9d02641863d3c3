"""Option and package diagnostics over stdio, against a small nixpkgs tree the test writes and the server
indexes: they appear once the index is loaded (without another edit), follow edits, carry quick fixes whose
edits give text the real `nix-instantiate --parse` accepts, leave fine names alone, and follow the
explanation style setting."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import ClientDocument, apply_text_edits, lsp_position, send_changes, server_config, start_session
from tests.option_checks_fixture import nix_accepts, write_checks_tree

TREE = write_checks_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-checks-nixpkgs-")))
SETTINGS = {"nixHumanity": {"nixpkgsPath": str(TREE)}}
CONFIG = """{ config, lib, pkgs, ... }:
{
  services.ngnx.enable = true;
  services.openssh.enable = "yes";
  networking.firewall.allowedTCPPorts = 22;
  services.openssh.permitRootLogin = "no";
  services.oldthing.enable = true;
  environment.systemPackages = with pkgs; [ firefx hello ];
  users.users.alice.isNormalUser = true;
  fileSystems."/".device = "/dev/sda1";
  networking.interfaces.eth0.useDHCP = true;
  services.openssh.settings.X11Forwarding = true;
}
"""
URI = "file:///tmp/nix-humanity-checks/configuration.nix"


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client, initialization_options=SETTINGS)
    # Opened at once, before the index is (likely) ready: the option diagnostics must still arrive by themselves.
    lsp_client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "nix", 1, CONFIG)))
    for _ in range(50):
        await lsp_client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if any(m.message.startswith("nixpkgs:") for m in lsp_client.log_messages):
            break
    for _ in range(20):
        if any(d.code == "unknown-option" for d in lsp_client.diagnostics.get(URI, [])):
            break
        try:
            await asyncio.wait_for(lsp_client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)
        except TimeoutError as error:
            raise AssertionError(f"no option diagnostics after the index was loaded: {lsp_client.diagnostics}") from error
    yield
    await lsp_client.shutdown_session()


def _shown(client: LanguageClient, uri: str, text: str) -> list[tuple[str, str, types.DiagnosticSeverity]]:
    lines = text.splitlines()
    found = []
    for d in client.diagnostics[uri]:
        assert d.range.start.line == d.range.end.line
        found.append((str(d.code), lines[d.range.start.line][d.range.start.character : d.range.end.character], d.severity))
    return found


async def _fixes(client: LanguageClient, uri: str, text: str, needle: str) -> list[types.CodeAction]:
    at = lsp_position(text, text.index(needle) + 1)
    result = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), types.Range(at, at),
        types.CodeActionContext(diagnostics=list(client.diagnostics[uri])),
    ))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_diagnostics_arrive_once_the_index_is_loaded(client: LanguageClient):
    W, E = types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Error
    assert _shown(client, URI, CONFIG) == [
        ("unknown-option", "ngnx", W),
        ("wrong-type", '"yes"', E),
        ("wrong-type", "22", E),
        ("renamed-option", "services.openssh.permitRootLogin", W),
        ("removed-option", "services.oldthing", E),
        ("unknown-package", "firefx", W),
    ]
    messages = {str(d.code): d.message for d in client.diagnostics[URI]}
    assert messages["wrong-type"] in ('`services.openssh.enable` takes true or false, but this is the text "yes".',
                                      "`networking.firewall.allowedTCPPorts` takes a list of port numbers from 0 to "
                                      "65535, but this is the number 22.")
    assert messages["unknown-package"] == "Your nixpkgs has no package `firefx`. Did you mean `firefox`?"


@pytest.mark.parametrize(("needle", "title", "before", "after"), [
    ("ngnx", "Change to `services.nginx.enable`", "services.ngnx.enable", "services.nginx.enable"),
    ('"yes"', "Use true", 'enable = "yes";', "enable = true;"),
    ("22;", "Put it in a list: [ 22 ]", "allowedTCPPorts = 22;", "allowedTCPPorts = [ 22 ];"),
    ("permitRootLogin", "Use the new name `services.openssh.settings.PermitRootLogin`",
     "services.openssh.permitRootLogin", "services.openssh.settings.PermitRootLogin"),
    ("firefx", "Change to `firefox`", "[ firefx hello ]", "[ firefox hello ]"),
])
async def test_quick_fixes_carry_their_diagnostic_and_give_valid_nix(client: LanguageClient, needle: str, title: str,
                                                                      before: str, after: str):
    (action,) = [a for a in await _fixes(client, URI, CONFIG, needle) if a.diagnostics]
    assert action.title == title and action.kind == types.CodeActionKind.QuickFix
    (diagnostic,) = action.diagnostics
    assert diagnostic.range.start.line == CONFIG[: CONFIG.index(needle)].count("\n")
    doc = ClientDocument(URI, CONFIG)
    apply_text_edits(doc, list(action.edit.document_changes[0].edits))
    assert doc.text == CONFIG.replace(before, after, 1)
    nix_accepts(doc.text)


async def test_removal_fix_deletes_the_line(client: LanguageClient):
    (action,) = [a for a in await _fixes(client, URI, CONFIG, "oldthing") if a.diagnostics]
    doc = ClientDocument(URI, CONFIG)
    apply_text_edits(doc, list(action.edit.document_changes[0].edits))
    assert doc.text == CONFIG.replace("  services.oldthing.enable = true;\n", "")
    nix_accepts(doc.text)


async def test_diagnostics_follow_edits_and_fixed_text_is_clean(client: LanguageClient):
    uri = URI.replace("configuration", "editing")
    text = "{ pkgs, ... }:\n{\n  services.openssh.enable = true;\n}\n"
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "nix", 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    doc = ClientDocument(uri, text)
    start = text.index("openssh")
    await send_changes(client, doc, [doc.edit(start + 4, start + 5, "")])  # openssh → opensh
    assert _shown(client, uri, doc.text) == [("unknown-option", "opensh", types.DiagnosticSeverity.Warning)]
    (action,) = [a for a in await _fixes(client, uri, doc.text, "opensh") if a.diagnostics]
    await send_changes(client, doc, apply_text_edits(doc, list(action.edit.document_changes[0].edits)))
    assert doc.text == text and list(client.diagnostics[uri]) == []


async def test_names_that_are_fine_get_no_diagnostic(client: LanguageClient):
    uri = URI.replace("configuration", "fine")
    text = CONFIG.split("  services.ngnx", 1)[0] + CONFIG.split("isNormalUser = true;\n", 1)[1]
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "nix", 1, text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert "fileSystems" in text and list(client.diagnostics[uri]) == []


async def test_explanation_style_changes_the_words(client: LanguageClient):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        {"nixHumanity": {"explanationStyle": "concise", "nixpkgsPath": str(TREE)}}))
    for _ in range(10):
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if any(d.message == "unknown package `firefx`; did you mean `firefox`?" for d in client.diagnostics[URI]):
            break
    assert "unknown option `services.ngnx`; did you mean `services.nginx.enable`?" in [
        d.message for d in client.diagnostics[URI]]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        {"nixHumanity": {"explanationStyle": "friendly", "nixpkgsPath": str(TREE)}}))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
