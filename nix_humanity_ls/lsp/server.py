"""Feature registrations. Each handler converts LSP params into core calls and core results into LSP types;
the work itself happens in `nix_humanity_ls.workspace` and `nix_humanity_ls.ide`."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from .. import __version__
from ..edits.text_edit import apply_edits
from ..ide.folding import folding_ranges
from ..ide.selection import selection_chain
from ..ide.symbols import document_symbols
from ..syntax.document import Document, PositionEncoding
from ..syntax.store import StaleVersion, UnknownDocument
from ..workspace import Workspace
from . import convert, rebuild_commands

log = logging.getLogger(__name__)

ASK_COMMAND = "nixHumanity.ask"
SPLIT_FIRST_PUBLISH_BYTES = 64 * 1024


class _Protocol(LanguageServerProtocol):
    """pygls keeps its own copy of every open document and, on each change, rebuilds it line by line in
    Python: about 1 ms per keystroke on a 10,000-line file and 49 ms for a batch of 50 changes (bench/).
    Our `Document` is the copy every feature reads, so pygls's copy stays as it was opened and is never read:
    changes go straight to our handler."""

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):  # type: ignore[override]
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


class NixHumanityServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("nix-humanity-ls", __version__, protocol_cls=_Protocol)
        self.core = Workspace()
        self.rebuild = rebuild_commands.RebuildState()  # the running operation and the last build's findings

    @property
    def encoding(self) -> PositionEncoding:
        return convert.encoding(self.workspace.position_encoding)

    def document(self, uri: str) -> Document:
        """The open document, or an LSP error a client can show (never an internal error)."""
        try:
            return self.core.documents.get(uri)
        except UnknownDocument as error:
            raise JsonRpcInvalidParams(str(error)) from error
        except StaleVersion as error:
            raise JsonRpcContentModified(str(error)) from error

    def publish(self, uri: str, rules: bool = True) -> None:
        """Send `uri`'s diagnostics. Called from notification handlers and loop callbacks, where pygls would
        swallow an exception without a word: a failure is logged here, with its traceback, and told to the client."""
        try:
            self._publish(uri, rules)
        except Exception as error:
            log.exception("publishing the diagnostics of %s failed", uri)
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"diagnostics of {uri} could not be computed ({error!r}); see the server's log"))

    def _publish(self, uri: str, rules: bool) -> None:
        if uri not in self.core.documents:
            return
        doc = self.core.documents.get(uri)
        encoding = self.encoding
        diagnostics = [convert.diagnostic(doc, problem, encoding) for problem in self.core.problems(uri, rules)]
        diagnostics += rebuild_commands.diagnostics(self, doc)  # the last build's findings in this file
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version)
        )

    def configure(self, raw: object) -> None:
        before = (self.core.settings.nixpkgs_path, self.core.settings.evaluation)
        update = self.core.configure(raw)
        logging.getLogger("nix_humanity_ls").setLevel(update.settings.log_level.name)
        for key in update.unknown:
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Log, f"ignoring unknown setting `{key}`")
            )
            log.info("ignoring unknown setting %s", key)
        if update.errors:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Warning, "nix-humanity settings: " + "; ".join(update.errors))
            )
        for uri in self.core.documents.uris():
            self.publish(uri)
        if (self.core.settings.nixpkgs_path, self.core.settings.evaluation) != before and self.core.nixpkgs is not None:
            asyncio.get_running_loop().create_task(self.load_nixpkgs())

    async def load_nixpkgs(self) -> None:
        """Index the user's nixpkgs in a worker thread (requests meanwhile use the bundled knowledge) and
        say in the log which nixpkgs is in use."""
        folders = [f.uri.removeprefix("file://") for f in self.workspace.folders.values()] or (
            [self.workspace.root_path] if self.workspace.root_path else []
        )
        loop = asyncio.get_running_loop()
        indexed_before = self.core.static_index is not None

        def evaluated(said: str, merged: bool) -> None:  # from the evaluation's thread, later
            loop.call_soon_threadsafe(self.options_evaluated, said, merged)

        try:
            said = await asyncio.to_thread(self.core.load_nixpkgs, folders, evaluated)
        except Exception as error:  # a broken tree or cache must never take the server down
            log.exception("indexing nixpkgs failed")
            said = f"indexing nixpkgs failed ({error}); only the bundled knowledge is used"
        log.info("nixpkgs: %s", said)
        self.window_log_message(types.LogMessageParams(types.MessageType.Info, f"nixpkgs: {said}"))
        if not indexed_before and self.core.static_index is None:
            return  # no index before or now: every document's problems are what they were
        for uri in self.core.documents.uris():  # option and package checks need the index: show them now
            self.publish(uri)

    def options_evaluated(self, said: str, merged: bool) -> None:
        """The evaluated options arrived (`merged`: the index now holds them) or could not be had; open
        documents are checked again against the complete index."""
        if merged:
            log.info("nixpkgs: %s", said)
            self.window_log_message(types.LogMessageParams(types.MessageType.Info, f"nixpkgs: {said}"))
            for uri in self.core.documents.uris():
                self.publish(uri)
        else:
            log.warning("nixpkgs: %s; the static index stays in use", said)
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Warning, f"nixpkgs: {said}; the static index stays in use"))


server = NixHumanityServer()
rebuild_commands.register(server)


@server.feature(types.INITIALIZE)
def initialize(ls: NixHumanityServer, params: types.InitializeParams) -> None:
    client = params.client_info.name if params.client_info else "an unnamed client"
    log.info("initialize from %s; positions in %s", client, ls.encoding.value)
    if params.initialization_options is not None:
        ls.configure(params.initialization_options)


@server.feature(types.INITIALIZED)
async def initialized(ls: NixHumanityServer, params: types.InitializedParams) -> None:
    await ls.load_nixpkgs()


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: NixHumanityServer, params: types.HoverParams) -> types.Hover | None:
    from ..ide.hover import hover as explain  # loads the knowledge on first use

    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    found = explain(doc, convert.offset(doc, params.position, encoding), ls.core.hover_sources(),
                    ls.core.settings.explanation_style.value)
    if found is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.markdown),
        range=convert.lsp_range(doc, found.start, found.end, encoding),
    )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", '"'], resolve_provider=True)
)
def completion(ls: NixHumanityServer, params: types.CompletionParams) -> types.CompletionList | None:
    from ..ide.completion import complete  # loads the knowledge on first use

    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    found = complete(doc, convert.offset(doc, params.position, encoding), ls.core.hover_sources())
    if found is None:
        return None
    return convert.completion_list(doc, found, encoding)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def goto_definition(ls: NixHumanityServer, params: types.DefinitionParams) -> list[types.Location]:
    """Options → their declaration in the user's nixpkgs; variables → what binds them in the same file."""
    from ..ide.definition import definitions

    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    found = definitions(doc, convert.offset(doc, params.position, encoding), ls.core.hover_sources())
    return [convert.location(target.document, target.start, target.end, encoding) for target in found]


@server.feature(types.COMPLETION_ITEM_RESOLVE)
def completion_resolve(ls: NixHumanityServer, item: types.CompletionItem) -> types.CompletionItem:
    from ..ide.completion import documentation

    key = item.data.get("key") if isinstance(item.data, dict) else None
    if isinstance(key, list) and all(isinstance(part, str) for part in key):
        text = documentation(tuple(key), ls.core.hover_sources(), ls.core.settings.explanation_style.value)
        if text and item.documentation is None:
            item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)
    return item


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: NixHumanityServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    doc = ls.core.open(item.uri, item.text, item.version)
    if len(doc.source) < SPLIT_FIRST_PUBLISH_BYTES:
        ls.publish(item.uri)
        return
    # A big file's syntax problems go out at once; the parse-rule checks' first whole-file pass (about
    # 40 ms on a 10,000-line file) follows as a second publish, so opening never waits on it.
    ls.publish(item.uri, rules=False)
    asyncio.get_running_loop().call_soon(ls.publish, item.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: NixHumanityServer, params: types.DidChangeTextDocumentParams) -> None:
    uri, version = params.text_document.uri, params.text_document.version
    changes = [convert.change(c) for c in params.content_changes]
    try:
        ls.core.change(uri, version, changes, ls.encoding)
    except UnknownDocument as error:
        log.warning("%s; ignoring a change to it", error)
        ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"{error}; change ignored"))
        return
    except StaleVersion as error:
        # The client's numbering went wrong, but its changes still describe its text: apply them.
        log.warning("%s; applying the change anyway", error)
        ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"{error}; applying the change anyway"))
        ls.core.change(uri, version, changes, ls.encoding, check_version=False)
    ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: NixHumanityServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    rebuild_commands.build_on_save(ls, uri)  # only with `rebuild.buildOnSave`: a configuration is code
    if not ls.core.wants_nix_check(uri):
        return
    doc = ls.core.documents.get(uri)
    version = doc.version
    if await asyncio.to_thread(ls.core.nix_check, uri, version, doc.source):
        if uri in ls.core.documents and ls.core.documents.get(uri).version == version:
            ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NixHumanityServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.core.close(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: NixHumanityServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    return [convert.document_symbol(doc, symbol, encoding) for symbol in document_symbols(doc)]


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(ls: NixHumanityServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
    return [convert.folding_range(fold) for fold in folding_ranges(ls.document(params.text_document.uri))]


@server.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
def selection_range(ls: NixHumanityServer, params: types.SelectionRangeParams) -> list[types.SelectionRange]:
    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    return [
        convert.selection_range(doc, selection_chain(doc, convert.offset(doc, p, encoding)), encoding)
        for p in params.positions
    ]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
)
async def code_action(ls: NixHumanityServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The fixes of the problems shown in the range (each with its diagnostic), then quick fixes for request
    comments there. Each proposed text is also shown to Nix's parser (in worker threads, side by side); one
    Nix rejects is not offered."""
    from ..ide.request_actions import request_actions  # the request machinery loads on first use

    doc = ls.document(params.text_document.uri)
    encoding = ls.encoding
    start = convert.offset(doc, params.range.start, encoding)
    end = convert.offset(doc, params.range.end, encoding)
    fixes = [(problem, fix) for problem in ls.core.problems(doc.uri) if problem.start <= end and start <= problem.end
             for fix in problem.fixes]
    requests = request_actions(doc, start, end, ls.core.knowledge())
    proposed = [apply_edits(doc.source, fix.edits) for _, fix in fixes] + [action.new for action in requests]
    verdicts = await asyncio.gather(*(asyncio.to_thread(ls.core.nix_rejection, doc.source, new) for new in proposed))
    titles = [fix.title for _, fix in fixes] + [action.title for action in requests]
    for title, verdict in zip(titles, verdicts):
        if verdict is not None:
            log.warning("not offering %r: Nix rejects the result (%s)", title, verdict)
    actions = [convert.fix_action(doc, problem, fix, encoding) for (problem, fix), verdict in zip(fixes, verdicts)
               if verdict is None]
    actions += rebuild_commands.code_actions(ls, doc, start, end)  # fixes of the last build's findings
    return actions + [
        convert.code_action(doc, action.title, action.edits, action.preferred, encoding)
        for action, verdict in zip(requests, verdicts[len(fixes):])
        if verdict is None
    ]


@server.command(ASK_COMMAND)
async def ask_command(ls: NixHumanityServer, *arguments: object) -> dict[str, str]:
    """`{"uri": …, "text": "add firefox"}`: compute the change, ask when ambiguous, apply it in the editor."""
    request = arguments[0] if arguments and isinstance(arguments[0], dict) else None
    if request is None or not isinstance(request.get("uri"), str) or not isinstance(request.get("text"), str):
        raise JsonRpcInvalidParams(f'{ASK_COMMAND} takes one argument: {{"uri": "file:///…", "text": "add firefox"}}')
    from ..ide.ask import ask  # the request machinery loads on first use

    doc = ls.document(request["uri"])
    knowledge = ls.core.knowledge()
    result = ask(doc, request["text"], knowledge)
    if result.status == "ambiguous":
        titles = [candidate.title for candidate in result.candidates]
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                types.MessageType.Info, result.summary, [types.MessageActionItem(t) for t in titles]
            )
        )
        if answer is None or answer.title not in titles:
            return {"status": "ambiguous", "summary": result.summary + " (nothing was chosen, nothing changed)"}
        result = ask(doc, request["text"], knowledge, pick=titles.index(answer.title) + 1)
    if result.status != "proposed":
        return {"status": result.status, "summary": result.summary}
    assert result.new is not None
    rejection = await asyncio.to_thread(ls.core.nix_rejection, doc.source, result.new)
    if rejection is not None:
        return {"status": "error", "summary": f"the change was not made: Nix rejects the result ({rejection})"}
    applied = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            convert.workspace_edit(doc, result.edits(), ls.encoding), label=f"nix-humanity: {request['text']}"
        )
    )
    if not applied.applied:
        return {"status": "error", "summary": f"the editor did not apply the change ({applied.failure_reason or 'no reason given'})"}
    ls.core.remember(result.picked)
    return {"status": "applied", "summary": result.summary}


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: NixHumanityServer, params: types.DidChangeConfigurationParams) -> None:
    ls.configure(params.settings)
