"""Old package names of a nixpkgs tree, read from `pkgs/top-level/aliases.nix` without evaluating it.

nixpkgs keeps a renamed or removed package's old name there, so configurations written against an older
nixpkgs still evaluate, or fail with a message that says what to use instead. Without this file every old
name under `with pkgs;` would look like a typo. The file is written as one `mapAliases { … }` call (in older
trees `mapAliases ({ … })`), sometimes joined with `//` to sets a `let` makes, and each binding is one of:

- `old = new;` (also `new.sub`, `lib.lowPrio new`): still works, silently (`alias`);
- `old = warnAlias "message" new;` (also `lib.warnOnInstantiate`, `lib.warn`): works, and evaluation prints
  the message (`warn`);
- `old = throw "message";`: evaluation fails with the message (`throw`); the new name, when the message names
  one ("renamed to 'new'", "renamed to/replaced by 'new'"), is kept for the fix;
- names made by `lib.genAttrs [ "a" "b" … ] (name: throw "…${name}…")` through a `let` name: `throw` each,
  with the message text and `${name}` written out.

Anything else (`if … then … else`, a `callPackage`) still makes the name known, with no new name.
"""

from __future__ import annotations

import os
import re

from tree_sitter import Node

from ..syntax.parser import parse
from ..syntax.query import attrpath_names, direct_bindings, let_binding_value, text_of, unwrap
from .literals import call_parts, string_list, string_text
from .reading import read_bytes
from .records import PackageAlias

ALIASES = "pkgs/top-level/aliases.nix"
_WARNERS = frozenset({"warnAlias", "warnOnInstantiate", "warn"})
_PASS_THROUGH = frozenset({"lowPrio", "hiPrio", "removeRecurseForDerivations", "dontDistribute"})
_RENAMED_TO = re.compile(r"renamed to(?:/replaced by)?\s+['`\"]?([A-Za-z_][\w'.-]*)")
_MAX_DEPTH = 8  # `//` and `let` names followed this deep at most


def read_aliases(root: str) -> tuple[list[PackageAlias], str | None]:
    """The old names in the tree's `aliases.nix`, and a problem in words (None without the file)."""
    source = read_bytes(os.path.join(root, ALIASES))
    if isinstance(source, FileNotFoundError):
        return [], None
    if isinstance(source, OSError):
        return [], f"{ALIASES}: {source.strerror or source}"
    return parse_aliases(source), None


def parse_aliases(source: bytes) -> list[PackageAlias]:
    found: dict[str, PackageAlias] = {}
    body = unwrap(parse(source).root_node.child_by_field_name("expression"))
    _collect(body, found, 0)
    return [found[name] for name in sorted(found)]


def _collect(node: Node | None, found: dict[str, PackageAlias], depth: int) -> None:
    """Read every set of aliases `node` is made of: `a // b`, `mapAliases x`, `( … )`, a `let` name."""
    node = unwrap(node)
    if node is None or depth > _MAX_DEPTH:
        return
    if node.type == "attrset_expression":
        for binding in direct_bindings(node):
            _add_binding(binding, found)
    elif node.type == "binary_expression" and text_of(node.child_by_field_name("operator") or node) == "//":
        _collect(node.child_by_field_name("left"), found, depth + 1)
        _collect(node.child_by_field_name("right"), found, depth + 1)
    elif node.type == "variable_expression":
        _collect(let_binding_value(node, text_of(node)), found, depth + 1)
    elif node.type == "apply_expression":
        name, args = call_parts(node)
        if name == "genAttrs" and len(args) == 2:
            _add_generated(args[0], args[1], found)
        elif args:
            _collect(args[-1], found, depth + 1)


def _add_binding(binding: Node, found: dict[str, PackageAlias]) -> None:
    attrpath = binding.child_by_field_name("attrpath")
    names = attrpath_names(attrpath) if attrpath is not None else None
    value = unwrap(binding.child_by_field_name("expression"))
    if not names or len(names) != 1 or value is None:
        return
    line = binding.start_point[0] + 1
    name, args = call_parts(value)
    if name == "throw" and len(args) == 1:
        message = _message(args[0])
        renamed = _RENAMED_TO.search(message)
        found[names[0]] = PackageAlias(names[0], "throw", renamed.group(1).rstrip("'.") if renamed else None, message, line)
    elif name in _WARNERS and len(args) == 2:
        found[names[0]] = PackageAlias(names[0], "warn", _target(args[1]), _message(args[0]), line)
    else:
        found[names[0]] = PackageAlias(names[0], "alias", _target(value), "", line)


def _add_generated(names_node: Node, function: Node, found: dict[str, PackageAlias]) -> None:
    """`lib.genAttrs names (name: throw "…")`, the names a list or a `let` name holding one."""
    names = string_list(names_node)
    if names is None and unwrap(names_node) is not None and unwrap(names_node).type == "variable_expression":
        names = string_list(let_binding_value(names_node, text_of(unwrap(names_node))))
    function = unwrap(function) if function.type != "variable_expression" else function
    if function is not None and function.type == "variable_expression":
        function = let_binding_value(function, text_of(function))
    if names is None or function is None or function.type != "function_expression":
        return
    parameter = function.child_by_field_name("universal")
    body = unwrap(function.child_by_field_name("body"))
    head, args = call_parts(body)
    if head != "throw" or len(args) != 1:
        return
    template = _message(args[0])
    line = function.start_point[0] + 1
    for name in names:
        message = template.replace("${" + text_of(parameter) + "}", name) if parameter is not None else template
        found.setdefault(name, PackageAlias(name, "throw", None, message, line))


def _message(node: Node) -> str:
    """The text of a message: a string, or the strings of `"…" + "…"` (interpolations kept as written)."""
    node = unwrap(node)
    if node is None:
        return ""
    text = string_text(node)
    if text is not None:
        return text.strip()
    if node.type == "binary_expression":
        parts = (_message(node.child_by_field_name(side)) for side in ("left", "right"))
        return " ".join(p for p in parts if p).strip()
    return ""


def _target(node: Node | None) -> str | None:
    """The package an alias stands for: `new`, `set.new`, or the argument of `lib.lowPrio`; None otherwise."""
    node = unwrap(node)
    if node is not None and node.type == "apply_expression":
        name, args = call_parts(node)
        node = unwrap(args[0]) if name in _PASS_THROUGH and len(args) == 1 else None
    if node is None:
        return None
    if node.type == "variable_expression":
        return text_of(node)
    if node.type == "select_expression" and node.child_by_field_name("default") is None:
        inner = node.child_by_field_name("expression")
        attrpath = node.child_by_field_name("attrpath")
        names = attrpath_names(attrpath) if attrpath is not None else None
        if inner is not None and inner.type == "variable_expression" and names:
            return ".".join((text_of(inner), *names))
    return None
