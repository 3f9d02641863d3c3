"""`nix-humanity dry-build|build|switch|rollback|generations|history` as a user runs them: the real console
script in a child process, the fixture's real builds, the stand-in nixos-rebuild, and a pseudo-terminal where a
terminal matters (the progress bar, the question before a switch, Ctrl-C)."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.rebuild_fixture import NIXOS_VERSION, build_user_dir, config_with
from tests.rebuild_support import Sandbox, sandbox

CLI = [sys.executable, "-m", "nix_humanity_ls.cli"]


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return sandbox(tmp_path)


def cli(box: Sandbox, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env={**os.environ, **box.env()}, input=input, capture_output=True,
                          text=True, timeout=120, cwd=box.root)


def target(box: Sandbox) -> list[str]:
    return ["--file", str(box.config), "--nixpkgs", str(box.nixpkgs)]


def in_terminal(box: Sandbox, args: list[str], answer: bytes | None = None, interrupt_when: str | None = None,
                ) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr; type `answer` when asked, or press
    Ctrl-C once `interrupt_when` appears. Returns the exit status and everything shown."""
    master, slave = pty.openpty()
    child = subprocess.Popen([*CLI, *args], env={**os.environ, **box.env(), "COLUMNS": "100"}, stdin=slave,
                             stdout=slave, stderr=slave, cwd=box.root, start_new_session=True)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 120
    answered = interrupted = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if answer is not None and not answered and b"[y/N]" in shown:
            os.write(master, answer + b"\n")
            answered = True
        if interrupt_when and not interrupted and interrupt_when.encode() in shown:
            os.killpg(child.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the foreground group
            interrupted = True
        if child.poll() is not None and not ready:
            break
    code = child.wait(30)
    os.close(master)
    return code, shown.decode("utf-8", "replace")


def test_build_json_reports_backend_path_and_log(box: Sandbox):
    done = cli(box, "build", *target(box), "--backend", "nix", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "ok" and data["backend"] == "nix" and data["findings"] == []
    assert (Path(data["storePath"]) / "nixos-version").read_text() == NIXOS_VERSION
    assert Path(data["logFile"]).is_file() and data["backendReason"].startswith("plain nix")
    # not a terminal: progress as plain lines on stderr, no bar
    assert "evaluating the configuration" in done.stderr and "\r" not in done.stderr


def test_failed_build_prints_findings_like_explain(box: Sandbox):
    box.config.write_text(config_with("services.openssh.enabel = true;"))
    done = cli(box, "dry-build", *target(box), "--backend", "cli")
    assert done.returncode == 1
    line = box.config.read_text().splitlines().index("  services.openssh.enabel = true;") + 1
    assert f"{box.config}:{line}:3: Option `services.openssh.enabel` does not exist [option-does-not-exist]" in done.stdout
    assert "fix: " in done.stdout and "log: " in done.stdout and "backend: nixos-rebuild" in done.stdout
    explained = subprocess.run([*CLI, "explain", done.stdout.split("log: ")[1].split()[0], "--file", str(box.config)],
                               capture_output=True, text=True, env={**os.environ, **box.env()})
    first_finding = [x for x in done.stdout.splitlines() if "[option-does-not-exist]" in x]
    assert first_finding[0] in explained.stdout  # the same words as `nix-humanity explain` of the log
    as_json = json.loads(cli(box, "dry-build", *target(box), "--backend", "cli", "--json").stdout)
    assert as_json["status"] == "failed"
    assert as_json["findings"][0]["kind"] == "option-does-not-exist" and as_json["findings"][0]["line"] == line


def test_switch_without_a_terminal_needs_yes(box: Sandbox):
    refused = cli(box, "switch", *target(box), "--backend", "cli")
    assert refused.returncode == 2 and "--yes" in refused.stderr and box.activated() == []
    assert not (box.state / "nix-humanity" / "history.jsonl").exists()  # nothing ran
    done = cli(box, "switch", *target(box), "--backend", "cli", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert box.activated() == [f"switch {data['storePath']}"] and "-switch.log" in data["logFile"]


def test_switch_on_a_terminal_asks_and_no_means_nothing_activated(box: Sandbox):
    code, shown = in_terminal(box, ["switch", *target(box), "--backend", "cli"], answer=b"n")
    assert code == 2 and "Switch to the new system" in shown and "declined" in shown
    assert box.activated() == []
    code, shown = in_terminal(box, ["switch", *target(box), "--backend", "cli"], answer=b"y")
    assert code == 0, shown
    assert len(box.activated()) == 1 and box.activated()[0].startswith("switch /nix/store/")
    assert "\r\x1b[K[" in shown  # the progress bar, drawn in place


@pytest.fixture
def shared_dir():
    with build_user_dir() as made:
        yield made


def test_ctrl_c_stops_the_build_and_its_processes(box: Sandbox, shared_dir: Path):
    pids = shared_dir / "pids"
    box.config.write_text(config_with(f'fixture.sleepSeconds = 120;\nfixture.pidFile = "{pids}";\n'
                                      f'fixture.salt = "ctrl-c-{time.time()}";'))
    code, shown = in_terminal(box, ["build", *target(box), "--backend", "nix", "-v"], interrupt_when="sleeping 120")
    assert code == 130, shown
    started = [int(p) for p in pids.read_text().split()]
    assert started
    time.sleep(0.5)
    for pid in started:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    history = cli(box, "history", "--json")
    assert json.loads(history.stdout.splitlines()[-1])["status"] == "cancelled"


def test_generations_and_history(box: Sandbox):
    first = box.build(box.config)
    box.set_profile(first)
    box.config.write_text(config_with("", packages="hello vim"))
    assert cli(box, "switch", *target(box), "--backend", "cli", "--yes").returncode == 0
    listed = cli(box, "generations")
    assert listed.returncode == 0
    rows = [line for line in listed.stdout.splitlines() if NIXOS_VERSION in line]
    assert len(rows) == 2 and rows[0].startswith("*") and rows[0].split()[1] == "2"
    data = json.loads(cli(box, "generations", "--json").stdout)
    assert [g["id"] for g in data["generations"]] == [2, 1] and data["generations"][0]["current"]
    rolled = cli(box, "rollback", "--backend", "cli", "--yes", *target(box))
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert box.activated()[-1] == f"switch {first}"
    history = cli(box, "history").stdout.splitlines()
    assert [line.split()[2] for line in history if not line.startswith(" ")] == ["switch", "rollback"]
    assert all("nixos-rebuild" in line for line in history if not line.startswith(" "))


def test_dry_activate_asks_nothing_and_runs_the_systems_own_dry_activate(box: Sandbox):
    done = cli(box, "dry-activate", *target(box), "--backend", "cli", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "ok" and data["action"] == "dry-activate" and data["backend"] == "nixos-rebuild"
    assert box.activated() == [f"dry-activate {box.build(box.config)}"]  # no question: it changes nothing
    refused = cli(box, "dry-activate", *target(box), "--backend", "nix", "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["status"] == "unsupported"
    assert "needs nixos-rebuild" in json.loads(refused.stdout)["summary"] and len(box.activated()) == 1


@pytest.mark.parametrize("backend", ["nix", "cli"])
def test_build_vm_builds_a_runnable_vm(box: Sandbox, backend: str):
    done = cli(box, "build-vm", *target(box), "--backend", backend, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "ok" and data["action"] == "build-vm" and box.activated() == []
    run = Path(data["storePath"]) / "bin" / "run-fixture-vm"
    started = subprocess.run([str(run)], capture_output=True, text=True, check=True)
    assert started.stdout.strip() == f"would start {box.build(box.config)}"


@pytest.mark.parametrize(("elevation", "said"), [
    ("none", "elevation is `none`"),
    ("pkexec", "pkexec is not installed"),
    ("auto", "sudo is not installed; run0 is not installed; pkexec is not installed"),
])
def test_elevation_flag_decides_how_root_is_sought(shared_dir: Path, elevation: str, said: str):
    """As an ordinary user (nobody) and with none of sudo, run0 and pkexec on PATH, an action that needs root
    answers at once, before anything is built, in the words of the chosen `--elevation`."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the CLI as another user")
    config = shared_dir / "configuration.nix"
    config.write_text(config_with(""))
    config.chmod(0o644)
    env = {**os.environ, "PATH": str(shared_dir / "bin"), "XDG_STATE_HOME": str(shared_dir / "state"),
           "XDG_CACHE_HOME": str(shared_dir / "cache"), "HOME": str(shared_dir)}
    done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *CLI, "dry-activate",
                           "--file", str(config), "--elevation", elevation, "--json"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=shared_dir)
    assert done.returncode == 3, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "needs-root" and said in data["summary"] and data["backend"] is None
    assert data["logFile"] is None  # nothing ran


@pytest.mark.parametrize("timeout", ["-5", "0", "nan", "soon"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(box: Sandbox, timeout: str):
    done = cli(box, "build", *target(box), "--timeout", timeout)
    assert done.returncode == 2
    assert "must be a number of seconds greater than 0" in done.stderr
    assert "Traceback" not in done.stderr
