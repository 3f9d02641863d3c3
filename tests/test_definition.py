"""Go to definition in the core: option paths in every spelling to their declaration in a small indexed nixpkgs
tree (another file), renamed options to their rename, sets of options to the files declaring them, and
variables to what binds them in the same file (`let`, `rec`, arguments, formals, `inherit`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from nix_humanity_ls.ide.definition import definitions
from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document
from tests.nixpkgs_fixture import SSHD, SSHD_EXTRA, USERS_GROUPS, line_of, write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-definition-")))
INDEXED = Sources(bundled_vocabulary(), bundled_index(), build_static_index(TREE).options, TREE)
BUNDLED = Sources(bundled_vocabulary(), bundled_index())
SSHD_FILE = "nixos/modules/services/networking/ssh/sshd.nix"

TEXT = """{ config, pkgs, lib, ... }:
let
  inherit (lib) mkIf;
  user = "alice";
  numbers = rec { one = 1; two = one + one; };
  double = x: x * 2;
  greet = args@{ name ? user, ... }: args.name;
in
{
  services.openssh = { enable = true; ports = [ 22 ]; };
  services.openssh.permitRootLogin = "no";
  users.users.${user}.isNormalUser = mkIf true true;
  users.users.bob.isNormalUser = config.services.openssh.enable;
  environment.systemPackages = [ pkgs.git ];
  environment.etc.greeting = { inherit user; text = greet { }; };
  boot.kernelParams = [ "a" builtins.currentSystem ];
}
"""
DOC = Document("file:///home/me/configuration.nix", TEXT)


def go(needle: str, delta: int = 0, sources: Sources = INDEXED) -> list[tuple[str, int, str]]:
    """(file name or "here", 1-based line, target text) of each definition of what is at `needle` + `delta`."""
    offset = len(TEXT[: TEXT.index(needle)].encode()) + delta
    found = []
    for target in definitions(DOC, offset, sources):
        where = "here" if target.document is DOC else target.document.uri.removeprefix(TREE.as_uri() + "/")
        line = target.document.position_at(target.start).line + 1
        found.append((where, line, target.document.source[target.start : target.end].decode()))
    return found


def test_options_in_any_spelling_go_to_their_declaration():
    enable = (SSHD_FILE, line_of(SSHD, "enable = lib.mkEnableOption"), "enable")
    assert go("enable = true") == [enable]  # nested in `services.openssh = { … }`
    assert go("ports = [") == [(SSHD_FILE, line_of(SSHD, "ports = mkOption"), "ports")]
    assert go("openssh.enable;", len("openssh.")) == [enable]  # `config.services.openssh.enable` in a value
    is_normal = ("nixos/modules/config/users-groups.nix", line_of(USERS_GROUPS, "isNormalUser = mkOption"),
                 "isNormalUser")
    assert go("isNormalUser = config") == [is_normal]  # through `users.users.<name>`


def test_a_set_of_options_and_a_renamed_option():
    assert go("openssh = {") == [
        (SSHD_FILE, line_of(SSHD, "enable = lib.mkEnableOption"), "enable"),  # the file declaring most first
        ("nixos/modules/services/networking/ssh/sshd-extra.nix", line_of(SSHD_EXTRA, "banner"),
         "options.services.openssh.banner"),
    ]
    assert go("permitRootLogin") == [(SSHD_FILE, line_of(SSHD, "mkRenamedOptionModule"), "(lib.mkRenamedOptionModule")]


def test_options_need_the_users_nixpkgs():
    assert go("enable = true", sources=BUNDLED) == []
    assert go("kernelParams") == []  # not declared in the small tree


def test_variables_go_to_what_binds_them():
    assert go("mkIf true") == [("here", 3, "mkIf")]  # `inherit (lib) mkIf;`
    assert go("${user}", 2) == [("here", 4, "user")]  # a `let` binding
    assert go("one + one") == [("here", 5, "one")]  # a `rec` attribute
    assert go("x * 2") == [("here", 6, "x")]  # a function's argument
    assert go("args.name") == [("here", 7, "args")]  # `args@{ … }:`
    assert go("user, ...") == [("here", 4, "user")]  # a formal's default sees the `let`
    assert go("pkgs.git") == [("here", 1, "pkgs")]  # the module's formal
    assert go("config.services") == [("here", 1, "config")]


def test_inherit_in_a_set_goes_to_the_outer_binding_and_the_cursor_may_follow_the_name():
    assert go("user; text") == [("here", 4, "user")]
    assert go("user; text", len("user")) == [("here", 4, "user")]  # just after the name


def test_nothing_for_literals_and_unbound_names():
    assert go("true;") == []
    assert go('"a"') == []
    assert go("builtins") == []  # bound by Nix itself, not in the file
