"""`nix-humanity check` with the user's nixpkgs, as a user runs it: the installed console script in a real
process, the small nixpkgs tree of `option_checks_fixture.py` on disk given by `--nixpkgs` (as the
`nixpkgsPath` setting), indexed once and cached in XDG_CACHE_HOME; the same option and package problems the
editor shows, and none of them with `--no-index`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.option_checks_fixture import write_checks_tree

SCRIPT = Path(sys.executable).parent / "nix-humanity"

CONFIG = """\
{ config, lib, pkgs, ... }:
{
  services.opensh.enable = true;
  services.openssh.settings.X11Forwarding = true;
  services.blocky.instances.main.anything = 1;
  environment.systemPackages = with pkgs; [ firefox rg firefox-wayland gone-tool fierfox ];
}
"""


def place(config: Path, word: str) -> str:
    """`FILE:LINE:COLUMN` of the first `word` in CONFIG (1-based)."""
    line = next(number for number, text in enumerate(CONFIG.splitlines(), 1) if word in text)
    return f"{config}:{line}:{CONFIG.splitlines()[line - 1].index(word) + 1}"


@pytest.fixture
def run(tmp_path: Path):
    if not SCRIPT.exists():
        pytest.skip(f"the console script is not installed beside {sys.executable}")
    env = {**os.environ, "NIX_PATH": "", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SCRIPT), "check", "--no-nix", *args], capture_output=True, text=True,
                              timeout=120, env=env, cwd=tmp_path, check=False)

    return run


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"  # no flake.nix here, so the tree given by --nixpkgs is the one used
    folder.mkdir()
    path = folder / "configuration.nix"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_checks_tree(tmp_path / "nixpkgs")


def test_options_and_packages_are_checked_against_the_users_nixpkgs(run, config: Path, tree: Path, tmp_path: Path):
    result = run(str(config), "--nixpkgs", str(tree))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        place(config, "opensh"), place(config, "firefox-wayland"), place(config, "gone-tool"),
        place(config, "fierfox")]
    assert "services.openssh" in lines[0]  # did you mean
    assert "old name for `firefox`" in lines[1]
    assert "'gone-tool' has been removed as it was unmaintained upstream" in lines[2]
    assert "no package `fierfox`" in lines[3] or "`fierfox` is not a package" in lines[3]
    assert list((tmp_path / "cache" / "nix-humanity" / "nixpkgs-index").glob("*.nhidx"))  # cached for next time
    again = run(str(config), "--nixpkgs", str(tree), "--style", "concise")
    assert again.stdout.splitlines()[2].endswith(
        "`gone-tool` was removed from nixpkgs: 'gone-tool' has been removed as it was unmaintained upstream")


def test_no_index_checks_syntax_and_variables_only(run, config: Path, tree: Path):
    result = run(str(config), "--nixpkgs", str(tree), "--no-index")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    config.write_text(CONFIG.replace("with pkgs;", "with pkgz;"), encoding="utf-8")
    undefined = run(str(config), "--no-index")
    assert undefined.returncode == 1 and "undefined variable `pkgz`" in undefined.stdout


def test_a_folder_that_is_no_nixpkgs_is_said_and_syntax_still_checked(run, config: Path, tmp_path: Path):
    result = run(str(config), "--nixpkgs", str(tmp_path / "config"))
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith("nix-humanity: note: No nixpkgs found:")
