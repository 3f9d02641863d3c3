"""The Nix error samples of tests/test_explain.py: real Nix runs (`REAL`) and recorded outputs of other Nix
versions and of NixOS tools (`RECORDED`), each with the finding it must give.

Real cases are produced by the installed Nix (argv lists, no shell) in a directory of their own; see
tests/data/nix_errors/README.md for how each mode runs. NixOS-module and nixpkgs wording cannot come from a
bare Nix without nixpkgs, so those cases `throw` (or `builtins.trace`) nixpkgs' exact text, read from
message.txt; Nix 2.8 lays it out for real. `python tests/test_explain.py record` refreshes the real-*.txt
copies, with the case directory written as /home/alice/nixerr/<name>.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import attrs

DATA = Path(__file__).parent / "data" / "nix_errors"
FIXTURE = DATA / "config"  # the configuration the recorded samples (and NixOS-wording cases) talk about
RECORD_DIR = "/home/alice/nixerr"
STORE_SOURCE = "/nix/store/q2z7k3v7m1b5l0wk9rmy2a1c2qf0m0b3-source"
CONFIG = "/etc/nixos/configuration.nix"
WEB = "/etc/nixos/services/web.nix"
DESKTOP = "/etc/nixos/desktop.nix"  # a file the fixture does not have: positions stay Nix's
THROW = "throw (builtins.readFile ./message.txt)\n"


class Unavailable(Exception):
    """This machine cannot run the case (no root, no mount, no git)."""


@attrs.frozen
class Expect:
    """The first finding (or the one at `at`): its kind, its file (relative to the case directory, or to the
    fixture for recorded samples; absolute when it is not a configuration file; None when unknown), position,
    option and package; whether fixes are offered and whether one of them carries edits."""

    kind: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    option: str | None = None
    package: str | None = None
    fixes: bool = True
    edits: bool = False
    at: int = 0
    count: int | None = None  # how many findings in all, when that is the point of the sample


@attrs.frozen
class Case:
    """`mode`: eval, eval-json, build, build-json, flake, flake-json, nobody, nobody-profile, tiny-store.
    `config`: the configuration files passed to the explainer: "case" (case.nix, or flake.nix for flakes) or
    "fixture" (tests/data/nix_errors/config)."""

    mode: str
    source: str
    expect: Expect
    message: str | None = None
    files: dict[str, str] = attrs.field(factory=dict)  # more files in the case directory
    config: str = "case"
    attr: str = ""  # flake output to build
    untracked: tuple[str, ...] = ()  # flake files left out of git


def derivation(name: str, script: str, extra: str = "") -> str:
    return (f'derivation {{ name = "{name}"; system = builtins.currentSystem; builder = "/bin/sh"; '
            f'PATH = "/bin:/usr/bin"; args = [ "-c" "{script}" ]; {extra}}}')


COLLISION = """let
  package = name: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh";
    PATH = "/bin:/usr/bin"; args = [ "-c" "mkdir -p $out/bin; echo ${name} > $out/bin/vi" ]; };
in derivation {
  name = "system-path";
  system = builtins.currentSystem;
  builder = "builtin:buildenv";
  manifest = "/dev/null";
  derivations = [ "true" "5" "1" (package "vim-9.1.0") "true" "5" "1" (package "neovim-0.10.2") ];
}
"""

FLAKE = """{
  outputs = { self }: {
    nixosConfigurations.box = let
      modules = [ ./hardware-configuration.nix ];
    in {
      config.system.build.toplevel = import (builtins.head modules);
    };
  };
}
"""

UNFREE_2_8 = (
    "Package ‘steam-original-1.0.0.74’ in /nix/store/1ky3hdk7pa8sgmdc6nfhz7rsmi0mzdbb-nixos-22.05/nixos/pkgs/games/steam/steam.nix:35"
    " has an unfree license (‘unfreeRedistributable’), refusing to evaluate.\n\na) To temporarily allow unfree packages, you can"
    " use an environment variable\n   for a single invocation of the nix tools.\n\n     $ export NIXPKGS_ALLOW_UNFREE=1\n\nb) For"
    " `nixos-rebuild` you can set\n  { nixpkgs.config.allowUnfree = true; }\nin configuration.nix to override this.")
UNFREE_REMEDY = """a) To temporarily allow unfree packages, you can use an environment variable
   for a single invocation of the nix tools.

     $ export NIXPKGS_ALLOW_UNFREE=1

   Note: When using `nix shell`, `nix build`, `nix develop`, etc with a flake,
         then pass `--impure` in order to allow use of environment variables.

b) For `nixos-rebuild` you can set
  { nixpkgs.config.allowUnfree = true; }
in configuration.nix to override this.

Alternatively you can configure a predicate to allow specific packages:
  { nixpkgs.config.allowUnfreePredicate = pkg: builtins.elem (lib.getName pkg) [
      "vscode"
    ];
  }

c) For `nix-env`, `nix-build`, `nix-shell` or any other Nix command you can add
  { allowUnfree = true; }
to ~/.config/nixpkgs/config.nix."""
VSCODE = f"{STORE_SOURCE}/pkgs/applications/editors/vscode/vscode.nix:85"
SOUND_REMOVED = ("The option definition `sound.enable' in `/etc/nixos/configuration.nix' no longer has any effect; please remove it.\n"
                 "The option was heavily overloaded and can be removed from most configurations.\n"
                 "To specifically configure the user space part of ALSA, see `hardware.alsa`.")
NO_ROOT_FS = "The ‘fileSystems’ option does not specify your root file system."
GRUB = "You must set the option ‘boot.loader.grub.devices’ or 'boot.loader.grub.mirroredBoots' to make the system bootable."
RENAMED_TRACE = ("builtins.trace \"warning: The option `hardware.opengl.enable' defined in `/etc/nixos/configuration.nix' has been "
                 "renamed to `hardware.graphics.enable'.\" (throw (builtins.readFile ./message.txt))\n")
PRIORITY = "Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions."

REAL: dict[str, Case] = {
    # -- the Nix language, in the case's own files ------------------------------------------------------------
    "syntax-missing-semicolon": Case("eval", '{ pkgs, ... }:\n{\n  services.openssh.enable = true\n  networking.hostName = "box";\n}\n',
                                     Expect("syntax-error", "case.nix", 4, 23)),
    "syntax-unexpected-eof": Case("eval", "{ a = [ 1 2\n", Expect("syntax-error", "case.nix", 1, 12)),
    "syntax-duplicate-attribute": Case("eval", "{ a = 1; a = 2; }\n", Expect("syntax-error", "case.nix", 1, 10)),
    "syntax-json": Case("eval-json", "{\n  a = 1\n  b = 2;\n}\n", Expect("syntax-error", "case.nix", 3, 5)),
    "syntax-in-imported-file": Case("eval", "{ imports = [ (import ./hardware-configuration.nix) ]; }\n",
                                    Expect("syntax-error", "hardware-configuration.nix", 3, 27),
                                    files={"hardware-configuration.nix": '{\n  fileSystems."/".device = "/dev/sda1"\n  boot.loader.grub.enable = true;\n}\n'}),
    "undefined-variable": Case("eval", "let\n  x = 1;\nin {\n  environment.systemPackages = [ firefox ];\n}\n",
                               Expect("undefined-variable", "case.nix", 4, 34, package="firefox", edits=True)),
    "undefined-variable-json": Case("eval-json", "{ x = pkgs.hello; }\n", Expect("undefined-variable", "case.nix", 1, 7, edits=True)),
    "undefined-variable-imported": Case("eval", "{ imports = [ (import ./services/web.nix) ]; }\n",
                                        Expect("undefined-variable", "services/web.nix", 3, 34, edits=True),
                                        files={"services/web.nix": "{\n  services.nginx.enable = true;\n  environment.systemPackages = [ pkgs.nginx ];\n}\n"}),
    "missing-attribute": Case("eval", "let pkgs = { hello = 1; }; in pkgs.firefoxx\n",
                              Expect("missing-attribute", "case.nix", 1, 31, package="firefoxx", edits=True)),
    "missing-attribute-did-you-mean": Case("eval", "let f = x: x.a; in f { b = 1; }\n",
                                           Expect("missing-attribute", "case.nix", 1, 12, package="a", edits=True)),
    "type-error-coerce": Case("eval", 'let a = "x"; in a + 1\n', Expect("type-error", "case.nix", 1, 21, fixes=False)),
    "type-error-not-a-set": Case("eval", "let l = [ 1 2 ]; in l.foo\n", Expect("type-error", "case.nix", 1, 21, fixes=False)),
    "type-error-call": Case("eval", "let x = 3; in x 4\n", Expect("type-error", "case.nix", 1, 15, fixes=False)),
    "type-error-argument": Case("eval", "let f = { pkgs, lib }: 1; in f { pkgs = 1; }\n", Expect("type-error", "case.nix", 1, 30, fixes=False)),
    "type-error-bool": Case("eval", 'if "yes" then 1 else 2\n', Expect("type-error", "case.nix", 1, 1, fixes=False)),
    "infinite-recursion": Case("eval", "let x = x + 1; in x\n", Expect("infinite-recursion", "case.nix", 1, 9)),
    "infinite-recursion-rec": Case("eval", "let s = rec { a = s.a; }; in s.a\n", Expect("infinite-recursion", "case.nix", 1, 15)),
    "assertion": Case("eval", "let v = 1; in assert v == 2; v\n", Expect("failed-assertion", "case.nix", 1, 15)),
    "assertion-json": Case("eval-json", "let v = 1; in assert v == 2; v\n", Expect("failed-assertion", "case.nix", 1, 15)),
    "abort": Case("eval", 'abort "this configuration is not supported"\n', Expect("failed-assertion")),
    "import-not-found": Case("eval", "{ imports = [ (import ./hardware-configuration.nix) ]; }\n",
                             Expect("import-not-found", "case.nix", 1, 23, edits=True)),
    "unknown-throw": Case("eval", 'throw "something entirely different"\n', Expect("unknown", fixes=False)),
    # -- builds, fetches, profiles, the store ---------------------------------------------------------------
    "build-failed": Case("build", derivation("boom", "echo compiling; echo boom; exit 1") + "\n", Expect("build-failed", package="boom")),
    "build-failed-json": Case("build-json", derivation("boom-json", "echo boom; exit 3") + "\n", Expect("build-failed", package="boom-json")),
    "build-dependency-chain": Case("build", "let dep = " + derivation("libfoo-1.0", "echo cc: error; exit 2") + "; in "
                                   + derivation("app-2.0", "echo never", "inherit dep; ") + "\n",
                                   Expect("build-failed", package="libfoo-1.0", count=1)),
    "hash-mismatch": Case("build", derivation("fixed", "echo hello > $out", 'outputHashMode = "flat"; outputHashAlgo = "sha256"; '
                                              'outputHash = "0000000000000000000000000000000000000000000000000000"; ') + "\n",
                          Expect("hash-mismatch", "case.nix", 1, 211, package="fixed", edits=True)),
    "hash-mismatch-fetchurl": Case("eval", 'builtins.fetchurl {\n  url = "file://@DIR@/source.txt";\n'
                                   '  sha256 = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";\n}\n',
                                   Expect("hash-mismatch", "case.nix", 3, 13, edits=True), files={"source.txt": "hello\n"}),
    "hash-mismatch-json": Case("build-json", derivation("fixed-json", "echo hi > $out", 'outputHashMode = "flat"; outputHashAlgo = "sha256"; '
                                                        'outputHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; ') + "\n",
                               Expect("hash-mismatch", "case.nix", 1, 213, package="fixed-json", edits=True)),
    "collision": Case("build", COLLISION, Expect("file-collision", "configuration.nix", 29, 5, edits=True, count=2), config="fixture"),
    "collision-json": Case("build-json", COLLISION, Expect("file-collision", "configuration.nix", 29, 5, edits=True, count=2), config="fixture"),
    "network-failure": Case("eval", 'builtins.fetchurl "http://nonexistent.invalid/x.tar.gz"\n', Expect("network-failure")),
    "network-failure-json": Case("eval-json", 'builtins.fetchurl "http://nonexistent.invalid/y.tar.gz"\n', Expect("network-failure")),
    "permission-denied": Case("nobody", "1\n", Expect("permission-denied")),
    "permission-denied-profile": Case("nobody-profile", "1\n", Expect("permission-denied")),
    "out-of-space": Case("tiny-store", "1\n", Expect("out-of-space")),
    # -- flakes (a real git repository) ----------------------------------------------------------------------
    "flake-untracked-file": Case("flake", "", Expect("flake-untracked-file", "flake.nix", 4, 19), files={"flake.nix": FLAKE,
                                 "hardware-configuration.nix": "{ }\n"}, attr='nixosConfigurations."box".config.system.build.toplevel',
                                 untracked=("hardware-configuration.nix",)),
    "flake-attr-missing": Case("flake", "", Expect("flake-attr-missing"), files={"flake.nix": FLAKE, "hardware-configuration.nix": "{ }\n"},
                               attr='nixosConfigurations."laptop".config.system.build.toplevel'),
    "flake-attr-missing-json": Case("flake-json", "", Expect("flake-attr-missing"), files={"flake.nix": FLAKE,
                                    "hardware-configuration.nix": "{ }\n"}, attr='nixosConfigurations."laptop".config.system.build.toplevel'),
    # -- NixOS module system and nixpkgs wording (thrown), located in the fixture configuration ---------------
    "nixos-failed-assertions": Case("eval", THROW, Expect("failed-assertion", count=2), config="fixture",
                                    message=f"\nFailed assertions:\n- {NO_ROOT_FS}\n- {GRUB}"),
    "option-removed-assertion": Case("eval", THROW, Expect("option-removed", "configuration.nix", 18, 3, option="sound.enable", edits=True, count=2),
                                     config="fixture", message=f"\nFailed assertions:\n- {SOUND_REMOVED}\n- {NO_ROOT_FS}"),
    "option-does-not-exist-2.8": Case("eval", THROW, Expect("option-does-not-exist", "configuration.nix", 13, 5,
                                      option="services.openssh.permitRootLogn", edits=True), config="fixture",
        message=f"The option `services.openssh.permitRootLogn' does not exist. Definition values:\n- In `{CONFIG}': \"no\""),
    "option-does-not-exist-imported": Case("eval", THROW, Expect("option-does-not-exist", "services/web.nix", 12, 5,
                                           option="services.nginx.virtualHost", edits=True), config="fixture",
        message=(f"The option `services.nginx.virtualHost' does not exist. Definition values:\n- In `{WEB}':\n    {{\n"
                 "      \"example.org\" = {\n        root = <derivation source>;\n      };\n    }")),
    "option-renamed-missing-2.8": Case("eval", THROW, Expect("option-does-not-exist", "configuration.nix", 16, 3,
                                       option="hardware.opengl.enable", edits=True), config="fixture",
        message=f"The option `hardware.opengl.enable' does not exist. Definition values:\n- In `{CONFIG}': true"),
    "option-type-mismatch-2.8": Case("eval", THROW, Expect("option-type-mismatch", "services/web.nix", 14, 3,
                                     option="networking.firewall.allowedTCPPorts", edits=True), config="fixture",
        message=("A definition for option `networking.firewall.allowedTCPPorts.\"[definition 1-entry 1]\"' is not of type "
                 f"`16 bit unsigned integer; between 0 and 65535 (both inclusive)'. Definition values:\n- In `{WEB}': \"80\"")),
    "option-type-mismatch-old": Case("eval", THROW, Expect("option-type-mismatch", "configuration.nix", 12, 5,
                                     option="services.openssh.enable", edits=True), config="fixture",
        message=f"The option value `services.openssh.enable' in `{CONFIG}' is not of type `boolean'."),
    "option-used-but-not-defined-2.8": Case("eval", THROW, Expect("option-used-but-not-defined", "configuration.nix", 22, 3,
                                            option="users.users.alice.group"), config="fixture",
        message="The option `users.users.alice.group' is used but not defined."),
    "option-accessed-without-value": Case("eval", THROW, Expect("option-used-but-not-defined", "hardware-configuration.nix", 5, 3,
                                          option='fileSystems."/".device'), config="fixture",
        message="The option `fileSystems.\"/\".device' was accessed but has no value defined. Try setting the option."),
    "conflicting-definitions-2.8": Case("eval", THROW, Expect("conflicting-definitions", "configuration.nix", 20, 3,
                                        option="boot.kernelPackages", edits=True), config="fixture",
        message=("The unique option `boot.kernelPackages' is defined multiple times. Definition values:\n"
                 f"- In `{CONFIG}'\n- In `{STORE_SOURCE}/nixos/modules/profiles/hardened.nix'")),
    "conflicting-definitions": Case("eval", THROW, Expect("conflicting-definitions", "configuration.nix", 19, 3,
                                    option="networking.hostName", edits=True), config="fixture",
        message=("The option `networking.hostName' has conflicting definition values:\n"
                 f"- In `{CONFIG}': \"laptop\"\n- In `/etc/nixos/hardware-configuration.nix': \"nixos\"\n{PRIORITY}")),
    "option-renamed-trace-2.8": Case("eval", RENAMED_TRACE, Expect("option-renamed", "configuration.nix", 16, 3,
                                     option="hardware.opengl.enable", edits=True, at=1, count=2), config="fixture",
                                     message=f"\nFailed assertions:\n- {NO_ROOT_FS}"),
    "option-renamed-trace-json": Case("eval-json", RENAMED_TRACE, Expect("option-renamed", "configuration.nix", 16, 3,
                                      option="hardware.opengl.enable", edits=True, at=1, count=2), config="fixture",
                                      message=f"\nFailed assertions:\n- {NO_ROOT_FS}"),
    "unfree-package-2.8": Case("eval", THROW, Expect("unfree-package", package="steam-original-1.0.0.74", edits=True),
                               config="fixture", message=UNFREE_2_8),
    "unfree-package-current": Case("eval", THROW, Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.95.3", edits=True),
                                   config="fixture", message=(f"Package ‘vscode-1.95.3’ in {VSCODE} has an unfree license (‘unfree’), "
                                                              f"refusing to evaluate.\n\n{UNFREE_REMEDY}")),
    "unfree-package-json": Case("eval-json", THROW, Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.95.3", edits=True),
                                config="fixture", message=f"Package ‘vscode-1.95.3’ in {VSCODE} has an unfree license (‘unfree’), refusing to evaluate."),
    "unfree-package-2025": Case("eval", THROW, Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.103.2", edits=True),
                                config="fixture", message=(f"Refusing to evaluate package 'vscode-1.103.2' in {VSCODE} because it has an "
                                                           f"unfree license (‘unfree’)\n{UNFREE_REMEDY}")),
    "broken-package-2.8": Case("eval", THROW, Expect("broken-package", package="hello-broken-1.0", edits=True), config="fixture",
        message=f"Package ‘hello-broken-1.0’ in {STORE_SOURCE}/pkgs/hello/default.nix:20 is marked as broken, refusing to evaluate."),
    "broken-package-2025": Case("eval", THROW, Expect("broken-package", "configuration.nix", 24, 29, package="python3.13-tensorflow-2.19.0",
                                                      edits=True), config="fixture",
        message=(f"Refusing to evaluate package 'python3.13-tensorflow-2.19.0' in {STORE_SOURCE}/pkgs/development/python-modules/"
                 "tensorflow/default.nix:512 because it has problems:\n- broken: This package is broken.\n"
                 "See also https://nixos.org/manual/nixpkgs/unstable#sec-problems")),
    "insecure-package-2.8": Case("eval", THROW, Expect("insecure-package", package="openssl-1.1.1w", edits=True), config="fixture",
        message=(f"Package ‘openssl-1.1.1w’ in {STORE_SOURCE}/pkgs/development/libraries/openssl/default.nix:227 is marked as insecure, "
                 "refusing to evaluate.\n\n\nKnown issues:\n - OpenSSL 1.1 is end of life.")),
    "unsupported-platform-2.8": Case("eval", THROW, Expect("unsupported-platform", "configuration.nix", 31, 5, package="spotify-1.1.84.716",
                                                           edits=True), config="fixture",
        message=f"Package ‘spotify-1.1.84.716’ in {STORE_SOURCE}/pkgs/applications/audio/spotify/default.nix:191 is not supported on ‘aarch64-linux’, refusing to evaluate."),
    "unsupported-platform-current": Case("eval", THROW, Expect("unsupported-platform", "configuration.nix", 31, 5, package="spotify-1.2.48.405",
                                                               edits=True), config="fixture",
        message=(f"Package ‘spotify-1.2.48.405’ in {STORE_SOURCE}/pkgs/applications/audio/spotify/linux.nix:248 is not available on the "
                 'requested hostPlatform:\n  hostPlatform.config = "aarch64-unknown-linux-gnu"\n  package.meta.platforms = [\n'
                 '    "x86_64-linux"\n  ]\n  package.meta.badPlatforms = [ ]\n, refusing to evaluate.')),
}


RECORDED: dict[str, Expect] = {
    "rec-activation-bootloader-full.txt": Expect("out-of-space"),
    "rec-activation-failed.txt": Expect("activation-failed"),
    "rec-activation-snippet-failed.txt": Expect("activation-failed"),
    "rec-broken-package-2025.txt": Expect("broken-package", "configuration.nix", 24, 29, package="python3.13-tensorflow-2.19.0", edits=True),
    "rec-broken-package.txt": Expect("broken-package", "configuration.nix", 24, 29, package="python3.12-tensorflow-2.13.0", edits=True),
    "rec-build-failed-2.2x.txt": Expect("build-failed", "configuration.nix", 32, 5, package="mytool-0.3.1"),
    "rec-build-failed-chain.txt": Expect("build-failed", "configuration.nix", 32, 5, package="mytool-0.3.1", count=1),
    "rec-cannot-build-2.2x.txt": Expect("build-failed", "configuration.nix", 32, 5, package="mytool-0.3.1"),
    "rec-conflicting-definitions-2.2x.txt": Expect("conflicting-definitions", "configuration.nix", 19, 3, option="networking.hostName", edits=True),
    "rec-conflicting-definitions-unique.txt": Expect("conflicting-definitions", "configuration.nix", 20, 3, option="boot.kernelPackages", edits=True),
    "rec-failed-assertion-nixos.txt": Expect("failed-assertion", count=2),
    "rec-file-collision-profile.txt": Expect("file-collision", "configuration.nix", 28, 5, edits=True, count=2),
    "rec-file-collision-subpath.txt": Expect("file-collision", "configuration.nix", 29, 5, edits=True, count=1),
    "rec-file-collision.txt": Expect("file-collision", "configuration.nix", 28, 5, edits=True),
    "rec-flake-attr-missing.txt": Expect("flake-attr-missing"),
    "rec-flake-untracked-file-2.2x.txt": Expect("flake-untracked-file", "configuration.nix", 7, 5),
    "rec-flake-untracked-store-path.txt": Expect("flake-untracked-file", "configuration.nix", 8, 5),
    "rec-hash-mismatch-2.2x.txt": Expect("hash-mismatch", "services/web.nix", 6, 13, package="source", edits=True, count=1),
    "rec-hash-mismatch-chain.txt": Expect("hash-mismatch", "services/web.nix", 6, 13, package="source", edits=True, count=1),
    "rec-import-not-found-2.2x.txt": Expect("import-not-found"),
    "rec-infinite-recursion-2.2x.txt": Expect("infinite-recursion", "/nix/store/0k1a3r9x2xw2lq6b1b0a1m3kzm3n5q4l-source/lib/modules.nix", 508, 28),
    "rec-insecure-package.txt": Expect("insecure-package", package="openssl-1.1.1w", edits=True),
    "rec-missing-attribute-2.2x.txt": Expect("missing-attribute", DESKTOP, 12, 50, package="firefx"),
    "rec-network-failure-2.2x.txt": Expect("network-failure"),
    "rec-option-does-not-exist-2.2x.txt": Expect("option-does-not-exist", "configuration.nix", 13, 5, option="services.openssh.permitRootLogn", edits=True),
    "rec-option-does-not-exist-imported.txt": Expect("option-does-not-exist", "services/web.nix", 12, 5, option="services.nginx.virtualHost", edits=True),
    "rec-option-does-not-exist-renamed.txt": Expect("option-does-not-exist", "configuration.nix", 16, 3, option="hardware.opengl.enable", edits=True),
    "rec-option-does-not-exist.json.txt": Expect("option-does-not-exist", "configuration.nix", 13, 5, option="services.openssh.permitRootLogn", edits=True),
    "rec-option-removed-assertion.txt": Expect("option-removed", "configuration.nix", 18, 3, option="sound.enable", edits=True),
    "rec-option-renamed-evaluation-warning.txt": Expect("option-renamed", "configuration.nix", 17, 3, option="services.xserver.displayManager.sddm.enable", edits=True),
    "rec-option-renamed-warning.txt": Expect("option-renamed", "configuration.nix", 16, 3, option="hardware.opengl.enable", edits=True),
    "rec-option-renamed.json.txt": Expect("option-renamed", "configuration.nix", 16, 3, option="hardware.opengl.enable", edits=True),
    "rec-option-type-mismatch-2.2x.txt": Expect("option-type-mismatch", "configuration.nix", 12, 5, option="services.openssh.enable", edits=True),
    "rec-option-type-mismatch-imported.txt": Expect("option-type-mismatch", "services/web.nix", 14, 3, option="networking.firewall.allowedTCPPorts", edits=True),
    "rec-option-used-but-not-defined.txt": Expect("option-used-but-not-defined", "hardware-configuration.nix", 5, 3, option='fileSystems."/".device'),
    "rec-out-of-space-build.txt": Expect("out-of-space"),
    "rec-out-of-space.txt": Expect("out-of-space"),
    "rec-permission-denied-daemon.txt": Expect("permission-denied"),
    "rec-permission-denied-rebuild.txt": Expect("permission-denied"),
    "rec-syntax-error-2.2x.txt": Expect("syntax-error", DESKTOP, 8, 23),
    "rec-syntax-error.json.txt": Expect("syntax-error", DESKTOP, 8, 23),
    "rec-undefined-variable-2.2x.txt": Expect("undefined-variable", DESKTOP, 12, 37),
    "rec-unfree-package-2.2x.txt": Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.95.3", edits=True),
    "rec-unfree-package-2025.txt": Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.103.2", edits=True),
    "rec-unfree-package.json.txt": Expect("unfree-package", "configuration.nix", 30, 5, package="vscode-1.95.3", edits=True),
    "rec-unknown.txt": Expect("unknown", fixes=False),
    "rec-unsupported-platform.txt": Expect("unsupported-platform", "configuration.nix", 31, 5, package="spotify-1.2.48.405", edits=True),
}


def prepare(name: str, case: Case, directory: Path) -> Path:
    """Write the case's files into `directory`; returns the file the explainer is given as configuration."""
    directory.mkdir(parents=True, exist_ok=True)
    if case.source:
        (directory / "case.nix").write_text(case.source.replace("@DIR@", str(directory)))
    for relative, text in case.files.items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_text(text)
    if case.message is not None:
        (directory / "message.txt").write_text(case.message)
    if case.config == "fixture":
        return FIXTURE / "configuration.nix"
    return directory / ("flake.nix" if case.mode.startswith("flake") else "case.nix")


def run_case(name: str, case: Case, directory: Path) -> str:
    """Run real Nix on the prepared case in `directory`; returns what it printed on stderr."""
    quiet = ["--option", "substituters", "", "--option", "download-attempts", "1"]
    json_log = ["--log-format", "internal-json"] if case.mode.endswith("-json") else []
    env = {**os.environ, "HOME": str(directory), "NIX_PATH": ""}
    source = str(directory / "case.nix")
    if case.mode.startswith("eval"):
        argv = ["nix-instantiate", "--eval", "--strict", *quiet, *json_log, source]
    elif case.mode.startswith("build"):
        argv = ["nix-build", "--no-out-link", *quiet, *json_log, source]
    elif case.mode.startswith("flake"):
        _git_repository(directory, case.untracked, env)
        argv = ["nix", "--extra-experimental-features", "nix-command flakes", *quiet, *json_log, "build", "--no-link",
                f"{directory}#{case.attr}"]
    elif case.mode.startswith("nobody"):
        argv = _as_nobody(case.mode, source, directory)
        if case.mode == "nobody-profile":
            env["HOME"] = "/nonexistent"  # no home: what nix-env meets first is the system's Nix state
    else:
        return _tiny_store(directory, quiet, env)
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=directory, timeout=120, check=False)
    assert result.returncode != 0, f"{argv} unexpectedly succeeded: {result.stdout}"
    return result.stderr


def _git_repository(directory: Path, untracked: tuple[str, ...], env: dict[str, str]) -> None:
    git = shutil.which("git")
    if git is None:
        raise Unavailable("needs git for a flake")
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.org"]
    tracked = [p.name for p in directory.iterdir() if p.name not in untracked and p.name != ".git"]
    for argv in (["init", "-q", "."], ["add", *tracked], [*identity, "commit", "-qm", "configuration"]):
        subprocess.run([git, *argv], cwd=directory, env=env, check=True, capture_output=True, timeout=60)


def _as_nobody(mode: str, source: str, directory: Path) -> list[str]:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        raise Unavailable("needs root and setpriv to run Nix as an unprivileged user")
    directory.chmod(0o777)
    who = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    if mode == "nobody":
        return [*who, shutil.which("nix-instantiate") or "nix-instantiate", "--eval", source]
    return [*who, shutil.which("nix-env") or "nix-env", "-p", "/nix/var/nix/profiles/system", "--set",
            "/nix/store/00000000000000000000000000000000-nixos-system-box"]


def _tiny_store(directory: Path, quiet: list[str], env: dict[str, str]) -> str:
    """Add a 2 MB file to a Nix store on a 512 kB tmpfs: the store runs out of space for real."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    store = directory / "store"
    store.mkdir()
    if os.geteuid() != 0 or mount is None or umount is None:
        raise Unavailable("needs root to mount a small tmpfs")
    mounted = subprocess.run([mount, "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(store)], capture_output=True, check=False)
    if mounted.returncode != 0:
        raise Unavailable("cannot mount a tmpfs here")
    try:
        big = directory / "big.bin"
        big.write_bytes(os.urandom(2_000_000))
        result = subprocess.run(["nix-store", "--store", str(store), *quiet, "--add", str(big)], capture_output=True,
                                text=True, env=env, timeout=120, check=False)
    finally:
        subprocess.run([umount, str(store)], capture_output=True, check=False)
    assert result.returncode != 0, "adding to a full store unexpectedly succeeded"
    return result.stderr
