"""Completion over stdio: option path segments where a name is typed (from the user's nixpkgs index when
there is one, here a small tree the test writes), package names in lists, documentation on resolve, and
option values (an enum of the tree, switches, time zones, `system.stateVersion`) and list elements."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import ClientDocument, lsp_position, open_document, send_changes, server_config, start_with_nixpkgs
from tests.nixpkgs_fixture import write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-completion-nixpkgs-")))
(TREE / "lib" / ".version").write_text("25.11\n", encoding="utf-8")
BASE = "{ config, pkgs, ... }:\n{\n  services = {\n    \n  };\n  environment.systemPackages = with pkgs; [ git ];\n}\n"
URI = "file:///tmp/nix-humanity-completion/configuration.nix"


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def client(lsp_client: LanguageClient):
    await start_with_nixpkgs(lsp_client, TREE)
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


VALUES = """{ config, pkgs, ... }:
{
  services.openssh.settings.PermitRootLogin = "";
  services.openssh = {
    enable = t
  };
  time.timeZone = "Europe/Be";
  system.stateVersion = "";
}
"""


async def test_values_of_an_enum_inside_its_quotes(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "values"), VALUES)
    found = await _complete_after(client, doc, 'PermitRootLogin = "')
    assert [i.label for i in found.items] == ["yes", "prohibit-password", "no"]  # in the type's order
    assert [i.sort_text for i in found.items] == sorted(i.sort_text for i in found.items)
    assert all(i.kind == types.CompletionItemKind.EnumMember for i in found.items)
    default = next(i for i in found.items if i.label == "prohibit-password")
    assert default.detail == "default"
    at = lsp_position(doc.text, doc.text.index('PermitRootLogin = "') + len('PermitRootLogin = "'))
    assert default.text_edit.range == types.Range(at, at)  # inside the quotes: nothing typed yet


async def test_a_switch_while_typing_without_a_semicolon(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "switch"), VALUES)
    (item,) = (await _complete_after(client, doc, "enable = t")).items
    assert item.label == "true"
    start = doc.text.index("enable = t") + len("enable = ")
    assert item.text_edit.range == types.Range(lsp_position(doc.text, start), lsp_position(doc.text, start + 1))


@pytest.mark.skipif(not os.path.isdir("/usr/share/zoneinfo"), reason="no time zone database (tzdata) here")
async def test_time_zones_and_applying_one(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "zones"), VALUES)
    found = await _complete_after(client, doc, '"Europe/Be')
    berlin = next(i for i in found.items if i.label == "Europe/Berlin")
    start = doc.text.index('"Europe/Be') + 1
    end = start + len("Europe/Be")
    assert berlin.text_edit.range == types.Range(lsp_position(doc.text, start), lsp_position(doc.text, end))
    await send_changes(client, doc, [doc.edit(start, end, berlin.text_edit.new_text)])
    assert 'time.timeZone = "Europe/Berlin";' in doc.text


async def test_state_version_comes_with_its_warning_and_keeps_it_on_resolve(client: LanguageClient):
    doc = await open_document(client, URI.replace("configuration", "state"), VALUES)
    (item,) = (await _complete_after(client, doc, 'stateVersion = "')).items
    assert item.label == "25.11"  # the release of the indexed tree (`lib/.version`), nothing written yet
    assert "not the NixOS version you run" in item.documentation.value
    resolved = await client.completion_item_resolve_async(item)
    assert "not the NixOS version you run" in resolved.documentation.value


async def test_list_elements_of_an_enum_typed_list_while_typing(client: LanguageClient):
    text = '{ config, pkgs, ... }:\n{\n  networking.wireless.networks.home.authProtocols = [ "SAE" ];\n}\n'
    doc = await open_document(client, URI.replace("configuration", "elements"), text)
    at = doc.text.index('"SAE" ') + len('"SAE" ')
    await send_changes(client, doc, [doc.edit(at, at, '"W"')])
    found = await _complete_after(client, doc, '"SAE" "W')
    assert [i.label for i in found.items] == ["WPA-PSK", "WPA-EAP"]
    start = lsp_position(doc.text, at + 1)
    assert found.items[0].text_edit.range == types.Range(start, lsp_position(doc.text, at + 2))
    at = doc.text.index("[ ") + 2
    labels = [i.label for i in (await _complete_after(client, doc, "[ ")).items]
    assert '"SAE"' not in labels and '"OWE"' in labels  # quoted outside a string, not what the list holds
    await send_changes(client, doc, [doc.edit(at, at, "OW ")])
    (item,) = (await _complete_after(client, doc, "[ OW")).items
    await send_changes(client, doc, [doc.edit(at, at + 2, item.text_edit.new_text)])
    assert 'authProtocols = [ "OWE" "SAE" "W"];' in doc.text
