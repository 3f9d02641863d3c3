"""Whole rebuild operations through the core (rebuild/operations.py) with the real Nix underneath: the fixture's
nixpkgs builds a tiny real system, the stand-in nixos-rebuild activates it into a profile directory of the
test's own, and history, generations, skip-done, the change summary and elevation are checked on what that
left behind."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from nix_humanity_ls.rebuild.closure_diff import closure, diff_systems, package_of, parse_drv_name
from nix_humanity_ls.rebuild.elevation import decide_elevation
from nix_humanity_ls.rebuild.generations import list_generations, suggested
from nix_humanity_ls.rebuild.history import History, Record
from nix_humanity_ls.rebuild.model import Action, LogLine, Progress
from nix_humanity_ls.rebuild.operations import Machine, Request, run_operation
from nix_humanity_ls.settings import Elevation, RebuildSettings
from tests.rebuild_fixture import KERNEL_VERSION, NIXOS_VERSION, config_with, write_config
from tests.rebuild_support import Sandbox, sandbox


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    made = sandbox(tmp_path)
    for key, value in made.env().items():
        monkeypatch.setenv(key, value)
    return made


def machine(box: Sandbox, **fields: object) -> Machine:
    return Machine(history=History(box.state / "nix-humanity"), profile_dir=box.profiles, **fields)  # type: ignore[arg-type]


def operate(box: Sandbox, action: Action, *, answer: bool | None = True, settings: RebuildSettings | None = None,
            cancel: threading.Event | None = None, events: list | None = None, questions: list | None = None,
            on: Machine | None = None, **request: object):
    request.setdefault("file", str(box.config))
    request.setdefault("nixpkgs", str(box.nixpkgs))

    def confirm(question: str) -> bool:
        if questions is not None:
            questions.append(question)
        if answer is None:
            raise AssertionError(f"asked although nothing should be asked: {question}")
        return answer

    return run_operation(Request(action, **request), settings or RebuildSettings(),  # type: ignore[arg-type]
                         (events if events is not None else []).append, cancel or threading.Event(), confirm,
                         on or machine(box))


# ---- build, failures and history -------------------------------------------------------------------------------

def test_build_with_plain_nix_is_real_and_recorded(box: Sandbox):
    events: list = []
    outcome = operate(box, Action.BUILD, backend="nix", events=events, answer=None)
    assert outcome.status == "ok", outcome.summary
    assert outcome.backend == "nix" and "plain nix" in outcome.backend_reason
    assert (Path(outcome.store_path) / "nixos-version").read_text() == NIXOS_VERSION
    assert any(isinstance(e, Progress) for e in events) and any(isinstance(e, LogLine) for e in events)
    assert outcome.log_file and "nixos-system-fixture" in Path(outcome.log_file).read_text()
    [record] = History(box.state / "nix-humanity").records()
    assert (record.action, record.status, record.backend, record.store_path) == ("build", "ok", "nix", outcome.store_path)
    assert record.duration > 0 and record.log_file == outcome.log_file


def test_a_failed_build_comes_back_with_findings_on_the_right_file(box: Sandbox):
    box.config.write_text(config_with("services.openssh.enabel = true;"))
    outcome = operate(box, Action.BUILD, backend="nix", answer=None)
    assert outcome.status == "failed"
    first = outcome.findings[0]
    assert first.kind == "option-does-not-exist" and first.file == str(box.config)
    assert first.line == box.config.read_text().splitlines().index("  services.openssh.enabel = true;") + 1
    assert "problem" in outcome.summary and outcome.entry_file == str(box.config)
    assert outcome.sources[str(box.config)] == box.config.read_bytes()  # what the build read, for the editor
    [record] = History(box.state / "nix-humanity").records()
    assert record.status == "failed" and "error" in Path(record.log_file).read_text()


def test_history_keeps_every_operation_in_order_and_skips_damaged_lines(box: Sandbox):
    history = History(box.state / "nix-humanity")
    history.append(Record("build", "ok", "nix", "first", 1.5, started=1000.0))
    with open(history.path, "a", encoding="utf-8") as handle:
        handle.write("{not json\n[1, 2]\n")
    operate(box, Action.BUILD, backend="nix", answer=None)
    records = history.records()
    assert [r.summary for r in records][0] == "first" and len(records) == 2
    assert records[1].started > records[0].started and records[1].backend == "nix"


# ---- skip what is already done ---------------------------------------------------------------------------------

def test_dry_build_of_unchanged_inputs_answers_from_the_record(box: Sandbox):
    (box.nixpkgs / ".git-revision").write_text("0123456789abcdef0123456789abcdef01234567\n")  # as channels carry
    first = operate(box, Action.DRY_BUILD, backend="cli", answer=None)
    assert first.status == "ok" and first.skipped_from is None and first.result is not None
    second = operate(box, Action.DRY_BUILD, backend="cli", answer=None)
    assert second.status == "ok" and second.result is None and second.skipped_from is not None
    assert second.skipped_from.when() in second.summary and "Nothing changed" in second.summary
    # an imported module changing is a change too
    (box.config.parent / "extra.nix").write_text('{ ... }: { time.timeZone = "Europe/Berlin"; }\n')
    box.config.write_text(box.config.read_text().replace("{\n  networking", "{\n  imports = [ ./extra.nix ];\n  networking"))
    third = operate(box, Action.DRY_BUILD, backend="cli", answer=None)
    assert third.skipped_from is None and third.result is not None and third.status == "ok"
    (box.config.parent / "extra.nix").write_text('{ ... }: { time.timeZone = "Europe/Paris"; }\n')
    assert operate(box, Action.DRY_BUILD, backend="cli", answer=None).skipped_from is None
    # another nixpkgs revision too
    (box.nixpkgs / ".git-revision").write_text("fedcba9876543210fedcba9876543210fedcba98\n")
    assert operate(box, Action.DRY_BUILD, backend="cli", answer=None).skipped_from is None


def test_no_skip_when_nixpkgs_cannot_be_pinned_down(box: Sandbox):
    # the fixture tree is a plain folder: no store path, no .git-revision, no git
    operate(box, Action.DRY_BUILD, backend="cli", answer=None)
    again = operate(box, Action.DRY_BUILD, backend="cli", answer=None)
    assert again.skipped_from is None and again.result is not None


# ---- switch: build, show the change, ask, activate ---------------------------------------------------------------

def test_switch_builds_compares_asks_and_only_then_activates(box: Sandbox):
    running = box.build(box.config)  # the "current system": hello and git
    os.symlink(running, box.root / "current-system")
    box.config.write_text(config_with("", packages="hello firefox vim"))
    questions: list[str] = []
    declined = operate(box, Action.SWITCH, backend="cli", answer=False, questions=questions)
    assert declined.status == "declined" and box.activated() == []
    [question] = questions
    assert "firefox 133.0" in question and "vim 9.1.0765" in question and "git 2.47.0" in question
    assert [n for n, _ in declined.changes.added] == ["firefox", "vim"]
    assert [n for n, _ in declined.changes.removed] == ["git"]
    assert not os.path.exists(box.profiles / "system")

    accepted = operate(box, Action.SWITCH, backend="cli", answer=True)
    assert accepted.status == "ok", accepted.summary
    assert box.activated() == [f"switch {accepted.store_path}"]
    assert os.path.realpath(box.profiles / "system") == accepted.store_path
    # one operation, one log: the build's command and output, then the switch's, in order
    logs = sorted((box.state / "nix-humanity" / "logs").glob("*.log"))
    assert sorted([declined.log_file, accepted.log_file]) == [str(p) for p in logs]  # one each, no more
    assert accepted.log_file == History(box.state / "nix-humanity").records()[-1].log_file

    def commands(log: str) -> list[str]:
        argvs = [line.split() for line in Path(log).read_text().splitlines() if line.startswith("$ ")]
        return [argv[2] for argv in argvs if os.path.basename(argv[1]) == "nixos-rebuild"]

    assert commands(declined.log_file) == ["build"] and commands(accepted.log_file) == ["build", "switch"]
    text = Path(accepted.log_file).read_text()
    assert text.index("nixos-system-fixture") < text.index("$ ", 1) < text.rindex("# switch finished")
    assert History(box.state / "nix-humanity").switched().keys() == {accepted.store_path}


def test_confirm_switch_false_does_not_ask(box: Sandbox):
    outcome = operate(box, Action.SWITCH, backend="cli", answer=None, settings=RebuildSettings(confirm_switch=False))
    assert outcome.status == "ok" and box.activated() == [f"switch {outcome.store_path}"]


def test_the_plain_nix_backend_refuses_a_switch_before_building(box: Sandbox):
    outcome = operate(box, Action.SWITCH, backend="nix", answer=None)
    assert outcome.status == "unsupported" and "nixos-rebuild" in outcome.summary
    assert outcome.log_file is None and box.activated() == []


# ---- generations and rollback ----------------------------------------------------------------------------------

def _three_generations(box: Sandbox) -> list[str]:
    systems = []
    for packages in ("hello", "hello git", "hello vim"):
        config = write_config(box.root / f"gen-{len(systems)}", config_with("", packages=packages))
        systems.append(box.build(config))
        box.set_profile(systems[-1])
    return systems


def test_generations_from_the_profile_directory(box: Sandbox):
    systems = _three_generations(box)
    history = History(box.state / "nix-humanity")
    history.append(Record("switch", "ok", "nixos-rebuild", store_path=systems[0], started=time.time() - 60))
    found = list_generations(box.profiles, switched=history.switched())
    assert [g.id for g in found] == [3, 2, 1]
    assert [g.store_path for g in found] == systems[::-1]
    assert [g.current for g in found] == [True, False, False]
    assert {g.nixos_version for g in found} == {NIXOS_VERSION} and {g.kernel for g in found} == {KERNEL_VERSION}
    assert abs(found[0].date - time.time()) < 600
    assert suggested(found).id == 1  # the newest one our record says a switch succeeded to (not just the previous)
    outcome = operate(box, Action.LIST_GENERATIONS, answer=None)
    assert outcome.status == "ok" and outcome.suggested.id == 1 and len(outcome.generations) == 3
    assert outcome.to_json()["generations"][0] == {
        "id": 3, "date": found[0].when(), "nixosVersion": NIXOS_VERSION, "kernel": KERNEL_VERSION, "current": True,
        "storePath": systems[2], "link": str(box.profiles / "system-3-link"), "switchedOk": False}


def test_rollback_to_the_previous_generation_through_nixos_rebuild(box: Sandbox):
    systems = _three_generations(box)
    os.symlink(systems[2], box.root / "current-system")
    questions: list[str] = []
    outcome = operate(box, Action.ROLLBACK, backend="cli", questions=questions)
    assert outcome.status == "ok", outcome.summary
    assert "Roll back to generation 2" in questions[0]
    assert "1 package added (git 2.47.0); 1 package removed (vim 9.1.0765)" in questions[0]
    assert box.activated() == [f"switch {systems[1]}"]
    assert os.path.realpath(box.profiles / "system") == systems[1] == outcome.store_path


def test_rollback_to_a_chosen_generation(box: Sandbox):
    systems = _three_generations(box)
    declined = operate(box, Action.ROLLBACK, backend="cli", generation=1, answer=False)
    assert declined.status == "declined" and box.activated() == []
    outcome = operate(box, Action.ROLLBACK, backend="cli", generation=1)
    assert outcome.status == "ok", outcome.summary
    assert box.activated() == [f"switch {systems[0]}"]
    assert os.path.realpath(box.profiles / "system") == systems[0]
    missing = operate(box, Action.ROLLBACK, backend="cli", generation=9, answer=None)
    assert missing.status == "failed" and "generation 9" in missing.summary and "3, 2, 1" in missing.summary


# ---- the change summary from real closures --------------------------------------------------------------------

def _closure_build(root: Path, name: str, packages: dict[str, str]) -> str:
    """A real store path whose closure holds `<name>-<version>` packages (the top refers to each)."""
    deps = " ".join(
        f'(derivation {{ name = "{p}-{v}"; system = builtins.currentSystem; builder = "/bin/sh"; '
        f'args = [ "-c" "echo {p} > $out" ]; }})' for p, v in packages.items())
    recipe = root / f"{name}.nix"
    recipe.write_text(f'derivation {{ name = "{name}"; system = builtins.currentSystem; builder = "/bin/sh"; '
                      f'deps = [ {deps} ]; args = [ "-c" "echo $deps > $out" ]; }}\n')
    return subprocess.run(["nix-build", str(recipe), "--no-out-link"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_closure_diff_between_two_real_builds(tmp_path: Path):
    old = _closure_build(tmp_path, "system-a", {"firefox": "132.0", "git": "2.46.0", "htop": "3.3.0"})
    new = _closure_build(tmp_path, "system-b", {"firefox": "133.0", "vim": "9.1.0765", "htop": "3.3.0"})
    assert len(closure(old)) == 4
    changes = diff_systems(old, new)
    assert changes.added == (("vim", "9.1.0765"),)
    assert changes.removed == (("git", "2.46.0"),)
    assert changes.changed == (("firefox", "132.0", "133.0"),)
    assert changes.other_paths == 2  # the two tops, which have no version
    assert changes.summary() == ("1 package added (vim 9.1.0765); 1 package removed (git 2.46.0); 1 package changed "
                                 "in version (firefox 132.0 → 133.0); 2 other store paths differ.")


def test_names_and_versions_split_as_nix_splits_them():
    for name in ("firefox-121.0", "foo-unstable-2023-01-01", "python3.11-requests-2.31.0", "hello", "etc"):
        said = subprocess.run(["nix-instantiate", "--eval", "--json", "-E", f'builtins.parseDrvName "{name}"'],
                              capture_output=True, text=True, check=True).stdout
        assert parse_drv_name(name) == (json.loads(said)["name"], json.loads(said)["version"])
    assert package_of("/nix/store/" + "a" * 32 + "-openssl-3.0.12-bin") == ("openssl", "3.0.12")
    assert package_of("/nix/store/" + "a" * 32 + "-unit-sshd.service") == ("unit-sshd.service", "")


# ---- root -----------------------------------------------------------------------------------------------------

def _tool(directory: Path, name: str, exit_code: int) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(f"#!/bin/sh\necho 'sudo: a password is required' >&2\nexit {exit_code}\n")
    (directory / name).chmod(0o755)


def test_elevation_without_any_tool_answers_at_once_with_what_to_do(box: Sandbox):
    empty = box.root / "no-tools"
    empty.mkdir()
    decision = decide_elevation(Action.SWITCH, is_root=False, path=str(empty))
    assert decision.prefix == () and "sudo is not installed" in decision.problem
    assert "sudo nix-humanity switch" in decision.problem and "rebuild.elevation" in decision.problem
    outcome = operate(box, Action.SWITCH, backend="cli", answer=None, on=machine(box, is_root=False, tools_path=str(empty)))
    assert outcome.status == "needs-root" and outcome.summary == decision.problem
    assert outcome.log_file is None and box.activated() == []  # nothing was built or run
    # root needs nothing, and building needs no root
    assert decide_elevation(Action.SWITCH, is_root=True, path=str(empty)).problem is None
    assert decide_elevation(Action.BUILD, is_root=False, path=str(empty)).problem is None


def test_elevation_uses_sudo_only_without_a_password(box: Sandbox):
    tools = box.root / "tools"
    _tool(tools, "sudo", 1)
    refused = decide_elevation(Action.SWITCH, is_root=False, path=str(tools))
    assert "sudo needs a password" in refused.problem
    _tool(tools, "pkexec", 0)
    assert decide_elevation(Action.SWITCH, is_root=False, path=str(tools)).prefix == (str(tools / "pkexec"),)
    assert decide_elevation(Action.SWITCH, Elevation.SUDO, is_root=False, path=str(tools)).problem is not None
    _tool(tools, "sudo", 0)
    assert decide_elevation(Action.SWITCH, is_root=False, path=str(tools)).prefix == (str(tools / "sudo"), "-n")
    none = decide_elevation(Action.ROLLBACK, Elevation.NONE, is_root=False, path=str(tools))
    assert "`none`" in none.problem and "sudo nix-humanity rollback" in none.problem
    remote = decide_elevation(Action.SWITCH, is_root=False, path=str(box.root), target_host="web1")
    assert remote.remote and remote.tool == "sudo" and remote.problem is None


# ---- cancel and timeout ---------------------------------------------------------------------------------------

def test_cancel_stops_a_sleeping_build_and_is_recorded(box: Sandbox):
    box.config.write_text(config_with('fixture.sleepSeconds = 60;\nfixture.salt = "cancel-%f";' % time.time()))
    cancel = threading.Event()
    events: list = []

    def watch(event: object) -> None:
        events.append(event)
        if isinstance(event, LogLine) and "sleeping" in event.text:
            cancel.set()

    outcome = run_operation(Request(Action.BUILD, file=str(box.config), nixpkgs=str(box.nixpkgs), backend="nix"),
                            RebuildSettings(), watch, cancel, lambda q: True, machine(box))
    assert outcome.status == "cancelled" and outcome.findings == ()
    assert History(box.state / "nix-humanity").records()[-1].status == "cancelled"


def test_timeout_stops_the_build(box: Sandbox):
    box.config.write_text(config_with('fixture.sleepSeconds = 60;\nfixture.salt = "timeout-%f";' % time.time()))
    outcome = operate(box, Action.BUILD, backend="nix", answer=None, settings=RebuildSettings(timeout=2))
    assert outcome.status == "timed-out" and "2 s" in outcome.summary
