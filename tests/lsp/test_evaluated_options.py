"""The evaluated options over stdio: the server indexes the fixture nixpkgs statically, answers at once, then
real Nix evaluates the workspace's configuration in the background; when the options arrive, an option only
the evaluation knows (declared by the user's own module) is in hover and completion, the log says so and
open documents are published again. An evaluation that never finishes is stopped at `evaluation.timeout` with
a warning, and the static index stays in use.

The configuration reads a FIFO, so the test decides when the evaluation can finish: before that, the
user's option is unknown; after, it is known."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import lsp_position, open_document, send_changes, server_config, start_session
from tests.nixpkgs_fixture import USER_MODULE, write_tree

pytestmark = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="needs nix-instantiate")

SCRATCH = Path(tempfile.mkdtemp(prefix="nix-humanity-evaluated-"))
TREE = write_tree(SCRATCH / "nixpkgs", evaluation=True)
WAITING = """\
{ config, ... }:
{
  imports = [ ./my-module.nix ];
  networking.hostName = builtins.readFile ./fifo;
}
"""
DOCUMENT = """\
{ config, pkgs, ... }:
{
  my.backup.target = "/mnt/usb";
  services.openssh.enable = true;
  my = {
    
  };
}
"""


def _workspace(name: str) -> Path:
    folder = SCRATCH / name
    folder.mkdir()
    (folder / "configuration.nix").write_text(WAITING, encoding="utf-8")
    (folder / "my-module.nix").write_text(USER_MODULE, encoding="utf-8")
    os.mkfifo(folder / "fifo")
    return folder


CONFIG = _workspace("config")
SLOW = _workspace("slow")  # its FIFO is never written
URI = (CONFIG / "configuration.nix").as_uri()


async def _session(client: LanguageClient, folder: Path, **evaluation: object) -> None:
    await start_session(
        client,
        initialization_options={"nixHumanity": {"nixpkgsPath": str(TREE), "evaluation": evaluation}},
        workspace_folders=[types.WorkspaceFolder(folder.as_uri(), folder.name)],
    )
    await _logged(client, "nixpkgs: Using nixpkgs at")


async def _logged(client: LanguageClient, start: str) -> types.LogMessageParams:
    """The first log message that starts with `start`, waiting for it if need be."""
    for _ in range(100):
        found = [m for m in client.log_messages if m.message.startswith(start)]
        if found:
            return found[0]
        await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
    raise AssertionError(f"no log message starting {start!r}")


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH="", NIXOS_CONFIG=""))
async def client(lsp_client: LanguageClient):
    await _session(lsp_client, CONFIG)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH="", NIXOS_CONFIG=""))
async def slow_client(lsp_client: LanguageClient):
    await _session(lsp_client, SLOW, timeout=1)
    yield
    await lsp_client.shutdown_session()


async def _hover(client: LanguageClient, text: str, needle: str) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(URI), lsp_position(text, text.index(needle) + 1))
    )


def _release(fifo: Path) -> None:
    with open(fifo, "w", encoding="utf-8") as handle:  # blocks until Nix opens it
        handle.write("box")


async def test_options_only_the_evaluation_knows_arrive_later(client: LanguageClient):
    doc = await open_document(client, URI, DOCUMENT)
    assert not [m for m in client.log_messages if m.message.startswith("nixpkgs: evaluated")]
    assert await _hover(client, doc.text, "target =") is None  # the static index cannot know the user's module
    ssh = await _hover(client, doc.text, "enable = true")
    assert ssh is not None and "`boolean`" not in ssh.contents.value  # the static index has the source text

    del client.diagnostics[URI]
    await asyncio.to_thread(_release, CONFIG / "fifo")
    said = await _logged(client, "nixpkgs: evaluated")
    assert said.type == types.MessageType.Info
    assert said.message == (f"nixpkgs: evaluated 8 options of {CONFIG / 'configuration.nix'}; "
                            "3 more than the static index")
    for _ in range(100):  # the open document is published again
        if URI in client.diagnostics:
            break
        await asyncio.sleep(0.05)
    assert URI in client.diagnostics

    found = await _hover(client, doc.text, "target =")
    assert found is not None
    text = found.contents.value
    assert text.startswith("**my.backup.target**") and "Where backups go." in text
    assert "`string`" in text and f"{CONFIG / 'my-module.nix'}:5" in text
    ssh = await _hover(client, doc.text, "enable = true")
    assert ssh is not None and "`boolean`" in ssh.contents.value  # Nix's name of the type: evaluated facts win

    at = doc.text.index("    \n") + 4
    await send_changes(client, doc, [doc.edit(at, at, "backup.")])
    result = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(URI), lsp_position(doc.text, at + len("backup."))))
    assert isinstance(result, types.CompletionList)
    assert {"enable", "target"} <= {item.label for item in result.items}


async def test_an_evaluation_that_never_ends_leaves_the_static_index(slow_client: LanguageClient):
    said = await _logged(slow_client, "nixpkgs: evaluating the options")
    assert said.type == types.MessageType.Warning
    assert said.message == (f"nixpkgs: evaluating the options of {SLOW / 'configuration.nix'} took longer than 1 s "
                            "(setting `evaluation.timeout`) and was stopped; the static index stays in use")
    uri = (SLOW / "configuration.nix").as_uri()
    await open_document(slow_client, uri, DOCUMENT)
    found = await slow_client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), lsp_position(DOCUMENT, DOCUMENT.index("enable = true"))))
    assert found is not None and "the OpenSSH secure shell daemon" in found.contents.value
    assert await slow_client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), lsp_position(DOCUMENT, DOCUMENT.index("target =")))
    ) is None
