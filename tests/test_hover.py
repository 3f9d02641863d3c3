"""Hover without the user's nixpkgs: our own short explanations, packages from the bundled list, and no
hover where a binding does not set an option."""

from __future__ import annotations

from nix_humanity_ls.ide.hover import Sources, hover
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.syntax.document import Document

TEXT = """{ pkgs, ... }:
let
  enable = true;
in
{
  services.openssh.enable = enable;
  environment.systemPackages = [ pkgs.htop pkgs.vscode ];
  my.own.thing = 1;
}
"""
SOURCES = Sources(bundled_vocabulary(), bundled_index())


def at(needle: str, style: str = "friendly"):
    return hover(Document("file:///h.nix", TEXT), TEXT.encode().index(needle.encode()) + 1, SOURCES, style)


def test_our_short_explanation_for_a_known_option():
    found = at("enable = enable")
    assert found is not None
    assert found.markdown.startswith("**services.openssh.enable** — Lets you log in to this machine")
    assert TEXT.encode()[found.start : found.end] == b"enable"


def test_the_set_a_feature_switches_on():
    assert at("openssh.enable").markdown.startswith("**services.openssh** — Lets you log in")


def test_packages_from_the_bundled_list_with_the_unfree_note():
    htop = at("htop").markdown
    assert htop.startswith("**htop** — ") and "Unfree" not in htop
    vscode = at("vscode").markdown
    assert "Unfree: it needs `nixpkgs.config.allowUnfree = true;`" in vscode
    assert "Unfree" not in at("vscode", "concise").markdown


def test_no_hover_for_let_bindings_unknown_options_or_values():
    assert at("enable = true") is None  # a `let` name, not an option
    assert at("thing") is None  # nothing known about it without the user's nixpkgs
    assert at("1;") is None
