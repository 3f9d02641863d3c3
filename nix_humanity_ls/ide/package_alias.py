"""Old package names (`pkgs/top-level/aliases.nix` of the user's nixpkgs) where a package is read: under
`with pkgs;` (`scope_check`) and in the package lists of options (`binding_checks`), which share these words.

An old name is never an unknown package. One that still works silently says nothing here (hover tells);
one that warns is a WARNING, one that throws an ERROR (evaluation stops there) with nixpkgs' own message;
both offer the new name as a fix when the index knows it.
"""

from __future__ import annotations

from ..edits.options import render_path
from ..edits.text_edit import TextEdit
from ..knowledge.packages import PackageIndex
from ..nixpkgs.literals import one_line
from ..nixpkgs.package_aliases import ALIASES
from ..nixpkgs.records import NixpkgsPackages, PackageAlias
from .problem import Problem, QuickFix, Severity

OLD_NAME = "old-package-name"


def package_alias(packages: PackageIndex, name: str, fallback: bool = False) -> PackageAlias | None:
    """What the user's indexed nixpkgs says of the old name `name`; None when it is no old name. With
    `fallback`, the index's fallback (the user's nixpkgs behind the bundled list, as requests have it) is
    asked too."""
    for source in packages.sources:
        if isinstance(source, NixpkgsPackages):
            found = source.alias(name)
            if found is not None:
                return found
    behind = packages.fallback if fallback else None
    return package_alias(behind, name) if behind is not None else None


def new_name(alias: PackageAlias, packages: PackageIndex) -> str | None:
    """The name to write instead, when it can replace the old one as it is and its package is known."""
    if alias.new is None:
        return None
    segments = tuple(alias.new.split("."))
    if render_path(segments) != alias.new or packages.get(segments[0]) is None:
        return None
    return alias.new


def old_name_problem(alias: PackageAlias, start: int, end: int, name_start: int, name_end: int,
                     packages: PackageIndex, style: str) -> Problem | None:
    """The problem an old name at `start`–`end` is (its name itself at `name_start`–`name_end`, which the
    fix replaces); None for an alias that still works without a word."""
    if alias.kind == "alias":
        return None
    new = new_name(alias, packages)
    told = one_line(alias.message)  # one line: `nix-humanity check` prints a problem a line
    said = f": {told}" if told else ""
    where = f"{ALIASES}:{alias.line}"
    if alias.kind == "throw":
        instead = f" Write `{new}` instead." if new else ""
        message = {
            "concise": f"`{alias.name}` was removed from nixpkgs{said}",
            "expert": f"`pkgs.{alias.name}` throws ({where}){said}",
        }.get(style, f"`{alias.name}` is no longer in your nixpkgs; evaluation fails with “{told}”.{instead}"
              if told else f"`{alias.name}` is no longer in your nixpkgs.{instead}")
        severity = Severity.ERROR
    else:
        instead = f"`{new or alias.new}`" if (new or alias.new) else "its new name"
        message = {
            "concise": f"old package name `{alias.name}`; use {instead}",
            "expert": f"`pkgs.{alias.name}` is an alias that warns ({where}){said}",
        }.get(style, f"`{alias.name}` is an old name for {instead}; nixpkgs warns on every build"
              + (f" (“{told}”)." if told else "."))
        severity = Severity.WARNING
    fixes = (QuickFix(f"Change to `{new}`", (TextEdit(name_start, name_end, new),), preferred=True),) if new else ()
    return Problem(start, end, message, severity, OLD_NAME, fixes=fixes)


def alias_text(name: str, packages: PackageIndex) -> str:
    """Hover on an old name: what it stands for now; "" when `name` is no old name."""
    alias = package_alias(packages, name)
    if alias is None:
        return ""
    if alias.kind == "throw":
        return f"**{name}** — no longer in your nixpkgs" + (f": {alias.message}" if alias.message else ".")
    target = f"`{alias.new}`" if alias.new else "another package"
    text = f"**{name}** — an old name for {target}"
    found = packages.get(alias.new) if alias.new else None
    if found is not None and found.description:
        text += f" ({found.description})"
    if alias.kind == "warn":
        text += f"; nixpkgs warns: {alias.message}" if alias.message else "; nixpkgs warns when it is used"
    return text + "."
