"""`nixHumanity.ask` over stdio: the server computes the change, asks when a word is ambiguous, applies the
edit through `workspace/applyEdit`, and remembers what the user picked."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.conftest import ClientDocument, apply_text_edits, open_document, server_config, start_session

STATE = tempfile.mkdtemp(prefix="nix-humanity-ask-state-")
BASE = "{ config, pkgs, ... }:\n{\n  networking.hostName = \"box\";\n}\n"


class Editor:
    """What the test client does for the server: apply edits to its copies, pick from message requests."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.documents: dict[str, ClientDocument] = {}
        self.answer: int | None = 0  # index of the action to pick; None = dismiss the question
        self.questions: list[types.ShowMessageRequestParams] = []

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        for change in params.edit.document_changes or []:
            doc = self.documents[change.text_document.uri]
            events = apply_text_edits(doc, list(change.edits))
            doc.version += 1
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version), events
                )
            )
        return types.ApplyWorkspaceEditResult(applied=True)

    def choose(self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        self.questions.append(params)
        return None if self.answer is None else params.actions[self.answer]


@pytest_lsp.fixture(scope="module", config=server_config(STATE))
async def client(lsp_client: LanguageClient):
    editor = Editor(lsp_client)

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return editor.apply(params)

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return editor.choose(params)

    lsp_client.editor = editor  # type: ignore[attr-defined]
    await start_session(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, name: str, text: str = BASE) -> ClientDocument:
    doc = await open_document(client, f"file:///tmp/ask/{name}.nix", text)
    client.editor.documents[doc.uri] = doc  # type: ignore[attr-defined]
    return doc


async def _ask(client: LanguageClient, uri: str, text: str) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="nixHumanity.ask", arguments=[{"uri": uri, "text": text}])
    )


async def test_request_is_applied_in_the_editor(client: LanguageClient):
    doc = await _open(client, "apply")
    result = await _ask(client, doc.uri, "please enable ssh and open port 8080")
    assert result["status"] == "applied"
    assert "Enable the OpenSSH server (services.openssh.enable)" in result["summary"]
    assert doc.text == (
        "{ config, pkgs, ... }:\n{\n  networking.hostName = \"box\";\n"
        "  services.openssh.enable = true;\n  networking.firewall.allowedTCPPorts = [ 8080 ];\n}\n"
    ) or doc.text == (
        "{ config, pkgs, ... }:\n{\n  networking.hostName = \"box\";\n"
        "  networking.firewall.allowedTCPPorts = [ 8080 ];\n  services.openssh.enable = true;\n}\n"
    )
    again = await _ask(client, doc.uri, "enable ssh")  # the server saw the applied edit: nothing left to do
    assert again["status"] == "noop"


async def test_ambiguous_word_asks_then_applies_and_remembers(client: LanguageClient):
    doc = await _open(client, "ambiguous")
    client.editor.answer = 0  # type: ignore[attr-defined]
    result = await _ask(client, doc.uri, "enable dokcer")
    (question,) = client.editor.questions  # type: ignore[attr-defined]
    assert "dokcer" in question.message
    assert question.actions[0].title == "Enable Docker (virtualisation.docker.enable)"
    assert result["status"] == "applied"
    assert "virtualisation.docker.enable = true;" in doc.text
    remembered = json.loads((Path(STATE) / "nix-humanity" / "choices.json").read_text())
    assert remembered["choices"] == {"dokcer": "feature:docker"}


async def test_dismissed_question_changes_nothing(client: LanguageClient):
    doc = await _open(client, "dismissed")
    client.editor.answer = None  # type: ignore[attr-defined]
    result = await _ask(client, doc.uri, "enable blutooth")
    assert result["status"] == "ambiguous"
    assert doc.text == BASE


@pytest.mark.parametrize(
    ("request_text", "status"),
    [("make me a sandwich", "not_understood"), ("", "not_understood"), ("open port 70000", "not_understood")],
)
async def test_bad_requests_change_nothing(client: LanguageClient, request_text: str, status: str):
    doc = await _open(client, f"bad-{abs(hash(request_text))}")
    result = await _ask(client, doc.uri, request_text)
    assert result["status"] == status
    assert result["summary"]
    assert doc.text == BASE


async def test_unknown_document_and_bad_arguments_are_errors(client: LanguageClient):
    with pytest.raises(JsonRpcException, match="is not open"):
        await _ask(client, "file:///tmp/ask/never-opened.nix", "enable ssh")
    with pytest.raises(JsonRpcException, match="takes one argument"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="nixHumanity.ask", arguments=["enable ssh"])
        )


async def test_file_with_syntax_errors_is_refused(client: LanguageClient):
    broken = "{\n  a = 1\n}\n"
    doc = await _open(client, "broken", broken)
    result = await _ask(client, doc.uri, "enable ssh")
    assert result["status"] == "error"
    assert "syntax errors" in result["summary"]
    assert doc.text == broken
