"""`nix-humanity explain-option` as a user runs it: a real process, a small nixpkgs tree on disk found through
`--nixpkgs` (as the `nixpkgsPath` setting), or the bundled knowledge when no nixpkgs is found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nixpkgs_fixture import SSHD, line_of, write_tree

CLI = [sys.executable, "-m", "nix_humanity_ls.cli", "explain-option"]


@pytest.fixture
def run(tmp_path: Path):
    env = {**os.environ, "NIX_PATH": "", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    work = tmp_path / "work"  # no flake.nix here, so the tree given by --nixpkgs is the one used
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, cwd=work,
                              check=False)

    return run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "nixpkgs")


def test_three_styles_from_the_users_nixpkgs(run, tree: Path):
    line = line_of(SSHD, "ports = mkOption")
    where = f"{tree}/nixos/modules/services/networking/ssh/sshd.nix:{line}"
    friendly = run("services.openssh.ports", "--nixpkgs", str(tree))
    assert friendly.returncode == 0, friendly.stderr
    assert "It takes a list of port numbers" in friendly.stdout
    assert "    services.openssh.ports = [ 22 ];" in friendly.stdout  # the example of use, as a code block
    assert f"Declared in {where}." in friendly.stdout
    concise = run("services.openssh.ports", "--nixpkgs", str(tree), "--style", "concise")
    assert concise.stdout == ("services.openssh.ports — Specifies on which ports the SSH daemon listens. "
                              "· `types.listOf types.port`\n")
    expert = run("services.openssh.ports", "--nixpkgs", str(tree), "--style", "expert")
    assert "- default: `[ 22 ]`" in expert.stdout and f"- declared by `mkOption` in {where}" in expert.stdout


def test_json_and_paths_through_a_name(run, tree: Path):
    result = run("users.users.alice.isNormalUser", "--nixpkgs", str(tree), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "option" and data["type"] == "types.bool" and data["default"] == "false"
    assert data["declaration"]["file"] == str(tree / "nixos/modules/config/users-groups.nix")
    assert data["nixpkgs"] == str(tree) and "users.users.alice.isNormalUser = true;" in data["text"]


def test_unknown_paths_exit_1_with_suggestions(run, tree: Path):
    result = run("services.opensh.enable", "--nixpkgs", str(tree))
    assert result.returncode == 1 and result.stdout == ""
    assert f"`services.opensh.enable` is not an option known to the nixpkgs at {tree}" in result.stderr
    assert "did you mean `services.openssh.enable`?" in result.stderr
    as_json = json.loads(run("services.opensh.enable", "--nixpkgs", str(tree), "--json").stdout)
    assert as_json["kind"] == "unknown" and as_json["suggestions"][0] == "services.openssh.enable"


def test_the_bundled_knowledge_without_a_nixpkgs(run):
    known = run("services.openssh.enable", "--style", "concise")
    assert known.returncode == 0
    assert known.stdout.startswith("services.openssh.enable — Lets you log in to this machine")
    unknown = run("services.opensh.enable")
    assert unknown.returncode == 1 and "the bundled knowledge (no nixpkgs was found)" in unknown.stderr
    assert "did you mean `services.openssh.enable`?" in unknown.stderr


def test_a_name_inside_a_freeform_option_is_explained_not_unknown(run, tree: Path):
    result = run("services.openssh.settings.X11Forwarding", "--nixpkgs", str(tree))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("services.openssh.settings.X11Forwarding — a name of your own inside "
                                    "`services.openssh.settings`. That option is free-form")
    line = line_of(SSHD, "settings = mkOption")
    assert f"Declared in {tree}/nixos/modules/services/networking/ssh/sshd.nix:{line}." in result.stdout
    data = json.loads(run("services.openssh.settings.X11Forwarding", "--nixpkgs", str(tree), "--json").stdout)
    assert data["kind"] == "freeform" and data["declaration"]["line"] == line
