"""Old package names (`pkgs/top-level/aliases.nix`): read by the static indexer in the forms nixpkgs writes
(`old = new;`, `warnAlias "…" new`, `lib.warnOnInstantiate`, `throw "…"`, `lib.genAttrs` of a `let` list
joined with `//`), kept in the cache, never reported as unknown packages, explained on hover, and reported
where they warn (WARNING) or throw (ERROR, with nixpkgs' message), with the new name as a fix."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from nix_humanity_ls.edits.text_edit import apply_edits
from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.hover import Sources, hover
from nix_humanity_ls.ide.problem import Problem, Severity
from nix_humanity_ls.nixpkgs.cache import load_index, save_index
from nix_humanity_ls.nixpkgs.package_aliases import parse_aliases
from nix_humanity_ls.nixpkgs.records import StaticIndex
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document
from nix_humanity_ls.syntax.parser import parse
from tests.nixpkgs_fixture import ALIASES, line_of
from tests.option_checks_fixture import checks_sources, nix_accepts, write_checks_tree

_uris = itertools.count()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> StaticIndex:
    return build_static_index(write_checks_tree(tmp_path_factory.mktemp("nixpkgs")), jobs=1)


@pytest.fixture(scope="module")
def sources(index: StaticIndex) -> Sources:
    return checks_sources(index)


def problems(text: str, sources: Sources, style: str = "friendly") -> list[tuple[str, str, Severity]]:
    doc = Document(f"file:///aliases-{next(_uris)}.nix", text)
    return [(doc.slice(p.start, p.end), p.code, p.severity) for p in _problems(doc, sources, style)]


def _problems(doc: Document, sources: Sources, style: str = "friendly") -> list[Problem]:
    return document_problems(doc, sources=sources, style=style)


def listed(elements: str, with_pkgs: bool = True) -> str:
    value = f"with pkgs; [ {elements} ]" if with_pkgs else f"[ {elements} ]"
    return "{ config, lib, pkgs, ... }:\n{\n  environment.systemPackages = " + value + ";\n}\n"


def test_the_fixture_is_nix():
    nix_accepts(ALIASES)


def test_every_form_is_read(index: StaticIndex):
    aliases = {a.name: a for a in index.packages.aliases()}
    assert (aliases["rg"].kind, aliases["rg"].new) == ("alias", "ripgrep")
    assert (aliases["black-formatter"].kind, aliases["black-formatter"].new) == ("alias", "black")  # lib.lowPrio
    assert (aliases["fuse2fs"].kind, aliases["fuse2fs"].new) == ("alias", None)  # an `if`: known, no target
    assert (aliases["firefox-wayland"].kind, aliases["firefox-wayland"].new) == ("warn", "firefox")
    assert aliases["firefox-wayland"].message == "'firefox-wayland' has been renamed to/replaced by 'firefox'"
    assert (aliases["helloWorld"].kind, aliases["helloWorld"].new) == ("warn", "hello")  # lib.warnOnInstantiate
    assert (aliases["ripgrep-old"].kind, aliases["ripgrep-old"].new) == ("throw", "ripgrep")  # named in the message
    assert (aliases["gone-tool"].kind, aliases["gone-tool"].new) == ("throw", None)
    assert aliases["deluge-1_x"].message == "Deluge 1.x (deluge-1_x) is no longer supported.\nPlease use Deluge 2.x instead."
    assert aliases["oldkdelib"].kind == "throw"  # lib.genAttrs of a `let` list, joined with `//`
    assert aliases["oldkdelib"].message == ("The libsForQt5.oldkdelib package and the top-level oldkdelib alias "
                                            "have been removed.")
    assert aliases["gone-tool"].line == line_of(ALIASES, "gone-tool =")
    assert "removeRecurseForDerivations" not in aliases and "warnAlias" not in aliases  # `let` helpers
    assert index.packages.alias("firefox") is None and index.packages.get("rg") is None  # no package, no alias


def test_older_layouts_are_read():
    source = b"""lib: self: super:
with self;
let
  mapAliases = aliases: lib.mapAttrs (n: alias: alias) aliases;
in
mapAliases ({
  ag = silver-searcher; # added 2018-04-25
  aminal = throw "aminal was renamed to darktile."; # added 2021-09-28
  dbus_tools = dbus.out; # added 2018-04-25
  system = warnAlias "'system' has been renamed to/replaced by 'stdenv.hostPlatform.system'" stdenv.hostPlatform.system;
  fetchFromGithub = throw ("You meant fetchFromGitHub, " + "with a capital H.");
})
"""
    aliases = {a.name: a for a in parse_aliases(source)}
    assert [(a.kind, a.new) for a in aliases.values()] == [
        ("alias", "silver-searcher"), ("throw", "darktile"), ("alias", "dbus.out"), ("throw", None),
        ("warn", "stdenv.hostPlatform.system")]
    assert aliases["fetchFromGithub"].message == "You meant fetchFromGitHub, with a capital H."


def test_aliases_survive_the_cache(index: StaticIndex, tmp_path: Path):
    save_index(index, "key", tmp_path)
    loaded = load_index("key", tmp_path)
    assert loaded is not None
    assert sorted(loaded.packages.aliases(), key=lambda a: a.name) == sorted(index.packages.aliases(),
                                                                             key=lambda a: a.name)


@pytest.mark.parametrize("elements", ["rg black-formatter fuse2fs", "pkgs.rg"])
def test_a_working_old_name_is_no_unknown_package(sources: Sources, elements: str):
    assert problems(listed(elements, with_pkgs=not elements.startswith("pkgs.")), sources) == []


def test_an_old_name_outside_option_lists_is_no_unknown_package(sources: Sources):
    text = "{ pkgs, ... }:\nlet\n  x = with pkgs; [ rg fuse2fs ];\nin\n{\n  environment.systemPackages = x;\n}\n"
    assert problems(text, sources) == []


def test_a_warning_alias_in_a_list_and_under_with(sources: Sources):
    text = listed("firefox-wayland helloWorld")
    assert problems(text, sources) == [("firefox-wayland", "old-package-name", Severity.WARNING),
                                       ("helloWorld", "old-package-name", Severity.WARNING)]  # once each
    elsewhere = "{ pkgs, ... }:\nlet\n  x = with pkgs; [ helloWorld ];\nin\n{\n  environment.systemPackages = x;\n}\n"
    assert problems(elsewhere, sources) == [("helloWorld", "old-package-name", Severity.WARNING)]


def test_a_throwing_alias_is_an_error_with_its_message(sources: Sources):
    doc = Document("file:///throw.nix", listed("gone-tool deluge-1_x"))
    gone, deluge = _problems(doc, sources)
    assert gone.severity == Severity.ERROR and gone.code == "old-package-name"
    assert "'gone-tool' has been removed as it was unmaintained upstream" in gone.message
    assert "Deluge 1.x (deluge-1_x) is no longer supported." in deluge.message
    assert gone.fixes == () and deluge.fixes == ()  # no new name to offer
    (expert,) = _problems(Document("file:///throw-expert.nix", listed("gone-tool")), sources, "expert")
    assert expert.message.startswith("`pkgs.gone-tool` throws (pkgs/top-level/aliases.nix:")


@pytest.mark.parametrize(("elements", "expected"), [
    ("ripgrep-old", "ripgrep"),  # throw naming its replacement
    ("firefox-wayland", "firefox"),  # warnAlias
    ("pkgs.helloWorld", "pkgs.hello"),  # outside `with pkgs;`: only the last segment changes
])
def test_the_fix_writes_the_new_name(sources: Sources, elements: str, expected: str):
    text = listed(elements, with_pkgs=not elements.startswith("pkgs."))
    (problem,) = _problems(Document(f"file:///fix-{next(_uris)}.nix", text), sources)
    (fix,) = problem.fixes
    assert fix.preferred and fix.title == f"Change to `{expected.removeprefix('pkgs.')}`"
    result = apply_edits(text.encode(), fix.edits).decode()
    assert f"[ {expected} ]" in result and not parse(result.encode()).root_node.has_error
    assert problems(result, sources) == []
    nix_accepts(result)


def test_hover_says_what_an_old_name_stands_for(sources: Sources):
    def hovered(name: str) -> str:
        text = listed(name)
        found = hover(Document(f"file:///hover-{next(_uris)}.nix", text), text.index(name) + 1, sources)
        assert found is not None
        return found.markdown

    assert hovered("rg").startswith("**rg** — an old name for `ripgrep` (")  # with ripgrep's description
    assert "nixpkgs warns: 'helloWorld' has been renamed to 'hello'" in hovered("helloWorld")
    assert hovered("gone-tool") == ("**gone-tool** — no longer in your nixpkgs: 'gone-tool' has been removed as it "
                                    "was unmaintained upstream")
