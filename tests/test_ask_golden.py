"""Golden diffs: how `ask` edits look, byte for byte.

Each starting file is `tests/data/ask/<name>.nix`; the expected change for a request is the unified diff in
`tests/data/ask/<name>.<request-slug>.diff` (CRLF lines stay CRLF in it: the folder's `.gitattributes` keeps
Git from converting them). The cases pin down formatting: comments stay, new lines use the file's
indentation unit (2 spaces, 4 spaces, tabs) and line ending, one-item-per-line lists get one new line per
item and inline lists stay inline, sorted lists get items at their sorted place, `with pkgs;` lists get bare
names and `pkgs.x` lists get `pkgs.x`, and the installer's `# services.openssh.enable = true;` is switched on
in place.

To accept new output after an intended change, run with NIX_HUMANITY_UPDATE_GOLDEN=1 and review `git diff`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from nix_humanity_ls.ide.ask import AskResult
from tests.ask_support import run_ask

DATA = Path(__file__).resolve().parent / "data" / "ask"
UPDATE = os.environ.get("NIX_HUMANITY_UPDATE_GOLDEN") == "1"

GOLDEN: dict[str, tuple[str, ...]] = {
    "installer.nix": ("enable ssh", "install htop and tmux", "open port 8080", "enable sound",
                      "set the time zone to Europe/Berlin", "add alice to the docker group"),
    "crlf.nix": ("enable ssh", "install htop", "set the time zone to Europe/Berlin", "remove vim"),
    "tabs.nix": ("enable printing", "install htop", "open port 8080", "set the hostname to tabby"),
    "four-spaces.nix": ("enable docker", "enable tailscale", "add firefox", "disable ssh"),
    "sorted-per-line.nix": ("install bat", "install zip", "install jq", "remove htop", "install fd and neovim"),
    "unsorted-per-line.nix": ("install htop",),
    "inline-sorted.nix": ("install htop", "open port 8080", "remove git"),
    "pkgs-dot.nix": ("install htop", "add dana to the docker group"),
    "pkgs-dot-per-line.nix": ("install htop", "remove vim"),
    "nested-sets.nix": ("enable ssh", "open port 443", "add carol to the docker group",
                        "set the keyboard layout to de", "open udp port 53"),
    "comments.nix": ("install htop", "remove vim", "enable printing", "disable ssh"),
    "empty.nix": ("install htop", "enable ssh"),
    "oneline.nix": ("install htop", "enable docker"),
    "unicode.nix": ("install htop", "set the hostname to zoe-laptop", "enable ssh"),
    "forced.nix": ("enable ssh", "set the time zone to Europe/Berlin"),
    "let-lists.nix": ("install htop", "open port 8080"),
    "no-pkgs-argument.nix": ("install htop",),
    "nested-comment.nix": ("enable ssh",),
}
CASES = [(name, request) for name, requests in GOLDEN.items() for request in requests]


def slug(request: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", request.lower()).strip("-")


def golden_path(name: str, request: str) -> Path:
    return DATA / f"{name.removesuffix('.nix')}.{slug(request)}.diff"


def ask_file(name: str, request: str) -> AskResult:
    return run_ask((DATA / name).read_bytes(), request)


def test_at_least_twelve_files_have_goldens():
    assert len(GOLDEN) >= 12
    assert sorted(p.name for p in DATA.glob("*.nix")) == sorted(GOLDEN)


def test_no_stale_goldens():
    expected = {golden_path(name, request).name for name, request in CASES}
    assert sorted(p.name for p in DATA.glob("*.diff") if p.name not in expected) == []


@pytest.mark.parametrize(("name", "request_words"), CASES, ids=[f"{n}:{slug(r)}" for n, r in CASES])
def test_golden_diff(name: str, request_words: str):
    result = ask_file(name, request_words)
    assert result.status == "proposed", result.summary
    diff = result.diff(name).encode("utf-8")
    path = golden_path(name, request_words)
    if UPDATE:
        path.write_bytes(diff)
    assert path.exists(), f"no golden diff {path.name}; run with NIX_HUMANITY_UPDATE_GOLDEN=1 and review it"
    assert diff.decode("utf-8") == path.read_bytes().decode("utf-8")


def _added_lines(result: AskResult) -> list[bytes]:
    assert result.new is not None
    old_lines = set(result.old.splitlines(keepends=True))
    return [line for line in result.new.splitlines(keepends=True) if line not in old_lines]


@pytest.mark.parametrize(("name", "request_words"), CASES, ids=[f"{n}:{slug(r)}" for n, r in CASES])
def test_new_lines_follow_the_file(name: str, request_words: str):
    """Independent of the stored diffs: line endings and the indentation character are the file's own."""
    result = ask_file(name, request_words)
    assert result.new is not None
    old, new = result.old, result.new
    if b"\r\n" in old:
        assert new.count(b"\n") == new.count(b"\r\n"), "a line lost its CR"
    else:
        assert b"\r" not in new
    indents = {line[:1] for line in old.splitlines() if line[:1] in (b" ", b"\t")}
    for line in _added_lines(result):
        if line[:1] in (b" ", b"\t"):
            assert {line[:1]} <= indents or not indents, f"added line indented differently: {line!r}"
    if name == "four-spaces.nix":
        for line in _added_lines(result):
            width = len(line) - len(line.lstrip(b" "))
            assert width % 4 == 0, f"not a multiple of four spaces: {line!r}"
    assert old.decode("utf-8")  # the non-ASCII text before the edit point is still valid UTF-8 after it
    new.decode("utf-8")
