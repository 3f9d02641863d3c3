"""Shared test set-up: helpers to start the real server over stdio with pytest-lsp."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Union

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "nix_humanity_ls"]
ROOT = Path(__file__).resolve().parent.parent


def server_config() -> ClientServerConfig:
    return ClientServerConfig(server_command=SERVER_COMMAND)


def fix_code_action_decoding(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 decodes a CodeAction that carries a `command` as a Command (stack notes §1)."""
    conv = client.protocol._converter
    conv.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda obj, _: conv.structure(obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction),
    )


async def start_session(client: LanguageClient, profile: str = "visual-studio-code", **init: object) -> None:
    fix_code_action_decoding(client)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities(profile),
            root_uri=ROOT.as_uri(),
            **init,  # type: ignore[arg-type]
        )
    )
