"""The static index of a nixpkgs tree: options in every spelling nixpkgs uses, submodules (`<name>` and `*`
segments, submodule files, several modules extending one option), renames and removals, packages with their
descriptions, unfree licences and `meta.broken`, and the package source plugged into the existing `PackageIndex`.

The tree is the small one in `nixpkgs_fixture.py`, written to a temporary folder; lines are looked up in the
fixture text rather than written down, so moving a line in the fixture does not break a test silently.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.knowledge.packages import BundledPackages, PackageIndex
from nix_humanity_ls.nixpkgs import static_index
from nix_humanity_ls.nixpkgs.package_files import package_broken
from nix_humanity_ls.nixpkgs.records import OptionDecl, StaticIndex
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from tests import nixpkgs_fixture as fx
from tests.option_checks_fixture import write_checks_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.write_tree(tmp_path_factory.mktemp("nixpkgs"))


@pytest.fixture(scope="module")
def index(tree: Path) -> StaticIndex:
    return build_static_index(tree, jobs=1)


def option(index: StaticIndex, dotted: str) -> OptionDecl:
    found = index.options.get(tuple(dotted.split(".")))
    assert found is not None, f"{dotted} is not in the index"
    return found


def test_the_fixture_is_valid_nix(tree: Path):
    """Every fixture file but the deliberately broken one parses with the real Nix."""
    nix = shutil.which("nix-instantiate")
    if nix is None:
        pytest.skip("nix-instantiate is not installed")
    files = sorted(str(p) for p in tree.rglob("*.nix") if p.name != "broken-syntax.nix")
    result = subprocess.run([nix, "--parse", *files], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    broken = subprocess.run([nix, "--parse", str(tree / "nixos/modules/misc/broken-syntax.nix")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert broken.returncode != 0


# -- options ---------------------------------------------------------------------------------------------------


def test_mk_option_fields_with_lib_prefix_and_inherited_names(index: StaticIndex):
    ports = option(index, "services.openssh.ports")
    assert ports.kind == "mkOption"
    assert ports.type == "types.listOf types.port"
    assert ports.default == "[ 22 ]"
    assert ports.example is None
    assert ports.description == "Specifies on which ports the SSH daemon listens."
    assert ports.file == "nixos/modules/services/networking/ssh/sshd.nix"
    assert ports.line == fx.line_of(fx.SSHD, "ports = mkOption")
    assert not ports.internal and not ports.read_only


def test_mk_enable_option_bare_under_with_lib_and_with_md_doc(index: StaticIndex):
    enable = option(index, "services.nginx.enable")
    assert (enable.kind, enable.type, enable.default, enable.example) == ("mkEnableOption", "types.bool", "false", "true")
    assert enable.description == "Whether to enable Nginx Web Server."
    assert enable.line == fx.line_of(fx.NGINX, "enable = mkEnableOption")
    sshd = option(index, "services.openssh.enable")
    assert sshd.description == "Whether to enable the OpenSSH secure shell daemon."


def test_mk_enable_option_with_overrides(index: StaticIndex):
    tls = option(index, "services.nginx.recommendedTlsSettings")
    assert tls.default == "true"
    assert tls.description == "Enable recommended TLS settings."
    assert tls.type == "types.bool"


def test_mk_package_option_plain_and_with_options(index: StaticIndex):
    plain = option(index, "services.openssh.package")
    assert (plain.kind, plain.type, plain.default) == ("mkPackageOption", "types.package", "pkgs.openssh")
    assert plain.description == "The openssh package to use."
    foo = option(index, "programs.foo.package")
    assert foo.type == "types.nullOr types.package"
    assert foo.default == "null"
    assert foo.example == "foo-unstable"
    assert foo.description == "The foo package to use. Set it to null to use the foo on PATH."


def test_descriptions_in_every_string_form(index: StaticIndex):
    assert option(index, "users.users.<name>.isNormalUser").description == (
        "Indicates whether this is an account for a “real” user.\n"
        "  This line is indented two more.\n"
        "Writing ${HOME} keeps the dollar."
    )
    assert option(index, "users.users.<name>.hashedPassword").description == (
        "To generate a hashed password run `mkpasswd`.\n\nIf set to `null` this user cannot log in with a password."
    )
    assert option(index, "programs.foo.settings.colors.theme").description == 'The "theme" to use,\nper host.'
    assert option(index, "programs.foo.mode").description == "Mode of operation."
    assert option(index, "programs.foo.quoted").description == "Write ''quoted'' text."


def test_default_text_and_literal_expression_examples(index: StaticIndex):
    theme = option(index, "programs.foo.settings.colors.theme")
    assert theme.default == "config.networking.hostName"
    vhosts = option(index, "services.nginx.virtualHosts")
    assert vhosts.example == '{\n  "hydra.example.com" = {\n    forceSSL = true;\n  };\n}'
    assert vhosts.default == "{\n  localhost = {};\n}"
    assert option(index, "users.users").example == "{\n  alice = { uid = 1234; };\n}"


def test_spellings_of_option_paths(index: StaticIndex):
    # `options = { users.mutableUsers = …; }`, `options.services.openssh.banner = …` in an imported file,
    # `options.programs.foo.settings.colors.theme = …` (a long dotted path)
    assert option(index, "users.mutableUsers").file == "nixos/modules/config/users-groups.nix"
    assert option(index, "services.openssh.banner").file == "nixos/modules/services/networking/ssh/sshd-extra.nix"
    assert option(index, "programs.foo.settings.colors.theme").line == fx.line_of(fx.PROGRAM_FOO, "colors.theme")


def test_internal_and_read_only_flags(index: StaticIndex):
    assert option(index, "services.openssh.hostKeys").internal
    mode = option(index, "programs.foo.mode")
    assert mode.internal and mode.read_only
    assert not option(index, "services.openssh.ports").internal


def test_computed_names_are_skipped_not_guessed(index: StaticIndex):
    assert [c.name for c in index.options.children(("programs", "foo"))] == [
        "enable", "mode", "package", "quoted", "settings"
    ]


def test_module_with_a_syntax_error_still_gives_what_is_readable(index: StaticIndex):
    assert option(index, "misc.stillRead").description == "Declared before a syntax error further down."


def test_only_modules_in_the_module_list_and_their_imports_count(index: StaticIndex):
    assert index.options.find(("unlisted", "thing")) is None
    # a submodule file is read under its submodule, never at the top level
    assert index.options.children(()) and "serverName" not in [c.name for c in index.options.children(())]
    assert "locations" not in [c.name for c in index.options.children(())]


def test_without_a_module_list_every_file_but_submodule_files_is_a_module(tmp_path: Path):
    index = build_static_index(fx.write_tree(tmp_path, module_list=False), jobs=1)
    assert index.options.get(("unlisted", "thing")) is not None
    top = [c.name for c in index.options.children(())]
    assert "serverName" not in top and "proxyPass" not in top
    assert index.options.get(("services", "nginx", "virtualHosts", "<name>", "serverName")) is not None


# -- submodules and wildcard lookups ----------------------------------------------------------------------------


def test_attrs_of_submodule_from_a_let_binding(index: StaticIndex):
    normal = index.options.find(("users", "users", "alice", "isNormalUser"))
    assert normal is not None and normal.path == ("users", "users", "<name>", "isNormalUser")
    assert normal.file == "nixos/modules/config/users-groups.nix"
    assert normal.line == fx.line_of(fx.USERS_GROUPS, "isNormalUser = mkOption")
    assert normal.type == "types.bool"


def test_a_written_out_placeholder_matches_too(index: StaticIndex):
    assert index.options.find(("users", "users", "<name>", "isNormalUser")) is not None


def test_two_modules_extending_one_submodule(index: StaticIndex):
    keys = index.options.find(("users", "users", "bob", "openssh", "authorizedKeys", "keys"))
    assert keys is not None and keys.file == "nixos/modules/services/networking/ssh/sshd.nix"
    users = option(index, "users.users")
    assert users.file == "nixos/modules/config/users-groups.nix"  # the declaration with a description
    assert users.also_declared == (("nixos/modules/services/networking/ssh/sshd.nix",
                                    fx.line_of(fx.SSHD, "users.users = mkOption")),)
    assert users.description == "Additional user accounts to be created automatically by the system."


def test_submodule_given_as_a_list_of_modules(index: StaticIndex):
    device = index.options.find(("fileSystems", "/", "device"))
    assert device is not None and device.path == ("fileSystems", "<name>", "device")
    assert device.example == '"/dev/sda"'
    assert index.options.find(("fileSystems", "/boot", "options")) is not None


def test_submodule_files_two_levels_deep(index: StaticIndex):
    proxy = index.options.find(("services", "nginx", "virtualHosts", "example.org", "locations", "/", "proxyPass"))
    assert proxy is not None
    assert proxy.path == ("services", "nginx", "virtualHosts", "<name>", "locations", "<name>", "proxyPass")
    assert proxy.file == "nixos/modules/services/web-servers/nginx/location-options.nix"
    assert proxy.type == "with lib.types; nullOr str"


def test_list_of_submodule_gives_a_star_segment_that_names_do_not_match(index: StaticIndex):
    assert option(index, "users.users.<name>.subUidRanges.*.startUid").description == "Start of the range."
    assert index.options.find(("users", "users", "alice", "subUidRanges", "first", "startUid")) is None


def test_inline_submodule_types_are_shortened(index: StaticIndex):
    assert option(index, "services.openssh.settings").type == "types.submodule { … }"
    assert option(index, "services.openssh.settings.PermitRootLogin").type == (
        'types.enum [ "yes" "prohibit-password" "no" ]'
    )


def test_unknown_paths_find_nothing(index: StaticIndex):
    assert index.options.find(("services", "openssh", "enabled")) is None
    assert index.options.find(("services",)) is None
    assert index.options.find(()) is None


def test_options_that_take_any_name_below_them(tmp_path: Path):
    options = build_static_index(write_checks_tree(tmp_path), jobs=1).options
    freeform = sorted(o.name for o in options.options() if o.freeform)
    assert freeform == [
        "boot.kernel.sysctl",  # attrsOf anything
        "programs.bar.settings",  # attrsOf str through a `let` name
        "services.blocky.instances",  # attrsOf (submodule { freeformType = …; })
        "services.grafana.settings",  # types.submodule ./file.nix, the file's own freeformType
        "services.openssh.settings",  # submodule { freeformType = settingsFormat.type; }
    ]  # not users.users, environment.etc, networking.interfaces (submodules without freeformType)


def test_option_above_a_freeform_value(index: StaticIndex):
    above = index.options.option_above(("services", "openssh", "settings", "X11Forwarding"))
    assert above is not None and above.path == ("services", "openssh", "settings")
    assert index.options.option_above(("services", "openssh", "enable")).path == ("services", "openssh", "enable")
    assert index.options.option_above(("services", "nothing", "here")) is None


# -- children for completion ------------------------------------------------------------------------------------


def test_children_of_the_top_and_of_services(index: StaticIndex):
    assert [c.name for c in index.options.children(())] == ["boot", "fileSystems", "i18n", "misc", "networking",
                                                           "programs", "services", "users"]
    services = index.options.children(("services",))
    assert [c.name for c in services] == ["nginx", "openssh"]
    assert all(c.option is None and c.has_children for c in services)


def test_children_say_which_are_options_and_which_go_deeper(index: StaticIndex):
    children = {c.name: c for c in index.options.children(("services", "openssh"))}
    assert sorted(children) == ["banner", "enable", "hostKeys", "package", "ports", "settings"]
    assert children["enable"].option is not None and not children["enable"].has_children
    assert children["settings"].option is not None and children["settings"].has_children


def test_children_under_a_concrete_name_merge_every_module(index: StaticIndex):
    names = [c.name for c in index.options.children(("users", "users", "alice"))]
    assert names == ["hashedPassword", "isNormalUser", "openssh", "subUidRanges"]
    assert [c.name for c in index.options.children(("users", "users"))] == ["<name>"]


def test_children_of_an_unknown_prefix_are_empty(index: StaticIndex):
    assert index.options.children(("services", "nope")) == []


# -- renames ----------------------------------------------------------------------------------------------------


def test_renamed_option(index: StaticIndex):
    hit = index.options.rename_for(("networking", "enableIPv6"))
    assert hit is not None
    assert (hit.rename.kind, hit.new_path) == ("renamed", ("networking", "ipv6", "enable"))
    assert hit.rename.file == "nixos/modules/rename.nix"
    assert hit.rename.line == fx.line_of(fx.RENAME, '"enableIPv6"')


def test_removed_option_with_its_message_covers_everything_below(index: StaticIndex):
    hit = index.options.rename_for(("services", "oldthing", "enable"))
    assert hit is not None and hit.rename.kind == "removed" and hit.new_path is None
    assert hit.rename.message == "The oldthing service was removed: it was unmaintained."
    removed = index.options.rename_for(("services", "openssh", "challengeResponseAuthentication"))
    assert removed.rename.message == "Use services.openssh.settings.KbdInteractiveAuthentication instead."


def test_rename_carries_the_rest_of_the_path_over(index: StaticIndex):
    hit = index.options.rename_for(("users", "extraUsers", "alice", "isNormalUser"))
    assert hit is not None and hit.rename.kind == "alias"
    assert hit.new_path == ("users", "users", "alice", "isNormalUser")


def test_renamed_with_since_release_changed_and_merged(index: StaticIndex):
    layout = index.options.rename_for(("services", "xserver", "layout"))
    assert layout.rename.since == "2311" and layout.new_path == ("services", "xserver", "xkb", "layout")
    changed = index.options.rename_for(("services", "foo", "port"))
    assert changed.rename.kind == "changed" and changed.new_path == ("services", "foo", "ports")
    for old in (("a", "b"), ("a", "c")):
        merged = index.options.rename_for(old)
        assert merged.rename.kind == "merged" and merged.new_path == ("a", "d")


def test_renames_in_a_module_of_its_own_and_computed_ones(index: StaticIndex):
    hit = index.options.rename_for(("services", "openssh", "permitRootLogin"))
    assert hit.new_path == ("services", "openssh", "settings", "PermitRootLogin")
    assert index.options.rename_for(("services", "computed1")) is None
    assert index.options.rename_for(("services", "openssh", "enable")) is None
    assert len(list(index.options.renames())) == 10


# -- packages ---------------------------------------------------------------------------------------------------


def package(index: StaticIndex, attr: str):  # type: ignore[no-untyped-def]
    found = index.packages.record(attr)
    assert found is not None, f"{attr} is not in the index"
    return found


def test_by_name_packages_with_descriptions(index: StaticIndex):
    hello = package(index, "hello")
    assert hello.description == "A program that produces a familiar, friendly greeting"
    assert hello.file == "pkgs/by-name/he/hello/package.nix"
    assert hello.licenses == ("gpl3Plus",) and not hello.unfree
    assert package(index, "ripgrep").description == (
        "Utility that combines the usability of The Silver Searcher\nwith the raw speed of grep"
    )
    assert package(index, "game-launcher").description == 'Launcher for "games"'
    assert package(index, "versioned").description == "Tool version ${version}"
    assert package(index, "firmware-blob").description == "Firmware for a made-up device"
    assert package(index, "no-meta").description == ""


@pytest.mark.parametrize(
    ("attr", "unfree", "licenses"),
    [
        ("hello-unfree", True, ("unfree",)),  # lib.licenses.unfree
        ("game-launcher", True, ("mit", "unfreeRedistributable")),  # with lib.licenses; [ … ]
        ("icc-compiler", True, ("issl", "mit")),  # [ licenses.issl … ] under meta = with lib; — unfree by licenses.nix
        ("firmware-blob", False, ("unfreeRedistributableFirmware",)),  # free in this tree's licenses.nix
        ("ripgrep", False, ("unlicense", "mit")),
    ],
)
def test_unfree_licences_as_written(index: StaticIndex, attr: str, unfree: bool, licenses: tuple[str, ...]):
    found = package(index, attr)
    assert (found.unfree, found.licenses) == (unfree, licenses)


@pytest.mark.parametrize(
    ("attr", "broken"),
    [
        ("old-tool", "true"),  # broken = true; inside meta = { … }, after a comment line
        ("darwin-flaky", "stdenv.hostPlatform.isDarwin && stdenv.hostPlatform.isAarch64"),  # a condition, two lines
        ("versioned", ""),  # broken = false;
        ("hello", ""),
        ("no-meta", ""),
        ("firefox", ""),  # known only from all-packages.nix
    ],
)
def test_broken_as_written(index: StaticIndex, attr: str, broken: str):
    assert package(index, attr).broken == broken
    assert index.packages.get(attr).broken == broken  # what hover and completion see


@pytest.mark.parametrize(
    ("source", "broken"),
    [
        (b"{ meta.broken = true; }", "true"),
        (b"{ meta = with lib; { broken = with stdenv.hostPlatform; isDarwin; }; }", "with stdenv.hostPlatform; isDarwin"),
        (b"{ meta = { # broken = true;\n description = \"x\"; }; }", ""),  # commented out
        (b"{ meta = {\n  description = \"x\"; broken = true;\n}; }", "true"),  # after another binding
        (b"{ meta = { description = \"broken = true; in a string\"; }; }", ""),  # inside a string
        (b"{ passthru.broken = true; meta = { }; }", ""),  # not meta's
        (b"{ broken = true; }", ""),  # no meta at all
    ],
)
def test_package_broken_spellings(source: bytes, broken: str):
    assert package_broken(source) == broken


def test_without_licenses_nix_the_well_known_unfree_names_count(tmp_path: Path):
    index = build_static_index(fx.write_tree(tmp_path, licenses=False), jobs=1)
    assert index.packages.record("firmware-blob").unfree
    assert not index.packages.record("icc-compiler").unfree  # issl is unfree only by licenses.nix


def test_top_level_names_of_all_packages(index: StaticIndex):
    for attr in ("firefox", "firefox-unwrapped", "black", "quoted-name", "python3Packages", "linuxPackages"):
        found = package(index, attr)
        assert found.file is None and found.description == ""
    assert package(index, "hello").file == "pkgs/by-name/he/hello/package.nix"  # the override keeps package.nix
    assert index.packages.record("empty-dir") is None
    assert sorted(p.attr for p in index.packages.records()) == [
        "black", "darwin-flaky", "firefox", "firefox-unwrapped", "firmware-blob", "game-launcher", "hello",
        "hello-unfree", "icc-compiler", "linuxPackages", "no-meta", "old-tool", "python3Packages", "quoted-name",
        "ripgrep", "versioned",
    ]


def test_package_source_plugs_into_package_index(index: StaticIndex):
    packages = PackageIndex([index.packages, BundledPackages()])
    hello = packages.find("hello")
    assert [(m.package.attr, m.how) for m in hello] == [("hello", "exact")]
    assert hello[0].package.description == "A program that produces a familiar, friendly greeting"
    assert packages.get("game-launcher").unfree
    assert packages.find("game-launchr")[0].package.attr == "game-launcher"
    assert "firefox-unwrapped" in packages.names()
    assert index.packages.name == f"nixpkgs at {index.root}"


# -- worker processes and problems --------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [2, 3])
def test_worker_processes_give_the_same_index(tree: Path, index: StaticIndex, jobs: int):
    assert build_static_index(tree, jobs=jobs).to_plain() == index.to_plain()


@pytest.mark.parametrize(
    ("executable", "words"),
    [("/nonexistent/python", "could not start a worker: [Errno 2]"), ("/bin/false", "a worker failed: exit 1")],
)
def test_when_a_worker_fails_the_index_is_read_in_this_process(
    tree: Path, index: StaticIndex, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    executable: str, words: str,
):
    monkeypatch.setattr(sys, "executable", executable)
    with caplog.at_level(logging.WARNING, logger="nix_humanity_ls.nixpkgs.static_index"):
        again = build_static_index(tree, jobs=2)
    assert words in caplog.text and "reading in this process instead" in caplog.text
    assert again.to_plain() == index.to_plain()


@pytest.mark.parametrize("jobs", [1, 2])
def test_unreadable_files_are_problems_not_failures(tmp_path: Path, jobs: int):
    root = fx.write_tree(tmp_path)
    os.symlink(root / "missing.nix", root / "nixos/modules/misc/dangling.nix")
    (root / "pkgs/by-name/he/hello-unfree/package.nix").unlink()
    os.symlink(root / "missing.nix", root / "pkgs/by-name/he/hello-unfree/package.nix")
    index = build_static_index(root, jobs=jobs)
    assert [p.split(":")[0] for p in index.problems] == ["nixos/modules/misc/dangling.nix"]
    assert index.packages.record("hello-unfree") is None
    assert index.options.get(("services", "openssh", "enable")) is not None


def test_a_folder_that_is_not_nixpkgs_gives_an_empty_index(tmp_path: Path):
    index = build_static_index(tmp_path, jobs=1)
    assert len(index.options) == 0 and len(index.packages) == 0 and index.problems == ()


@pytest.mark.parametrize(("cpus", "jobs"), [(None, 1), (1, 1), (2, 2), (4, 4), (16, 4)])
def test_default_workers_one_per_cpu_up_to_four(monkeypatch: pytest.MonkeyPatch, cpus: int | None, jobs: int):
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    assert static_index.default_jobs() == jobs
