"""Go to definition.

- On an option path, in any spelling (`services.openssh.enable = …`, `enable` inside `services.openssh = {`,
  `config.services.openssh.enable` in an expression): where the user's nixpkgs declares it (its `mkOption`,
  every file when several declare it); for a set of options (`openssh`), the declarations of the options
  directly in it, one place per file; for an old name, the `mkRenamedOptionModule` that renamed it.
- On a variable: the `let` binding, `rec` attribute, function argument (`{ pkgs, ... }:`, `args@{ … }:`,
  `x:`) or `inherit` that binds it in the same file; on the name in `inherit name;`, what it inherits.

A declaration lives in another file, which is read and parsed only when asked (a module file parses in a few
milliseconds), so that a target is a byte range in that file's own text, like any other.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from tree_sitter import Node

from ..edits.scope import definition
from ..files import FileProblem, read_nix_file
from ..syntax.document import Document
from ..syntax.query import attrpath_names, shallow_enough, text_of
from .hover import Sources, option_at

MAX_TARGETS = 10  # files shown for a set of options


@attrs.frozen
class Target:
    document: Document  # the asked document itself, or a file of the nixpkgs tree
    start: int
    end: int


def definitions(doc: Document, offset: int, sources: Sources) -> list[Target]:
    """Where the name at `offset` is defined or declared; the cursor may also sit just after the name."""
    if not shallow_enough(doc.tree, offset):
        return []
    for at in (offset, offset - 1) if offset > 0 else (offset,):
        node = doc.tree.root_node.descendant_for_byte_range(at, at)
        if node is None:
            continue
        found = _definitions_at(doc, node, sources)
        if found is not None:
            return found
    return []


def _definitions_at(doc: Document, node: Node, sources: Sources) -> list[Target] | None:
    """None when nothing at `node` has a definition to look for (then the byte before the cursor is asked)."""
    if node.type == "identifier" and node.parent is not None and node.parent.type == "variable_expression":
        node = node.parent
    if node.type == "variable_expression":
        bound = definition(node, text_of(node))
        return [Target(doc, bound.start_byte, bound.end_byte)] if bound is not None else []
    inherited = _inherited_name(node)
    if inherited is not None:
        # inherited_attrs → inherit → binding_set → the set or `let`, which (if `rec` or `let`) the inherit
        # itself binds the name in: the name is looked up from outside it
        container = inherited.parent.parent.parent.parent  # type: ignore[union-attr]
        bound = definition(container, text_of(inherited)) if container is not None else None
        return [Target(doc, bound.start_byte, bound.end_byte)] if bound is not None else []
    option = option_at(doc, node)
    path = option[0] if option is not None else _config_path(node)
    if path is None:
        return None
    return declarations(path, sources)


def _inherited_name(node: Node) -> Node | None:
    """The name in `inherit name;` (not `inherit (src) name;`, whose value comes from `src`)."""
    parent = node.parent
    if node.type != "identifier" or parent is None or parent.type != "inherited_attrs":
        return None
    owner = parent.parent
    return node if owner is not None and owner.type == "inherit" and owner.parent is not None else None


def _config_path(node: Node) -> tuple[str, ...] | None:
    """`config.services.openssh.enable` read in an expression: the option path up to the segment at `node`."""
    attr = node
    while attr.parent is not None and attr.parent.type != "attrpath":
        if attr.type in ("binding", "source_code"):
            return None
        attr = attr.parent
    attrpath = attr.parent
    select = attrpath.parent if attrpath is not None else None
    if select is None or select.type != "select_expression" or select.child_by_field_name("attrpath") != attrpath:
        return None
    base = select.child_by_field_name("expression")
    names = attrpath_names(attrpath)
    if base is None or base.type != "variable_expression" or text_of(base) != "config" or names is None:
        return None
    index = next((i for i, a in enumerate(attrpath.children_by_field_name("attr")) if a == attr), len(names) - 1)
    return names[: index + 1]


def declarations(path: tuple[str, ...], sources: Sources) -> list[Target]:
    """Where the user's nixpkgs declares option `path` (or renamed it); empty until it is indexed."""
    options, root = sources.options, sources.nixpkgs_root
    if options is None or root is None:
        return []
    rename = options.rename_for(path)
    if rename is not None:
        places = [(rename.rename.file, rename.rename.line)]
    elif (declared := options.find(path)) is not None:
        places = [(declared.file, declared.line), *declared.also_declared]
    else:  # a set of options: one place per file, the file declaring most of them first
        lines: dict[str, list[int]] = {}
        for child in options.children(path):
            if child.option is not None and not child.option.internal:
                lines.setdefault(child.option.file, []).append(child.option.line)
        ranked = sorted(lines.items(), key=lambda item: -len(item[1]))
        places = [(file, min(found)) for file, found in ranked[:MAX_TARGETS]]
    return [target for target in (_place(root / file, line) for file, line in places) if target is not None]


def _place(path: Path, line: int) -> Target | None:
    """The name of the binding that starts on 1-based `line` of a file (else the line's text)."""
    try:
        target = Document(path.as_uri(), read_nix_file(str(path)))
    except FileProblem:
        return None
    if not 0 < line <= target.line_count:
        return None
    start, end = target.line_span(line - 1)
    first = start + len(target.source[start:end]) - len(target.source[start:end].lstrip())
    node = target.tree.root_node.descendant_for_byte_range(first, first)
    while node is not None and node.type != "attrpath":
        node = node.parent if node.start_byte == first else None
    if node is not None and node.parent is not None and node.parent.type == "binding":
        return Target(target, node.start_byte, node.end_byte)
    return Target(target, first, len(target.source[:end].rstrip()))
