"""`nix-humanity check` as a user runs it: a real process, real files, real nix-instantiate."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CLI = [sys.executable, "-m", "nix_humanity_ls.cli"]
needs_nix = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)


def test_bundled_example_is_clean():
    result = run("check", str(ROOT / "examples" / "configuration.nix"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_problems_are_printed_file_line_column(tmp_path: Path):
    bad = tmp_path / "configuration.nix"
    bad.write_text('{\n  # Grüße 😀\n  x = "é"; services.openssh.enable = true\n  networking.hostName = "h";\n}\n', encoding="utf-8")
    result = run("check", "--no-nix", str(bad))
    assert result.returncode == 1
    # column counts characters: `x = "é"; services.openssh.enable = ` is 37 characters after 2 spaces
    assert result.stdout == f"{bad}:3:38: missing `;` after the value of `services.openssh.enable`\n"


def test_several_files_and_unreadable_ones(tmp_path: Path):
    good = tmp_path / "good.nix"
    good.write_text("{ a = 1; }\n")
    binary = tmp_path / "binary.nix"
    binary.write_bytes(b"\x7fELF\x00\x01\x02")
    latin1 = tmp_path / "latin1.nix"
    latin1.write_bytes('{ a = "caf\xe9"; }'.encode("latin-1"))
    missing = tmp_path / "missing.nix"
    result = run("check", "--no-nix", str(good), str(binary), str(latin1), str(missing))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{binary}:1:1: not a Nix file: it contains binary data",
        f"{latin1}:1:1: not a Nix file: it is not UTF-8 text (bad byte at offset 10)",
        f"{missing}:1:1: cannot read the file: No such file or directory",
    ]


@needs_nix
def test_nix_catches_what_tree_sitter_accepts(tmp_path: Path):
    config = tmp_path / "configuration.nix"
    config.write_text("{\n  ${''a''} = 1;\n  a = 2;\n}\n")  # Nix versions differ on `${''a''}`: we stay quiet
    with_nix = run("check", str(config))
    assert with_nix.returncode == 1
    assert with_nix.stdout == f"{config}:3:3: attribute `a` already defined on line 2\n"
    assert run("check", "--no-nix", str(config)).returncode == 0


def test_missing_nix_instantiate_is_a_note_not_a_failure(tmp_path: Path):
    config = tmp_path / "configuration.nix"
    config.write_text("{ a = 1; }\n")
    result = run("check", "--nix-instantiate", str(tmp_path / "no-such-nix"), str(config))
    assert result.returncode == 0
    assert "was not found" in result.stderr


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("check").returncode == 2
    assert "nix-humanity" in run("--version").stdout


def test_doctor_names_the_nixpkgs_in_use_and_why(tmp_path: Path):
    from tests.nixpkgs_fixture import write_tree

    tree = write_tree(tmp_path / "nixpkgs")
    env = {**os.environ, "NIX_PATH": "", "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    found = subprocess.run([*CLI, "doctor", "--nixpkgs", str(tree)], capture_output=True, text=True, timeout=60,
                           env=env, check=False)
    assert found.returncode == 0
    assert f"nixpkgs: Using nixpkgs at {tree}" in found.stdout
    assert f"remembered choices: {tmp_path / 'state' / 'nix-humanity' / 'choices.json'}" in found.stdout
    none = subprocess.run([*CLI, "doctor"], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert "nixpkgs: No nixpkgs found" in none.stdout and "Only the bundled knowledge is used." in none.stdout
