"""Progress and plain text from Nix's log, on recorded output of the real Nix 2.8 building the rebuild fixture.

The samples in tests/data/nix_progress/ are whole stderr streams of real runs (see its README):
`python -m tests.test_rebuild_progress record` (from the repository root) makes them again. The recorded copies are what these tests read,
so the expectations stay fixed; tests/test_rebuild_runner.py runs the same kinds of builds live.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nix_humanity_ls.rebuild.explain import explain
from nix_humanity_ls.rebuild.model import Progress
from nix_humanity_ls.rebuild.progress import ProgressTracker, json_event, plain_text, store_name

from tests.rebuild_fixture import (
    STAND_IN, cached_path, config_with, nix_env, substituter_env, write_config, write_flake, write_nixpkgs,
)

DATA = Path(__file__).parent / "data" / "nix_progress"
RECORD_DIR = "/home/alice/fixture"
_HASH = re.compile(r"/nix/store/[0-9a-z]{32}-")


def sample(name: str) -> list[str]:
    return (DATA / name).read_text().splitlines()


def progress_of(lines: list[str]) -> list[Progress]:
    tracker = ProgressTracker()
    return [p for p in (tracker.feed(line) for line in lines) if p is not None]


def messages(lines: list[str]) -> list[str]:
    return [p.message for p in progress_of(lines)]


def plain(lines: list[str]) -> list[str]:
    return [text for text in (plain_text(line) for line in lines) if text is not None]


# ---- builds ----------------------------------------------------------------------------------------------------

def test_json_build_counts_every_derivation_in_order():
    lines = sample("build-json.txt")
    found = progress_of(lines)
    building = [p for p in found if p.message.startswith("building ")]
    numbers = [int(re.match(r"building (\d+) of (\d+)", p.message).group(1)) for p in building]
    totals = {int(re.match(r"building \d+ of (\d+)", p.message).group(1)) for p in building}
    # `these 8 derivations will be built:` in the same stream says how many there are
    announced = int(re.search(r"these (\d+) derivations", "\n".join(plain(lines))).group(1))
    assert totals == {announced}
    assert numbers == sorted(numbers) and numbers[-1] == announced
    assert building[-1].message.startswith(f"building {announced} of {announced}: nixos-system-fixture-")
    percentages = [p.percentage for p in building]
    assert percentages == sorted(percentages) and percentages[0] == 0 and percentages[-1] == 100
    assert sorted(set(numbers)) == list(range(1, announced + 1))  # each build has its number
    # each fixture part is named as it is built
    assert {m.split(": ", 1)[1] for m in messages(lines) if "fixture-part" in m} == {
        "fixture-part-0", "fixture-part-1", "fixture-part-2"}


def test_json_and_plain_builds_say_the_same_lines():
    """The plain text made from the JSON events is what Nix printed without `--log-format internal-json`
    (two runs of the same configuration with another salt: only the store hashes differ)."""
    def normal(text: str) -> str:
        return re.sub(r"/fixture/(json|plain)/", "/fixture/CONFIG/", _HASH.sub("/nix/store/HASH-", text))

    from_json = sorted(normal(text) for text in plain(sample("build-json.txt")))
    printed = sorted(normal(line) for line in sample("build-plain.txt"))
    assert from_json == printed


def test_plain_build_lines_give_the_same_progress():
    lines = sample("build-plain.txt")
    announced = int(re.search(r"these (\d+) derivations", "\n".join(lines)).group(1))
    building = [m for m in messages(lines) if m.startswith("building ")]
    assert building[0].startswith(f"building 1 of {announced}: ")
    assert building[-1].startswith(f"building {announced} of {announced}: nixos-system-fixture-")
    assert len(building) == announced


def test_dry_build_lists_without_building():
    lines = sample("dry-build-json.txt")
    text = plain(lines)
    assert any(re.fullmatch(r"these \d+ derivations will be built:", line) for line in text)
    assert all(not m.startswith("building ") for m in messages(lines))
    assert messages(lines) == ["evaluating the configuration"]


def test_flake_build_is_read_like_a_channel_build():
    lines = sample("flake-build-json.txt")  # `nix build` does not list what it will build: the counts say it
    building = [m for m in messages(lines) if m.startswith("building ")]
    total = int(re.match(r"building \d+ of (\d+)", building[0]).group(1))
    assert total >= 4  # three parts and the system
    assert building[-1].startswith(f"building {total} of {total}: nixos-system-fixture-")
    assert messages(lines)[0] == "evaluating the configuration"


def test_failed_build_keeps_the_log_tail_for_the_explainer():
    lines = sample("build-failed-json.txt")
    text = "\n".join(plain(lines))
    assert "fixture: something in the system build went wrong" in text
    findings = explain(text)
    assert findings[0].kind == "build-failed"
    assert "something in the system build went wrong" in findings[0].explanation + findings[0].raw


def test_unknown_option_message_comes_out_as_nix_printed_it():
    lines = sample("option-does-not-exist-json.txt")
    text = "\n".join(plain(lines))
    assert ("error: The option `services.openssh.permitRootLogn' does not exist. Definition values:\n"
            "       - In `/home/alice/fixture/unknown/configuration.nix': \"no\"") in text
    finding = explain(text)[0]
    assert (finding.kind, finding.option) == ("option-does-not-exist", "services.openssh.permitRootLogn")


# ---- downloads -------------------------------------------------------------------------------------------------

def test_substitution_reports_megabytes_of_the_expected_download():
    lines = sample("substitute-json.txt")
    downloading = [p for p in progress_of(lines) if p.message.startswith("downloading ")]
    assert len(downloading) >= 3
    first, last = downloading[0], downloading[-1]
    assert re.fullmatch(r"downloading 0\.0 of 5\.7 MiB: bigdata-\w+", first.message)
    assert re.fullmatch(r"downloading 5\.7 of 5\.7 MiB: bigdata-\w+", last.message)
    assert (first.percentage, last.percentage) == (0, 100)
    shares = [p.percentage for p in downloading]
    assert shares == sorted(shares)
    # questions to the binary cache are not counted as the download
    assert not any("nix-cache-info" in p.message for p in progress_of(lines))


def test_plain_substitution_lines():
    found = messages(sample("substitute-plain.txt"))
    assert any(re.fullmatch(r"downloading 1 of 1, 6 MiB in all: bigdata-\w+", m) for m in found), found


# ---- nixos-rebuild's own steps ---------------------------------------------------------------------------------

def test_rebuild_steps_and_nix_events_in_one_stream():
    lines = sample("rebuild-switch-json.txt")
    found = messages(lines)
    assert found[0] == "building the system configuration"
    assert found.index("activating the configuration") > max(
        i for i, m in enumerate(found) if m.startswith("building ") and " of " in m)
    assert found[-1] == "updating the boot menu"


# ---- pieces ----------------------------------------------------------------------------------------------------

def test_store_name_and_plain_text_pieces():
    assert store_name("/nix/store/2kz88hrlaldywh25in4d2n94hvn2qajj-git-2.47.0.drv") == "git-2.47.0"
    assert store_name("/nix/store/2kz88hrlaldywh25in4d2n94hvn2qajj-git-2.47.0") == "git-2.47.0"
    assert json_event("building '/nix/store/x.drv'...") is None
    assert json_event("@nix {not json") is None
    assert plain_text('@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m boom"}') == "error: boom"
    assert plain_text('@nix {"action":"start","id":1,"level":6,"text":"querying info about missing paths","type":0}') is None
    assert plain_text("\x1b[1mplain\x1b[0m") == "plain"


def test_repeated_numbers_are_reported_once():
    tracker = ProgressTracker()
    events = [
        '@nix {"action":"start","id":1,"level":0,"text":"","type":104}',
        '@nix {"action":"start","fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv","",1,1],"id":2,"level":3,'
        '"text":"building","type":105}',
        '@nix {"action":"result","fields":[0,2,1,0],"id":1,"type":105}',
        '@nix {"action":"result","fields":[0,2,1,0],"id":1,"type":105}',
        '@nix {"action":"result","fields":["configurePhase"],"id":2,"type":104}',
    ]
    found = [tracker.feed(line) for line in events]
    assert [p.message for p in found if p] == ["building a", "building 1 of 2: a", "building 1 of 2: a (configurePhase)"]


# ---- recording -------------------------------------------------------------------------------------------------

def _stderr(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(argv, env={**os.environ, **env}, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    return done.stderr


def record() -> None:
    """Make tests/data/nix_progress/*.txt again with the installed Nix (the temporary directory is written as
    /home/alice/fixture). Needs nix, and deletes one store path it made itself (the download sample)."""
    DATA.mkdir(parents=True, exist_ok=True)
    salt = str(time.time_ns())
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        tree = write_nixpkgs(root)
        env = nix_env()
        channel = ["nix-build", "<nixpkgs/nixos>", "-A", "config.system.build.toplevel", "-I", f"nixpkgs={tree}",
                   "--no-out-link"]
        json_log = ["--log-format", "internal-json", "-v"]

        def config(name: str, options: str) -> str:
            return str(write_config(root / name, config_with(options)))

        outputs = {}
        parts = 'fixture.parts = 3;\nfixture.salt = "{}";'
        dry = config("dry", parts.format(salt + "dry"))
        outputs["dry-build-json.txt"] = _stderr([*channel, "-I", f"nixos-config={dry}", "--dry-run", *json_log], env, root)
        built = config("json", parts.format(salt + "json"))
        outputs["build-json.txt"] = _stderr([*channel, "-I", f"nixos-config={built}", *json_log], env, root)
        built = config("plain", parts.format(salt + "plain"))
        outputs["build-plain.txt"] = _stderr([*channel, "-I", f"nixos-config={built}", "-v"], env, root)
        failed = config("failed", f'fixture.failBuild = true;\nfixture.salt = "{salt}failed";')
        outputs["build-failed-json.txt"] = _stderr([*channel, "-I", f"nixos-config={failed}", *json_log], env, root)
        unknown = config("unknown", 'services.openssh.permitRootLogn = "no";')
        outputs["option-does-not-exist-json.txt"] = _stderr([*channel, "-I", f"nixos-config={unknown}", *json_log],
                                                            env, root)
        flake = write_flake(root / "flake", tree)
        write_config(flake, config_with(parts.format(salt + "flake")))
        outputs["flake-build-json.txt"] = _stderr(
            ["nix", "--extra-experimental-features", "nix-command flakes", "build", "--json", "--no-link",
             f"{flake}#nixosConfigurations.fixture.config.system.build.toplevel", *json_log], env, root)
        switched = config("switch", parts.format(salt + "switch"))
        profiles = root / "profiles"
        profiles.mkdir()
        outputs["rebuild-switch-json.txt"] = _stderr(
            [str(STAND_IN), "switch", "-I", f"nixpkgs={tree}", "-I", f"nixos-config={switched}", *json_log],
            {**env, "NIX_HUMANITY_TEST_PROFILES": str(profiles)}, root)
        outputs.update(_record_substitution(root, salt))
        for name, text in outputs.items():
            (DATA / name).write_text(text.replace(temporary, RECORD_DIR))


def _record_substitution(root: Path, salt: str) -> dict[str, str]:
    """A 6 MB path fetched from a binary cache served over HTTP on localhost: real download progress."""
    outputs = {}
    for name, log_flags in (("substitute-json.txt", ["--log-format", "internal-json", "-v"]),
                            ("substitute-plain.txt", ["-v"])):
        with cached_path(root, f"s{salt[-8:]}{len(outputs)}") as (path, url):
            outputs[name] = _stderr(["nix-store", "-r", path, "--add-root", str(root / f"root{len(outputs)}"),
                                     *log_flags], substituter_env(url), root)
    return outputs


if __name__ == "__main__" and sys.argv[1:] == ["record"]:
    if shutil.which("nix-build") is None:
        pytest.exit("recording needs nix-build")
    record()
