"""The plain-nix and nixos-rebuild backends: the argv each makes, and the real thing run through the runner, with
real Nix building the rebuild fixture (the CLI backend through the stand-in nixos-rebuild of tests/stand_ins)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls.rebuild.backend_cli import CliBackend
from nix_humanity_ls.rebuild.backend_nix import NixBackend
from nix_humanity_ls.rebuild.explain import explain
from nix_humanity_ls.rebuild.model import Action, Launch, Plan, Progress, Result, Target, Unsupported
from nix_humanity_ls.rebuild.runner import run

from tests.rebuild_fixture import STAND_IN, config_with, nix_env, write_config, write_flake, write_nixpkgs

CHANNEL = Target("channel", config_file="/etc/nixos/configuration.nix")
FLAKE = Target("flake", flake="/etc/nixos", host="laptop")
needs_nix = pytest.mark.skipif(shutil.which("nix-build") is None, reason="needs Nix")


# ---- argv ------------------------------------------------------------------------------------------------------

def test_nix_backend_argv():
    launch = NixBackend().launch(Plan(Action.DRY_BUILD, attrs.evolve(CHANNEL, nixpkgs="/srv/nixpkgs"),
                                      nix_flags=("--show-trace",)))
    assert launch.argv == ("nix-build", "<nixpkgs/nixos>", "-A", "config.system.build.toplevel", "--no-out-link",
                           "-I", "nixos-config=/etc/nixos/configuration.nix", "-I", "nixpkgs=/srv/nixpkgs",
                           "--dry-run", "--log-format", "internal-json", "-v", "--show-trace")
    assert (launch.backend, launch.json_log, launch.bridge) == ("nix", True, False)
    vm = NixBackend().launch(Plan(Action.BUILD_VM, FLAKE))
    assert vm.argv[:6] == ("nix", "--extra-experimental-features", "nix-command flakes", "build", "--json", "--no-link")
    assert vm.argv[6] == '/etc/nixos#nixosConfigurations."laptop".config.system.build.vm'


@pytest.mark.parametrize("action", [Action.SWITCH, Action.BOOT, Action.TEST, Action.DRY_ACTIVATE, Action.ROLLBACK,
                                    Action.LIST_GENERATIONS])
def test_nix_backend_refuses_what_needs_nixos_rebuild(action):
    with pytest.raises(Unsupported, match="needs nixos-rebuild"):
        NixBackend().launch(Plan(action, CHANNEL))


def test_nix_backend_refuses_remote_hosts():
    with pytest.raises(Unsupported, match="needs nixos-rebuild"):
        NixBackend().launch(Plan(Action.BUILD, attrs.evolve(FLAKE, target_host="root@desk")))


def test_cli_backend_argv(tmp_path):
    cli = CliBackend("/run/current-system/sw/bin/nixos-rebuild", cwd=str(tmp_path))
    switch = cli.launch(Plan(Action.SWITCH, FLAKE, elevate=("sudo", "-n"), nix_flags=("--show-trace",),
                             profile_name="work"))
    assert switch.argv == ("sudo", "-n", "/run/current-system/sw/bin/nixos-rebuild", "switch", "--flake",
                           "/etc/nixos#laptop", "--profile-name", "work", "--log-format", "internal-json", "-v",
                           "--show-trace")
    assert (switch.backend, switch.cwd) == ("nixos-rebuild", str(tmp_path))
    build = cli.launch(Plan(Action.BUILD, attrs.evolve(CHANNEL, nixpkgs="/srv/nixpkgs"), elevate=("sudo", "-n")))
    assert build.argv[:6] == ("/run/current-system/sw/bin/nixos-rebuild", "build", "-I",
                              "nixos-config=/etc/nixos/configuration.nix", "-I", "nixpkgs=/srv/nixpkgs")
    assert "sudo" not in build.argv  # building needs no root


def test_cli_backend_elevates_on_the_target_host():
    remote = attrs.evolve(FLAKE, target_host="root@desk", build_host="builder")
    ng = CliBackend(ng=True).launch(Plan(Action.SWITCH, remote, elevate=("sudo", "-n"))).argv
    bash = CliBackend(ng=False).launch(Plan(Action.BOOT, remote, elevate=("sudo", "-n"))).argv
    assert ng[0] == bash[0] == "nixos-rebuild"  # no local prefix: root is needed over there
    assert ng[ng.index("--target-host") + 1] == "root@desk" and ng[ng.index("--build-host") + 1] == "builder"
    assert "--sudo" in ng and "--use-remote-sudo" not in ng
    assert "--use-remote-sudo" in bash and "--sudo" not in bash


def test_cli_backend_rollback_generations_and_plain_logs():
    cli = CliBackend(json_log=False)
    assert cli.launch(Plan(Action.ROLLBACK, CHANNEL)).argv[1:3] == ("switch", "--rollback")
    with pytest.raises(Unsupported, match="previous generation"):
        cli.launch(Plan(Action.ROLLBACK, CHANNEL, generation=12))
    listing = cli.launch(Plan(Action.LIST_GENERATIONS, CHANNEL, profile_name="work"))
    assert listing.argv == ("nixos-rebuild", "list-generations", "--json", "--profile-name", "work")
    plain = cli.launch(Plan(Action.DRY_BUILD, CHANNEL))
    assert "--log-format" not in plain.argv and plain.json_log is False


# ---- the real thing --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_nixpkgs(tmp_path_factory.mktemp("fixture"))


class Recorder(list):
    def __call__(self, event) -> None:
        self.append(event)

    def progress(self) -> list[str]:
        return [e.message for e in self if isinstance(e, Progress)]


def go(launch: Launch, action: Action, **env: str) -> tuple[Result, Recorder]:
    recorder = Recorder()
    launch = attrs.evolve(launch, env={**launch.env, **nix_env(), **env})
    return run(launch, action, recorder, threading.Event()), recorder


def salted(options: str = "") -> str:
    return config_with(f'fixture.salt = "{uuid.uuid4().hex}";\n{options}')


@needs_nix
def test_nix_backend_builds_channel_and_flake_to_the_same_system(tree, tmp_path):
    flake = write_flake(tmp_path / "flake", tree)
    write_config(flake, salted())
    channel = Target("channel", config_file=str(flake / "configuration.nix"), nixpkgs=str(tree))
    dry, _ = go(NixBackend().launch(Plan(Action.DRY_BUILD, channel)), Action.DRY_BUILD)
    assert dry.ok and dry.store_path is None and "will be built" in dry.stderr
    built, events = go(NixBackend().launch(Plan(Action.BUILD, channel)), Action.BUILD)
    assert built.ok and Path(built.store_path, "nixos-version").exists()
    assert any(m.startswith("building ") for m in events.progress())
    from_flake, _ = go(NixBackend().launch(Plan(Action.BUILD, Target("flake", flake=str(flake), host="fixture"))),
                       Action.BUILD)
    assert from_flake.ok, from_flake.stderr
    assert from_flake.store_path == built.store_path  # the same configuration, by either route
    vm, _ = go(NixBackend().launch(Plan(Action.BUILD_VM, channel)), Action.BUILD_VM)
    assert vm.ok and Path(vm.store_path, "bin", "run-fixture-vm").exists()


@needs_nix
def test_nix_backend_flake_without_the_host_is_explained(tree, tmp_path):
    flake = write_flake(tmp_path / "flake", tree)
    result, _ = go(NixBackend().launch(Plan(Action.BUILD, Target("flake", flake=str(flake), host="elsewhere"))),
                   Action.BUILD)
    assert not result.ok
    assert "does not provide attribute" in result.stderr
    assert explain(result.stderr)[0].kind == "flake-attr-missing"


@pytest.fixture
def stand_in_env(tmp_path) -> dict[str, str]:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    return {"NIX_HUMANITY_TEST_PROFILES": str(profiles), "NIX_HUMANITY_ACTIVATION_LOG": str(tmp_path / "activations"),
            "NIX_HUMANITY_TEST_ARGV_LOG": str(tmp_path / "argv")}


def activations(env: dict[str, str]) -> list[list[str]]:
    path = Path(env["NIX_HUMANITY_ACTIVATION_LOG"])
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


@needs_nix
def test_cli_backend_builds_switches_lists_and_rolls_back(tree, tmp_path, stand_in_env):
    cli = CliBackend(str(STAND_IN), ng=True, cwd=str(tmp_path / "work"))
    config = write_config(tmp_path / "cfg", salted())
    target = Target("channel", config_file=str(config), nixpkgs=str(tree))

    built, events = go(cli.launch(Plan(Action.BUILD, target)), Action.BUILD, **stand_in_env)
    assert built.ok, built.stderr
    assert built.store_path and os.path.realpath(tmp_path / "work" / "result") == built.store_path  # from ./result
    assert events.progress()[:2] == ["evaluating the configuration", "building the system configuration"]
    assert any(m.startswith("building 1 of ") for m in events.progress())
    argv = json.loads(Path(stand_in_env["NIX_HUMANITY_TEST_ARGV_LOG"]).read_text().splitlines()[0])
    assert argv[-3:] == ["--log-format", "internal-json", "-v"]

    first, events = go(cli.launch(Plan(Action.SWITCH, target)), Action.SWITCH, **stand_in_env)
    assert first.ok, first.stderr
    assert activations(stand_in_env) == [["switch", built.store_path]]
    assert "activating the configuration" in events.progress()
    write_config(tmp_path / "cfg", salted())
    second, _ = go(cli.launch(Plan(Action.SWITCH, target)), Action.SWITCH, **stand_in_env)
    new_system = activations(stand_in_env)[-1][1]
    assert second.ok and new_system != built.store_path

    listing, _ = go(cli.launch(Plan(Action.LIST_GENERATIONS, target)), Action.LIST_GENERATIONS, **stand_in_env)
    generations = json.loads(listing.stdout)
    assert [(g["generation"], g["current"]) for g in generations] == [(2, True), (1, False)]
    assert generations[0]["kernelVersion"] == "6.6.63"

    back, _ = go(cli.launch(Plan(Action.ROLLBACK, target)), Action.ROLLBACK, **stand_in_env)
    assert back.ok, back.stderr
    assert activations(stand_in_env)[-1] == ["switch", built.store_path]

    tested, _ = go(cli.launch(Plan(Action.TEST, target)), Action.TEST, **stand_in_env)
    assert tested.ok and activations(stand_in_env)[-1][0] == "test"


@needs_nix
def test_cli_backend_flake_switch_and_a_failing_activation(tree, tmp_path, stand_in_env):
    flake = write_flake(tmp_path / "flake", tree)
    write_config(flake, salted("fixture.failActivation = true;"))
    cli = CliBackend(str(STAND_IN), cwd=str(tmp_path / "work"))
    result, _ = go(cli.launch(Plan(Action.SWITCH, Target("flake", flake=str(flake), host="fixture"))), Action.SWITCH,
                   **stand_in_env)
    assert not result.ok and result.exit_code == 1
    assert activations(stand_in_env)[-1][0] == "switch"
    assert "warning: the following units failed: nginx.service" in result.stderr
    assert explain(result.stderr)[0].kind == "activation-failed"


@needs_nix
def test_cli_backend_evaluation_error_and_unreachable_host(tree, tmp_path, stand_in_env):
    config = write_config(tmp_path / "cfg", config_with('networking.firewall.enable = "yes";'))
    cli = CliBackend(str(STAND_IN), cwd=str(tmp_path / "work"))
    target = Target("channel", config_file=str(config), nixpkgs=str(tree))
    result, _ = go(cli.launch(Plan(Action.DRY_BUILD, target)), Action.DRY_BUILD, **stand_in_env)
    assert not result.ok
    finding = explain(result.stderr, str(config))[0]
    assert (finding.kind, finding.option) == ("option-type-mismatch", "networking.firewall.enable")
    remote, _ = go(cli.launch(Plan(Action.SWITCH, attrs.evolve(target, target_host="nowhere.invalid"))),
                   Action.SWITCH, **stand_in_env)
    assert not remote.ok and remote.exit_code == 255
    assert "Could not resolve hostname nowhere.invalid" in remote.summary
