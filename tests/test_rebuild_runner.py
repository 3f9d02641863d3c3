"""The runner with the real Nix: builds of the rebuild fixture's system, their progress and logs, failures
read by the explainer, and cancels and timeouts that must leave no process behind."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls.rebuild.backend_nix import NixBackend
from nix_humanity_ls.rebuild.explain import explain
from nix_humanity_ls.rebuild.model import Action, Launch, LogLine, Plan, Progress, Result, Target
from nix_humanity_ls.rebuild.runner import descendants, run

from tests.processes import alive, processes_mentioning
from tests.rebuild_fixture import build_user_dir, cached_path, config_with, nix_env, substituter_env, write_config, write_nixpkgs

pytestmark = pytest.mark.skipif(shutil.which("nix-build") is None, reason="needs Nix")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_nixpkgs(tmp_path_factory.mktemp("fixture"))


def launch_for(tree: Path, config: Path, action: Action = Action.BUILD) -> Launch:
    target = Target("channel", config_file=str(config), nixpkgs=str(tree))
    return attrs.evolve(NixBackend().launch(Plan(action, target)), env=nix_env())


def configuration(tmp_path: Path, options: str = "") -> Path:
    salt = f'fixture.salt = "{uuid.uuid4().hex}";\n'  # a new system every time: always really built
    return write_config(tmp_path / "cfg", config_with(salt + options))


class Recorder:
    def __init__(self) -> None:
        self.events: list = []
        self.threads: set[str] = set()

    def __call__(self, event) -> None:
        self.events.append(event)
        self.threads.add(threading.current_thread().name)

    def progress(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Progress)]

    def lines(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, LogLine)]


def start(launch: Launch, action: Action = Action.BUILD, **kwargs):
    """Run in a thread, as the server and the CLI do; returns (thread, recorder, cancel, holder)."""
    recorder, cancel, holder = Recorder(), threading.Event(), {}
    thread = threading.Thread(target=lambda: holder.setdefault("result", run(launch, action, recorder, cancel, **kwargs)))
    thread.start()
    return thread, recorder, cancel, holder


def wait_for(condition, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


# ---- builds ----------------------------------------------------------------------------------------------------

def test_build_reports_progress_and_returns_the_system(tree, tmp_path):
    config = configuration(tmp_path, "fixture.parts = 2;")
    log_path = tmp_path / "logs" / "build.log"
    recorder = Recorder()
    result = run(launch_for(tree, config), Action.BUILD, recorder, threading.Event(), log_path=str(log_path))
    assert result.ok, result.stderr
    assert (result.backend, result.exit_code, result.cancelled, result.timed_out) == ("nix", 0, False, False)
    assert Path(result.store_path, "nixos-version").read_text().startswith("24.11")
    assert (Path(result.store_path) / "bin" / "switch-to-configuration").exists()
    assert result.store_path in result.summary
    progress = recorder.progress()
    assert progress[0] == "evaluating the configuration"
    assert any(m.startswith("building ") and ": fixture-part-1" in m for m in progress), progress
    assert progress[-1].startswith("building ") and "nixos-system-fixture-" in progress[-1]
    assert recorder.events[-1] == result  # the result is the last event
    assert "building part 1" in recorder.lines()  # the builder's own output, as text
    text = log_path.read_text()
    assert "@nix" not in text and "building part 0" in text and text.startswith("$ nix-build <nixpkgs/nixos>")
    assert recorder.threads == {threading.current_thread().name}  # events come on the caller's thread


def test_dry_build_builds_nothing(tree, tmp_path):
    config = configuration(tmp_path)
    result = run(launch_for(tree, config, Action.DRY_BUILD), Action.DRY_BUILD, Recorder(), threading.Event())
    assert result.ok and result.store_path is None
    assert "derivations will be built:" in result.stderr or "derivation will be built:" in result.stderr


def test_failed_build_gives_stderr_the_explainer_reads(tree, tmp_path):
    config = configuration(tmp_path, "fixture.failBuild = true;")
    result = run(launch_for(tree, config), Action.BUILD, Recorder(), threading.Event())
    assert not result.ok and result.exit_code not in (0, None)
    assert "@nix" not in result.stderr
    assert "fixture: something in the system build went wrong" in result.stderr
    assert "builder for" in result.summary
    finding = explain(result.stderr, str(config))[0]
    assert finding.kind == "build-failed"
    assert "something in the system build went wrong" in finding.raw


def test_unknown_option_is_found_in_the_users_file(tree, tmp_path):
    config = write_config(tmp_path / "cfg", config_with('services.openssh.permitRootLogn = "no";'))
    result = run(launch_for(tree, config), Action.BUILD, Recorder(), threading.Event())
    assert not result.ok
    assert "The option `services.openssh.permitRootLogn' does not exist." in result.stderr
    finding = explain(result.stderr, str(config))[0]
    assert (finding.kind, finding.option, finding.file) == (
        "option-does-not-exist", "services.openssh.permitRootLogn", str(config))
    line = config.read_text().splitlines()[finding.line - 1]
    assert "permitRootLogn" in line


def test_downloads_from_a_binary_cache_show_megabytes(tmp_path):
    with cached_path(tmp_path, uuid.uuid4().hex[:12]) as (path, url):
        launch = Launch("nix", ("nix-store", "-r", path, "--add-root", str(tmp_path / "root"), "--log-format",
                                "internal-json", "-v"), env=substituter_env(url))
        recorder = Recorder()
        result = run(launch, Action.BUILD, recorder, threading.Event())
    assert result.ok, result.stderr
    assert os.path.realpath(tmp_path / "root") == path and os.path.getsize(path) == 6000000
    downloading = [m for m in recorder.progress() if m.startswith("downloading ")]
    assert downloading and downloading[-1].startswith("downloading 5.7 of 5.7 MiB: bigdata-"), recorder.progress()


# ---- stopping --------------------------------------------------------------------------------------------------

@pytest.fixture
def pid_dir():
    with build_user_dir() as path:
        yield path


def slow_build(tree: Path, tmp_path: Path, pid_dir: Path) -> tuple[Launch, Path, str]:
    marker = tmp_path / f"slow-{uuid.uuid4().hex}"
    marker.mkdir()
    pid_file = pid_dir / "pids"
    config = write_config(marker, config_with(f'fixture.salt = "{marker.name}";\nfixture.sleepSeconds = 120;\n'
                                              f'fixture.pidFile = "{pid_file}";'))
    return launch_for(tree, config), pid_file, str(config)


def builder_pids(pid_file: Path) -> list[int]:
    try:
        return [int(line) for line in pid_file.read_text().split()]
    except (OSError, ValueError):
        return []


def test_cancel_stops_every_process_of_the_build(tree, tmp_path, pid_dir):
    launch, pid_file, config = slow_build(tree, tmp_path, pid_dir)
    thread, recorder, cancel, holder = start(launch)
    wait_for(lambda: len(builder_pids(pid_file)) == 2 or "result" in holder)  # the builder's shell and its sleep
    pids = builder_pids(pid_file)
    assert all(alive(pid) for pid in pids)
    assert processes_mentioning(config)  # nix-build itself
    cancel.set()
    thread.join(30)
    result: Result = holder["result"]
    assert result.cancelled and not result.ok and not result.timed_out
    assert "cancelled" in result.summary
    assert not [pid for pid in pids if alive(pid)]
    assert processes_mentioning(config) == []


def test_timeout_stops_the_build_the_same_way(tree, tmp_path, pid_dir):
    launch, pid_file, config = slow_build(tree, tmp_path, pid_dir)
    thread, recorder, cancel, holder = start(launch, timeout=3.0)
    wait_for(lambda: len(builder_pids(pid_file)) == 2 or "result" in holder)
    thread.join(60)
    result: Result = holder["result"]
    assert result.timed_out and not result.ok and not result.cancelled
    assert "longer than 3 s" in result.summary
    assert not [pid for pid in builder_pids(pid_file) if alive(pid)]
    assert processes_mentioning(config) == []


def test_what_a_finished_child_leaves_running_is_stopped(tmp_path):
    marker = f"nix-humanity-orphan-{uuid.uuid4().hex}"
    script = tmp_path / marker
    script.write_text("sleep 120 &\necho started\n")
    result = run(Launch("nix", ("/bin/sh", str(script))), Action.BUILD, Recorder(), threading.Event())
    assert result.ok and result.stdout == "started"
    wait_for(lambda: not processes_mentioning(marker) and not [
        p for p in descendants(os.getpid()) if alive(p) and "sleep" in Path(f"/proc/{p}/cmdline").read_text()], 5)


def test_cancel_is_heard_through_a_flood_of_output(tmp_path):
    marker = f"nix-humanity-flood-{uuid.uuid4().hex}"
    script = tmp_path / marker
    script.write_text("while :; do echo 'building something, again and again'; done >&2\n")
    thread, recorder, cancel, holder = start(Launch("nix", ("/bin/sh", str(script))))
    wait_for(lambda: len(recorder.lines()) > 1000)
    cancel.set()
    thread.join(30)
    assert holder["result"].cancelled
    assert processes_mentioning(marker) == []


def test_timeout_holds_for_a_child_that_closed_its_output(tmp_path):
    marker = f"nix-humanity-quiet-{uuid.uuid4().hex}"
    script = tmp_path / marker
    script.write_text("exec >&- 2>&-\nsleep 120\n")
    result = run(Launch("nix", ("/bin/sh", str(script))), Action.BUILD, Recorder(), threading.Event(), timeout=1.0)
    assert result.timed_out
    assert processes_mentioning(marker) == []


# ---- other children --------------------------------------------------------------------------------------------

def test_missing_program_is_a_result_not_an_exception():
    result = run(Launch("nixos-rebuild", ("nixos-rebuild-that-is-not-installed", "switch")), Action.SWITCH,
                 Recorder(), threading.Event())
    assert not result.ok and result.exit_code is None
    assert "nixos-rebuild-that-is-not-installed" in result.summary and "not installed" in result.summary


def test_bridge_lines_become_events_and_the_result(tmp_path):
    program = (
        "import json, sys\n"
        "def say(**event): print(json.dumps(event), flush=True)\n"
        "say(event='progress', message='activating the configuration', percentage=None)\n"
        "say(event='log', message='building the system configuration...')\n"
        "print('@nix {\"action\":\"msg\",\"level\":0,\"msg\":\"error: something nix said\"}', file=sys.stderr)\n"
        "say(event='result', path='/nix/store/00000000000000000000000000000000-nixos-system-x', data=[{'id': 3}])\n"
        "print('not json at all')\n"
    )
    recorder = Recorder()
    result = run(Launch("python-module", (sys.executable, "-c", program), bridge=True), Action.BUILD, recorder,
                 threading.Event())
    assert result.ok
    assert result.store_path == "/nix/store/00000000000000000000000000000000-nixos-system-x"
    assert result.data == [{"id": 3}]
    assert result.stdout == "not json at all"
    assert "activating the configuration" in recorder.progress()
    # two pipes read by two threads: lines of one stream keep their order, the streams interleave as they come
    assert sorted(result.stderr.splitlines()) == ["building the system configuration...", "error: something nix said"]


def test_bridge_error_fails_the_operation_with_its_words():
    program = (
        "import json\n"
        "print(json.dumps({'event': 'error', 'type': 'NixOSRebuildError', 'returncode': None, 'cmd': [],"
        " 'message': 'could not find previous generation'}))\n"
    )
    result = run(Launch("python-module", (sys.executable, "-c", program), bridge=True), Action.ROLLBACK, Recorder(),
                 threading.Event())
    assert not result.ok and result.exit_code == 0
    assert result.stderr == "error: could not find previous generation"
    assert result.summary.endswith("could not find previous generation")


def test_a_failing_listener_does_not_stop_the_run(tmp_path):
    def listener(event) -> None:
        raise RuntimeError("listener bug")

    result = run(Launch("nix", ("/bin/sh", "-c", "echo out; echo err >&2")), Action.BUILD, listener, threading.Event())
    assert result.ok and result.stderr == "err" and result.stdout == "out"
