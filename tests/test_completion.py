"""Completion in the core: option segments from the bundled vocabulary's paths, packages from the bundled
list, no items where no name or package is being typed; values of options from their type in a small indexed
nixpkgs tree, from the system's time zones, the locales requests know, and `system.stateVersion`'s own."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from nix_humanity_ls.ide.completion import complete
from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document
from tests.nixpkgs_fixture import write_tree

SOURCES = Sources(bundled_vocabulary(), bundled_index())


def labels(text: str, after: str) -> list[str] | None:
    offset = len(text[: text.index(after) + len(after)].encode())
    found = complete(Document("file:///c.nix", text), offset, SOURCES)
    return None if found is None else [item.label for item in found.items]


def test_dotted_and_nested_half_typed_names():
    assert labels("{\n  hardware.blue\n  a = 1;\n}\n", "hardware.blue") == ["bluetooth"]
    assert labels("{ ... }:\n{\n  services = {\n    opens\n  };\n}\n", "opens") == ["openssh"]
    assert "enable" in labels("{\n  services.openssh.\n}\n", "services.openssh.")
    top = labels("{\n  \n}\n", "{\n  ")
    assert {"services", "networking", "hardware", "boot"} <= set(top)


def test_packages_in_lists_by_scope():
    assert labels("{ pkgs, ... }: { x = with pkgs; [ ripg ]; }", "ripg") == ["ripgrep"]
    assert labels("{ pkgs, ... }: { x = [ pkgs.ripg ]; }", "pkgs.ripg") == ["ripgrep"]
    assert labels("{ pkgs, ... }: { x = [ ripg ]; }", "ripg") is None  # no `with pkgs;`: not a package name


def test_nothing_in_values_lets_or_arguments():
    assert labels("{\n  networking.hostName = nix\n}\n", "= nix") is None
    assert labels("let\n  serv\nin { }\n", "serv") is None
    assert labels("{ conf, ... }: { }", "conf") is None


# -- values ---------------------------------------------------------------------------------------------------

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-value-completion-")))
(TREE / "lib" / ".version").write_text("25.11\n", encoding="utf-8")
INDEXED = Sources(bundled_vocabulary(), bundled_index(), build_static_index(TREE).options, TREE)


def values(text: str, after: str, sources: Sources = SOURCES):
    """(replaced text, labels) of the value completion at the end of `after`."""
    raw = text.encode()
    offset = len(text[: text.index(after) + len(after)].encode())
    found = complete(Document("file:///v.nix", text), offset, sources)
    return None if found is None else (raw[found.start : found.end].decode(), [item.label for item in found.items])


def test_switches_without_an_index_outside_and_not_inside_strings():
    assert values("{\n  services.openssh.enable = t\n  a = 1;\n}\n", "= t") == ("t", ["true"])
    assert values("{ services.openssh = { enable = lib.mkDefault ; }; }", "mkDefault ") == ("", ["true", "false"])
    assert values('{ services.openssh.enable = "t"; }', '"t') is None  # a switch is not a string
    assert values("{\n  networking.hostName = nix\n}\n", "= nix") is None  # a string with no known values
    assert values("let\n  enable = t\nin { }\n", "= t") is None  # a `let` name is not an option
    assert values("{ a = x == t; }", "== t") is None


def test_enum_from_the_options_type_and_null_of_nullor():
    text = '{\n  services.openssh.settings.PermitRootLogin = "p";\n}\n'
    assert values(text, '= "', INDEXED) == ("p", ["yes", "prohibit-password", "no"])
    assert values(text, '"p', INDEXED) == ("p", ["prohibit-password"])
    found = complete(Document("file:///v.nix", text), len(text[: text.index('"p') + 2].encode()), INDEXED)
    assert found.items[0].detail == "default"  # the option's default is marked
    bare = "{\n  services.openssh.settings.PermitRootLogin = \n}\n"
    assert values(bare, "= ", INDEXED)[1] == ['"yes"', '"prohibit-password"', '"no"']  # quoted outside a string
    assert values("{ services.openssh.banner = n; }", "= n", INDEXED) == ("n", ["null"])  # nullOr lines
    assert values("{ users.mutableUsers = f; }", "= f", INDEXED) == ("f", ["false"])


@pytest.mark.skipif(not os.path.isdir("/usr/share/zoneinfo"), reason="no time zone database (tzdata) here")
def test_time_zones_inside_a_string_by_region_or_city():
    text = '{\n  time.timeZone = "Europe/Be";\n}\n'
    replaced, labels = values(text, '"Europe/Be')
    assert replaced == "Europe/Be" and "Europe/Berlin" in labels and all(z.startswith("Europe/Be") for z in labels)
    assert values('{ time.timeZone = "berl"; }', '"berl') == ("berl", ["Europe/Berlin"])
    assert values("{ time.timeZone = Berl }", "= Berl") == ("Berl", ['"Europe/Berlin"'])
    unclosed = values('{\n  time.timeZone = "Europe/Berl\n  a = 1;\n}\n', '"Europe/Berl')
    assert unclosed == ("Europe/Berl", ["Europe/Berlin"])  # a string not yet closed still completes


def test_locales_from_the_languages_requests_know():
    assert values('{ i18n.defaultLocale = "de"; }', '"de') == ("de", ["de_DE.UTF-8", "de_AT.UTF-8", "de_CH.UTF-8"])


def test_state_version_offers_only_its_current_value_with_a_warning():
    text = '{\n  system.stateVersion = "24.05";\n}\n'
    offset = len(text[: text.index('"24') + 3].encode())
    found = complete(Document("file:///v.nix", text), offset, INDEXED)
    (item,) = found.items
    assert item.label == "24.05"  # what the file says, not the newer release of the tree
    assert "not the NixOS version you run" in item.documentation
    assert values('{ system.stateVersion = ""; }', '"', INDEXED) == ("", ["25.11"])  # new file: the tree's release
    assert values('{ system.stateVersion = ""; }', '"') is None  # no nixpkgs, nothing written: nothing to offer


def test_list_elements_from_the_element_enum_leaving_out_what_the_list_holds():
    nets = '{\n  networking.wireless.networks.home.authProtocols = [ "WPA-PSK" "" ];\n}\n'
    assert values(nets, '"WPA-PSK" "', INDEXED) == ("", ["WPA-EAP", "IEEE8021X", "NONE", "SAE", "OWE"])
    assert values(nets.replace('""', '"S"'), '"S', INDEXED) == ("S", ["SAE"])
    bare = '{\n  networking.wireless.networks = { home.authProtocols = [  "SAE" ]; };\n}\n'
    assert values(bare, "[ ", INDEXED)[1] == ['"WPA-PSK"', '"WPA-EAP"', '"IEEE8021X"', '"NONE"', '"OWE"']
    assert values(bare.replace("[  ", "[ W "), "[ W", INDEXED) == ("W", ['"WPA-PSK"', '"WPA-EAP"'])
    wrapped = '{ networking.wireless.networks.x.authProtocols = lib.mkForce ([ "N" ] ++ [ ]); }'
    assert values(wrapped, '"N', INDEXED) == ("N", ["NONE"])
    assert values('{ boot.supportedFilesystems = [ "z" ]; }', '"z', INDEXED) is None  # a plain list of strings
    assert values('{ x = { networking.foo = [ "S" ]; }; }', '"S', INDEXED) is None  # no such option


def test_supported_locales_as_glibc_names_and_not_in_a_let_or_a_nested_set():
    text = '{\n  i18n.supportedLocales = [ "en_US.UTF-8/UTF-8" "de_D" ];\n}\n'
    assert values(text, '"de_D', INDEXED) == ("de_D", ["de_DE.UTF-8/UTF-8"])
    assert values(text, '"de_D') == ("de_D", ["de_DE.UTF-8/UTF-8"])  # well known without an index too
    replaced, offered = values(text.replace('"de_D"', '""'), '/UTF-8" "')
    assert replaced == "" and "all" in offered and "en_US.UTF-8/UTF-8" not in offered and "C.UTF-8/UTF-8" in offered
    assert values('let\n  i18n.supportedLocales = [ "de_D" ];\nin { }\n', '"de_D') is None
    assert values('{ i18n.supportedLocales = [ { a = "de_D"; } ]; }', '"de_D') is None  # inside an element
