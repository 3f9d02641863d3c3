"""Go to definition over stdio: an option to its declaration in the user's nixpkgs (a small tree the test
writes, given by the `nixpkgsPath` setting) as a Location in another file, and a variable to its binding in the
same file, with positions in the client's encoding."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import client_with_nixpkgs, lsp_position
from tests.nixpkgs_fixture import SSHD, line_of, write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-definition-nixpkgs-")))
CONFIG = """{ config, pkgs, ... }:
let
  note = "😀 ☕"; zone = "Europe/Berlin";
in
{
  services.openssh = {
    enable = true;
  };
  services.openssh.ports = [ 2222 ];
  time.timeZone = zone;
  networking.firewall.enable = config.services.openssh.enable;
}
"""
URI = "file:///tmp/nix-humanity-definition/configuration.nix"


client = client_with_nixpkgs(TREE, URI, CONFIG)


async def _definition(client: LanguageClient, needle: str, offset: int = 0) -> list[types.Location]:
    result = await client.text_document_definition_async(
        types.DefinitionParams(types.TextDocumentIdentifier(URI), lsp_position(CONFIG, CONFIG.index(needle) + offset))
    )
    assert result is None or isinstance(result, list)
    return list(result or [])


def _sshd_range(needle: str, name: str) -> types.Range:
    line = line_of(SSHD, needle) - 1
    column = SSHD.splitlines()[line].index(name)
    return types.Range(types.Position(line, column), types.Position(line, column + len(name)))


async def test_options_go_to_their_declaration_in_another_file(client: LanguageClient):
    sshd = (TREE / "nixos/modules/services/networking/ssh/sshd.nix").as_uri()
    (nested,) = await _definition(client, "enable = true")
    assert nested.uri == sshd and nested.range == _sshd_range("enable = lib.mkEnableOption", "enable")
    (dotted,) = await _definition(client, "ports = [", 0)
    assert dotted.uri == sshd and dotted.range == _sshd_range("ports = mkOption", "ports")
    (read,) = await _definition(client, "openssh.enable;", len("openssh."))
    assert read == nested  # `config.services.openssh.enable` read in a value


async def test_a_variable_goes_to_its_let_binding_in_utf16(client: LanguageClient):
    (location,) = await _definition(client, "zone;", 2)
    assert location.uri == URI
    start = CONFIG.index("zone =")  # after an emoji on its line: UTF-16 columns differ from bytes
    assert location.range == types.Range(lsp_position(CONFIG, start), lsp_position(CONFIG, start + len("zone")))
    (argument,) = await _definition(client, "config.services")
    assert argument.range.start == lsp_position(CONFIG, CONFIG.index("config"))


async def test_nothing_where_nothing_is_defined(client: LanguageClient):
    assert await _definition(client, "true;") == []
    assert await _definition(client, "firewall.enable") == []  # not declared in the small tree
