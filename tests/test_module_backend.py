"""The Python-module backend for real: discovery on a store-shaped layout, the bridge run under CPython 3.12 and
3.13 (whichever are installed) against stand-ins of nixos-rebuild-ng's package in two API eras, building the
rebuild fixture's system with the real nix-build, switching a profile directory of our own, and failing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls.rebuild.backend_module import BRIDGE, ModuleBackend
from nix_humanity_ls.rebuild.choose import BackendProblem, choose_backend
from nix_humanity_ls.rebuild.discover import discover, find_python, inspect_installation
from nix_humanity_ls.rebuild.explain import explain
from nix_humanity_ls.rebuild.model import Action, LogLine, Plan, Progress, Result, Target, Unsupported
from nix_humanity_ls.rebuild.runner import run
from nix_humanity_ls.settings import PythonBackend
from tests.rebuild_fixture import STAND_IN, STAND_INS, config_with, nix_env, write_config, write_flake, write_nixpkgs

ERAS = {"v2": "25.05", "v4": "26.05"}  # stand-in directory → the version in its store name
PYTHONS = {version: find_python(version, os.environ) for version in ("3.12", "3.13")}
NIX_BIN = os.path.dirname(shutil.which("nix-build") or "/usr/bin/nix-build")
RUNS = [pytest.param(era, version, id=f"{era}-py{version}") for era in ERAS for version in PYTHONS]


def need(version: str) -> str:
    if PYTHONS[version] is None:
        pytest.skip(f"no CPython {version} installed (pyenv or PATH)")
    return PYTHONS[version]


def install_stand_in(era: str, store: Path, python: str) -> Path:
    """Copy a stand-in into `store` as `<hash>-nixos-rebuild-ng-<version>`, filling in the wrapper's PATH and the
    wrapped script's shebang the way a real build would."""
    prefix = store / f"{uuid.uuid4().hex[:32]}-nixos-rebuild-ng-{ERAS[era]}"
    shutil.copytree(STAND_INS / f"nixos_rebuild_{era}", prefix)
    built_for = next(prefix.glob("lib/python3.*")).name.removeprefix("python")
    for script in (prefix / "bin" / "nixos-rebuild", prefix / "bin" / ".nixos-rebuild-wrapped"):
        text = script.read_text().replace("@prefix@", str(prefix)).replace("@nix_bin@", NIX_BIN)
        script.write_text(text.replace("@python@", python).replace("@version@", built_for))
        script.chmod(0o755)
    return prefix


@pytest.fixture(scope="module")
def nixpkgs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nixpkgs(tmp_path_factory.mktemp("module-backend"))


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A profile directory and an activation log of the test's own; nix without binary caches."""
    for key, value in nix_env().items():
        monkeypatch.setenv(key, value)
    (tmp_path / "profiles").mkdir()
    monkeypatch.setenv("NIX_HUMANITY_PROFILE_DIR", str(tmp_path / "profiles"))
    monkeypatch.setenv("NIX_HUMANITY_ACTIVATION_LOG", str(tmp_path / "activations.log"))
    monkeypatch.delenv("NIX_HUMANITY_PYTHON_BACKEND", raising=False)
    monkeypatch.delenv("NIX_HUMANITY_NIXOS_REBUILD", raising=False)
    return tmp_path


def backend_for(era: str, version: str, root: Path) -> ModuleBackend:
    prefix = install_stand_in(era, root / "store", need(version))
    found = discover(str(prefix / "bin" / "nixos-rebuild"))
    assert found.module is not None, found.why_not()
    return ModuleBackend(found.module)


def channel(nixpkgs: Path, config: Path) -> Target:
    return Target("channel", config_file=str(config), nixpkgs=str(nixpkgs), files=(str(config),))


def salted(root: Path, options: str = "") -> Path:
    """A configuration nothing has built yet (the salt goes into a part the system depends on)."""
    salt = f'fixture.parts = 1;\nfixture.salt = "{uuid.uuid4().hex}";\n{options}'
    return write_config(root / uuid.uuid4().hex[:8], config_with(salt))


def run_plan(backend: ModuleBackend, plan: Plan) -> tuple[Result, list[object]]:
    events: list[object] = []
    result = run(backend.launch(plan), plan.action, events.append, threading.Event(), timeout=300)
    return result, events


def bridge_lines(backend: ModuleBackend, plan: Plan) -> tuple[list[dict], str, int]:
    """The bridge's stdout as parsed lines (every line must be JSON), its stderr and exit status."""
    launch = backend.launch(plan)
    done = subprocess.run(launch.argv, env={**os.environ, **launch.env}, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr, done.returncode


# -- discovery ---------------------------------------------------------------------------------------------------


def test_discovery_follows_the_real_store_layout(tmp_path: Path) -> None:
    python = need("3.13")
    prefix = install_stand_in("v4", tmp_path / "store", python)
    found = discover(environ={"PATH": str(tmp_path / "empty")}, store_dir=str(tmp_path / "store"),
                     system_bin=str(tmp_path / "no-system"))
    assert [i.found_by for i in found.installations] == ["the Nix store"]
    module = found.module
    assert module is not None, found.why_not()
    assert module.command == str(prefix / "bin" / "nixos-rebuild")
    assert module.site_packages == str(prefix / "lib" / "python3.13" / "site-packages")
    assert module.interpreter == python  # the wrapped script's shebang
    assert module.python == "3.13"
    assert module.path_prefix == (NIX_BIN,)  # read from the makeWrapper script
    assert module.search_path("/bin").split(os.pathsep) == [NIX_BIN, "/bin"]
    assert found.empty == ("PATH", str(tmp_path / "no-system"))


def test_discovery_through_a_system_symlink_and_path(tmp_path: Path) -> None:
    prefix = install_stand_in("v2", tmp_path / "store", need("3.12"))
    system_bin = tmp_path / "sw" / "bin"
    system_bin.mkdir(parents=True)
    (system_bin / "nixos-rebuild").symlink_to(prefix / "bin" / "nixos-rebuild")
    found = discover(environ={"PATH": str(system_bin)}, store_dir=str(tmp_path / "store"), system_bin=str(system_bin))
    assert len(found.installations) == 1  # the same installation three ways is reported once
    assert found.module.found_by == "PATH"
    assert found.module.command == str(system_bin / "nixos-rebuild")
    assert found.module.site_packages == str(prefix / "lib" / "python3.12" / "site-packages")


def test_nested_wrappers_of_both_makewrapper_generations(tmp_path: Path) -> None:
    prefix = install_stand_in("v4", tmp_path / "store", need("3.13"))
    outer = tmp_path / "outer" / "nixos-rebuild"
    outer.parent.mkdir()
    outer.write_text("#! /bin/sh -e\nexport PATH='/opt/a:/opt/b'${PATH:+':'}$PATH\n"
                     "export PATH=$PATH${PATH:+':'}'/opt/last'\nexport NIX_SSHOPTS='-o x'\n"
                     f"exec \"{prefix / 'bin' / 'nixos-rebuild'}\" \"$@\"\n")
    outer.chmod(0o755)
    found = inspect_installation(str(outer), "test", os.environ)
    assert found.usable, found.problem
    assert found.path_prefix == (NIX_BIN, "/opt/a", "/opt/b")  # the inner wrapper runs last, so it is first
    assert found.path_suffix == ("/opt/last",)
    assert found.command == str(outer) and found.ng is True


def test_a_configured_site_packages_gets_a_python_of_its_version(tmp_path: Path) -> None:
    python = need("3.12")
    prefix = install_stand_in("v2", tmp_path / "store", "/nonexistent/python3.12")
    site = prefix / "lib" / "python3.12" / "site-packages"
    for configured in (site, site / "nixos_rebuild"):  # the package directory means its parent
        found = discover(str(configured), environ=os.environ)
        assert found.module is not None, found.why_not()
        assert found.module.site_packages == str(site)
        assert os.path.basename(found.module.interpreter) == "python3.12"
        assert os.path.realpath(found.module.interpreter) == os.path.realpath(python)
    # through the command, the shebang's missing interpreter is replaced too
    assert discover(str(prefix / "bin" / "nixos-rebuild"), environ=os.environ).module is not None


def test_discovery_says_why_a_module_cannot_be_used(tmp_path: Path) -> None:
    nothing = {"PATH": "", "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": str(tmp_path)}
    # built for a Python too old for it
    prefix = install_stand_in("v2", tmp_path / "store", "/nonexistent/python3.11")
    (prefix / "lib" / "python3.12").rename(prefix / "lib" / "python3.11")
    old = inspect_installation(str(prefix / "bin" / "nixos-rebuild"), "test", nothing, str(tmp_path / "empty"))
    assert "built for Python 3.11, and the module needs 3.12 or newer" in old.problem
    # an interpreter too old for the package is passed over for one that fits
    python311 = tmp_path / "py" / "python3.11"
    python311.parent.mkdir()
    python311.symlink_to(sys.executable)
    prefix = install_stand_in("v2", tmp_path / "store", str(python311))
    fits = inspect_installation(str(prefix / "bin" / "nixos-rebuild"), "test", os.environ, str(tmp_path / "empty"))
    if PYTHONS["3.12"]:
        assert fits.usable and os.path.basename(fits.interpreter) == "python3.12"
    else:
        assert "is Python 3.11, and the module needs 3.12 or newer" in fits.problem
    # no interpreter anywhere
    prefix = install_stand_in("v4", tmp_path / "store", "/nonexistent/python3.13")
    lost = inspect_installation(str(prefix / "bin" / "nixos-rebuild"), "test", nothing, str(tmp_path / "empty"))
    assert "does not exist" in lost.problem and "no Python 3.13 found" in lost.problem
    # the shell-script nixos-rebuild of old
    script = tmp_path / "bin" / "nixos-rebuild"
    script.parent.mkdir()
    script.write_text("#! /bin/sh\nset -e\necho \"usage: nixos-rebuild [switch|boot]\"\n")
    script.chmod(0o755)
    found = discover(environ={"PATH": str(script.parent)}, store_dir=str(tmp_path / "empty"),
                     system_bin=str(tmp_path / "none"))
    assert found.module is None and found.with_command.command == str(script) and found.with_command.ng is False
    assert "shell-script nixos-rebuild" in found.why_not()
    # nothing at all
    nowhere = discover(environ={"PATH": ""}, store_dir=str(tmp_path / "empty"), system_bin=str(tmp_path / "none"))
    assert nowhere.installations == () and "no nixos-rebuild found" in nowhere.why_not()
    assert "missing" in discover(str(tmp_path / "missing"), environ={}).why_not()


# -- the bridge under each Python and era ------------------------------------------------------------------------


@pytest.mark.parametrize(("era", "version"), RUNS)
def test_dry_build_then_build_with_real_nix(era: str, version: str, nixpkgs: Path, machine: Path) -> None:
    backend = backend_for(era, version, machine)
    target = channel(nixpkgs, salted(machine))
    dry, _ = run_plan(backend, Plan(Action.DRY_BUILD, target))
    assert dry.ok, dry.stderr
    assert dry.backend == "python-module" and dry.store_path is None
    assert "will be built" in dry.stderr  # nix's own words, from its internal-json log on the bridge's stderr
    built, events = run_plan(backend, Plan(Action.BUILD, target))
    assert built.ok, built.stderr
    assert built.store_path and built.store_path.endswith("-nixos-system-fixture-24.11.20241201.fixture")
    assert (Path(built.store_path) / "bin" / "switch-to-configuration").exists()
    assert any(isinstance(e, Progress) and "building" in e.message for e in events)
    assert any(isinstance(e, LogLine) and f"Python {version}" in e.text for e in events)


@pytest.mark.parametrize(("era", "version"), RUNS)
def test_switch_generations_and_rollback_in_a_profile_of_our_own(
    era: str, version: str, nixpkgs: Path, machine: Path
) -> None:
    backend = backend_for(era, version, machine)
    profile = machine / "profiles" / "system"
    first, _ = run_plan(backend, Plan(Action.SWITCH, channel(nixpkgs, salted(machine))))
    assert first.ok, first.stderr
    assert os.readlink(profile) == "system-1-link" and os.path.realpath(profile) == first.store_path
    second, _ = run_plan(backend, Plan(Action.SWITCH, channel(nixpkgs, salted(machine))))
    assert second.ok and second.store_path != first.store_path
    tested, _ = run_plan(backend, Plan(Action.TEST, channel(nixpkgs, salted(machine))))
    assert tested.ok and os.readlink(profile) == "system-2-link"  # test does not touch the profile
    log = (machine / "activations.log").read_text().splitlines()
    assert log == [f"switch {first.store_path}", f"switch {second.store_path}", f"test {tested.store_path}"]

    listed, _ = run_plan(backend, Plan(Action.LIST_GENERATIONS, channel(nixpkgs, salted(machine))))
    assert listed.ok, listed.stderr
    assert [(g["generation"], g["current"]) for g in listed.data] == [(2, True), (1, False)]
    assert {g["kernelVersion"] for g in listed.data} == {"6.6.63"}

    back, _ = run_plan(backend, Plan(Action.ROLLBACK, channel(nixpkgs, salted(machine))))
    assert back.ok, back.stderr
    assert os.path.realpath(profile) == first.store_path
    chosen, _ = run_plan(backend, Plan(Action.ROLLBACK, channel(nixpkgs, salted(machine)), generation=2))
    assert chosen.ok, chosen.stderr
    assert os.path.realpath(profile) == second.store_path
    assert (machine / "activations.log").read_text().splitlines()[-2:] == [f"switch {first.store_path}",
                                                                           f"switch {second.store_path}"]


@pytest.mark.parametrize(("era", "version"), RUNS)
def test_a_failing_build_is_an_error_line_and_the_explainer_reads_stderr(
    era: str, version: str, nixpkgs: Path, machine: Path
) -> None:
    backend = backend_for(era, version, machine)
    config = salted(machine, "fixture.failBuild = true;")
    plan = Plan(Action.BUILD, channel(nixpkgs, config), nix_flags=("--option", "cores", "1", "--show-trace"))
    lines, stderr, code = bridge_lines(backend, plan)
    error = lines[-1]
    assert error["event"] == "error" and error["type"] == "CalledProcessError"
    assert code == error["returncode"] != 0
    assert error["cmd"][:4] == ["nix-build", "<nixpkgs/nixos>", "--attr", "config.system.build.toplevel"]
    assert ["--option", "cores", "1"] == error["cmd"][error["cmd"].index("--option"):][:3]
    assert "--show-trace" in error["cmd"] and "--no-out-link" in error["cmd"]
    assert "something in the system build went wrong" in stderr

    result, _ = run_plan(backend, plan)
    assert not result.ok and result.exit_code == code
    findings = explain(result.stderr, str(config))
    assert [f.kind for f in findings] == ["build-failed"]


@pytest.mark.parametrize(("era", "version"), RUNS[:1] + RUNS[-1:])
def test_an_evaluation_error_is_located_in_the_users_file(era: str, version: str, nixpkgs: Path, machine: Path) -> None:
    backend = backend_for(era, version, machine)
    config = salted(machine, "services.opensshd.enable = true;")
    result, _ = run_plan(backend, Plan(Action.DRY_BUILD, channel(nixpkgs, config)))
    assert not result.ok
    finding = explain(result.stderr, str(config))[0]
    assert finding.kind == "option-does-not-exist" and finding.option == "services.opensshd"
    assert finding.file == str(config)


def test_the_wrong_interpreter_is_said_plainly(nixpkgs: Path, machine: Path) -> None:
    old = sys.executable if sys.version_info < (3, 12) else find_python("3.11", os.environ)
    if old is None:
        pytest.skip("no CPython older than 3.12 to try")
    backend = backend_for("v4", "3.13", machine)
    too_old = ModuleBackend(attrs.evolve(backend.installation, interpreter=old))
    result, _ = run_plan(too_old, Plan(Action.BUILD, channel(nixpkgs, salted(machine))))
    assert not result.ok and result.exit_code == 3
    assert "needs Python 3.12 or newer, and this is Python 3.11" in result.stderr
    assert "the package's own interpreter" in result.stderr


@pytest.mark.parametrize(("era", "version"), RUNS[:1] + RUNS[-1:])
def test_a_flake_target_reaches_nix_as_nixos_rebuild_names_it(era: str, version: str, nixpkgs: Path, machine: Path) -> None:
    backend = backend_for(era, version, machine)
    flake = write_flake(machine / "flake", nixpkgs)
    lines, stderr, code = bridge_lines(backend, Plan(Action.BUILD, Target("flake", flake=str(flake), host="fixture")))
    if code == 0:
        assert Path(lines[-1]["path"]).exists()
    else:  # Nix before 2.9 has no `nix build --print-out-paths`, which nixos-rebuild-ng uses
        assert "--print-out-paths" in stderr
        assert f'{flake}#nixosConfigurations."fixture".config.system.build.toplevel' in lines[-1]["cmd"]


def test_json_lines_stay_clean_whatever_the_module_prints(tmp_path: Path) -> None:
    python = need("3.13")
    script = (
        "import importlib.util, os, subprocess, sys\n"
        f"spec = importlib.util.spec_from_file_location('bridge', {BRIDGE!r})\n"
        "bridge = importlib.util.module_from_spec(spec); spec.loader.exec_module(bridge)\n"
        "emit = bridge.Emitter()\n"
        "print('the module prints this')\n"
        "subprocess.run(['echo', 'a child prints this'])\n"
        "emit('log', message='ours')\n"
    )
    done = subprocess.run([python, "-I", "-c", script], capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL)
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"event": "log", "message": "ours"}]
    assert "the module prints this" in done.stderr and "a child prints this" in done.stderr


def test_elevation_the_module_does_not_know_is_refused_before_running(nixpkgs: Path, machine: Path) -> None:
    backend = backend_for("v4", "3.13", machine)
    with pytest.raises(Unsupported, match="only with sudo or run0"):
        backend.launch(Plan(Action.SWITCH, channel(nixpkgs, salted(machine)), elevate=("/usr/bin/pkexec",)))
    # the flags-dict era's functions take `sudo: bool` and nothing for run0: the bridge says so, runs nothing
    older = backend_for("v2", "3.12", machine)
    plan = Plan(Action.DRY_ACTIVATE, channel(nixpkgs, salted(machine)), elevate=("/usr/bin/run0",))
    lines, _stderr, code = bridge_lines(older, plan)
    assert code == 1 and lines[-1]["type"] == "BridgeError"
    assert lines[-1]["message"] == "this nixos-rebuild-ng gains root only with sudo, not run0"
    assert not (machine / "activations.log").exists()


# -- choosing ----------------------------------------------------------------------------------------------------


def test_choose_backend_honours_the_environment_variable(
    nixpkgs: Path, machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = install_stand_in("v4", machine / "store", need("3.13"))
    command = str(prefix / "bin" / "nixos-rebuild")
    nowhere = {"store_dir": str(machine / "empty"), "system_bin": str(machine / "none")}

    monkeypatch.setenv("NIX_HUMANITY_PYTHON_BACKEND", "true")
    backend, why = choose_backend(Action.BUILD, "false", command, **nowhere)  # the variable wins over the setting
    assert backend.name == "python-module" and str(prefix / "lib" / "python3.13" / "site-packages") in why
    with pytest.raises(BackendProblem, match="required .*NIX_HUMANITY_PYTHON_BACKEND is true.* does not exist"):
        choose_backend(Action.BUILD, "auto", str(machine / "missing"), **nowhere)

    monkeypatch.setenv("NIX_HUMANITY_PYTHON_BACKEND", "false")
    backend, why = choose_backend(Action.BUILD, "true", command, **nowhere)
    assert backend.name == "nixos-rebuild" and why.startswith(f"nixos-rebuild command at {command}")
    assert "NIX_HUMANITY_PYTHON_BACKEND is false" in why

    monkeypatch.setenv("NIX_HUMANITY_PYTHON_BACKEND", "auto")
    assert choose_backend(Action.BUILD, "false", command, **nowhere)[0].name == "python-module"
    backend, why = choose_backend(Action.SWITCH, "auto", command, elevate=("/usr/bin/pkexec",), **nowhere)
    assert backend.name == "nixos-rebuild" and "root only with sudo or run0, and here pkexec is used" in why
    monkeypatch.setenv("PATH", f"{STAND_IN.parent}{os.pathsep}{os.environ['PATH']}")
    backend, why = choose_backend(Action.BUILD, "auto", str(machine / "missing"), **nowhere)
    assert backend.name == "nixos-rebuild" and "does not exist" in why
    monkeypatch.setenv("PATH", NIX_BIN)
    backend, why = choose_backend(Action.BUILD, "auto", None, **nowhere)
    assert backend.name == "nix" and why.startswith("plain nix (no nixos-rebuild on this machine")

    monkeypatch.setenv("NIX_HUMANITY_PYTHON_BACKEND", "maybe")
    with pytest.raises(BackendProblem, match="must be auto, true or false"):
        choose_backend(Action.BUILD, **nowhere)
    monkeypatch.delenv("NIX_HUMANITY_PYTHON_BACKEND")
    with pytest.raises(BackendProblem, match="the rebuild.pythonBackend setting is true"):
        choose_backend(Action.BUILD, PythonBackend.ON, None, **nowhere)
