"""Hover over stdio against a real (small) nixpkgs tree the test writes: options in any spelling, renamed
and removed options, packages in a list, and the explanation styles."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import client_with_nixpkgs, lsp_position
from tests.nixpkgs_fixture import SSHD, line_of, write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-hover-nixpkgs-")))
CONFIG = """{ config, pkgs, ... }:
{
  services.openssh = {
    enable = true;
    ports = [ 2222 ];
  };
  services.openssh.permitRootLogin = "no";
  environment.systemPackages = with pkgs; [ firefox ];
  networking.hostName = "box";
}
"""
URI = "file:///tmp/nix-humanity-hover/configuration.nix"


client = client_with_nixpkgs(TREE, URI, CONFIG)


async def _hover(client: LanguageClient, needle: str, offset: int = 1) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(URI), lsp_position(CONFIG, CONFIG.index(needle) + offset))
    )


async def test_the_index_of_the_users_nixpkgs_is_announced(client: LanguageClient):
    (said,) = [m.message for m in client.log_messages if m.message.startswith("nixpkgs:")]
    assert str(TREE) in said
    assert "Indexed" in said and "options" in said


async def test_nested_spelling_explains_the_full_option(client: LanguageClient):
    found = await _hover(client, "enable = true")
    assert found is not None
    text = found.contents.value
    assert text.startswith("**services.openssh.enable** — Lets you log in to this machine")  # our words
    assert "the OpenSSH secure shell daemon" in text  # nixpkgs' description
    assert f"nixos/modules/services/networking/ssh/sshd.nix:{line_of(SSHD, 'enable = lib.mkEnableOption')}" in text
    assert found.range.start == lsp_position(CONFIG, CONFIG.index("enable = true"))


async def test_type_and_default_and_the_set_itself(client: LanguageClient):
    ports = (await _hover(client, "ports = [")).contents.value
    assert "It takes a list of port numbers from 0 to 65535 (`types.listOf types.port`)." in ports
    assert "When you leave it out, it is `[ 22 ]`." in ports and "services.openssh.ports = [ 22 ];" in ports
    group = (await _hover(client, "openssh = {")).contents.value
    assert group.startswith("**services.openssh**") and "`enable`" in group and "`ports`" in group


async def test_renamed_option_says_the_new_name(client: LanguageClient):
    text = (await _hover(client, "permitRootLogin")).contents.value
    assert "`services.openssh.permitRootLogin` became `services.openssh.settings.PermitRootLogin`" in text


async def test_package_in_a_list(client: LanguageClient):
    found = await _hover(client, "firefox ]")
    assert found is not None and found.contents.value.startswith("**firefox** — ")


async def test_nothing_for_plain_values_and_concise_style(client: LanguageClient):
    assert await _hover(client, '"box"') is None
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"nixHumanity": {"explanationStyle": "concise", "nixpkgsPath": str(TREE)}})
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    text = (await _hover(client, "enable = true")).contents.value
    assert "Declared in" not in text and text.startswith("**services.openssh.enable** — ")
    assert "\n" not in text and text.endswith("· `types.bool`")  # one line, with the type
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"nixHumanity": {"explanationStyle": "expert", "nixpkgsPath": str(TREE)}})
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    text = (await _hover(client, "enable = true")).contents.value
    line = line_of(SSHD, "enable = lib.mkEnableOption")
    assert text.startswith("**services.openssh.enable** `types.bool`") and "- default: `false`" in text
    assert f"- declared by `mkEnableOption` in [nixos/modules/services/networking/ssh/sshd.nix:{line}]" in text
