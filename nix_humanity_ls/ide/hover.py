"""Hover: what an option or a package in the user's file means, in plain words.

An option is recognised in any spelling: hovering `enable` in `services.openssh = { enable = true; };`
explains `services.openssh.enable`; hovering `openssh` explains the set. The facts (type, default, example,
description, where it is declared) come from the user's own nixpkgs when it is indexed; our short "in
short" sentence comes from the bundled vocabulary. The `style` decides how much is shown (the words are
written in `option_explanation`, which `nix-humanity explain-option` shares).
"""

from __future__ import annotations

from pathlib import Path

import attrs
from tree_sitter import Node

from ..knowledge.packages import PackageIndex
from ..knowledge.vocabulary import Vocabulary
from ..nixpkgs.records import OptionIndex
from ..syntax.document import Document
from ..syntax.query import attrpath_names, binding_path, list_elements, sets_options, shallow_enough, text_of
from .option_explanation import option_text
from .package_alias import alias_text

STYLES = ("friendly", "concise", "expert")


@attrs.frozen
class Hover:
    start: int
    end: int
    markdown: str


@attrs.frozen
class Sources:
    """What hover may draw on; `options` and `nixpkgs_root` are None until the user's nixpkgs is indexed."""

    vocabulary: Vocabulary
    packages: PackageIndex
    options: OptionIndex | None = None
    nixpkgs_root: Path | None = None


def hover(doc: Document, offset: int, sources: Sources, style: str = "friendly") -> Hover | None:
    node = doc.tree.root_node.descendant_for_byte_range(offset, offset)
    if node is None or not shallow_enough(doc.tree, offset):
        return None
    found = option_at(doc, node)
    if found is not None:
        path, attr = found
        text = option_text(path, sources, style)
        return Hover(attr.start_byte, attr.end_byte, text) if text else None
    element = _package_element(node)
    if element is not None:
        name, element_node = element
        text = package_text(name, sources, style)
        return Hover(element_node.start_byte, element_node.end_byte, text) if text else None
    return None


# -- options ----------------------------------------------------------------------------------------------


def option_at(doc: Document, node: Node) -> tuple[tuple[str, ...], Node] | None:
    """The option path up to the hovered segment of a binding's name, when the binding sets options."""
    attr = node
    while attr.parent is not None and attr.parent.type not in ("attrpath", "source_code") and attr.type != "binding":
        attr = attr.parent
    attrpath = attr.parent
    if attrpath is None or attrpath.type != "attrpath" or attrpath.parent is None or attrpath.parent.type != "binding":
        return None
    binding = attrpath.parent
    names = attrpath_names(attrpath)
    full = binding_path(binding)
    if names is None or full is None or not sets_options(doc.tree, binding):
        return None
    attrs_ = list(attrpath.children_by_field_name("attr"))
    index = next((i for i, a in enumerate(attrs_) if a.start_byte == attr.start_byte), len(attrs_) - 1)
    return full[: len(full) - len(names) + index + 1], attr


# -- packages ---------------------------------------------------------------------------------------------


def _package_element(node: Node) -> tuple[str, Node] | None:
    """The package a list element names: `firefox` under `with pkgs;`, or `pkgs.firefox`."""
    element = node
    while element.parent is not None and element.parent.type != "list_expression":
        element = element.parent
        if element.type in ("binding", "source_code"):
            return None
    nix_list = element.parent
    if nix_list is None:
        return None
    scope = None
    outer = nix_list.parent
    while outer is not None and outer.type == "parenthesized_expression":
        outer = outer.parent
    if outer is not None and outer.type == "with_expression":
        environment = outer.child_by_field_name("environment")
        scope = text_of(environment) if environment is not None else None
    for item in list_elements(nix_list, scope):
        if item.node == element and item.name is not None and item.qualifier in (None, "pkgs"):
            return item.name, element
    return None


def package_text(name: str, sources: Sources, style: str) -> str:
    """Facts from every source that knows the package: the user's nixpkgs may know a name from
    `all-packages.nix` without a description, which the bundled list then supplies."""
    found = [p for p in (source.get(name) for source in sources.packages.sources) if p is not None]
    if not found:
        return alias_text(name, sources.packages)
    description = next((p.description for p in found if p.description), "")
    parts = [f"**{name}** — {description}" if description else f"**{name}**"]
    if style != "concise" and any(p.unfree for p in found):
        parts.append("Unfree: it needs `nixpkgs.config.allowUnfree = true;` (or a predicate that allows it).")
    broken = next((p.broken for p in found if p.broken), "")
    if broken:
        parts.append(_broken_note(broken, style))
    return "\n\n".join(parts)


def _broken_note(broken: str, style: str) -> str:
    """`meta.broken` of the user's nixpkgs in words: always ("true") or under a condition (its source text)."""
    allow = "`nixpkgs.config.allowBroken = true;`"
    when = "" if broken == "true" else f" when `{broken}`"
    if style == "concise":
        return f"Marked broken{when} (needs {allow})."
    if style == "expert":
        return f"`meta.broken = {broken}` in your nixpkgs: Nix refuses to evaluate it, so building fails, unless {allow}."
    if broken == "true":
        return (f"Marked broken in your nixpkgs: building it fails unless {allow} is set. It is usually marked "
                f"for a reason (it does not build or does not work), so a newer nixpkgs or another package may "
                f"serve better.")
    return (f"Marked broken{when} in your nixpkgs: on a system where that holds, building it fails unless "
            f"{allow} is set.")
