"""Requests that name an old package name of the user's nixpkgs (`pkgs/top-level/aliases.nix` of the fixture
tree): the new name is added and the summary says why; a name nixpkgs removed is refused with nixpkgs' own
message and the file stays as it is. Through the core (`Workspace.knowledge`) and `nix-humanity ask`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.ide.ask import ask
from nix_humanity_ls.language.memory import ChoiceMemory
from nix_humanity_ls.language.resolve import bundled_knowledge
from nix_humanity_ls.syntax.document import Document
from nix_humanity_ls.workspace import Workspace
from tests.nixpkgs_fixture import write_tree

BASE = "{ config, pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ git ];\n}\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("old-names") / "nixpkgs")


@pytest.fixture
def knowledge(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NIX_PATH", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    workspace = Workspace(ChoiceMemory(tmp_path / "choices.json"))
    workspace.configure({"nixpkgsPath": str(tree)})
    workspace.load_nixpkgs([str(tmp_path)])
    assert workspace.static_index is not None
    return workspace.knowledge()


def _ask(request: str, knowledge):
    return ask(Document("file:///c.nix", BASE.encode()), request, knowledge)


def test_an_old_name_adds_the_new_one_and_says_so(knowledge):
    result = _ask("add rg", knowledge)
    assert result.status == "proposed" and "[ git ripgrep ]" in result.new.decode()
    assert result.summary == ("Install ripgrep (environment.systemPackages); `rg` is an old name for `ripgrep` "
                              "in your nixpkgs; added ripgrep")
    warned = _ask("install firefox-wayland", knowledge)  # an alias that warns
    assert warned.status == "proposed" and "[ git firefox ]" in warned.new.decode()
    assert "`firefox-wayland` is an old name for `firefox`" in warned.summary
    plain = ask(Document("file:///c.nix", BASE.encode()), "add rg", bundled_knowledge())
    assert plain.status == "proposed" and "old name" not in plain.summary  # without the user's nixpkgs: our alias


def test_a_removed_name_is_refused_with_nixpkgs_message(knowledge):
    gone = _ask("add gone-tool", knowledge)
    assert gone.status == "error" and gone.new is None
    assert gone.summary == ("`gone-tool` is no longer in your nixpkgs: 'gone-tool' has been removed as it was "
                            "unmaintained upstream")
    renamed = _ask("add ripgrep-old", knowledge)
    assert renamed.status == "error" and renamed.summary.endswith("; install `ripgrep` instead")
    both = _ask("add rg and gone-tool", knowledge)
    assert both.status == "error" and both.new is None  # nothing is changed when one part is refused


def test_cli_ask_with_the_users_nixpkgs(tree: Path, tmp_path: Path):
    config = tmp_path / "configuration.nix"
    config.write_text(BASE, encoding="utf-8")
    env = {**os.environ, "NIX_PATH": "", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nix_humanity_ls.cli", "ask", *args, "--file", str(config),
                               "--nixpkgs", str(tree)], capture_output=True, text=True, timeout=120, env=env,
                              check=False)

    added = run("add rg", "--write")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("applied: Install ripgrep (environment.systemPackages); `rg` is an old name")
    assert config.read_text() == BASE.replace("[ git ]", "[ git ripgrep ]")
    refused = run("add gone-tool", "--write", "--json")
    data = json.loads(refused.stdout)
    assert refused.returncode == 1 and data["status"] == "error" and "unmaintained upstream" in data["summary"]
    assert config.read_text() == BASE.replace("[ git ]", "[ git ripgrep ]")  # unchanged
