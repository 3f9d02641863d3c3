"""Request comments become quick fixes: `# enable docker`, the installer's `# Enable the OpenSSH daemon.`."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import ROOT, apply_text_edits, open_document

EXAMPLE = (ROOT / "examples" / "configuration.nix").read_text(encoding="utf-8")



async def _actions(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n")


async def test_installer_comment_switches_its_commented_line_on(client: LanguageClient):
    uri = "file:///tmp/actions/installer.nix"
    doc = await open_document(client, uri, EXAMPLE)
    (action,) = await _actions(client, uri, _line_of(EXAMPLE, "# Enable the OpenSSH daemon."))
    assert action.title == "Enable the OpenSSH server (services.openssh.enable)"
    assert action.kind == types.CodeActionKind.QuickFix
    (change,) = action.edit.document_changes
    assert change.text_document.version == 1
    apply_text_edits(doc, list(change.edits))
    assert "  # Enable the OpenSSH daemon.\n  services.openssh.enable = true;\n" in doc.text
    assert doc.text.replace("  services.openssh.enable = true;", "  # services.openssh.enable = true;") == EXAMPLE


async def test_typed_request_comment_is_replaced_by_the_setting(client: LanguageClient):
    uri = "file:///tmp/actions/typed.nix"
    text = "{ config, pkgs, ... }:\n{\n  # enable docker\n  networking.hostName = \"box\";\n}\n"
    doc = await open_document(client, uri, text)
    (action,) = await _actions(client, uri, 2)
    assert action.title == "Enable Docker (virtualisation.docker.enable)"
    assert action.is_preferred
    apply_text_edits(doc, list(action.edit.document_changes[0].edits))
    assert doc.text == "{ config, pkgs, ... }:\n{\n  networking.hostName = \"box\";\n  virtualisation.docker.enable = true;\n}\n"


async def test_module_first_package_second_and_unfree_allowed(client: LanguageClient):
    uri = "file:///tmp/actions/steam.nix"
    text = "{ pkgs, ... }:\n{\n  # install steam\n  environment.systemPackages = with pkgs; [ git ];\n}\n"
    await open_document(client, uri, text)
    actions = await _actions(client, uri, 2)
    assert [a.title for a in actions] == [
        "Enable Steam (programs.steam.enable)",
        "Install steam (environment.systemPackages)",
    ]
    assert actions[0].is_preferred and not actions[1].is_preferred
    for action in actions:
        added = "".join(e.new_text for e in action.edit.document_changes[0].edits)
        assert "nixpkgs.config.allowUnfree = true;" in added


async def test_no_actions_for_explanations_nonsense_or_broken_files(client: LanguageClient):
    uri = "file:///tmp/actions/plain.nix"
    text = "{\n  # Did you read the comment?\n  # make me a sandwich\n  a = 1;\n}\n"
    await open_document(client, uri, text)
    assert await _actions(client, uri, 1) == []
    assert await _actions(client, uri, 2) == []
    broken = "file:///tmp/actions/broken.nix"
    await open_document(client, broken, "{\n  # enable docker\n  a = 1\n}\n")
    assert await _actions(client, broken, 1) == []
