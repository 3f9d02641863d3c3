"""The outline of a configuration: the function's arguments, `let` bindings, and every option path the module
sets, nested the way the file nests them, with user accounts and virtual hosts named for what they are."""

from __future__ import annotations

import enum

import attrs
from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import (
    ATTRSET_TYPES,
    VALUE_WRAPPERS,
    attrpath_names,
    direct_bindings,
    set_value,
    text_of,
    unwrap,
)

MAX_DEPTH = 64  # an outline deeper than this helps nobody, and deep nesting must not exhaust the stack
MAX_SYMBOLS = 20000


class SymbolKind(enum.Enum):
    """The kinds we use; names match LSP's SymbolKind members, which the LSP edge converts by name."""

    Module = enum.auto()
    Namespace = enum.auto()
    Property = enum.auto()
    Variable = enum.auto()
    Function = enum.auto()
    String = enum.auto()
    Number = enum.auto()
    Boolean = enum.auto()
    Array = enum.auto()
    Object = enum.auto()
    Null = enum.auto()


@attrs.frozen
class Symbol:
    name: str
    kind: SymbolKind
    start: int
    end: int
    selection_start: int
    selection_end: int
    detail: str | None = None
    children: tuple[Symbol, ...] = ()


# option sets whose attribute names are things the user named (accounts, hosts, mounts), not options
_NAMED_ENTRIES = {
    ("users", "users"): "user account",
    ("users", "groups"): "group",
    ("services", "nginx", "virtualHosts"): "virtual host",
    ("services", "httpd", "virtualHosts"): "virtual host",
    ("fileSystems",): "file system",
    ("networking", "interfaces"): "network interface",
    ("systemd", "services"): "systemd service",
    ("containers",): "container",
}


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_SYMBOLS


def document_symbols(doc: Document) -> list[Symbol]:
    budget = _Budget()
    root = doc.tree.root_node.child_by_field_name("expression")
    symbols: list[Symbol] = []
    node = root
    while node is not None:  # walk the module's wrappers, collecting arguments and `let` bindings on the way
        if node.type == "function_expression":
            symbols.extend(_formals(node))
            node = node.child_by_field_name("body")
        elif node.type == "let_expression":
            symbols.extend(_bindings(node, (), 0, budget, let_scope=True))
            node = node.child_by_field_name("body")
        elif node.type in ("parenthesized_expression", "with_expression", "assert_expression"):
            node = unwrap(node)
        else:
            break
    if node is not None and node.type in ATTRSET_TYPES:
        symbols.extend(_bindings(node, (), 0, budget))
    return symbols


def _formals(function: Node) -> list[Symbol]:
    """`{ config, pkgs, ... }:`, and the name of `args@{ … }:`, `{ … }@args:` or `pkgs:`, in source order."""
    found = [
        Symbol(text_of(name), SymbolKind.Variable, name.start_byte, name.end_byte, name.start_byte, name.end_byte,
               "argument")
        for name in function.children_by_field_name("universal")
    ]
    formals = function.child_by_field_name("formals")
    for formal in formals.named_children if formals is not None else []:
        name = formal.child_by_field_name("name")
        if formal.type == "formal" and name is not None:
            found.append(
                Symbol(text_of(name), SymbolKind.Variable, formal.start_byte, formal.end_byte,
                       name.start_byte, name.end_byte, "argument")
            )
    found.sort(key=lambda s: s.start)
    return found


def _bindings(
    container: Node, prefix: tuple[str, ...], depth: int, budget: _Budget, let_scope: bool = False
) -> list[Symbol]:
    symbols = []
    for binding in direct_bindings(container):
        if budget.left <= 0:
            break
        attrpath = binding.child_by_field_name("attrpath")
        value = binding.child_by_field_name("expression")
        if attrpath is None or value is None:
            continue
        names = attrpath_names(attrpath)
        name = text_of(attrpath)
        path = prefix + names if names is not None else prefix
        budget.left -= 1
        inner = set_value(value)
        children: tuple[Symbol, ...] = ()
        if inner is not None and depth + 1 < MAX_DEPTH:
            children = tuple(_bindings(inner, path, depth + 1, budget))
        kind = SymbolKind.Variable if let_scope else _kind_of(_value_node(value), inner is not None)
        symbols.append(
            Symbol(name, kind, binding.start_byte, binding.end_byte, attrpath.start_byte, attrpath.end_byte,
                   _detail(path, value, let_scope), children)
        )
    for inherit in (c for b in container.named_children if b.type == "binding_set" for c in b.named_children):
        if inherit.type not in ("inherit", "inherit_from"):
            continue
        attrs_node = inherit.child_by_field_name("attrs")
        for attr in attrs_node.named_children if attrs_node is not None else []:
            budget.left -= 1
            symbols.append(
                Symbol(text_of(attr), SymbolKind.Variable if let_scope else SymbolKind.Property,
                       inherit.start_byte, inherit.end_byte, attr.start_byte, attr.end_byte, "inherited")
            )
    symbols.sort(key=lambda s: s.start)
    return symbols


def _detail(path: tuple[str, ...], value: Node, let_scope: bool) -> str | None:
    if let_scope:
        return "let binding"
    for owner, what in _NAMED_ENTRIES.items():
        if len(path) == len(owner) + 1 and path[: len(owner)] == owner:
            return what
    return ".".join(path) if len(path) > 1 else None


_SCALAR_KINDS = {
    "string_expression": SymbolKind.String,
    "indented_string_expression": SymbolKind.String,
    "integer_expression": SymbolKind.Number,
    "float_expression": SymbolKind.Number,
    "list_expression": SymbolKind.Array,
    "function_expression": SymbolKind.Function,
    "path_expression": SymbolKind.String,
}


def _value_node(value: Node) -> Node | None:
    """The node whose type tells a value's kind: a function stays a function (`unwrap` would look through it
    to its body, making `pkg: true` a Boolean), and `lib.mkDefault false` or `mkIf c [ … ]` are what they wrap."""
    node: Node | None = value
    while node is not None:
        if node.type == "parenthesized_expression":
            node = node.child_by_field_name("expression")
        elif node.type == "function_expression":
            return node
        elif node.type in ("let_expression", "with_expression", "assert_expression"):
            node = node.child_by_field_name("body")
        elif node.type == "apply_expression" and _applied_name(node) in VALUE_WRAPPERS:
            node = node.child_by_field_name("argument")
        else:
            return node
    return None


def _applied_name(apply: Node) -> str | None:
    """`mkDefault` for `lib.mkDefault x` or `mkDefault x`, `mkIf` for `mkIf c x` (the head of the application)."""
    head: Node | None = apply
    while head is not None and head.type == "apply_expression":
        head = head.child_by_field_name("function")
    if head is None:
        return None
    if head.type == "select_expression":
        path = head.child_by_field_name("attrpath")
        names = attrpath_names(path) if path is not None else None
        return names[-1] if names else None
    return text_of(head) if head.type == "variable_expression" else None


def _kind_of(value: Node | None, is_set: bool) -> SymbolKind:
    if is_set:
        return SymbolKind.Namespace
    if value is None:
        return SymbolKind.Property
    if value.type == "variable_expression":
        word = text_of(value)
        if word in ("true", "false"):
            return SymbolKind.Boolean
        if word == "null":
            return SymbolKind.Null
    return _SCALAR_KINDS.get(value.type, SymbolKind.Property)
