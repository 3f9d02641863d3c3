"""The evaluated options index: real `nix-instantiate` (and `nix eval` for a flake) evaluates the options of a
configuration against the fixture tree (`write_tree(..., evaluation=True)`), in the worker process with its
memory cap and timeout; the result is merged over the static index and cached.

Covered: the merge (options only the evaluation knows, evaluated facts winning, static-only options and
renames kept, `complete`), where the configuration is found, the cache (hit, invalidation by the
configuration's content, damage), and failures that leave no index and a clear sentence: a configuration
that never finishes (reads a FIFO nobody writes), one that allocates without end, one with an error, a tree
without `nixos/default.nix`, a missing Nix."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls.nixpkgs import evaluated as ev
from nix_humanity_ls.nixpkgs.locate import NixpkgsLocation, locate_nixpkgs
from nix_humanity_ls.nixpkgs.records import OptionDecl, OptionIndex, OptionRename, StaticIndex
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.settings import read_settings
from tests.nixpkgs_fixture import SSHD, USER_MODULE, line_of, write_tree
from tests.processes import processes_mentioning

pytestmark = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="needs nix-instantiate")

CONFIGURATION = """\
{ config, lib, pkgs, ... }:
{
  imports = [ ./my-module.nix ];
  services.openssh.enable = true;
  networking.hostName = "box";
}
"""
FLAKE = """\
{
  inputs.nixpkgs = { url = "path:%s"; flake = false; };
  outputs = { self, nixpkgs }: {
    nixosConfigurations.box = import "${nixpkgs}/nixos" { configuration = ./configuration.nix; };
  };
}
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("evaluable") / "nixpkgs", evaluation=True)


@pytest.fixture(scope="module")
def static(tree: Path) -> StaticIndex:
    return build_static_index(tree, jobs=1)


def _configuration(folder: Path, text: str = CONFIGURATION, module: str = USER_MODULE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration.nix").write_text(text, encoding="utf-8")
    (folder / "my-module.nix").write_text(module, encoding="utf-8")
    return folder


def _run(tree: Path, static: StaticIndex, folder: Path, cache: Path, **settings: object) -> ev.Outcome:
    location = NixpkgsLocation(tree, None, None, "setting", "test")
    request = ev.EvaluationRequest(location, (str(folder),), static, cache_directory=cache, etc_nixos=None,
                                   **settings)  # type: ignore[arg-type]
    return ev.OptionsEvaluation(request).run()


def _gone(text: str) -> bool:
    """No process whose command line holds `text` is left, after a moment for killed ones to die."""
    for _ in range(100):
        if not processes_mentioning(text):
            return True
        time.sleep(0.02)
    return False


# -- the merge ------------------------------------------------------------------------------------------------


def test_the_evaluation_adds_what_only_it_knows(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = _configuration(tmp_path / "config")
    outcome = _run(tree, static, folder, tmp_path / "cache")
    merged = outcome.index
    assert merged is not None and merged.complete and not static.options.complete
    assert outcome.evaluated == 8 and not outcome.from_cache
    assert outcome.message.startswith(f"evaluated 8 options of {folder / 'configuration.nix'}")
    # declared by the user's own module: only the evaluation sees it, with its file and line
    target = merged.find(("my", "backup", "target"))
    assert static.options.find(("my", "backup", "target")) is None
    assert target is not None and target.type == "string" and target.default == '"/srv/backup"'
    assert (target.file, target.line) == (str(folder / "my-module.nix"), line_of(USER_MODULE, "target = lib.mkOption"))
    assert target.description == "Where backups go." and target.kind == "mkOption"
    assert [c.name for c in merged.children(("my", "backup"))] == ["enable", "target"]
    # a computed name in a nixpkgs file: relative to the tree, like the static index's files
    dynamic = merged.find(("programs", "foo", "dynamic"))
    assert static.options.find(("programs", "foo", "dynamic")) is None
    assert dynamic is not None and dynamic.file == "nixos/modules/programs/foo.nix" and dynamic.line >= 1


def test_evaluated_facts_win_and_static_places_stay(tree: Path, static: StaticIndex, tmp_path: Path):
    merged = _run(tree, static, _configuration(tmp_path / "config"), tmp_path / "cache").index
    assert merged is not None
    before = static.options.get(("services", "openssh", "enable"))
    after = merged.get(("services", "openssh", "enable"))
    assert before is not None and after is not None
    assert after.type == "boolean" != before.type  # Nix's description of the type
    assert after.description == "Whether to enable the OpenSSH secure shell daemon."
    assert (after.file, after.line, after.kind) == (before.file, before.line, before.kind)
    assert after.line == line_of(SSHD, "enable = lib.mkEnableOption")
    user = merged.find(("users", "users", "alice", "isNormalUser"))
    assert user is not None and user.type == "boolean" and user.path[2] == "<name>"
    # options only the static index has stay (the fixture's NixOS does not declare these)
    assert merged.get(("services", "openssh", "banner")) == static.options.get(("services", "openssh", "banner"))
    assert len(merged) == len(static.options) + 3
    # the hidden option a rename leaves at the old name is not an option; the rename still says where it went
    assert merged.get(("services", "openssh", "permitRootLogin")) is None
    hit = merged.rename_for(("services", "openssh", "permitRootLogin"))
    assert hit is not None and hit.new_path == ("services", "openssh", "settings", "PermitRootLogin")


def test_merge_keeps_renames_and_only_drops_hidden_options_under_them():
    old = OptionDecl(("a", "old"), "mkOption", "", None, None, "", "x.nix", 1)
    rename = OptionRename("renamed", ("a", "old"), ("a", "new"), "", None, "r.nix", 3)
    static = OptionIndex([old], [rename])
    hidden = OptionDecl(("a", "old"), "mkOption", "unspecified", None, None, "", "x.nix", 1, internal=True)
    shown = OptionDecl(("b",), "mkOption", "string", None, None, "B.", "y.nix", 2)
    merged = ev.merge(static, [hidden, shown])
    assert merged.complete and list(merged.renames()) == [rename]
    assert merged.get(("a", "old")) == old and merged.get(("b",)) == shown
    visible = OptionDecl(("a", "old"), "mkOption", "string", None, None, "Still here.", "x.nix", 1)
    assert ev.merge(static, [visible]).get(("a", "old")) == visible


def test_the_freeform_flag_of_the_static_index_survives_the_evaluation_and_its_cache():
    """Nix's type text does not say whether a submodule has a `freeformType`; the indexer saw it in the source."""
    settings = OptionDecl(("services", "x", "settings"), "mkOption", "submodule", None, None, "", "x.nix", 4,
                          freeform=True)
    static = OptionIndex([settings])
    row = (list(settings.path), "submodule", None, None, "Settings.", ["x.nix"], False, False)
    evaluated = ev.evaluated_options([row], static, "/nowhere")
    assert [o.freeform for o in evaluated] == [True]
    host, again = ev._from_plain(ev._to_plain("box", evaluated))
    assert host == "box" and again == evaluated


# -- where the configuration is -------------------------------------------------------------------------------


def test_the_configuration_is_found_in_order(tmp_path: Path):
    location = NixpkgsLocation(tmp_path, None, None, "setting", "test")
    workspace = _configuration(tmp_path / "workspace")
    etc = _configuration(tmp_path / "etc")
    env_file = tmp_path / "env.nix"
    env_file.write_text("{ }", encoding="utf-8")
    path_dir = tmp_path / "from-nix-path"
    _configuration(path_dir)
    (path_dir / "default.nix").write_text("{ }", encoding="utf-8")
    both = {"NIXOS_CONFIG": str(env_file), "NIX_PATH": f"nixpkgs=/x:nixos-config={path_dir}"}
    find = ev.find_target
    assert find(location, [workspace], both, etc) == ev.Target(False, workspace / "configuration.nix")
    assert find(location, [tmp_path / "none"], both, etc) == ev.Target(False, env_file)
    assert find(location, [], {"NIX_PATH": both["NIX_PATH"]}, etc) == ev.Target(False, path_dir / "default.nix")
    assert find(location, [], {}, etc) == ev.Target(False, etc / "configuration.nix")
    nothing = find(location, [], {}, None)
    assert nothing == ev.Target(False, None) and nothing.describe() == "an empty configuration"
    flake = find(attrs.evolve(location, flake=workspace), [workspace], {}, etc, hostname="box")
    assert flake == ev.Target(True, workspace, "box")
    assert flake.describe() == f"the flake in {workspace} (configuration box)"


def test_an_empty_configuration_still_gives_nixpkgs_options(tree: Path, static: StaticIndex, tmp_path: Path):
    outcome = _run(tree, static, tmp_path / "no-config-here", tmp_path / "cache")
    assert outcome.index is not None and outcome.evaluated == 6
    assert "an empty configuration" in outcome.message
    assert outcome.index.find(("my", "backup", "target")) is None
    assert outcome.index.find(("programs", "foo", "dynamic")) is not None


@pytest.mark.skipif(shutil.which("nix") is None, reason="needs nix")
def test_a_flake_is_evaluated_with_nix_eval(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = _configuration(tmp_path / "flake")
    (folder / "flake.nix").write_text(FLAKE % tree, encoding="utf-8")
    locked = subprocess.run(["nix", "--extra-experimental-features", "nix-command flakes", "flake", "lock"],
                            cwd=folder, capture_output=True, text=True, check=False)
    assert locked.returncode == 0, locked.stderr
    location = locate_nixpkgs([folder], None, environ={"PATH": os.environ["PATH"], "NIX_PATH": ""}, etc_nixos=None)
    assert location.source == "flake" and location.flake == folder and location.path is not None
    lock = (folder / "flake.lock").read_text()
    request = ev.EvaluationRequest(location, (str(folder),), build_static_index(location.path, jobs=1),
                                   cache_directory=tmp_path / "cache", etc_nixos=None, hostname="not-this-one")
    outcome = ev.OptionsEvaluation(request).run()
    assert outcome.index is not None, outcome.message
    assert outcome.message.startswith(f"evaluated 8 options of the flake in {folder} (configuration box)")
    target = outcome.index.find(("my", "backup", "target"))
    assert target is not None and target.file == str(folder / "my-module.nix")  # the user's file, not the store copy
    enable = outcome.index.get(("services", "openssh", "enable"))
    assert enable is not None and enable.file == "nixos/modules/services/networking/ssh/sshd.nix"
    assert (folder / "flake.lock").read_text() == lock  # never rewritten


TWO_HOSTS = """\
{
  inputs.nixpkgs = { url = "path:%s"; flake = false; };
  outputs = { self, nixpkgs }: {
    nixosConfigurations.box = import "${nixpkgs}/nixos" { configuration = ./configuration.nix; };
    nixosConfigurations.laptop = import "${nixpkgs}/nixos" { configuration = { }; };
  };
}
"""


def test_the_rebuild_settings_choose_the_flake_and_its_configuration(tmp_path: Path):
    folder = _configuration(tmp_path / "flake")
    (folder / "flake.nix").write_text(TWO_HOSTS % tmp_path, encoding="utf-8")
    channel = NixpkgsLocation(tmp_path, None, None, "setting", "test")
    find = ev.find_target
    assert find(channel, [], {}, None, flake=f"{folder}#laptop") == ev.Target(True, folder, "laptop")
    assert find(channel, [], {}, None, flake=str(folder), host="box") == ev.Target(True, folder, "box")
    assert find(channel, [], {}, None, flake=f"{folder}#laptop", host="box").host == "box"  # the setting wins
    assert find(channel, [], {}, None, flake="github:someone/elsewhere", host="box") == ev.Target(False, None)
    from_lock = attrs.evolve(channel, flake=folder)
    assert find(from_lock, [], {}, None, hostname="laptop.example.org").host == "laptop"  # as a rebuild matches it
    assert find(from_lock, [], {}, None, hostname="laptop.example.org", host="box").host == "box"


@pytest.mark.skipif(shutil.which("nix") is None, reason="needs nix")
def test_the_options_come_from_the_configuration_the_rebuild_builds(tree: Path, tmp_path: Path):
    folder = _configuration(tmp_path / "flake")
    (folder / "flake.nix").write_text(TWO_HOSTS % tree, encoding="utf-8")
    locked = subprocess.run(["nix", "--extra-experimental-features", "nix-command flakes", "flake", "lock"],
                            cwd=folder, capture_output=True, text=True, check=False)
    assert locked.returncode == 0, locked.stderr
    static = build_static_index(tree, jobs=1)
    own = ("my", "backup", "target")  # declared by the module only `box` imports
    unsure = _run(tree, static, tmp_path / "elsewhere", tmp_path / "cache", flake=str(folder), hostname="nowhere")
    assert unsure.index is None and "none is named nowhere" in unsure.message  # two configurations, no setting
    laptop = _run(tree, static, tmp_path / "elsewhere", tmp_path / "cache", flake=f"{folder}#laptop",
                  hostname="box")
    assert laptop.index is not None, laptop.message
    assert f"of the flake in {folder} (configuration laptop)" in laptop.message and laptop.index.find(own) is None
    box = _run(tree, static, tmp_path / "elsewhere", tmp_path / "cache", flake=str(folder), host="box",
               hostname="laptop")
    assert box.index is not None and "(configuration box)" in box.message and box.index.find(own) is not None


# -- the cache ------------------------------------------------------------------------------------------------


def test_second_load_reads_the_cache_until_the_configuration_changes(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = _configuration(tmp_path / "config")
    cache = tmp_path / "cache"
    first = _run(tree, static, folder, cache)
    second = _run(tree, static, folder, cache)
    assert second.from_cache and second.message.endswith("(from the cache); 3 more than the static index")
    assert first.index is not None and second.index is not None
    assert list(second.index.options()) == list(first.index.options())
    (folder / "my-module.nix").write_text(USER_MODULE.replace("target", "destination"), encoding="utf-8")
    third = _run(tree, static, folder, cache)
    assert not third.from_cache and third.index is not None
    assert third.index.find(("my", "backup", "destination")) is not None
    assert third.index.find(("my", "backup", "target")) is None


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_cache_is_evaluated_again(tree: Path, static: StaticIndex, tmp_path: Path, damage: str,
                                            caplog: pytest.LogCaptureFixture):
    folder = _configuration(tmp_path / "config")
    cache = tmp_path / "cache"
    good = _run(tree, static, folder, cache)
    (file,) = cache.iterdir()
    data = file.read_bytes()
    file.write_bytes({"garbage": b"\x00\xffnot a cache", "truncated": data[: len(data) - 40], "empty": b""}[damage])
    with caplog.at_level(logging.WARNING, logger="nix_humanity_ls.nixpkgs.cache"):
        again = _run(tree, static, folder, cache)
    assert f"the cached evaluated options {file} cannot be used" in caplog.text
    assert not again.from_cache and again.index is not None and good.index is not None
    assert list(again.index.options()) == list(good.index.options())
    assert _run(tree, static, folder, cache).from_cache  # written again, whole


# -- failures: no index, a sentence, no process left ----------------------------------------------------------


def test_an_evaluation_that_never_ends_is_stopped(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = tmp_path / "slow"
    _configuration(folder, '{ ... }:\n{\n  networking.hostName = builtins.readFile ./fifo;\n}\n')
    os.mkfifo(folder / "fifo")  # nobody writes it: Nix waits for ever
    outcome = _run(tree, static, folder, tmp_path / "cache", timeout=2.0)
    assert outcome.index is None
    assert outcome.message == (f"evaluating the options of {folder / 'configuration.nix'} took longer than 2 s "
                               "(setting `evaluation.timeout`) and was stopped")
    assert _gone(f"nixos-config={folder}")  # Nix and the worker are killed
    assert not list((tmp_path / "cache").glob("*"))  # nothing cached


def test_an_evaluation_that_wants_too_much_memory_is_stopped(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = tmp_path / "greedy"
    _configuration(folder, '{ ... }:\n{\n  boot.kernelParams = builtins.genList (n: "p${toString n}") 100000000;\n}\n')
    outcome = _run(tree, static, folder, tmp_path / "cache", memory_mb=256)
    assert outcome.index is None
    assert outcome.message == (f"evaluating the options of {folder / 'configuration.nix'} needed more than 256 MB "
                               "(setting `evaluation.memoryLimit`) and was stopped")
    # the same configuration within a generous cap is merely slow to build, so the cap is what stopped it
    small = tmp_path / "small"
    _configuration(small, '{ ... }:\n{\n  boot.kernelParams = builtins.genList (n: "p${toString n}") 1000;\n}\n')
    assert _run(tree, static, small, tmp_path / "cache", memory_mb=256).index is not None


def test_a_broken_configuration_gives_nixs_message(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = tmp_path / "broken"
    _configuration(folder, '{ config, ... }:\n{\n  networking.hostName = hostname;\n}\n')
    outcome = _run(tree, static, folder, tmp_path / "cache")
    assert outcome.index is None
    assert outcome.message == (f"Nix could not evaluate the options of {folder / 'configuration.nix'}: undefined "
                               f"variable 'hostname' (at {folder / 'configuration.nix'}:3:25)")
    missing = tmp_path / "missing-import"
    _configuration(missing, '{ ... }:\n{\n  imports = [ ./hardware-configuration.nix ];\n}\n')
    said = _run(tree, static, missing, tmp_path / "cache").message
    assert said.startswith(f"Nix could not evaluate the options of {missing / 'configuration.nix'}: ")
    assert "hardware-configuration.nix" in said


def test_without_nixos_or_nix_there_is_nothing_to_evaluate(tree: Path, static: StaticIndex, tmp_path: Path):
    plain = write_tree(tmp_path / "static-only")
    location = NixpkgsLocation(plain, None, None, "setting", "test")
    request = ev.EvaluationRequest(location, (), build_static_index(plain, jobs=1), etc_nixos=None,
                                   cache_directory=tmp_path / "cache")
    assert ev.OptionsEvaluation(request).run() == ev.Outcome(
        None, f"{plain} has no nixos/default.nix to evaluate", skipped=True)
    outcome = _run(tree, static, tmp_path, tmp_path / "cache", nix_instantiate=str(tmp_path / "no-such-nix"))
    assert outcome == ev.Outcome(None, f"`{tmp_path / 'no-such-nix'}` cannot be run (No such file or directory)",
                                 skipped=True)
    broken = _configuration(tmp_path / "broken", "{ ... }: { x = y; }\n")
    failed = _run(tree, static, broken, tmp_path / "cache")
    assert failed.index is None and not failed.skipped  # a failure is said out loud


def test_cancel_stops_a_running_evaluation(tree: Path, static: StaticIndex, tmp_path: Path):
    folder = tmp_path / "slow"
    _configuration(folder, '{ ... }:\n{\n  networking.hostName = builtins.readFile ./fifo;\n}\n')
    os.mkfifo(folder / "fifo")
    location = NixpkgsLocation(tree, None, None, "setting", "test")
    job = ev.OptionsEvaluation(ev.EvaluationRequest(location, (str(folder),), static, etc_nixos=None,
                                                    cache_directory=tmp_path / "cache", timeout=60))
    reported: list[ev.Outcome] = []
    job.start(reported.append)
    for _ in range(200):  # until Nix waits on the FIFO
        if processes_mentioning(f"nixos-config={folder}"):
            break
        time.sleep(0.05)
    assert processes_mentioning(f"nixos-config={folder}")
    job.cancel()
    assert _gone(f"nixos-config={folder}") and job.cancelled
    time.sleep(0.2)
    assert reported == []  # a cancelled evaluation reports nothing


def test_the_settings_read_and_check_their_values():
    update = read_settings({"evaluation": {"enable": False, "memoryLimit": 1024, "timeout": 30}})
    assert update.errors == () and update.unknown == ()
    assert (update.settings.evaluation.enable, update.settings.evaluation.memory_limit,
            update.settings.evaluation.timeout) == (False, 1024, 30.0)
    bad = read_settings({"evaluation": {"memoryLimit": 0, "timeout": "long"}})
    assert len(bad.errors) == 2 and bad.settings.evaluation.memory_limit == 4096
