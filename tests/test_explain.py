"""The error explainer against real Nix output and recorded output of other Nix versions and of NixOS.

Real cases are produced at test time by the installed Nix (argv lists, no shell), so the layout under test is
the one Nix prints, not our idea of it. NixOS-module wording (options, check-meta refusals) cannot come from a
bare Nix without nixpkgs, so those messages are raised with `throw` of nixpkgs' exact text: Nix then lays them
out for real. Formats this Nix cannot print (2.2x stacks, flakes, activation, collisions) are recorded files in
tests/data/nix_errors/ (see its README). `python tests/test_explain.py record` refreshes the real-*.txt copies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from nix_humanity_ls.cli import main
from nix_humanity_ls.rebuild.explain import KINDS, explain
from nix_humanity_ls.rebuild.nix_log import read_messages

DATA = Path(__file__).parent / "data" / "nix_errors"
HAVE_NIX = shutil.which("nix-instantiate") is not None and shutil.which("nix-build") is not None
STORE_SOURCE = "/nix/store/q2z7k3v7m1b5l0wk9rmy2a1c2qf0m0b3-source"


@attrs.frozen
class Expect:
    kind: str
    line: int | None = None
    column: int | None = None
    option: str | None = None
    package: str | None = None
    fixes: bool = True  # at least one fix is offered
    in_case_file: bool = False  # the location is the case's own file (real cases)


@attrs.frozen
class Case:
    """One real Nix run: `mode` says which command; `source` is written to case.nix; `message` (for `throw`
    cases) to message.txt, without a trailing newline, so Nix prints exactly nixpkgs' wording."""

    mode: str  # eval, eval-json, build, build-json, nobody
    source: str
    expect: Expect
    message: str | None = None


THROW = "throw (builtins.readFile ./message.txt)\n"
CONFIG = "/etc/nixos/configuration.nix"

REAL: dict[str, Case] = {
    "syntax-missing-semicolon": Case("eval", '{ pkgs, ... }:\n{\n  services.openssh.enable = true\n  networking.hostName = "box";\n}\n',
                                     Expect("syntax-error", 4, 23, in_case_file=True)),
    "syntax-unexpected-eof": Case("eval", "{ a = [ 1 2\n", Expect("syntax-error", 1, 12, in_case_file=True)),
    "syntax-duplicate-attribute": Case("eval", "{ a = 1; a = 2; }\n", Expect("syntax-error", 1, 10, in_case_file=True)),
    "syntax-json": Case("eval-json", "{\n  a = 1\n  b = 2;\n}\n", Expect("syntax-error", 3, 5, in_case_file=True)),
    "undefined-variable": Case("eval", "let\n  x = 1;\nin {\n  environment.systemPackages = [ firefox ];\n}\n",
                               Expect("undefined-variable", 4, 34, package="firefox", in_case_file=True)),
    "undefined-variable-json": Case("eval-json", "{ x = pkgs.hello; }\n",
                                    Expect("undefined-variable", 1, 7, in_case_file=True)),
    "missing-attribute": Case("eval", "let pkgs = { hello = 1; }; in pkgs.firefoxx\n",
                              Expect("missing-attribute", 1, 31, package="firefoxx", in_case_file=True)),
    "missing-attribute-did-you-mean": Case("eval", "let f = x: x.a; in f { b = 1; }\n",
                                           Expect("missing-attribute", 1, 12, package="a", in_case_file=True)),
    "type-error-coerce": Case("eval", 'let a = "x"; in a + 1\n', Expect("type-error", 1, 21, fixes=False, in_case_file=True)),
    "type-error-not-a-set": Case("eval", "let l = [ 1 2 ]; in l.foo\n", Expect("type-error", 1, 21, fixes=False, in_case_file=True)),
    "type-error-call": Case("eval", "let x = 3; in x 4\n", Expect("type-error", 1, 15, fixes=False, in_case_file=True)),
    "type-error-argument": Case("eval", "let f = { pkgs, lib }: 1; in f { pkgs = 1; }\n",
                                Expect("type-error", 1, 30, fixes=False, in_case_file=True)),
    "type-error-bool": Case("eval", 'if "yes" then 1 else 2\n', Expect("type-error", 1, 1, fixes=False, in_case_file=True)),
    "infinite-recursion": Case("eval", "let x = x + 1; in x\n", Expect("infinite-recursion", 1, 9, in_case_file=True)),
    "infinite-recursion-rec": Case("eval", "let s = rec { a = s.a; }; in s.a\n",
                                   Expect("infinite-recursion", 1, 15, in_case_file=True)),
    "assertion": Case("eval", "let v = 1; in assert v == 2; v\n", Expect("failed-assertion", 1, 15, in_case_file=True)),
    "assertion-json": Case("eval-json", "let v = 1; in assert v == 2; v\n", Expect("failed-assertion", 1, 15, in_case_file=True)),
    "abort": Case("eval", 'abort "this configuration is not supported"\n', Expect("failed-assertion")),
    "nixos-failed-assertions": Case("eval", THROW, Expect("failed-assertion"), message=(
        "\nFailed assertions:\n- The ‘fileSystems’ option does not specify your root file system.")),
    "import-not-found": Case("eval", "{ imports = [ (import ./hardware-configuration.nix) ]; }\n",
                             Expect("import-not-found")),
    "flake-untracked-file-2.8": Case("eval", f"import {STORE_SOURCE}/hardware-configuration.nix\n",
                                     Expect("flake-untracked-file")),
    "build-failed": Case("build", 'derivation { name = "boom"; system = builtins.currentSystem; builder = "/bin/sh";'
                         ' args = [ "-c" "echo compiling; echo boom; exit 1" ]; }\n', Expect("build-failed", package="boom")),
    "build-failed-json": Case("build-json", 'derivation { name = "boom-json"; system = builtins.currentSystem;'
                              ' builder = "/bin/sh"; args = [ "-c" "echo boom; exit 3" ]; }\n',
                              Expect("build-failed", package="boom-json")),
    "hash-mismatch": Case("build", 'derivation { name = "fixed"; system = builtins.currentSystem; builder = "/bin/sh";'
                          ' args = [ "-c" "echo hello > $out" ]; outputHashMode = "flat"; outputHashAlgo = "sha256";'
                          ' outputHash = "0000000000000000000000000000000000000000000000000000"; }\n',
                          Expect("hash-mismatch", package="fixed")),
    "network-failure": Case("eval", 'builtins.fetchurl "http://nonexistent.invalid/x.tar.gz"\n', Expect("network-failure")),
    "permission-denied": Case("nobody", "1\n", Expect("permission-denied")),
    # NixOS wording from nixpkgs lib/modules.nix and pkgs/stdenv/generic/check-meta.nix, laid out by Nix 2.8
    "option-does-not-exist-2.8": Case("eval", THROW, Expect("option-does-not-exist", option="services.openssh.permitRootLogn"),
        message=f"The option `services.openssh.permitRootLogn' does not exist. Definition values:\n- In `{CONFIG}': \"no\""),
    "option-renamed-missing-2.8": Case("eval", THROW, Expect("option-does-not-exist", option="hardware.opengl.enable"),
        message=f"The option `hardware.opengl.enable' does not exist. Definition values:\n- In `{CONFIG}': true"),
    "option-type-mismatch-2.8": Case("eval", THROW, Expect("option-type-mismatch", option="networking.firewall.allowedTCPPorts"),
        message=("A definition for option `networking.firewall.allowedTCPPorts.\"[definition 1-entry 1]\"' is not of type "
                 f"`16 bit unsigned integer; between 0 and 65535 (both inclusive)'. Definition values:\n- In `{CONFIG}': \"8080\"")),
    "option-type-mismatch-old": Case("eval", THROW, Expect("option-type-mismatch", option="services.openssh.enable"),
        message=f"The option value `services.openssh.enable' in `{CONFIG}' is not of type `boolean'."),
    "option-used-but-not-defined-2.8": Case("eval", THROW, Expect("option-used-but-not-defined", option="users.users.alice.group"),
        message="The option `users.users.alice.group' is used but not defined."),
    "conflicting-definitions-2.8": Case("eval", THROW, Expect("conflicting-definitions", option="services.xserver.displayManager.defaultSession"),
        message=("The unique option `services.xserver.displayManager.defaultSession' is defined multiple times. Definition values:\n"
                 f"- In `{CONFIG}': \"plasma\"\n- In `{STORE_SOURCE}/nixos/modules/services/x11/desktop-managers/gnome.nix': \"gnome\"")),
    "option-removed-2.8": Case("eval", THROW, Expect("option-removed", option="services.xserver.libinput.enable"),
        message=f"The option definition `services.xserver.libinput.enable' in `{CONFIG}' no longer has any effect; please remove it.\nUse services.libinput.enable."),
    "option-renamed-trace-2.8": Case("eval", f"builtins.trace \"warning: The option `hardware.opengl.enable' defined in `{CONFIG}' has been renamed to `hardware.graphics.enable'.\" (throw \"stop\")\n",
                                     Expect("option-renamed", option="hardware.opengl.enable")),
    "option-renamed-trace-json": Case("eval-json", f"builtins.trace \"warning: The option `hardware.opengl.enable' defined in `{CONFIG}' has been renamed to `hardware.graphics.enable'.\" (throw \"stop\")\n",
                                      Expect("option-renamed", option="hardware.opengl.enable")),
    "unfree-package-2.8": Case("eval", THROW, Expect("unfree-package", package="steam-original-1.0.0.74"), message=(
        "Package ‘steam-original-1.0.0.74’ in /nix/store/1ky3hdk7pa8sgmdc6nfhz7rsmi0mzdbb-nixos-22.05/nixos/pkgs/games/steam/steam.nix:35"
        " has an unfree license (‘unfreeRedistributable’), refusing to evaluate.\n\na) To temporarily allow unfree packages, you can"
        " use an environment variable\n   for a single invocation of the nix tools.\n\n     $ export NIXPKGS_ALLOW_UNFREE=1\n\nb) For"
        " `nixos-rebuild` you can set\n  { nixpkgs.config.allowUnfree = true; }\nin configuration.nix to override this.")),
    "unfree-package-json": Case("eval-json", THROW, Expect("unfree-package", package="vscode-1.95.3"), message=(
        f"Package ‘vscode-1.95.3’ in {STORE_SOURCE}/pkgs/applications/editors/vscode/vscode.nix:85 has an unfree license (‘unfree’), refusing to evaluate.")),
    "broken-package-2.8": Case("eval", THROW, Expect("broken-package", package="hello-broken-1.0"), message=(
        f"Package ‘hello-broken-1.0’ in {STORE_SOURCE}/pkgs/hello/default.nix:20 is marked as broken, refusing to evaluate.")),
    "insecure-package-2.8": Case("eval", THROW, Expect("insecure-package", package="openssl-1.1.1w"), message=(
        f"Package ‘openssl-1.1.1w’ in {STORE_SOURCE}/pkgs/development/libraries/openssl/default.nix:227 is marked as insecure, refusing to evaluate.\n\n\nKnown issues:\n - OpenSSL 1.1 is end of life.")),
    "unsupported-platform-2.8": Case("eval", THROW, Expect("unsupported-platform", package="spotify-1.1.84.716"), message=(
        f"Package ‘spotify-1.1.84.716’ in {STORE_SOURCE}/pkgs/applications/audio/spotify/default.nix:191 is not supported on ‘aarch64-linux’, refusing to evaluate.")),
    "unknown-throw": Case("eval", 'throw "something entirely different"\n', Expect("unknown", fixes=False)),
}

RECORDED: dict[str, Expect] = {
    "rec-activation-failed.txt": Expect("activation-failed"),
    "rec-activation-snippet-failed.txt": Expect("activation-failed"),
    "rec-broken-package.txt": Expect("broken-package", package="python3.12-tensorflow-2.13.0"),
    "rec-build-failed-2.2x.txt": Expect("build-failed", package="mytool-0.3.1"),
    "rec-cannot-build-2.2x.txt": Expect("build-failed", package="mytool-0.3.1"),
    "rec-conflicting-definitions-2.2x.txt": Expect("conflicting-definitions", option="networking.hostName"),
    "rec-failed-assertion-nixos.txt": Expect("failed-assertion"),
    "rec-file-collision.txt": Expect("file-collision"),
    "rec-flake-attr-missing.txt": Expect("flake-attr-missing"),
    "rec-flake-untracked-file-2.2x.txt": Expect("flake-untracked-file"),
    "rec-hash-mismatch-2.2x.txt": Expect("hash-mismatch", package="source"),
    "rec-import-not-found-2.2x.txt": Expect("import-not-found"),
    "rec-infinite-recursion-2.2x.txt": Expect("infinite-recursion", 508, 28),
    "rec-insecure-package.txt": Expect("insecure-package", package="openssl-1.1.1w"),
    "rec-missing-attribute-2.2x.txt": Expect("missing-attribute", 12, 50, package="firefx"),
    "rec-network-failure-2.2x.txt": Expect("network-failure"),
    "rec-option-does-not-exist-2.2x.txt": Expect("option-does-not-exist", option="services.openssh.permitRootLogn"),
    "rec-option-does-not-exist-renamed.txt": Expect("option-does-not-exist", option="hardware.opengl.enable"),
    "rec-option-does-not-exist.json.txt": Expect("option-does-not-exist", option="services.openssh.permitRootLogn"),
    "rec-option-removed-assertion.txt": Expect("option-removed", option="sound.enable"),
    "rec-option-renamed-evaluation-warning.txt": Expect("option-renamed", option="services.xserver.displayManager.sddm.enable"),
    "rec-option-renamed-warning.txt": Expect("option-renamed", option="hardware.opengl.enable"),
    "rec-option-renamed.json.txt": Expect("option-renamed", option="hardware.opengl.enable"),
    "rec-option-type-mismatch-2.2x.txt": Expect("option-type-mismatch", option="services.openssh.enable"),
    "rec-option-used-but-not-defined.txt": Expect("option-used-but-not-defined", option='fileSystems."/".device'),
    "rec-out-of-space-build.txt": Expect("out-of-space"),
    "rec-out-of-space.txt": Expect("out-of-space"),
    "rec-permission-denied-daemon.txt": Expect("permission-denied"),
    "rec-permission-denied-rebuild.txt": Expect("permission-denied"),
    "rec-syntax-error-2.2x.txt": Expect("syntax-error", 8, 23),
    "rec-syntax-error.json.txt": Expect("syntax-error", 8, 23),
    "rec-undefined-variable-2.2x.txt": Expect("undefined-variable", 12, 37),
    "rec-unfree-package-2.2x.txt": Expect("unfree-package", package="vscode-1.95.3"),
    "rec-unfree-package.json.txt": Expect("unfree-package", package="vscode-1.95.3"),
    "rec-unknown.txt": Expect("unknown", fixes=False),
    "rec-unsupported-platform.txt": Expect("unsupported-platform", package="spotify-1.2.48.405"),
}


def run_case(case: Case, directory: Path) -> str:
    """Run real Nix on the case in `directory` and return what it printed on stderr."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "case.nix"
    source.write_text(case.source)
    if case.message is not None:
        (directory / "message.txt").write_text(case.message)
    quiet = ["--option", "substituters", "", "--option", "download-attempts", "1"]
    json_log = ["--log-format", "internal-json"] if case.mode.endswith("-json") else []
    if case.mode.startswith("eval"):
        argv = ["nix-instantiate", "--eval", "--strict", *quiet, *json_log, str(source)]
    elif case.mode.startswith("build"):
        argv = ["nix-build", "--no-out-link", *quiet, *json_log, str(source)]
    else:  # nobody: an unprivileged user reaching root's Nix state
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            pytest.skip("needs root and setpriv to run Nix as an unprivileged user")
        argv = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", shutil.which("nix-instantiate") or "",
                "--eval", str(source)]
    env = {**os.environ, "HOME": str(directory), "NIX_PATH": ""}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=directory, timeout=120, check=False)
    assert result.returncode != 0, f"{argv} unexpectedly succeeded: {result.stdout}"
    return result.stderr


def check(findings: list, expect: Expect, case_file: str | None = None) -> None:
    assert findings, "no finding"
    first = findings[0]
    assert first.kind == expect.kind, (first.kind, first.message)
    assert first.kind in KINDS
    if expect.line is not None:
        assert (first.line, first.column) == (expect.line, expect.column)
    if expect.in_case_file:
        assert first.file == case_file
    if expect.option is not None:
        assert first.option == expect.option
    if expect.package is not None:
        assert first.package == expect.package
    assert bool(first.fixes) == expect.fixes, first.fixes
    assert first.raw and first.message and first.explanation and first.title


@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate and nix-build")
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_nix_output(name: str, tmp_path: Path) -> None:
    case = REAL[name]
    output = run_case(case, tmp_path / name)
    check(explain(output), case.expect, str(tmp_path / name / "case.nix"))


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recorded_output(name: str) -> None:
    check(explain((DATA / name).read_text("utf-8")), RECORDED[name])


@pytest.mark.parametrize("name", sorted(REAL))
def test_recorded_copy_of_real_output(name: str) -> None:
    """The recorded copies keep the real layouts testable on a machine without Nix."""
    path = DATA / f"real-{name}.txt"
    if not path.exists():
        pytest.skip("no recorded copy (permission case needs root when recording)")
    expect = attrs.evolve(REAL[name].expect, in_case_file=False)
    findings = explain(path.read_text("utf-8"))
    check(findings, expect)
    if REAL[name].expect.in_case_file:
        assert findings[0].file == f"{RECORD_DIR}/{name}/case.nix"


def test_every_sample_file_is_expected_and_every_kind_is_covered() -> None:
    files = {p.name for p in DATA.iterdir() if p.suffix == ".txt"}
    recorded = {f for f in files if f.startswith("rec-")}
    assert recorded == set(RECORDED)
    assert files - recorded <= {f"real-{name}.txt" for name in REAL}
    covered = {e.kind for e in RECORDED.values()} | {c.expect.kind for c in REAL.values()}
    assert covered == set(KINDS)
    assert len(files) >= 45


def test_fixes_name_the_concrete_change() -> None:
    renamed = explain((DATA / "rec-option-renamed-warning.txt").read_text())[0]
    assert any(f.edit == "replace `hardware.opengl.enable` with `hardware.graphics.enable`" for f in renamed.fixes)
    missing = explain((DATA / "rec-option-does-not-exist-renamed.txt").read_text())[0]
    assert any("hardware.graphics.enable" in (f.edit or "") for f in missing.fixes)
    unfree = explain((DATA / "rec-unfree-package-2.2x.txt").read_text())[0]
    edits = [f.edit for f in unfree.fixes]
    assert "allow unfree (nixpkgs.config.allowUnfree = true)" in edits
    assert "remove the package `vscode` from environment.systemPackages" in edits
    typo = explain((DATA / "rec-missing-attribute-2.2x.txt").read_text())[0]
    assert next(f.title for f in typo.fixes) == "Did you mean `firefox`?"
    hashed = explain((DATA / "rec-hash-mismatch-2.2x.txt").read_text())
    assert [f.kind for f in hashed] == ["hash-mismatch"]  # the "1 dependencies … failed" line adds nothing
    assert "sha256-3Jx3e2MHzcWmsjwQnAAHwJhXsGZq1yWXZl3j2uhCF4A=" in hashed[0].fixes[0].edit
    removed = explain((DATA / "rec-option-removed-assertion.txt").read_text())[0]
    assert any("remove" in (f.edit or "") for f in removed.fixes)


def test_newer_nix_takes_the_message_after_the_frames() -> None:
    message = read_messages((DATA / "rec-option-does-not-exist-2.2x.txt").read_text())[0]
    assert message.message.startswith("The option `services.openssh.permitRootLogn' does not exist.")
    assert message.file is None  # the frames' positions are nixpkgs', not the error's


CONFIGURATION = """{ config, pkgs, lib, ... }:
{
  imports = [ ./hardware-configuration.nix ];
  services.openssh = {
    enable = true;
    permitRootLogn = "no";
  };
  hardware.opengl.enable = true;
  environment.systemPackages = with pkgs; [ vim vscode ];
}
"""


@pytest.mark.parametrize("sample, expected", [
    ("rec-option-does-not-exist-2.2x.txt", (6, 5)),  # nested spelling
    ("rec-option-does-not-exist-renamed.txt", (8, 3)),  # dotted spelling
    ("rec-option-renamed-warning.txt", (8, 3)),
    ("rec-option-type-mismatch-2.2x.txt", (5, 5)),
    ("rec-unfree-package-2.2x.txt", (9, 49)),  # the list element
])
def test_location_from_the_syntax_tree(sample: str, expected: tuple[int, int], tmp_path: Path) -> None:
    config = tmp_path / "configuration.nix"
    config.write_text(CONFIGURATION)
    finding = explain((DATA / sample).read_text(), str(config))[0]
    assert (finding.file, finding.line, finding.column) == (str(config), *expected)


def test_no_location_without_the_file() -> None:
    finding = explain((DATA / "rec-option-does-not-exist-2.2x.txt").read_text(), None)[0]
    assert (finding.line, finding.column) == (None, None)
    assert finding.file == CONFIG  # named by Nix, but not readable here


def test_styles_differ() -> None:
    text = (DATA / "rec-unfree-package-2.2x.txt").read_text()
    friendly, concise, expert = (explain(text, style=s)[0].explanation for s in ("friendly", "concise", "expert"))
    assert "\n" not in concise and len(concise) < len(friendly)
    assert "has an unfree license" in expert and "unfree-package" in expert
    with pytest.raises(ValueError):
        explain(text, style="chatty")


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "configuration.nix"
    config.write_text(CONFIGURATION)
    assert main(["explain", str(DATA / "rec-option-does-not-exist-2.2x.txt"), "--file", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["findings"]
    (finding,) = out["findings"]
    assert list(finding) == ["kind", "title", "explanation", "file", "line", "column", "option", "fixes"]
    assert (finding["kind"], finding["file"], finding["line"], finding["column"], finding["option"]) == (
        "option-does-not-exist", str(config), 6, 5, "services.openssh.permitRootLogn")
    assert all(list(fix) == ["title"] for fix in finding["fixes"])


def test_cli_text_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    data = (DATA / "rec-unfree-package-2.2x.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["explain", "-", "--style", "concise"]) == 0
    out = capsys.readouterr().out
    assert "[unfree-package]" in out and "allowUnfree" in out


def test_cli_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(tmp_path / "missing.log")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate")
def test_cli_as_a_process_on_real_output(tmp_path: Path) -> None:
    output = run_case(REAL["undefined-variable"], tmp_path / "case")
    log = tmp_path / "nix.log"
    log.write_text(output)
    result = subprocess.run([sys.executable, "-m", "nix_humanity_ls.cli", "explain", str(log), "--json"],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["kind"], finding["line"], finding["column"]) == ("undefined-variable", 4, 34)


RECORD_DIR = "/home/alice/nixerr"


def record() -> None:
    """Refresh tests/data/nix_errors/real-*.txt from the installed Nix, with the temporary directory replaced
    by a fixed one so the copies do not change from run to run."""
    import tempfile

    with tempfile.TemporaryDirectory() as temporary:
        for name, case in sorted(REAL.items()):
            try:
                output = run_case(case, Path(temporary) / name)
            except pytest.skip.Exception:
                continue
            (DATA / f"real-{name}.txt").write_text(output.replace(temporary, RECORD_DIR))


if __name__ == "__main__" and sys.argv[1:] == ["record"]:
    record()
