"""Incremental didChange over stdio: after random edits across non-ASCII text and CRLF lines, the server's
answers for the edited document equal its answers for a freshly opened copy of the client's text. That is how
a client observes that the incrementally edited text and tree are the ones a fresh parse would give."""

from __future__ import annotations

import random

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import (
    ClientDocument,
    document_symbols,
    lsp_position,
    open_document,
    plain,
    send_changes,
)

BASE = "file:///tmp/nix-humanity-sync"

INITIAL = (
    "# Grüße 😀 from the installer\r\n"
    "{ config, pkgs, ... }:\r\n"
    "\r\n"
    "let\r\n"
    "  name = \"Zoë 😀\";\r\n"
    "in\r\n"
    "{\r\n"
    "  # Straße — café\r\n"
    "  networking.hostName = \"høst\";\n"
    "  users.users.zoe = {\r\n"
    "    isNormalUser = true;\r\n"
    "    description = \"Zoë ☃ 😀\";\r\n"
    "    extraGroups = [ \"wheel\" \"networkmanager\" ];\r\n"
    "  };\r\n"
    "  environment.systemPackages = with pkgs; [\r\n"
    "    firefox # 🦊\r\n"
    "    git\r\n"
    "  ];\r\n"
    "  services.openssh.enable = true;\r\n"
    "}\r\n"
)

FRAGMENTS = [
    "é", "😀", "ß", "\r\n", "\n", "\r", "x\r", "\r\n  ", ";", "{", "}", "[", "]", " = ", "x", "a.b", '"', "''",
    "${", "let ", " in ", "# Grüße 😀\r\n", "  foo = \"bär\";\r\n", "true", "[ 😀 ]", "/*", "*/",
]
SPECIAL = set("éüößøë😀☃🦊—\r\n")


def _index(rng: random.Random, text: str, low: int = 0, high: int | None = None) -> int:
    """A valid LSP spot in `low`..`high`, half the time next to a non-ASCII character or a line break."""
    high = len(text) if high is None else min(high, len(text))
    specials = [i for i in range(low, high) if text[i] in SPECIAL]
    if specials and rng.random() < 0.5:
        index = min(rng.choice(specials) + rng.choice([0, 1]), high)
    else:
        index = rng.randint(low, high)
    if 0 < index < len(text) and text[index - 1] == "\r" and text[index] == "\n":
        index += 1 if index < high else -1  # never between `\r` and `\n`
    return index


def _random_change(rng: random.Random, doc: ClientDocument) -> types.TextDocumentContentChangePartial:
    start = _index(rng, doc.text)
    kind = rng.random()
    if kind < 0.4:  # insert
        return doc.edit(start, start, rng.choice(FRAGMENTS))
    end = _index(rng, doc.text, start, start + 12)
    return doc.edit(start, end, "" if kind < 0.7 else rng.choice(FRAGMENTS))


async def _answers(client: LanguageClient, uri: str, text: str) -> dict[str, object]:
    """Everything the client can observe about a document, with its URI blanked out."""
    identifier = types.TextDocumentIdentifier(uri)
    positions = [lsp_position(text, i) for i in sorted({0, len(text) // 3, len(text) // 2, len(text)})
                 if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")]
    return {
        "diagnostics": plain(client.diagnostics[uri], uri),
        "symbols": plain(await document_symbols(client, uri)),
        "folds": plain(await client.text_document_folding_range_async(types.FoldingRangeParams(identifier))),
        "selections": plain(
            await client.text_document_selection_range_async(types.SelectionRangeParams(identifier, positions))
        ),
    }


async def _assert_same_as_fresh(client: LanguageClient, doc: ClientDocument, label: str) -> None:
    fresh = f"{BASE}/fresh-{label}.nix"
    await open_document(client, fresh, doc.text)
    assert await _answers(client, doc.uri, doc.text) == await _answers(client, fresh, doc.text)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(fresh)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)



async def test_initial_answers_are_not_trivial(client: LanguageClient):
    """A guard for the comparisons below: the document has an outline, folds and a clean bill of health."""
    uri = f"{BASE}/initial.nix"
    await open_document(client, uri, INITIAL)
    answers = await _answers(client, uri, INITIAL)
    assert answers["diagnostics"] == []
    names = [s["name"] for s in answers["symbols"]]
    assert names == ["config", "pkgs", "name", "networking.hostName", "users.users.zoe",
                     "environment.systemPackages", "services.openssh.enable"]
    assert len(answers["folds"]) >= 3


@pytest.mark.parametrize("seed", range(4))
async def test_random_edits_match_a_fresh_open(client: LanguageClient, seed: int):
    rng = random.Random(seed)
    doc = await open_document(client, f"{BASE}/random-{seed}.nix", INITIAL)
    for step in range(1, 41):
        batch = [_random_change(rng, doc) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        await send_changes(client, doc, batch)
        if step % 10 == 0:
            await _assert_same_as_fresh(client, doc, f"{seed}-{step}")


async def test_typing_and_deleting_across_an_emoji_and_crlf(client: LanguageClient):
    """Character by character, as an editor sends keystrokes: type after the emoji, then backspace over it
    and over a CRLF line end."""
    doc = await open_document(client, f"{BASE}/typing.nix", INITIAL)
    at = doc.text.index("😀") + 1
    for char in "é😀x":
        await send_changes(client, doc, [doc.edit(at, at, char)])
        at += 1
    for _ in range(4):  # backspace: x, 😀, é, the original 😀
        await send_changes(client, doc, [doc.edit(at - 1, at, "")])
        at -= 1
    assert doc.text.startswith("# Grüße  from the installer\r\n")
    line_end = doc.text.index("\r\n")
    await send_changes(client, doc, [doc.edit(line_end, line_end + 2, "")])  # join the first two lines
    await _assert_same_as_fresh(client, doc, "typing")
    assert lsp_position(doc.text, len(doc.text)).line == INITIAL.count("\n") - 1


async def test_full_document_replace(client: LanguageClient):
    doc = await open_document(client, f"{BASE}/replace.nix", INITIAL)
    replacement = "{\r\n  a = \"😀\";\r\n  b = [ 1 2\r\n}\r\n"  # with an error: an unclosed list
    await send_changes(client, doc, [doc.replace_all(replacement)])
    assert len(client.diagnostics[doc.uri]) >= 1
    await _assert_same_as_fresh(client, doc, "replace")
    # a replace followed by incremental changes in the same notification
    fixed = doc.replace_all(INITIAL)
    at = doc.text.index("firefox")
    await send_changes(client, doc, [fixed, doc.edit(at, at + len("firefox"), "thunderbird 😀")])
    await _assert_same_as_fresh(client, doc, "replace-then-edit")
    assert "thunderbird 😀" in doc.text


async def test_cr_and_lf_meeting_at_an_edit(client: LanguageClient):
    """A lone `\\r` and a `\\n` that an edit brings together become one line break (and the reverse)."""
    doc = await open_document(client, f"{BASE}/cr-lf.nix", "{\r  a = 1;\r  b = \"😀\";X\n  c = 3;\n}\n")
    lines = len(doc.text.splitlines())
    at = doc.text.index("X")
    await send_changes(client, doc, [doc.edit(at, at + 1, "")])  # `\r…;X\n`: deleting X joins nothing yet
    at = doc.text.index("\n")
    await send_changes(client, doc, [doc.edit(at, at, "\r")])  # `;\r\n`: one break, not two
    await _assert_same_as_fresh(client, doc, "cr-lf-1")
    at = doc.text.index("\r  b")
    await send_changes(client, doc, [doc.edit(at + 1, at + 1, "\n")])  # after a lone `\r`: now `\r\n`
    await _assert_same_as_fresh(client, doc, "cr-lf-2")
    at = doc.text.index("\r  a")
    await send_changes(client, doc, [doc.edit(at + 1, at + 1, "é\n")])  # `\r` stays alone, `\n` is new
    await _assert_same_as_fresh(client, doc, "cr-lf-3")
    assert lsp_position(doc.text, len(doc.text)).line == lines + 1
    at = doc.text.index("é")
    await send_changes(client, doc, [doc.edit(at, at + 1, "")])  # `\r` + `\n` meet by a deletion
    await _assert_same_as_fresh(client, doc, "cr-lf-4")
    assert lsp_position(doc.text, len(doc.text)).line == lines
