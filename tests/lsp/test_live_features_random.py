"""The live features under a long, seeded run of random editing, through the real server with a nixpkgs tree
indexed: incremental edits to a realistic configuration (the installer's example plus bindings that set off
option, value, package and undefined-name diagnostics), interleaved with hover, completion (and resolve),
go to definition and code actions at random places. The server must answer every request (an error only
where the protocol documents one), the diagnostics after the last edit must equal those of a fresh open of
the final text, and every quick fix it offers on a text that parses must give a text that tree-sitter and
the real `nix-instantiate --parse` accept. Requests deep down in a pathologically nested file are answered
too."""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from nix_humanity_ls.ide.nix_parse import nix_syntax_problem
from nix_humanity_ls.syntax.document import Document
from tests.conftest import (
    ROOT,
    ClientDocument,
    apply_text_edits,
    lsp_position,
    open_document,
    plain,
    send_changes,
    server_config,
    start_session,
)
from tests.option_checks_fixture import write_checks_tree

TREE = write_checks_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-random-nixpkgs-")))
# The background evaluation is off: its late, merged index would change the diagnostics between the last
# edit and the fresh open that is compared with it.
SETTINGS = {"nixHumanity": {"nixpkgsPath": str(TREE), "evaluation": {"enable": False}}}
EXTRA = """\
  services.ngnx.enable = true;
  services.openssh.enable = "yes";
  networking.firewall.allowedTCPPorts = 22;
  services.oldthing.enable = true;
  hardware.opengl.enable = true;
  users.users.bob.packages = with pkgs; [ firefx hello ];
  networking.interfaces.eth0.useDHCP = "maybe";
  services.blocky.instances.main.port = 4001;
  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;
  environment.etc."issue".text = greeting;
  # add firefox
  i18n.extraLocaleSettings.LC_TIME = lib.mkForce "en_GB.UTF-8";
"""
EXAMPLE = (ROOT / "examples/configuration.nix").read_text(encoding="utf-8")
CONFIG = EXAMPLE[: EXAMPLE.rindex("}")] + EXTRA + "}\n"
URI = "file:///tmp/nix-humanity-random/configuration.nix"
SEEDS = [11, 29, 47]
STEPS = 250  # per seed
CHECKPOINT = 50  # steps between comparisons with a fresh open

# What an edit inserts: whole bindings (right and wrong), names, values and single characters that break
# and mend the syntax.
BINDINGS = [
    "  services.openssh.enable = true;\n", "  services.opensh.enable = true;\n", "  services.nginx.enable = 1;\n",
    "  environment.systemPackages = with pkgs; [ hello firefx ];\n", "  networking.domain = \"example.org\";\n",
    "  users.users.carol.isNormalUser = true;\n", "  services.grafana.settings.server.http_port = 80;\n",
    "  programs.bar.settings.colour = \"red\";\n", "  networking.firewall.allowedTCPPorts = [ 22 \"80\" ];\n",
    "  let x = 1; in x\n", "  foo = bar;\n", "  # enable the ssh server\n", "  inherit (pkgs) hello;\n",
    "  hardware.graphics.enable = \"on\";\n", "  services.xserver.xkb.layout = 3;\n",
]
PIECES = ["services.", "openssh", "enable", " = ", "true", "\"yes\"", ";", "pkgs.", "firefx", "hello", "with pkgs; ",
          "[ ", " ]", "lib.", "mkForce ", "config.", "users.users.", "${", "''", "\n"]
INTERESTING = re.compile(r"[\w.-]+|= |\[ |\"")  # names, values and list elements: where completion has answers
CHARACTERS = list("{}[]();=.\"'$# \nabcxyz_-0123")


def random_edit(rng: random.Random, text: str, good: str) -> tuple[int, int, str]:
    """A code-point span of `text` and what replaces it: mostly small typing and deleting, sometimes a whole
    binding added or a line removed, and, while the text does not parse, often an undo back to `good` (the
    last text that did), as the smallest single change."""
    if text != good and rng.random() < 0.6:
        return undo(text, good)
    kind = rng.random()
    at = rng.randint(0, len(text))
    if kind < 0.25:  # a binding on a line of its own, inside the outer set most of the time
        line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        start = rng.choice(line_starts)
        return start, start, rng.choice(BINDINGS)
    if kind < 0.45:
        return at, at, rng.choice(PIECES)
    if kind < 0.65:
        return at, at, rng.choice(CHARACTERS)
    if kind < 0.85:  # delete a few characters
        return at, min(len(text), at + rng.randint(1, 6)), ""
    line_start = text.rfind("\n", 0, at) + 1  # delete the line around `at`
    line_end = text.find("\n", at)
    return line_start, len(text) if line_end < 0 else line_end + 1, ""


def undo(text: str, good: str) -> tuple[int, int, str]:
    """The span of `text` that differs from `good`, and `good`'s text there."""
    prefix = 0
    while prefix < min(len(text), len(good)) and text[prefix] == good[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(text), len(good)) - prefix and text[-1 - suffix] == good[-1 - suffix]:
        suffix += 1
    return prefix, len(text) - suffix, good[prefix : len(good) - suffix]


def parses(text: str) -> bool:
    """tree-sitter finds no error and the real Nix parser accepts the syntax (undefined names are left to
    the scope check, as in the server's own check of a fix)."""
    source = text.encode()
    return not Document("file:///tmp/check.nix", source).tree.root_node.has_error and nix_syntax_problem(source) is None


@pytest_lsp.fixture(scope="module", config=server_config(NIX_PATH=""))
async def client(lsp_client: LanguageClient):
    await start_session(lsp_client, initialization_options=SETTINGS)
    for _ in range(50):  # the index is built in the background; the server says when it is ready
        await lsp_client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if any(m.message.startswith("nixpkgs:") and "Indexed" in m.message for m in lsp_client.log_messages):
            break
    yield
    await lsp_client.shutdown_session()


async def _requests(client: LanguageClient, doc: ClientDocument, rng: random.Random, fixes: list[tuple[str, str]]) -> None:
    """Hover, completion (resolving a few items), definition and code actions at one random place; the quick
    fixes offered are kept in `fixes` as (text before, text after)."""
    ident = types.TextDocumentIdentifier(doc.uri)
    places = [m.end() for m in INTERESTING.finditer(doc.text)]
    index = rng.choice(places) if places and rng.random() < 0.6 else rng.randint(0, len(doc.text))
    at = lsp_position(doc.text, index)
    await client.text_document_hover_async(types.HoverParams(ident, at))
    found = await client.text_document_completion_async(types.CompletionParams(ident, at))
    items = found.items if isinstance(found, types.CompletionList) else list(found or [])
    for item in rng.sample(items, min(3, len(items))):
        resolved = await client.completion_item_resolve_async(item)
        assert resolved.label == item.label
    for target in await client.text_document_definition_async(types.DefinitionParams(ident, at)) or []:
        assert isinstance(target, types.Location) and target.uri.startswith("file://")
    shown = list(client.diagnostics.get(doc.uri, []))
    if shown and rng.random() < 0.5:  # on a problem, where its fixes are
        where = rng.choice(shown).range
    else:
        where = types.Range(at, lsp_position(doc.text, min(len(doc.text), index + rng.randint(0, 80))))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        ident, where, types.CodeActionContext(diagnostics=shown)))
    for action in actions or []:
        assert isinstance(action, types.CodeAction), action
        if action.edit is None:
            continue
        (edit,) = action.edit.document_changes or []
        copy = ClientDocument(doc.uri, doc.text, doc.version, doc.encoding)
        apply_text_edits(copy, list(edit.edits))
        fixes.append((doc.text, copy.text))


async def _same_as_fresh(client: LanguageClient, doc: ClientDocument, fresh: str) -> None:
    """The diagnostics kept up to date edit by edit equal those of the same text opened afresh (which is
    then closed again)."""
    incremental = plain(client.diagnostics[doc.uri], doc.uri)
    await open_document(client, fresh, doc.text)
    assert incremental == plain(client.diagnostics[fresh], fresh), doc.text
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(fresh)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_editing_with_requests(client: LanguageClient, seed: int):
    rng = random.Random(seed)
    uri = URI.replace(".nix", f"-{seed}.nix")
    doc = await open_document(client, uri, CONFIG)
    assert any(d.code == "unknown-option" for d in client.diagnostics[uri])  # the index is in use
    fixes: list[tuple[str, str]] = []
    good = doc.text
    for step in range(1, STEPS + 1):
        changes = []
        for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 4)):  # editors also send several at once
            start, end, new = random_edit(rng, doc.text, good)
            changes.append(doc.edit(start, end, new))
        await send_changes(client, doc, changes)
        if parses(doc.text):
            good = doc.text
        if rng.random() < 0.5:
            await _requests(client, doc, rng, fixes)
        if step % CHECKPOINT == 0 or step == STEPS:
            await _same_as_fresh(client, doc, f"{uri}-{step}.nix")

    # A request about a document that is not open is the one documented error.
    with pytest.raises(JsonRpcInvalidParams):
        await client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri + ".closed"), types.Position(0, 0)))

    failures = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert failures == []  # a check or a publish that raised says so here (and in the server's log)

    checked = [(before, after) for before, after in set(fixes) if parses(before)]
    assert [after for _, after in checked if not parses(after)] == []
    assert len(checked) > 0  # the run did offer fixes on text that parses


async def test_requests_deep_down_are_answered(client: LanguageClient):
    """Hover, completion and definition in the middle of sets nested 50,000 deep, with the index loaded: each
    is answered (with nothing) at once rather than climbing the tree for minutes, and the server goes on."""
    uri = URI.replace(".nix", "-deep.nix")
    doc = await open_document(client, uri, "{a=" * 50_000 + "1" + ";}" * 50_000)
    ident, at = types.TextDocumentIdentifier(uri), lsp_position(doc.text, 3 * 50_000)
    assert await client.text_document_hover_async(types.HoverParams(ident, at)) is None
    assert await client.text_document_completion_async(types.CompletionParams(ident, at)) is None
    assert list(await client.text_document_definition_async(types.DefinitionParams(ident, at)) or []) == []
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(ident))
    assert symbols  # and the server goes on serving the document
