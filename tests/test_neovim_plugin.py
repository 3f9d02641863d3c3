"""The Neovim plugin (editors/neovim) in a real headless Neovim with the real server: a user's init that
adds the plugin to 'runtimepath' and calls `setup{}`, a configuration.nix opened from the command line, and a
Lua test body (tests/neovim/harness.lua runs it) that uses the plugin as a user does and writes what it saw to
a JSON file. Rebuilds run against the rebuild fixture's nixpkgs with the real Nix, as in
tests/lsp/test_rebuild_commands.py."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, ROOT
from tests.rebuild_fixture import config_with
from tests.rebuild_support import sandbox

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim (`nvim`) is not installed; apt-get install neovim")

PLUGIN = ROOT / "editors" / "neovim"
HARNESS = Path(__file__).resolve().parent / "neovim" / "harness.lua"
SERVER = [sys.executable, "-m", "nix_humanity_ls"]
CLI = [sys.executable, "-m", "nix_humanity_ls.cli"]
CONFIG = """{ config, pkgs, ... }:
{
  services.openssh.enable = true;
  environment.systemPackages = with pkgs; [ git ];
}
"""


def lua(value: object) -> str:
    """A Lua literal for a JSON-like Python value (ASCII strings)."""
    if isinstance(value, str):
        assert value.isascii(), value
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "{ " + ", ".join(lua(v) for v in value) + " }"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def run_nvim(tmp: Path, file: Path, body: str, settings: dict | None = None, env: dict[str, str] | None = None) -> dict:
    """Start Neovim on `file` with the plugin set up as a user would, run the Lua `body`, return what it saw."""
    init = tmp / "init.lua"
    setup = {"cmd": SERVER, "cli_cmd": CLI, **({"settings": settings} if settings is not None else {})}
    init.write_text(f'vim.opt.runtimepath:prepend({lua(str(PLUGIN))})\nrequire("nix-humanity").setup({lua(setup)})\n')
    script = tmp / "test.lua"
    script.write_text(HARNESS.read_text() + "\nT.run(function()\n" + body + "\nend)\n")
    out = tmp / "out.json"
    homes = {name: str(tmp / name.lower()) for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    full_env = {**os.environ, **homes, "XDG_CACHE_HOME": CACHE_DIR, "NIX_HUMANITY_TEST_OUT": str(out), **(env or {})}
    done = subprocess.run(
        [NVIM, "--headless", "--clean", "-u", str(init), "-c", f"luafile {script}", str(file)],
        env=full_env, cwd=file.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert out.exists(), f"Neovim wrote no result (exit {done.returncode}): {done.stdout}\n{done.stderr}"
    result = json.loads(out.read_text())
    assert "error" not in result, result["error"] + "\n" + result["messages"]
    return result


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "nixos"
    folder.mkdir()
    (folder / "configuration.nix").write_text(CONFIG)
    return folder / "configuration.nix"


def test_attaches_and_shows_syntax_errors(tmp_path: Path, config: Path):
    result = run_nvim(tmp_path, config, """
      local client = T.attached()
      T.result.filetype = vim.bo.filetype
      T.result.client = { name = client.name, root = client.config.root_dir }
      T.result.commands = vim.tbl_filter(function(name) return vim.fn.exists(":" .. name) == 2 end, {
        "NixHumanityAsk", "NixHumanityDryBuild", "NixHumanityBuild", "NixHumanityTest", "NixHumanitySwitch",
        "NixHumanityBoot", "NixHumanityDryActivate", "NixHumanityBuildVm", "NixHumanityRollback",
        "NixHumanityGenerations", "NixHumanityCancel", "NixHumanityExplainOption" })
      T.result.before = #vim.diagnostic.get(0)
      vim.api.nvim_buf_set_lines(0, 3, 4, false, { "  environment.systemPackages = with pkgs; [ git ]" })
      T.wait(function() return #vim.diagnostic.get(0) > 0 end, "diagnostics")
      T.result.diagnostics = vim.tbl_map(function(d) return { line = d.lnum, message = d.message } end,
        vim.diagnostic.get(0))
    """)
    assert result["filetype"] == "nix"
    assert result["client"] == {"name": "nix-humanity", "root": str(config.parent)}
    assert len(result["commands"]) == 12
    assert result["before"] == 0
    [diagnostic] = result["diagnostics"]
    assert diagnostic["message"] == "missing `;` after the value of `environment.systemPackages`"
    assert diagnostic["line"] == 3


def test_ask_changes_the_buffer_and_asks_with_vim_ui_select(tmp_path: Path, config: Path):
    result = run_nvim(tmp_path, config, """
      T.attached()
      T.result.firefox = T.notified_after("NixHumanityAsk add firefox")
      T.result.after_firefox = T.lines()
      T.answer = "Install python312 (environment.systemPackages)"
      T.result.python = T.notified_after("NixHumanityAsk add python")
      T.result.after_python = T.lines()
      T.result.nonsense = T.notified_after("NixHumanityAsk frobnicate the quux")
      T.result.after_nonsense = T.lines()
    """)
    assert "environment.systemPackages = with pkgs; [ git firefox ];" in result["after_firefox"]
    assert result["after_firefox"] == CONFIG.replace("[ git ]", "[ git firefox ]").rstrip("\n")
    assert result["firefox"].startswith("nix-humanity: ") and "firefox" in result["firefox"]
    [question] = result["questions"]
    assert "python" in question["prompt"] and "Install python3 (environment.systemPackages)" in question["items"]
    assert "[ git firefox python312 ]" in result["after_python"]
    assert result["after_nonsense"] == result["after_python"]  # not understood: nothing changed
    assert result["firefox"] in result["messages"] and result["nonsense"] in result["messages"]  # the message area


def test_hover_settings_and_workspace_configuration(tmp_path: Path, config: Path):
    body = """
      local client = T.attached()
      vim.api.nvim_win_set_cursor(0, { 3, 20 })  -- on `enable` in services.openssh.enable
      local answers = vim.lsp.buf_request_sync(0, "textDocument/hover",
        vim.lsp.util.make_position_params(), 10000)
      T.result.hover = answers[client.id].result.contents
      T.result.configuration = vim.lsp.handlers["workspace/configuration"](nil,
        { items = { { section = "nixHumanity" } } }, { client_id = client.id })
      T.result.init_options = client.config.init_options
    """
    friendly = run_nvim(tmp_path, config, body)
    concise = run_nvim(tmp_path, config, body, settings={"explanationStyle": "concise"})
    assert friendly["hover"]["kind"] == "markdown" and "services.openssh.enable" in friendly["hover"]["value"]
    assert "To switch it on" in friendly["hover"]["value"]  # the friendly style's example
    assert concise["hover"]["kind"] == "markdown" and "To switch it on" not in concise["hover"]["value"]
    assert concise["configuration"] == [{"explanationStyle": "concise"}]
    assert concise["init_options"] == {"nixHumanity": {"explanationStyle": "concise"}}


def test_explain_option_shows_the_explanation_in_a_float(tmp_path: Path, config: Path):
    result = run_nvim(tmp_path, config, """
      T.attached()
      vim.cmd("NixHumanityExplainOption services.openssh.enable")
      local float
      T.wait(function()
        for _, win in ipairs(vim.api.nvim_list_wins()) do
          if vim.api.nvim_win_get_config(win).relative ~= "" then float = win end
        end
        return float ~= nil
      end, "the explanation's floating window")
      T.result.float = T.lines(vim.api.nvim_win_get_buf(float))
      T.result.unknown = T.notified_after("NixHumanityExplainOption services.openssh.enabel")
    """)
    assert "services.openssh.enable" in result["float"] and "ssh" in result["float"]
    assert "`services.openssh.enabel` is not a known option" in result["unknown"]
    assert "did you mean `services.openssh.enable`?" in result["unknown"]


@pytest.fixture(scope="module")
def box():
    box = sandbox(Path(tempfile.mkdtemp(prefix="nix-humanity-nvim-rebuild-")))
    box.config.write_text(config_with("fixture.parts = 2;"))
    os.symlink(box.build(box.config), box.root / "current-system")  # the "current system" a switch compares with
    return box


def rebuild_env(box) -> dict[str, str]:
    env = {**box.env(), "NIX_PATH": f"nixpkgs={box.nixpkgs}", "NIX_HUMANITY_PYTHON_BACKEND": "false"}
    env.pop("XDG_STATE_HOME")  # run_nvim gives Neovim (and so the server) its own
    return env


def test_rebuilds_show_progress_ask_with_vim_ui_select_and_report(tmp_path: Path, box):
    box.config.write_text(config_with(f'fixture.parts = 3;\nfixture.salt = "nvim-{time.time()}";', packages="hello git firefox"))
    result = run_nvim(tmp_path, box.config, """
      T.attached()
      T.result.refused = not pcall(vim.cmd, "NixHumanityBuild colour=blue")  -- a usage error, as Ex commands give
      T.result.bad = T.result.notified[#T.result.notified].message
      T.result.build = T.notified_after("NixHumanityBuild", 300000)
      T.answer = "Yes"
      T.result.switch = T.notified_after("NixHumanitySwitch", 300000)
      T.result.generations = T.notified_after("NixHumanityGenerations")
      T.result.rollback = T.notified_after("NixHumanityRollback 99")
    """, env=rebuild_env(box))
    assert result["refused"] and "unknown argument `colour=blue`" in result["bad"]
    assert result["build"].startswith("nix-humanity: ") and "log:" not in result["build"]
    progress = [line for line in result["echoed"] if line.startswith("nixos-rebuild build")]
    assert progress[0] == "nixos-rebuild build: starting (0%)"
    assert any(line.startswith("nixos-rebuild build: building ") for line in progress), result["echoed"]  # reports are coalesced
    [question] = result["questions"]
    assert question["prompt"].startswith("Switch to the new system") and "firefox" in question["prompt"]
    assert question["items"] == ["Yes", "No"]
    [activation] = box.activated()
    assert activation.startswith("switch /nix/store/")
    generations = result["generations"].splitlines()
    assert generations[0].startswith("nix-humanity: ") and len(generations) >= 2
    assert generations[1].startswith("*") and "NixOS 24.11.20241201.fixture  kernel 6.6.63" in generations[1]
    assert result["switch"] in result["messages"]
    assert "There is no generation 99" in result["rollback"]  # the number went to the server as `generation`


def test_cancel_stops_a_sleeping_build(tmp_path: Path, box):
    box.config.write_text(config_with(f'fixture.sleepSeconds = 120;\nfixture.salt = "nvim-cancel-{time.time()}";'))
    result = run_nvim(tmp_path, box.config, """
      T.attached()
      vim.cmd("NixHumanityBuild")
      T.wait(function()
        return #vim.tbl_filter(function(line) return line:find(": building ") ~= nil end, T.result.echoed) > 0
      end, "the build to start building")
      local before = #T.result.notified
      vim.cmd("NixHumanityCancel")
      T.wait(function() return #T.result.notified == before + 2 end, "the cancel's and the build's messages")
      T.result.after = { T.result.notified[before + 1], T.result.notified[before + 2] }
    """, env=rebuild_env(box))
    stopping, build = sorted(result["after"], key=lambda message: "Stopping" not in message["message"])
    assert stopping["message"] == "nix-humanity: Stopping the rebuild and everything it started."
    assert "cancel" in build["message"].lower() and build["level"] == 3, build  # vim.log.levels.WARN


def test_help_file_has_a_tag_for_every_command(tmp_path: Path):
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    done = subprocess.run([NVIM, "--headless", "--clean", "-c", f"helptags {doc}", "-c", "qall!"],
                          env={**os.environ, "XDG_STATE_HOME": str(tmp_path)}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no duplicate or broken tags
    tags = {line.split("\t")[0] for line in (doc / "tags").read_text().splitlines()}
    commands = set(re.findall(r'create\("(NixHumanity\w+)"', (PLUGIN / "lua" / "nix-humanity" / "commands.lua").read_text()))
    commands |= set(re.findall(r"^  (NixHumanity\w+) = ", (PLUGIN / "lua" / "nix-humanity" / "commands.lua").read_text(), re.M))
    assert len(commands) == 12 and {f":{name}" for name in commands} <= tags
