"""Which nixpkgs a channel build from the editor uses: `-I nixpkgs=<nixpkgsPath>` only when the server's search
for nixpkgs ends at that setting (no channel or `NIX_PATH` names one); otherwise `<nixpkgs>` is what Nix finds.
Two real servers (one without and one with `NIX_PATH`), the stand-in nixos-rebuild recording its argv, real builds
of the fixture."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import server_config, start_session
from tests.rebuild_fixture import write_nixpkgs
from tests.rebuild_support import sandbox

BOX = sandbox(Path(tempfile.mkdtemp(prefix="nix-humanity-lsp-nixpkgs-")))
OTHER = write_nixpkgs(BOX.root / "channel")  # what NIX_PATH names for the second server
ARGV_LOG = BOX.root / "argv.jsonl"
ENV = {**BOX.env(), "NIX_HUMANITY_PYTHON_BACKEND": "false", "NIX_HUMANITY_TEST_ARGV_LOG": str(ARGV_LOG)}
SETTINGS = {"nixHumanity": {"nixpkgsPath": str(BOX.nixpkgs), "evaluation": {"enable": False}}}


async def start(client: LanguageClient) -> None:
    await start_session(client, initialization_options=SETTINGS,
                        workspace_folders=[types.WorkspaceFolder(BOX.config.parent.as_uri(), "config")])


@pytest_lsp.fixture(scope="module", config=server_config(str(BOX.state), **ENV))  # NIX_PATH=""
async def without_nix_path(lsp_client: LanguageClient):
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(scope="module", config=server_config(str(BOX.state), **{**ENV, "NIX_PATH": f"nixpkgs={OTHER}"}))
async def with_nix_path(lsp_client: LanguageClient):
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def build(client: LanguageClient) -> tuple[dict, list[str]]:
    """Build the sandbox's configuration; the answer and the argv nixos-rebuild was given."""
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("nixHumanity.build", [{"file": str(BOX.config)}]))
    return result, json.loads(ARGV_LOG.read_text().splitlines()[-1])


async def test_the_setting_is_passed_when_nothing_else_names_a_nixpkgs(without_nix_path: LanguageClient):
    result, argv = await build(without_nix_path)
    assert result["status"] == "ok", result["summary"]
    assert f"nixpkgs={BOX.nixpkgs.resolve()}" in argv and argv[argv.index(f"nixpkgs={BOX.nixpkgs.resolve()}") - 1] == "-I"

    # without the setting there is no nixpkgs at all, and the build says so (nothing is made up)
    without_nix_path.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        {"nixHumanity": {"nixpkgsPath": None}}))
    result, argv = await build(without_nix_path)
    assert result["status"] == "failed" and not any(a.startswith("nixpkgs=") for a in argv)
    assert "nixpkgs/nixos" in Path(result["logFile"]).read_text()
    without_nix_path.workspace_did_change_configuration(types.DidChangeConfigurationParams(SETTINGS))


async def test_nix_path_wins_over_the_setting_as_it_does_for_the_index(with_nix_path: LanguageClient):
    result, argv = await build(with_nix_path)
    assert result["status"] == "ok", result["summary"]
    assert not any(a.startswith("nixpkgs=") for a in argv)  # nixos-rebuild finds <nixpkgs> in NIX_PATH
    assert "nixos-config=" in " ".join(argv)
