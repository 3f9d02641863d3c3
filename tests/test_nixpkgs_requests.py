"""Requests may name packages of the user's own nixpkgs that the bundled list does not have ("add hello"
with the fixture tree), through the core (`Workspace.knowledge`) and `nix-humanity ask --nixpkgs`, while our
own words keep their meaning: the bundled list answers first, and the user's nixpkgs only for what it does
not name (exactly, by an alias or by spelling). The fixture's `hello`, `game-launcher` and `versioned` are
not bundled; `firefox` and `ripgrep` are in both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.ide.ask import ask
from nix_humanity_ls.knowledge.packages import Package, PackageIndex, bundled_index
from nix_humanity_ls.language.memory import ChoiceMemory
from nix_humanity_ls.language.resolve import bundled_knowledge
from nix_humanity_ls.syntax.document import Document
from nix_humanity_ls.workspace import Workspace
from tests.nixpkgs_fixture import write_tree

BASE = "{ config, pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ git ];\n}\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("requests") / "nixpkgs")


@pytest.fixture
def workspace(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("NIX_PATH", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    found = Workspace(ChoiceMemory(tmp_path / "choices.json"))
    found.configure({"nixpkgsPath": str(tree)})
    return found


def _ask(workspace: Workspace, request: str):
    return ask(Document("file:///c.nix", BASE.encode()), request, workspace.knowledge())


def test_a_package_only_in_the_users_nixpkgs(workspace: Workspace, tmp_path: Path):
    assert bundled_index().get("hello") is None
    assert _ask(workspace, "add hello").status == "not_understood"  # before the index is there
    workspace.load_nixpkgs([str(tmp_path)])
    result = _ask(workspace, "add hello")
    assert result.status == "proposed" and "[ git hello ]" in result.new.decode()
    assert result.summary.startswith("Install hello")
    unfree = _ask(workspace, "add Game_Launcher")  # a spelling variant; unfree by its licences
    assert unfree.status == "proposed" and "game-launcher" in unfree.new.decode()
    assert "nixpkgs.config.allowUnfree = true;" in unfree.new.decode()
    typo = _ask(workspace, "add versiond")
    assert typo.status == "ambiguous" and [c.title for c in typo.candidates][:1] == [
        "Install versioned (environment.systemPackages)"]


def test_our_words_keep_their_meaning(workspace: Workspace, tmp_path: Path):
    workspace.load_nixpkgs([str(tmp_path)])
    for request in ("add browser", "add firefox", "add ripgrep", "install python", "add firefx"):
        ours = ask(Document("file:///c.nix", BASE.encode()), request, bundled_knowledge())
        with_nixpkgs = _ask(workspace, request)
        assert (with_nixpkgs.status, with_nixpkgs.summary, [c.title for c in with_nixpkgs.candidates]) == (
            ours.status, ours.summary, [c.title for c in ours.candidates]), request
    assert workspace.knowledge().packages.get("ripgrep") == bundled_index().get("ripgrep")  # our description


def test_the_fallback_is_asked_only_when_needed():
    calls: list[int] = []
    theirs = PackageIndex([_Source({"zzz-tool": Package("zzz-tool", "theirs"), "fire": Package("fire", "theirs")})])

    def load() -> PackageIndex:
        calls.append(1)
        return theirs

    index = PackageIndex(bundled_index().sources, fallback=load)
    assert [m.package.attr for m in index.find("firefox")] == ["firefox"] and calls == []
    assert index.get("firefox") == bundled_index().get("firefox") and calls == []
    assert [(m.package.attr, m.how) for m in index.find("zzz-tool")] == [("zzz-tool", "exact")]
    assert index.find("ZZZ_Tool")[0].how == "variant"
    assert calls == [1]  # asked once, then kept
    assert "zzz-tool" not in index.names()  # names list the own sources only
    close = [m.package.attr for m in index.find("fierfox")]
    assert close[0] == "firefox"  # our close spellings before theirs
    assert PackageIndex(bundled_index().sources, fallback=lambda: None).find("zzz-tool") == []


class _Source:
    name = "test"

    def __init__(self, packages: dict[str, Package]) -> None:
        self._packages = packages

    def get(self, attr: str) -> Package | None:
        return self._packages.get(attr)

    def packages(self) -> list[Package]:
        return list(self._packages.values())


def test_cli_ask_finds_packages_of_the_users_nixpkgs(tree: Path, tmp_path: Path):
    config = tmp_path / "configuration.nix"
    config.write_text(BASE, encoding="utf-8")
    env = {**os.environ, "NIX_PATH": "", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> tuple[int, dict]:
        done = subprocess.run([sys.executable, "-m", "nix_humanity_ls.cli", "ask", *args, "--file", str(config),
                               "--json", "--no-nix"], capture_output=True, text=True, timeout=120, env=env, check=False)
        return done.returncode, json.loads(done.stdout)

    code, found = run("add hello", "--nixpkgs", str(tree))
    assert code == 0 and found["status"] == "proposed" and "+  environment.systemPackages = with pkgs; [ git hello ];" in found["diff"]
    assert list((tmp_path / "cache" / "nix-humanity" / "nixpkgs-index").glob("*.nhidx"))  # indexed and cached
    code, found = run("add hello")
    assert code == 3 and found["status"] == "not_understood"  # no nixpkgs to find it in
    code, found = run("add firefox", "--nixpkgs", str(tmp_path / "not-there"))
    assert code == 0 and found["status"] == "proposed"  # the bundled list alone answers: nixpkgs is not looked for
