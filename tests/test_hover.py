"""Hover without the user's nixpkgs: our own short explanations, packages from the bundled list, and no
hover where a binding does not set an option; and packages a nixpkgs tree marks broken (always or under a
condition), in each style."""

from __future__ import annotations

import pytest

from nix_humanity_ls.ide.hover import STYLES, Sources, hover
from nix_humanity_ls.knowledge.packages import BundledPackages, PackageIndex, bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document
from tests import nixpkgs_fixture as fx

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


BROKEN_TEXT = "{ pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ old-tool darwin-flaky hello ];\n}\n"
ALLOW = "`nixpkgs.config.allowBroken = true;`"
CONDITION = "`stdenv.hostPlatform.isDarwin && stdenv.hostPlatform.isAarch64`"


@pytest.fixture(scope="module")
def tree_sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    index = build_static_index(fx.write_tree(tmp_path_factory.mktemp("nixpkgs")), jobs=1)
    return Sources(bundled_vocabulary(), PackageIndex([index.packages, BundledPackages()]), index.options)


def broken_hover(name: str, sources: Sources, style: str) -> str:
    found = hover(Document("file:///b.nix", BROKEN_TEXT), BROKEN_TEXT.index(name) + 1, sources, style)
    assert found is not None and BROKEN_TEXT.encode()[found.start : found.end] == name.encode()
    return found.markdown


@pytest.mark.parametrize("style", STYLES)
def test_a_package_marked_broken_says_so_in_every_style(tree_sources: Sources, style: str):
    always = broken_hover("old-tool", tree_sources, style)
    assert always.startswith("**old-tool** — A tool that no longer builds")
    assert "broken" in always and ALLOW in always and " when " not in always
    conditional = broken_hover("darwin-flaky", tree_sources, style)
    assert "broken" in conditional and ALLOW in conditional and CONDITION.strip("`") in conditional
    assert "broken" not in broken_hover("hello", tree_sources, style)


def test_broken_notes_in_words(tree_sources: Sources):
    assert "Marked broken in your nixpkgs: building it fails unless" in broken_hover("old-tool", tree_sources, "friendly")
    assert broken_hover("darwin-flaky", tree_sources, "concise").endswith(f"Marked broken when {CONDITION} (needs {ALLOW}).")
    assert "`meta.broken = true` in your nixpkgs" in broken_hover("old-tool", tree_sources, "expert")
