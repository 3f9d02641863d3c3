"""The rebuild commands over LSP: `nixHumanity.dryBuild`, `.build`, `.test`, `.switch`, `.boot`, `.dryActivate`,
`.buildVm`, `.rollback`, `.listGenerations` and `.cancel`, and the diagnostics and quick fixes a failed build
leaves behind.

Each command runs `rebuild.operations.run_operation` in a worker thread. Its progress goes out as `$/progress`
on a token the server creates (when the client supports it; cancellable), its questions as
`window/showMessageRequest`; a cancel from the progress UI or `nixHumanity.cancel` sets the operation's cancel
event. Findings are published on the files they belong to, open or not, and stay until the next good build;
the findings, their ranges and fixes come from the core (`rebuild/build_findings.py`), only the conversion
to LSP types is here.

A channel build gets `-I nixpkgs=<nixpkgsPath>` only when the server's own search for nixpkgs
(`nixpkgs/locate.py`) ends at that setting, i.e. no flake lock, channel or `NIX_PATH` names one: the system is
then built from the nixpkgs its options and packages were learnt from, and otherwise `<nixpkgs>` is what Nix
finds, as `nixos-rebuild` in a terminal would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import uuid
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path, to_fs_path

from ..rebuild.build_findings import BuildFindings, FileFix, FileReport, LocatedFinding
from ..rebuild.model import Action, Event, Progress
from ..rebuild.operations import Machine, OperationOutcome, Request, run_operation
from ..syntax.document import Document, PositionEncoding
from . import convert

if TYPE_CHECKING:
    from .server import NixHumanityServer

log = logging.getLogger(__name__)

COMMANDS = {
    "nixHumanity.dryBuild": Action.DRY_BUILD,
    "nixHumanity.build": Action.BUILD,
    "nixHumanity.test": Action.TEST,
    "nixHumanity.switch": Action.SWITCH,
    "nixHumanity.boot": Action.BOOT,
    "nixHumanity.dryActivate": Action.DRY_ACTIVATE,
    "nixHumanity.buildVm": Action.BUILD_VM,
    "nixHumanity.rollback": Action.ROLLBACK,
    "nixHumanity.listGenerations": Action.LIST_GENERATIONS,
}
CANCEL_COMMAND = "nixHumanity.cancel"
_TEXT_OPTIONS = ("flake", "host", "file", "targetHost", "buildHost")
_YES, _NO = "Yes", "No"
_ANSWER_POLL = 0.2  # seconds between looks at the cancel event while a question is open


class RebuildState:
    """Per server: the operation running now (one at a time) and the last build's findings."""

    def __init__(self) -> None:
        self.cancel: threading.Event | None = None
        self.findings = BuildFindings()
        self.machine = Machine()
        self.tasks: set[asyncio.Task] = set()  # builds started by saves, kept until they end


def register(server: NixHumanityServer) -> None:
    for name, action in COMMANDS.items():
        server.command(name)(_command(action))
    server.command(CANCEL_COMMAND)(cancel_command)


def cancel_command(ls, *_arguments: object) -> dict[str, str]:  # noqa: ANN001 - pygls evaluates the hints
    running = ls.rebuild.cancel
    if running is None:
        return {"status": "idle", "summary": "No rebuild is running."}
    running.set()
    return {"status": "cancelling", "summary": "Stopping the rebuild and everything it started."}


def _command(action: Action):  # noqa: ANN202 - pygls reads the handler's signature
    async def handler(ls, *arguments: object) -> dict[str, object]:  # noqa: ANN001 - pygls evaluates the hints
        return await run_command(ls, action, arguments[0] if arguments else None)

    handler.__name__ = f"rebuild_{action.name.lower()}"
    return handler


def _request(ls: NixHumanityServer, action: Action, options: object) -> Request:
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise JsonRpcInvalidParams(
            'rebuild commands take one optional argument: {"flake", "host", "file", "targetHost", "buildHost", '
            '"generation"} (all optional)')
    for key in _TEXT_OPTIONS:
        if options.get(key) is not None and not isinstance(options[key], str):
            raise JsonRpcInvalidParams(f"`{key}` must be a string, got {options[key]!r}")
    generation = options.get("generation")
    if generation is not None and (isinstance(generation, bool) or not isinstance(generation, int)):
        raise JsonRpcInvalidParams(f"`generation` must be a whole number, got {generation!r}")
    file = options.get("file")
    if file is not None and file.startswith("file:"):
        file = to_fs_path(file)
    folders = _folders(ls)
    return Request(action, flake=options.get("flake"), host=options.get("host"), file=file,
                   target_host=options.get("targetHost"), build_host=options.get("buildHost"),
                   generation=generation, workspace=folders[0] if folders else None)


def _folders(ls: NixHumanityServer) -> list[str]:
    """The workspace folders, else the root path: where a configuration and a flake lock are looked for."""
    folders = [to_fs_path(f.uri) for f in ls.workspace.folders.values()]
    return folders or ([ls.workspace.root_path] if ls.workspace.root_path else [])


async def run_command(ls: NixHumanityServer, action: Action, options: object) -> dict[str, object]:
    request = _request(ls, action, options)
    rebuild = ls.rebuild
    if rebuild.cancel is not None:
        return {"status": "busy", "summary": "Another rebuild is running; wait for it or cancel it (nixHumanity.cancel)."}
    cancel = threading.Event()
    rebuild.cancel = cancel
    loop = asyncio.get_running_loop()
    progress = _Progress(ls, loop, cancel)
    try:
        if ls.core.settings.nixpkgs_path and action is not Action.LIST_GENERATIONS:
            request = attrs.evolve(request, nixpkgs=await asyncio.to_thread(_nixpkgs_from_setting, ls))
        await progress.begin(f"nixos-rebuild {action.value}")
        outcome = await asyncio.to_thread(
            run_operation, request, ls.core.settings.rebuild, progress.event, cancel,
            lambda question: _confirm(ls, loop, cancel, question), rebuild.machine,
            ls.core.settings.explanation_style.value)
    finally:
        rebuild.cancel = None
    progress.end(outcome.summary)
    if action not in (Action.LIST_GENERATIONS, Action.ROLLBACK):
        publish_findings(ls, outcome)
    return outcome_json(outcome)


def _nixpkgs_from_setting(ls: NixHumanityServer) -> str | None:
    """The `nixpkgsPath` setting, when the search for nixpkgs ends there (nothing else names one); else None."""
    from ..nixpkgs.locate import locate_nixpkgs

    settings = ls.core.settings
    found = locate_nixpkgs(_folders(ls), settings.nixpkgs_path,
                           nix_instantiate=settings.nix_instantiate, timeout=settings.nix_timeout)
    return str(found.path) if found.source == "setting" and found.path is not None else None


def outcome_json(outcome: OperationOutcome) -> dict[str, object]:
    data = outcome.to_json()
    data["logUri"] = from_fs_path(outcome.log_file) if outcome.log_file else None
    return data


class _Progress:
    """One `$/progress` token per run, when the client supports server-created progress. Reports from the
    worker thread are coalesced: the newest message is sent when the event loop gets to it."""

    def __init__(self, ls: NixHumanityServer, loop: asyncio.AbstractEventLoop, cancel: threading.Event) -> None:
        self.ls, self.loop, self.cancel = ls, loop, cancel
        self.token: str | None = None
        self.pending: Progress | None = None
        self.lock = threading.Lock()

    async def begin(self, title: str) -> None:
        window = self.ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        token = f"nix-humanity-rebuild-{uuid.uuid4()}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as error:  # a client that refuses the token still gets the run, without progress
            log.info("the client did not accept a progress token: %s", error)
            return
        self.token = token
        self.ls.work_done_progress.tokens[token].add_done_callback(lambda _future: self.cancel.set())
        self.ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=title, cancellable=True, message="starting", percentage=0))

    def event(self, event: Event) -> None:
        """From the worker thread."""
        if self.token is None or not isinstance(event, Progress):
            return
        with self.lock:
            first = self.pending is None
            self.pending = event
        if first:
            self.loop.call_soon_threadsafe(self._send)

    def _send(self) -> None:
        with self.lock:
            event, self.pending = self.pending, None
        if event is None or self.token is None:
            return
        self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
            message=event.message, percentage=event.percentage, cancellable=True))

    def end(self, summary: str) -> None:
        if self.token is None:
            return
        with self.lock:
            self.pending = None
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=summary))
        self.ls.work_done_progress.tokens.pop(self.token, None)
        self.token = None


def _confirm(ls: NixHumanityServer, loop: asyncio.AbstractEventLoop, cancel: threading.Event, question: str) -> bool:
    """Ask in the editor and wait for the answer (from the worker thread); a cancel stops the wait."""
    asked = asyncio.run_coroutine_threadsafe(ls.window_show_message_request_async(types.ShowMessageRequestParams(
        types.MessageType.Warning, question, [types.MessageActionItem(_YES), types.MessageActionItem(_NO)])), loop)
    while not cancel.is_set():
        try:
            answer = asked.result(_ANSWER_POLL)
        except concurrent.futures.TimeoutError:
            continue
        except Exception as error:  # the client failed the request: that is no yes
            log.info("the confirmation request failed: %s", error)
            return False
        return answer is not None and answer.title == _YES
    asked.cancel()
    return False


# ---- findings as diagnostics -----------------------------------------------------------------------------------

def publish_findings(ls: NixHumanityServer, outcome: OperationOutcome) -> None:
    """Replace the last build's diagnostics with this one's: cleared after a good build, kept as they were
    after a cancel or a refusal (nothing new was learnt)."""
    findings = ls.rebuild.findings
    open_uris = {to_fs_path(uri): uri for uri in ls.core.documents.uris()}
    for path in findings.update(outcome):
        if path in open_uris:
            ls.publish(open_uris[path])  # the open document's own problems plus ours (see `diagnostics`)
            continue
        uri = from_fs_path(path)
        report = findings.report(path)
        found = [] if report is None else _diagnostics(ls, Document(uri, report.source), report)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))


def _report(ls: NixHumanityServer, doc: Document) -> FileReport | None:
    """The last build's report on an open document, while it still holds the text the build read."""
    report = ls.rebuild.findings.report(to_fs_path(doc.uri))
    return report if report is not None and report.source == doc.source else None


def diagnostics(ls: NixHumanityServer, doc: Document) -> list[types.Diagnostic]:
    """The last build's diagnostics for an open document (none once it was edited: they would point at the
    wrong place)."""
    report = _report(ls, doc)
    return [] if report is None else _diagnostics(ls, doc, report)


def _diagnostics(ls: NixHumanityServer, doc: Document, report: FileReport) -> list[types.Diagnostic]:
    encoding = ls.encoding
    return [_diagnostic(doc, report, item, encoding) for item in report.items]


def _diagnostic(doc: Document, report: FileReport, item: LocatedFinding, encoding: PositionEncoding) -> types.Diagnostic:
    """The finding, with Nix's whole message in `data` and the log file one click away (`codeDescription`)."""
    diagnostic = convert.diagnostic(doc, item.problem, encoding)
    if report.log_file:
        diagnostic.code_description = types.CodeDescription(href=from_fs_path(report.log_file))
    diagnostic.data = {"kind": item.finding.kind, "raw": item.finding.raw, "logFile": report.log_file}
    return diagnostic


def code_actions(ls: NixHumanityServer, doc: Document, start: int, end: int) -> list[types.CodeAction]:
    """Quick fixes of the last build's findings at `start`..`end` of an open document, offered only while every
    file a fix edits still holds the text the fix was computed for."""
    report = _report(ls, doc)
    if report is None:
        return []
    encoding = ls.encoding
    actions = []
    for item in report.items:
        if item.problem.end < start or item.problem.start > end:
            continue
        for fix in item.fixes:
            edit = _workspace_edit(ls, fix, encoding)
            if edit is not None:
                actions.append(types.CodeAction(
                    title=fix.title, kind=types.CodeActionKind.QuickFix, edit=edit, is_preferred=fix.preferred or None,
                    diagnostics=[_diagnostic(doc, report, item, encoding)]))
    return actions


def _workspace_edit(ls: NixHumanityServer, fix: FileFix, encoding: PositionEncoding) -> types.WorkspaceEdit | None:
    findings = ls.rebuild.findings
    open_docs = {to_fs_path(uri): uri for uri in ls.core.documents.uris()}
    changes = []
    for path, edits in fix.edits_by_file():
        source = findings.source(path)
        current = ls.core.documents.get(open_docs[path]) if path in open_docs else None
        if source is None or (current is not None and current.source != source):
            return None  # that file changed since the build: the edit would land in the wrong place
        doc = current if current is not None else Document(from_fs_path(path), source)
        changes.extend(convert.workspace_edit(doc, edits, encoding).document_changes or [])
    return types.WorkspaceEdit(document_changes=changes) if changes else None


# ---- build on save ---------------------------------------------------------------------------------------------

def build_on_save(ls: NixHumanityServer, uri: str) -> None:
    """With `rebuild.buildOnSave` on, a save starts a dry-build in the background (unless one is running);
    its findings are published like a command's."""
    if not ls.core.settings.rebuild.build_on_save or ls.rebuild.cancel is not None:
        return
    task = asyncio.get_running_loop().create_task(run_command(ls, Action.DRY_BUILD, {"file": to_fs_path(uri)}))
    ls.rebuild.tasks.add(task)
    task.add_done_callback(ls.rebuild.tasks.discard)
