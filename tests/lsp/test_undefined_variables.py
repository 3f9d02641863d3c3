"""Undefined variables over stdio, while the user types: the diagnostic appears as an undefined name is
typed and goes away when it is fixed (by hand or by the quick fix); with the user's nixpkgs indexed (a small
tree the test writes), a name under `with pkgs;` that is no package is a warning with a fix, and `with lib;`
says nothing; a file with two undefined names offers the fix of each."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import (
    ClientDocument,
    apply_text_edits,
    lsp_position,
    open_document,
    send_changes,
    server_config,
    start_session,
    start_with_nixpkgs,
)
from tests.nixpkgs_fixture import write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-scope-nixpkgs-")))
# A package-list option, as nixos/modules/config/system-path.nix declares it, so that the option checks judge
# its packages too (the two checkers must not report the same name twice).
(TREE / "nixos/modules/config/system-path.nix").write_text("""{ config, lib, pkgs, ... }:
{
  options.environment.systemPackages = lib.mkOption {
    type = lib.types.listOf lib.types.package;
    default = [ ];
    description = "Packages installed for every user.";
  };
}
""", encoding="utf-8")
MODULE_LIST = TREE / "nixos/modules/module-list.nix"
MODULE_LIST.write_text(MODULE_LIST.read_text(encoding="utf-8").replace("[\n", "[\n  ./config/system-path.nix\n", 1),
                       encoding="utf-8")
URI = "file:///tmp/nix-humanity-scope/configuration.nix"


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def indexed(lsp_client: LanguageClient):
    await start_with_nixpkgs(lsp_client, TREE)
    yield
    await lsp_client.shutdown_session()


async def _fixes(client: LanguageClient, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), diagnostic.range, types.CodeActionContext([diagnostic])))
    return [a for a in actions or [] if isinstance(a, types.CodeAction)]


async def _fix(client: LanguageClient, doc: ClientDocument, message: str, title: str) -> types.CodeAction:
    """The one diagnostic says `message`; apply its fix titled `title` as an editor does; it is gone then."""
    (diagnostic,) = client.diagnostics[doc.uri]
    assert diagnostic.message == message
    (action,) = [a for a in await _fixes(client, doc.uri, diagnostic) if a.title == title]
    await _apply(client, doc, action)
    assert not client.diagnostics[doc.uri]
    return action


async def _apply(client: LanguageClient, doc: ClientDocument, action: types.CodeAction) -> None:
    """Apply the action's edit of `doc` as an editor does, and wait for the new diagnostics."""
    assert action.edit is not None and action.edit.document_changes
    (change,) = action.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    await send_changes(client, doc, apply_text_edits(doc, list(change.edits)))


async def test_appears_while_typing_and_goes_away_when_fixed(client: LanguageClient):
    uri = URI.replace("configuration", "typing")
    doc = await open_document(client, uri, "{ pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.git ];\n}\n")
    assert not client.diagnostics[uri]
    at = doc.text.index(" ];")
    for letter in " hello":  # typed one letter at a time, as an editor sends it
        await send_changes(client, doc, [doc.edit(at, at, letter)])
        at += 1
    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.message == "undefined variable `hello`: nothing by this name is defined here"
    assert diagnostic.severity == types.DiagnosticSeverity.Error and diagnostic.code == "undefined-variable"
    start = doc.text.index("hello")
    assert diagnostic.range == types.Range(lsp_position(doc.text, start), lsp_position(doc.text, start + 5))
    await send_changes(client, doc, [doc.edit(start, start, "pkgs.")])
    assert not client.diagnostics[uri]


async def test_quick_fix_adds_pkgs_to_the_module_arguments(client: LanguageClient):
    uri = URI.replace("configuration", "arguments")
    doc = await open_document(client, uri, "{ config, ... }:\n{\n  environment.systemPackages = [ pkgs.git ];\n}\n")
    action = await _fix(client, doc, "undefined variable `pkgs`: the module does not take `pkgs` as an argument",
                        "Add `pkgs` to the module's arguments")
    assert action.is_preferred and doc.text.startswith("{ config, pkgs, ... }:")


async def test_quick_fix_corrects_a_misspelt_name(client: LanguageClient):
    uri = URI.replace("configuration", "spelling")
    text = "{ pkgs, ... }:\nlet\n  myTools = [ pkgs.git ];\nin\n{\n  environment.systemPackages = myTols;\n}\n"
    doc = await open_document(client, uri, text)
    await _fix(client, doc, "undefined variable `myTols`: did you mean `myTools`?", "Change to `myTools`")
    assert "= myTools;" in doc.text


async def test_a_name_under_with_pkgs_that_is_no_package(indexed: LanguageClient):
    uri = URI.replace("configuration", "packages")
    text = "{ pkgs, ... }:\nlet\n  tools = with pkgs; [ firefox ];\nin\n{ }\n"
    doc = await open_document(indexed, uri, text)
    assert not indexed.diagnostics[uri]
    at = doc.text.index("firefox") + 2
    await send_changes(indexed, doc, [doc.edit(at, at + 1, "")])  # `fiefox`
    await send_changes(indexed, doc, [doc.edit(at + 1, at + 1, "r")])  # `fierfox`
    assert indexed.diagnostics[uri][0].severity == types.DiagnosticSeverity.Warning
    await _fix(indexed, doc, "`fierfox` is not a package in your nixpkgs: did you mean `firefox`?", "Change to `firefox`")
    assert "[ firefox ]" in doc.text


async def test_a_package_list_option_shows_one_warning_not_two(indexed: LanguageClient):
    uri = URI.replace("configuration", "option-list")
    await open_document(indexed, uri, "{ pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ fierfox ];\n}\n")
    (diagnostic,) = indexed.diagnostics[uri]
    assert diagnostic.severity == types.DiagnosticSeverity.Warning and "fierfox" in diagnostic.message


async def test_with_lib_says_nothing(indexed: LanguageClient):
    uri = URI.replace("configuration", "with-lib")
    text = "{ lib, pkgs, ... }:\nlet\n  tools = with lib; [ fierfox ];\n  more = with pkgs; with lib; [ fierfox ];\nin\n{ }\n"
    await open_document(indexed, uri, text)
    assert not indexed.diagnostics[uri]


async def test_two_undefined_names_each_get_their_fix(client: LanguageClient):
    """Fixing the first name leaves the second undefined; Nix's parser, which stops at the first undefined
    name, must not count that as an objection to the fix (the check only asks "does it still parse")."""
    uri = URI.replace("configuration", "two-names")
    text = ("{ pkgs, ... }:\nlet\n  myTools = [ pkgs.git ];\n  myFonts = [ ];\nin\n{\n"
            "  environment.systemPackages = myTols;\n  fonts.packages = myFnts;\n}\n")
    doc = await open_document(client, uri, text)
    first, second = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
    assert first.message == "undefined variable `myTols`: did you mean `myTools`?"
    assert second.message == "undefined variable `myFnts`: did you mean `myFonts`?"
    assert "Change to `myTools`" in [a.title for a in await _fixes(client, uri, first)]
    assert "Change to `myFonts`" in [a.title for a in await _fixes(client, uri, second)]
    (action,) = [a for a in await _fixes(client, uri, first) if a.title == "Change to `myTools`"]
    await _apply(client, doc, action)
    (left,) = client.diagnostics[uri]
    assert left.message == second.message
    await _fix(client, doc, second.message, "Change to `myFonts`")
    assert "= myTools;" in doc.text and "= myFonts;" in doc.text
