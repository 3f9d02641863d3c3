"""Completion without the user's nixpkgs: option segments from the bundled vocabulary's paths, packages from
the bundled list, and no items where no name or package is being typed."""

from __future__ import annotations

from nix_humanity_ls.ide.completion import complete
from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.syntax.document import Document

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
