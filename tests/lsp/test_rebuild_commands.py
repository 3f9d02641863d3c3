"""The rebuild commands over stdio with the real server: `$/progress` from begin to end, cancel of a sleeping
build (from the progress UI and with `nixHumanity.cancel`), the question before a switch answered no and yes
(the fixture's activation record says what really ran), findings published on the imported module they belong
to (not open in the editor), with quick fixes and the log one click away, cleared by the next good build."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import apply_text_edits, open_document, server_config, start_session
from tests.rebuild_fixture import config_with
from tests.rebuild_support import sandbox

BOX = sandbox(Path(tempfile.mkdtemp(prefix="nix-humanity-lsp-rebuild-")))
ENV = {**BOX.env(), "NIX_PATH": f"nixpkgs={BOX.nixpkgs}", "NIX_HUMANITY_PYTHON_BACKEND": "false"}
MODULE = BOX.config.parent / "services.nix"
GOOD_MODULE = "{ pkgs, ... }:\n{\n  services.openssh.enable = true;\n}\n"
BAD_MODULE = "{ pkgs, ... }:\n{\n  services.openssh.enabel = true;\n}\n"


def configure(body: str = config_with("imports = [ ./services.nix ];"), module: str = GOOD_MODULE) -> None:
    BOX.config.write_text(body)
    MODULE.write_text(module)


class Editor:
    """Answers the server's questions as the test says, and keeps them."""

    def __init__(self) -> None:
        self.answer: str | None = "Yes"
        self.questions: list[str] = []

    def choose(self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        self.questions.append(params.message)
        return next((a for a in params.actions or [] if a.title == self.answer), None)


EDITOR = Editor()


@pytest_lsp.fixture(scope="module", config=server_config(str(BOX.state), **ENV))
async def client(lsp_client: LanguageClient):
    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return EDITOR.choose(params)

    configure()
    running = BOX.build(BOX.config)  # the "current system" the switch is compared with
    os.symlink(running, BOX.root / "current-system")
    await start_session(lsp_client, workspace_folders=[types.WorkspaceFolder(BOX.config.parent.as_uri(), "config")])
    yield
    await lsp_client.shutdown_session()


async def command(client: LanguageClient, name: str, argument: dict | None = None) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(name, [argument if argument is not None else {"file": str(BOX.config)}]))


def new_tokens(client: LanguageClient, before: set) -> list:
    return [token for token in client.progress_reports if token not in before]


async def published(client: LanguageClient, uri: str, timeout: float = 30) -> list[types.Diagnostic]:
    """Wait for the next diagnostics of `uri` (other files' notifications are skipped)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        params = await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                                        end - time.monotonic())
        if params.uri == uri:
            return list(params.diagnostics)
    raise TimeoutError(f"no diagnostics for {uri}")


async def test_build_reports_progress_from_begin_to_end(client: LanguageClient):
    configure(config_with(f'imports = [ ./services.nix ];\nfixture.parts = 3;\nfixture.salt = "p-{time.time()}";'))
    before = set(client.progress_reports)
    result = await command(client, "nixHumanity.build")
    assert result["status"] == "ok", result["summary"]
    assert result["backend"] == "nixos-rebuild" and "storePath" in result and Path(result["logFile"]).is_file()
    assert result["logUri"] == Path(result["logFile"]).as_uri() and result["findings"] == 0
    [token] = new_tokens(client, before)
    reports = client.progress_reports[token]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and reports[-1].message == result["summary"]
    middle = [r.message for r in reports[1:-1]]
    assert all(isinstance(r, types.WorkDoneProgressReport) for r in reports[1:-1])
    assert any(m and m.startswith("building ") for m in middle), middle


@pytest.mark.parametrize("how", ["progress", "command"])
async def test_cancel_stops_a_sleeping_build(client: LanguageClient, how: str):
    configure(config_with(f'imports = [ ./services.nix ];\nfixture.sleepSeconds = 120;\nfixture.salt = "{how}-{time.time()}";'))
    before = set(client.progress_reports)
    started = time.monotonic()
    running = asyncio.ensure_future(command(client, "nixHumanity.build"))
    while not any(isinstance(r, types.WorkDoneProgressReport) and (r.message or "").startswith("building")
                  for token in new_tokens(client, before) for r in client.progress_reports[token]):
        assert time.monotonic() - started < 60 and not running.done()
        await asyncio.sleep(0.05)
    [token] = new_tokens(client, before)
    if how == "progress":
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token))
    else:
        assert (await command(client, "nixHumanity.cancel"))["status"] == "cancelling"
    result = await asyncio.wait_for(running, 30)
    assert result["status"] == "cancelled" and time.monotonic() - started < 60
    assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    assert (await command(client, "nixHumanity.cancel"))["status"] == "idle"


async def test_switch_asks_first_and_no_activates_nothing(client: LanguageClient):
    configure(config_with("imports = [ ./services.nix ];", packages="hello git firefox"))
    EDITOR.answer, EDITOR.questions = "No", []
    result = await command(client, "nixHumanity.switch")
    assert result["status"] == "declined" and BOX.activated() == []
    [question] = EDITOR.questions
    assert question.startswith("Switch to the new system") and "1 package added (firefox 133.0)" in question
    assert result["changes"]["added"] == [{"name": "firefox", "version": "133.0"}]

    EDITOR.answer, EDITOR.questions = "Yes", []
    result = await command(client, "nixHumanity.switch")
    assert result["status"] == "ok", result["summary"]
    assert len(EDITOR.questions) == 1 and BOX.activated() == [f"switch {result['storePath']}"]
    generations = await command(client, "nixHumanity.listGenerations", {})
    assert generations["status"] == "ok" and generations["generations"][0]["current"]
    assert generations["generations"][0]["storePath"] == result["storePath"]


async def test_findings_on_the_imported_module_with_fixes_then_cleared(client: LanguageClient):
    configure(module=BAD_MODULE)
    uri = MODULE.as_uri()
    waiting = asyncio.ensure_future(published(client, uri))
    result = await command(client, "nixHumanity.dryBuild")
    assert result["status"] == "failed" and result["findings"] >= 1
    [diagnostic] = await waiting  # published although the file is not open
    assert diagnostic.code == "option-does-not-exist" and diagnostic.source == "nixos-rebuild"
    assert diagnostic.range.start == types.Position(2, 2) and diagnostic.range.end == types.Position(2, 25)
    assert "services.openssh.enabel" in diagnostic.message
    assert diagnostic.code_description.href == result["logUri"]  # the whole output, one click away
    assert Path(diagnostic.data["logFile"]).read_text().count("services.openssh.enabel") >= 1
    assert "does not exist" in diagnostic.data["raw"]

    # opened in the editor: our diagnostic stays, and its quick fixes apply there
    doc = await open_document(client, uri, BAD_MODULE)
    assert [d.code for d in client.diagnostics[uri]] == ["option-does-not-exist"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), diagnostic.range, types.CodeActionContext([diagnostic])))
    fix = next(a for a in actions if a.title == "Did you mean `services.openssh.enable`?")
    [change] = fix.edit.document_changes
    apply_text_edits(doc, list(change.edits))
    assert doc.text == GOOD_MODULE and fix.diagnostics[0].code == "option-does-not-exist"

    # the next good build clears it
    MODULE.write_text(doc.text)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri), [types.TextDocumentContentChangeWholeDocument(doc.text)]))
    assert await published(client, uri) == []  # edited: the finding no longer points at the right place
    waiting = asyncio.ensure_future(published(client, uri))
    result = await command(client, "nixHumanity.dryBuild")
    assert result["status"] == "ok", result["summary"]
    assert await waiting == []
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


async def test_saving_builds_nothing_unless_build_on_save_is_on(client: LanguageClient):
    configure(module=BAD_MODULE)
    uri = BOX.config.as_uri()
    history = BOX.state / "nix-humanity" / "history.jsonl"
    await open_document(client, uri, BOX.config.read_text())
    count = len(history.read_text().splitlines())
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await asyncio.sleep(1.5)
    assert len(history.read_text().splitlines()) == count  # a configuration is code: never run unasked

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        {"nixHumanity": {"rebuild": {"buildOnSave": True}}}))
    waiting = asyncio.ensure_future(published(client, MODULE.as_uri()))
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    [diagnostic] = await waiting
    assert diagnostic.code == "option-does-not-exist"
    last = json.loads(history.read_text().splitlines()[-1])
    assert last["action"] == "dry-build" and last["status"] == "failed"
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        {"nixHumanity": {"rebuild": {"buildOnSave": False}}}))


async def test_dry_activate_and_build_vm(client: LanguageClient):
    configure()
    EDITOR.questions = []
    activated = len(BOX.activated())
    result = await command(client, "nixHumanity.dryActivate")
    assert result["status"] == "ok" and result["action"] == "dry-activate", result["summary"]
    system = BOX.build(BOX.config)
    assert BOX.activated()[activated:] == [f"dry-activate {system}"] and EDITOR.questions == []  # nothing asked

    before = set(client.progress_reports)
    result = await command(client, "nixHumanity.buildVm")
    assert result["status"] == "ok" and result["action"] == "build-vm", result["summary"]
    assert len(BOX.activated()) == activated + 1  # a VM build activates nothing
    assert (Path(result["storePath"]) / "bin" / "run-fixture-vm").read_text().count(system) == 1
    [token] = new_tokens(client, before)
    assert client.progress_reports[token][0].title == "nixos-rebuild build-vm"
