"""The error explainer against real Nix output and recorded output of other Nix versions and of NixOS.

Real cases (tests/nix_error_cases.py) are produced at test time by the installed Nix (argv lists, no shell),
so the layout under test is the one Nix prints, not our idea of it; their recorded copies (real-*.txt) keep
them testable without Nix. Formats this Nix cannot print are recorded files (rec-*.txt, see the README in
tests/data/nix_errors/). Every sample is checked for kind, file, position, option/package and fixes; every
fix that carries edits is applied and the result parsed by tree-sitter and by the real `nix-instantiate`.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.cli import main
from nix_humanity_ls.edits.text_edit import apply_edits
from nix_humanity_ls.nixpkgs.records import OptionDecl, OptionIndex
from nix_humanity_ls.rebuild.explain import KINDS, Finding, explain, explain_result
from nix_humanity_ls.rebuild.nix_log import read_messages
from nix_humanity_ls.syntax.document import Document

sys.path.insert(0, str(Path(__file__).parent))
from nix_error_cases import (  # noqa: E402
    DATA,
    FIXTURE,
    REAL,
    RECORD_DIR,
    RECORDED,
    Case,
    Expect,
    Unavailable,
    prepare,
    run_case,
)

HAVE_NIX = shutil.which("nix-instantiate") is not None and shutil.which("nix-build") is not None


def nix_parses(source: bytes, directory: Path) -> bool:
    if not HAVE_NIX:
        return True
    probe = directory / "edited-probe.nix"
    probe.write_bytes(source)
    result = subprocess.run(["nix-instantiate", "--parse", str(probe)], capture_output=True, check=False, timeout=60)
    probe.unlink()
    return result.returncode == 0


def check(findings: list[Finding], expect: Expect, base: Path, tmp: Path) -> None:
    assert findings, "no finding"
    if expect.count is not None:
        assert len(findings) == expect.count, [(f.kind, f.message[:60]) for f in findings]
    finding = findings[expect.at]
    assert finding.kind == expect.kind, (finding.kind, finding.message)
    assert finding.kind in KINDS
    if expect.file is None:
        assert finding.file is None or not Path(finding.file).exists() or "/nix/store/" in finding.file, finding.file
    else:
        wanted = expect.file if expect.file.startswith("/") else str(base / expect.file)
        assert finding.file == wanted
    assert (finding.line, finding.column) == (expect.line, expect.column)
    assert finding.option == expect.option
    if expect.package is not None:
        assert finding.package == expect.package
    assert bool(finding.fixes) == expect.fixes, finding.fixes
    assert any(fix.edits for fix in finding.fixes) == expect.edits, finding.fixes
    assert finding.raw and finding.message and finding.explanation and finding.title
    assert findings[0].root or findings[0].severity == "warning"
    for fix in (fix for f in findings for fix in f.fixes if fix.edits):
        original = Path(fix.file).read_bytes()
        edited = apply_edits(original, fix.edits)
        assert edited != original
        assert not Document(fix.file, edited).tree.root_node.has_error, edited.decode()
        assert nix_parses(edited, tmp), edited.decode()


def explain_case(name: str, case: Case, output: str, directory: Path) -> list[Finding]:
    config = prepare(name, case, directory)
    return list(explain_result(output, [str(config)]).findings)


@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate and nix-build")
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_nix_output(name: str, tmp_path: Path) -> None:
    case = REAL[name]
    directory = tmp_path / name
    config = prepare(name, case, directory)
    try:
        output = run_case(name, case, directory)
    except Unavailable as reason:
        pytest.skip(str(reason))
    findings = list(explain_result(output, [str(config)]).findings)
    check(findings, case.expect, FIXTURE if case.config == "fixture" else directory, tmp_path)


@pytest.mark.parametrize("name", sorted(REAL))
def test_recorded_copy_of_real_output(name: str, tmp_path: Path) -> None:
    """The recorded copies keep the real layouts testable on a machine without Nix."""
    path = DATA / f"real-{name}.txt"
    if not path.exists():
        pytest.skip("no recorded copy (this machine could not run the case when recording)")
    case = REAL[name]
    directory = tmp_path / name
    output = path.read_text("utf-8").replace(f"{RECORD_DIR}/{name}", str(directory))
    findings = explain_case(name, case, output, directory)
    check(findings, case.expect, FIXTURE if case.config == "fixture" else directory, tmp_path)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recorded_output(name: str, tmp_path: Path) -> None:
    findings = list(explain_result((DATA / name).read_text("utf-8"), [str(FIXTURE / "configuration.nix")]).findings)
    check(findings, RECORDED[name], FIXTURE, tmp_path)


def test_every_sample_file_is_expected_and_every_kind_is_covered() -> None:
    files = {p.name for p in DATA.iterdir() if p.suffix == ".txt"}
    recorded = {f for f in files if f.startswith("rec-")}
    assert recorded == set(RECORDED)
    assert files - recorded <= {f"real-{name}.txt" for name in REAL}
    covered = {e.kind for e in RECORDED.values()} | {c.expect.kind for c in REAL.values()}
    assert covered == set(KINDS)
    assert len(REAL) >= 40 and len(files) >= 80
    assert sum(1 for case in REAL.values() if case.mode.endswith("-json")) >= 8


def test_the_fixture_configuration_parses() -> None:
    for path in sorted(FIXTURE.rglob("*.nix")):
        assert not Document(str(path), path.read_bytes()).tree.root_node.has_error
        if HAVE_NIX:
            assert subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True, check=False).returncode == 0


# ---- behaviour beyond the table -------------------------------------------------------------------------------


def fixture_explain(sample: str, **kwargs: object) -> list[Finding]:
    return list(explain_result((DATA / sample).read_text("utf-8"), [str(FIXTURE / "configuration.nix")], **kwargs).findings)


def edited(fix: object) -> str:
    return apply_edits(Path(fix.file).read_bytes(), fix.edits).decode()  # type: ignore[attr-defined]


def test_fixes_make_the_concrete_change() -> None:
    renamed = fixture_explain("rec-option-renamed-warning.txt")[0]
    use = next(f for f in renamed.fixes if f.title == "Use `hardware.graphics.enable` instead")
    assert "  hardware.graphics.enable = true;\n" in edited(use) and "opengl" not in edited(use)
    unfree = fixture_explain("rec-unfree-package-2.2x.txt")[0]
    allow = next(f for f in unfree.fixes if f.title == "Allow unfree packages")
    assert "nixpkgs.config.allowUnfree = true;" in edited(allow)
    remove = next(f for f in unfree.fixes if f.title == "Remove `vscode`")
    assert "vscode" not in edited(remove) and "    spotify\n" in edited(remove)
    hashed = fixture_explain("rec-hash-mismatch-2.2x.txt")
    assert [f.kind for f in hashed] == ["hash-mismatch"]  # the "1 dependencies … failed" line adds nothing
    assert 'hash = "sha256-3Jx3e2MHzcWmsjwQnAAHwJhXsGZq1yWXZl3j2uhCF4A=";' in edited(hashed[0].fixes[0])
    ports = fixture_explain("rec-option-type-mismatch-imported.txt")[0]
    assert "allowedTCPPorts = [ 80 443 ];" in edited(next(f for f in ports.fixes if f.edits))
    assert ports.file == str(FIXTURE / "services" / "web.nix")
    boolean = fixture_explain("rec-option-type-mismatch-2.2x.txt")[0]
    assert "    enable = true;\n" in edited(next(f for f in boolean.fixes if f.edits))
    removed = fixture_explain("rec-option-removed-assertion.txt")[0]
    assert "sound.enable" not in edited(next(f for f in removed.fixes if f.edits))
    forced = fixture_explain("rec-conflicting-definitions-2.2x.txt")[0]
    assert 'networking.hostName = lib.mkForce "laptop";' in edited(forced.fixes[0])
    assert "{ config, pkgs, lib, ... }:" in edited(forced.fixes[0])  # `lib` became an argument of the module
    collision = fixture_explain("rec-file-collision-subpath.txt")[0]
    assert "(lib.hiPrio neovim)" in edited(next(f for f in collision.fixes if "hiPrio" in f.title))


def test_hash_fix_keeps_the_spelling_of_the_file(tmp_path: Path) -> None:
    """Nix 2.8 prints both hashes in base32; a file written with `lib.fakeSha256`'s zeros keeps base32 and one
    written in SRI form gets SRI, because the literal is found by its digest, not its text."""
    output = (DATA / "real-hash-mismatch-fetchurl.txt").read_text()
    assert "specified: sha256:0000000000000000000000000000000000000000000000000000" in output
    config = tmp_path / "configuration.nix"
    config.write_text('{ pkgs, ... }:\n{\n  x = pkgs.fetchurl { url = "u"; hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; };\n}\n')
    fix = next(f for f in explain(output, str(config))[0].fixes if f.edits)
    assert 'hash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="' in edited(fix)
    config.write_text('{ pkgs, ... }:\n{\n  x = pkgs.fetchurl { url = "u"; sha256 = "0000000000000000000000000000000000000000000000000000"; };\n}\n')
    fix = next(f for f in explain(output, str(config))[0].fixes if f.edits)
    assert 'sha256 = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"' in edited(fix)


def test_root_cause_first_and_consequences_after() -> None:
    collision = explain_result((DATA / "rec-file-collision-profile.txt").read_text(), [str(FIXTURE / "configuration.nix")])
    assert [(f.kind, f.root) for f in collision.findings] == [("file-collision", True), ("build-failed", False)]
    assert collision.root is collision.findings[0]
    warned = explain_result((DATA / "real-option-renamed-trace-2.8.txt").read_text(), [str(FIXTURE / "configuration.nix")])
    assert [(f.kind, f.severity, f.root) for f in warned.findings] == [
        ("failed-assertion", "error", True), ("option-renamed", "warning", False)]
    chain = explain_result((DATA / "rec-build-failed-chain.txt").read_text())
    assert [f.package for f in chain.findings] == ["mytool-0.3.1"]
    assert explain_result("").root is None


def test_location_follows_imports_and_editor_buffers(tmp_path: Path) -> None:
    """A copy of the configuration elsewhere, with the imported module open in an editor with unsaved lines
    above the option: the finding points into the buffer, and its edits apply to the buffer's text."""
    for path in FIXTURE.rglob("*.nix"):
        target = tmp_path / path.relative_to(FIXTURE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    web = tmp_path / "services" / "web.nix"
    buffer = web.read_text().replace("let\n", "# unsaved comment\n# another\nlet\n")
    result = explain_result((DATA / "rec-option-type-mismatch-imported.txt").read_text(), [str(tmp_path / "configuration.nix")],
                            sources={str(web): buffer})
    finding = result.root
    assert finding is not None and (finding.file, finding.line, finding.column) == (str(web), 16, 3)
    assert (finding.end_line, finding.end_column) == (16, 38)
    fix = next(f for f in finding.fixes if f.edits)
    assert "allowedTCPPorts = [ 80 443 ];" in apply_edits(buffer.encode(), fix.edits).decode()


def test_flake_store_paths_map_onto_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "flake.nix").write_text('{\n  outputs = { self, nixpkgs }: {\n    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n'
                                       '      modules = [ ./hosts/box.nix ];\n    };\n  };\n}\n')
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "box.nix").write_text("{ ... }:\n{\n  services.openssh.permitRootLogn = \"no\";\n}\n")
    output = ("error: The option `services.openssh.permitRootLogn' does not exist. Definition values:\n"
              "       - In `/nix/store/q2z7k3v7m1b5l0wk9rmy2a1c2qf0m0b3-source/hosts/box.nix': \"no\"\n")
    finding = explain_result(output, [str(tmp_path / "flake.nix")]).root
    assert finding is not None and (finding.file, finding.line, finding.column) == (str(tmp_path / "hosts" / "box.nix"), 3, 3)


def test_a_stale_position_is_not_trusted(tmp_path: Path) -> None:
    """Nix quoted a line our copy no longer has: the finding names the file but no line, rather than a wrong
    one, and offers no edit."""
    config = tmp_path / "configuration.nix"
    config.write_text("{ pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.vim ];\n}\n")
    text = (DATA / "rec-missing-attribute-2.2x.txt").read_text().replace("/etc/nixos/desktop.nix", str(config))
    finding = explain(text, str(config))[0]
    assert (finding.file, finding.line, finding.column) == (str(config), None, None)
    assert not any(fix.edits for fix in finding.fixes)


def test_did_you_mean_options_from_the_users_nixpkgs() -> None:
    def declared(path: str) -> OptionDecl:
        return OptionDecl(tuple(path.split(".")), "mkOption", "", None, None, "", "nixos/modules/x.nix", 1)

    index = OptionIndex([declared("services.nginx.virtualHosts"), declared("services.nginx.enable")])
    finding = fixture_explain("rec-option-does-not-exist-imported.txt", options=index)[0]
    fix = next(f for f in finding.fixes if f.title == "Did you mean `services.nginx.virtualHosts`?")
    assert 'virtualHosts."example.org".root = site;' in edited(fix)


def test_styles_change_the_wording() -> None:
    text = (DATA / "rec-unfree-package-2.2x.txt").read_text()
    friendly, concise, expert = (explain(text, style=s)[0] for s in ("friendly", "concise", "expert"))
    assert friendly.title == concise.title == expert.title
    assert "\n" not in concise.explanation and len(concise.explanation) < len(friendly.explanation) / 2
    assert "licence that is not free" in friendly.explanation and "check-meta" not in friendly.explanation
    assert "check-meta" in expert.explanation and "meta.license" in expert.explanation
    assert "has an unfree license" in expert.explanation and "[unfree-package" in expert.explanation
    for sample in sorted(RECORDED):  # every kind has three different wordings
        found = [explain((DATA / sample).read_text(), style=s)[0].explanation for s in ("friendly", "concise", "expert")]
        assert len(set(found)) == 3, sample
    with pytest.raises(ValueError):
        explain(text, style="chatty")


def test_newer_nix_takes_the_message_after_the_frames() -> None:
    message = read_messages((DATA / "rec-option-does-not-exist-2.2x.txt").read_text())[0]
    assert message.message.startswith("The option `services.openssh.permitRootLogn' does not exist.")
    assert message.file is None  # the frames' positions are nixpkgs', not the error's


def test_internal_json_build_log_lines_are_the_log_tail() -> None:
    finding = explain((DATA / "real-build-failed-json.txt").read_text())[0]
    assert "boom" in finding.raw and "Last lines: boom" in finding.explanation


# ---- the command line -----------------------------------------------------------------------------------------


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = FIXTURE / "configuration.nix"
    assert main(["explain", str(DATA / "rec-option-does-not-exist-2.2x.txt"), "--file", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["findings"]
    (finding,) = out["findings"]
    assert list(finding) == ["kind", "title", "explanation", "file", "line", "column", "option", "fixes"]
    assert (finding["kind"], finding["file"], finding["line"], finding["column"], finding["option"]) == (
        "option-does-not-exist", str(config), 13, 5, "services.openssh.permitRootLogn")
    assert finding["fixes"] and all(list(fix) == ["title"] for fix in finding["fixes"])


def test_cli_json_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = (DATA / "rec-unfree-package-2.2x.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["explain", "-", "--file", str(FIXTURE / "configuration.nix"), "--json", "--style", "concise"]) == 0
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["kind"], finding["line"], finding["column"], finding["option"]) == ("unfree-package", 30, 5, None)
    assert finding["explanation"] == "`vscode-1.95.3` is unfree and not allowed"
    assert [fix["title"] for fix in finding["fixes"]] == ["Allow unfree packages", "Remove `vscode`"]


def test_cli_text_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
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
    case = REAL["undefined-variable"]
    config = prepare("undefined-variable", case, tmp_path / "case")
    log = tmp_path / "nix.log"
    log.write_text(run_case("undefined-variable", case, tmp_path / "case"))
    result = subprocess.run([sys.executable, "-m", "nix_humanity_ls.cli", "explain", str(log), "--file", str(config), "--json"],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["kind"], finding["file"], finding["line"], finding["column"]) == ("undefined-variable", str(config), 4, 34)
    assert "Write `pkgs.firefox`" in [fix["title"] for fix in finding["fixes"]]


def record() -> None:
    """Refresh tests/data/nix_errors/real-*.txt from the installed Nix, with the case directory written as
    /home/alice/nixerr/<name> so the copies do not change from run to run."""
    import tempfile

    for name, case in sorted(REAL.items()):
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary) / name
            prepare(name, case, directory)
            try:
                output = run_case(name, case, directory)
            except Unavailable:
                continue
            (DATA / f"real-{name}.txt").write_text(output.replace(str(directory), f"{RECORD_DIR}/{name}"))


if __name__ == "__main__" and sys.argv[1:] == ["record"]:
    record()
