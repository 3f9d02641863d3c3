"""The plain client most LSP test modules use: one real server per module, VS Code's capabilities (UTF-16).
A module that needs more (handlers for applyEdit, other capabilities) defines its own `client`."""

from __future__ import annotations

import pytest_lsp
from pytest_lsp import LanguageClient

from tests.conftest import server_config, start_session


@pytest_lsp.fixture(scope="module", config=server_config())
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client)
    yield
    await lsp_client.shutdown_session()
