"""`nix-humanity ask` end to end: a real process on real files, with the exit codes and JSON the README
promises, atomic writes that keep permissions, and nothing written when anything is off."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.files import FileProblem, write_atomically
from tests.conftest import ROOT

CLI = [sys.executable, "-m", "nix_humanity_ls.cli", "ask"]
BASE = "{ config, pkgs, ... }:\n{\n  networking.hostName = \"box\";\n}\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "configuration.nix"
    path.write_text(BASE, encoding="utf-8")
    return path


def run(*args: str, cwd: Path | None = None, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state or cwd or ROOT / "tests")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False)


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(result.stdout)


def test_without_write_prints_a_diff_and_leaves_the_file(config: Path, tmp_path: Path):
    result = run("enable ssh", "--file", str(config), state=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("proposed: Enable the OpenSSH server (services.openssh.enable)")
    assert "+  services.openssh.enable = true;\n" in result.stdout
    assert config.read_text() == BASE


def test_write_is_atomic_and_keeps_permissions(config: Path, tmp_path: Path):
    config.chmod(0o640)
    result = run("open port 8080", "--file", str(config), "--write", "--json", state=tmp_path)
    data = as_json(result)
    assert result.returncode == 0
    assert data["status"] == "applied"
    assert data["candidates"] == []
    assert "+  networking.firewall.allowedTCPPorts = [ 8080 ];" in data["diff"]
    assert config.read_text() == BASE.replace("}\n", "  networking.firewall.allowedTCPPorts = [ 8080 ];\n}\n")
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".nix-humanity")) == []


def test_symlinked_configuration_is_written_through_the_link(tmp_path: Path):
    real = tmp_path / "repo" / "configuration.nix"
    real.parent.mkdir()
    real.write_text(BASE)
    link = tmp_path / "configuration.nix"
    link.symlink_to(real)
    assert run("enable ssh", "--file", str(link), "--write", state=tmp_path).returncode == 0
    assert link.is_symlink()
    assert "services.openssh.enable = true;" in real.read_text()


def test_ambiguous_then_pick_then_remembered(config: Path, tmp_path: Path):
    first = run("enable dokcer", "--file", str(config), "--json", state=tmp_path)
    assert first.returncode == 2
    data = as_json(first)
    assert data["status"] == "ambiguous"
    titles = [c["title"] for c in data["candidates"]]
    assert "Enable Docker (virtualisation.docker.enable)" in titles
    assert config.read_text() == BASE
    number = titles.index("Enable Docker (virtualisation.docker.enable)") + 1
    picked = run("enable dokcer", "--file", str(config), "--pick", str(number), "--write", state=tmp_path)
    assert picked.returncode == 0
    assert "virtualisation.docker.enable = true;" in config.read_text()
    again = as_json(run("enable dokcer", "--file", str(config), "--json", state=tmp_path))
    assert again["candidates"][0]["title"] == "Enable Docker (virtualisation.docker.enable)"


@pytest.mark.parametrize(
    ("request_text", "code", "status"),
    [("make me a sandwich", 3, "not_understood"), ("   ", 3, "not_understood"), ("open port 0", 3, "not_understood")],
)
def test_not_understood_exits_3(config: Path, tmp_path: Path, request_text: str, code: int, status: str):
    result = run(request_text, "--file", str(config), "--json", state=tmp_path)
    assert result.returncode == code
    assert as_json(result)["status"] == status
    assert config.read_text() == BASE


def test_noop_exits_0_and_says_so(config: Path, tmp_path: Path):
    config.write_text(BASE.replace("}\n", "  services.openssh.enable = true;\n}\n"))
    before = config.read_text()
    result = run("enable ssh", "--file", str(config), "--write", "--json", state=tmp_path)
    assert result.returncode == 0
    assert as_json(result)["status"] == "noop"
    assert config.read_text() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{\n  a = 1\n}\n", "syntax errors"),
        (b"\x7fELF\x00\x00", "binary data"),
        ('{ a = "caf\xe9"; }'.encode("latin-1"), "not UTF-8"),
    ],
)
def test_files_we_must_not_touch(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "configuration.nix"
    path.write_bytes(content)
    result = run("enable ssh", "--file", str(path), "--write", "--json", state=tmp_path)
    assert result.returncode == 1
    data = as_json(result)
    assert data["status"] == "error"
    assert message in data["summary"]
    assert path.read_bytes() == content


def test_missing_file_is_an_error(tmp_path: Path):
    result = run("enable ssh", "--file", str(tmp_path / "nope.nix"), state=tmp_path)
    assert result.returncode == 1
    assert "cannot read the file" in result.stderr


def test_default_file_is_the_one_in_the_current_directory(config: Path, tmp_path: Path):
    result = run("enable ssh", cwd=tmp_path)
    assert result.returncode == 0
    assert "a/configuration.nix" in result.stdout


def test_write_refuses_when_the_file_changed_since_it_was_read(config: Path):
    config.write_text(BASE + "# edited meanwhile\n")
    with pytest.raises(FileProblem, match="changed since it was read"):
        write_atomically(str(config), b"new", BASE.encode())
    assert config.read_text() == BASE + "# edited meanwhile\n"
