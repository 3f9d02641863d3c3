"""Shared test set-up: helpers to start the real server over stdio with pytest-lsp."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Union

import attrs
import pytest_lsp
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "nix_humanity_ls"]
ROOT = Path(__file__).resolve().parent.parent
LSP_CONVERTER = get_converter()


# Servers started by tests remember request choices here, never in the user's own state directory.
STATE_DIR = tempfile.mkdtemp(prefix="nix-humanity-test-state-")


CACHE_DIR = tempfile.mkdtemp(prefix="nix-humanity-test-cache-")


def server_config(state_dir: str = STATE_DIR, **env: str) -> ClientServerConfig:
    """A server with its own state and cache directories (and any extra environment variables)."""
    return ClientServerConfig(
        server_command=SERVER_COMMAND,
        server_env={**os.environ, "XDG_STATE_HOME": state_dir, "XDG_CACHE_HOME": CACHE_DIR, **env},
    )


def fix_code_action_decoding(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 decodes a CodeAction that carries a `command` as a Command (stack notes §1)."""
    conv = client.protocol._converter
    conv.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda obj, _: conv.structure(obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction),
    )


async def start_session(
    client: LanguageClient, profile: str = "visual-studio-code", **init: object
) -> types.InitializeResult:
    fix_code_action_decoding(client)
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities(profile),
            root_uri=ROOT.as_uri(),
            **init,  # type: ignore[arg-type]
        )
    )


async def start_with_nixpkgs(client: LanguageClient, tree: Path) -> None:
    """Start a session whose `nixpkgsPath` setting is `tree` (start the server with `NIX_PATH=""`, so that no
    channel comes first), and wait until the server says it has indexed it."""
    await start_session(client, initialization_options={"nixHumanity": {"nixpkgsPath": str(tree)}})
    for _ in range(50):  # the index is built in the background; the server says when it is ready
        await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if any(m.message.startswith("nixpkgs:") and "Indexed" in m.message for m in client.log_messages):
            return


# -- helpers for tests that drive documents over the protocol ------------------------------------------------

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def lsp_position(text: str, index: int, encoding: str = "utf-16") -> types.Position:
    """The LSP position of code-point `index` in `text`, `character` counted in `encoding` (client side)."""
    line_start = 0
    line = 0
    for match in LINE_BREAK.finditer(text, 0, index):
        if match.end() > index:  # `index` between `\r` and `\n`: not a valid LSP position
            raise ValueError(f"index {index} splits a CRLF")
        line, line_start = line + 1, match.end()
    prefix = text[line_start:index]
    if encoding == "utf-8":
        character = len(prefix.encode("utf-8", "surrogatepass"))
    elif encoding == "utf-16":
        character = len(prefix.encode("utf-16-le", "surrogatepass")) // 2
    else:
        character = len(prefix)
    return types.Position(line, character)


@attrs.define
class ClientDocument:
    """A client's copy of an open document: it computes change ranges in the client's encoding, as an editor
    does, and keeps the text the server should hold."""

    uri: str
    text: str
    version: int = 1
    encoding: str = "utf-16"

    def item(self) -> types.TextDocumentItem:
        return types.TextDocumentItem(uri=self.uri, language_id="nix", version=self.version, text=self.text)

    def edit(self, start: int, end: int, new: str) -> types.TextDocumentContentChangePartial:
        """Replace code points `start`..`end` with `new` in the copy; the LSP change that says the same."""
        change = types.TextDocumentContentChangePartial(
            types.Range(lsp_position(self.text, start, self.encoding), lsp_position(self.text, end, self.encoding)),
            new,
        )
        self.text = self.text[:start] + new + self.text[end:]
        return change

    def replace_all(self, new: str) -> types.TextDocumentContentChangeWholeDocument:
        self.text = new
        return types.TextDocumentContentChangeWholeDocument(new)


async def open_document(
    client: LanguageClient, uri: str, text: str, version: int = 1, encoding: str = "utf-16"
) -> ClientDocument:
    """didOpen, then wait for the diagnostics the server publishes for it. `encoding` is the negotiated
    position encoding, in which the returned copy computes its change ranges."""
    doc = ClientDocument(uri, text, version, encoding)
    client.text_document_did_open(types.DidOpenTextDocumentParams(doc.item()))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return doc


def client_with_nixpkgs(tree: Path, uri: str, text: str):
    """A module's `client` fixture (`client = client_with_nixpkgs(TREE, URI, CONFIG)`): one real server for
    the module whose `nixpkgsPath` is `tree` (see `start_with_nixpkgs`), with `text` open at `uri`."""

    @pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
    async def client(lsp_client: LanguageClient):
        await start_with_nixpkgs(lsp_client, tree)
        await open_document(lsp_client, uri, text)
        yield
        await lsp_client.shutdown_session()

    return client


async def send_changes(
    client: LanguageClient, doc: ClientDocument, changes: list[types.TextDocumentContentChangeEvent], version: int | None = None
) -> None:
    """didChange with `changes` (already applied to `doc`'s copy), then wait for the new diagnostics."""
    doc.version = doc.version + 1 if version is None else version
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version), changes)
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def document_symbols(client: LanguageClient, uri: str) -> list[types.DocumentSymbol]:
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    return list(result or [])


def plain(value: object, uri: str | None = None) -> object:
    """An lsprotocol value as JSON-like data, with `uri` replaced by a placeholder (to compare two documents)."""
    data = LSP_CONVERTER.unstructure(value)
    if uri is None:
        return data
    return json.loads(json.dumps(data).replace(json.dumps(uri)[1:-1], "<uri>"))


def text_index(text: str, position: types.Position, encoding: str = "utf-16") -> int:
    """The code-point index of an LSP position in `text` (the inverse of `lsp_position`)."""
    starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
    start = starts[min(position.line, len(starts) - 1)]
    index, units = start, 0
    while index < len(text) and units < position.character and text[index] not in "\r\n":
        char = text[index]
        units += len(char.encode("utf-8", "surrogatepass")) if encoding == "utf-8" else (
            2 if encoding == "utf-16" and ord(char) > 0xFFFF else 1)
        index += 1
    return index


def apply_text_edits(doc: ClientDocument, edits: list[types.TextEdit]) -> list[types.TextDocumentContentChangePartial]:
    """Apply an edit's TextEdits to the client copy the way an editor does (last first), returning the
    didChange events that tell the server."""
    spans = sorted(
        ((text_index(doc.text, e.range.start, doc.encoding), text_index(doc.text, e.range.end, doc.encoding), e.new_text)
         for e in edits),
        reverse=True,
    )
    return [doc.edit(start, end, new) for start, end, new in spans]
