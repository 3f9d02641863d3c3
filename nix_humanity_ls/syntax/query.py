"""Questions about a Nix syntax tree that several features ask: where is the module's attribute set, which
binding sets an option path (in any spelling), which lists are there and what is in them, where are comments.

Everything here is read-only and works on tree-sitter nodes and byte offsets. Walks use explicit stacks, never
recursion, because a document may nest ten thousand levels deep.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
from tree_sitter import Node, QueryCursor, Tree

from .parser import load_query

_COMMENTS = load_query("comments")
_LISTS = load_query("lists")

ATTRSET_TYPES = frozenset({"attrset_expression", "rec_attrset_expression"})

# `lib.mkIf c { … }`, `mkDefault { … }` and friends wrap a value without changing which options it sets.
VALUE_WRAPPERS = frozenset(
    {"mkIf", "mkDefault", "mkForce", "mkOverride", "mkBefore", "mkAfter", "mkOrder", "mkMerge", "optionalAttrs"}
)


@attrs.frozen
class Binding:
    """`path = value;` somewhere in a module, with `path` made absolute from the module's top-level set."""

    path: tuple[str, ...]
    node: Node
    attrpath: Node
    value: Node


@attrs.frozen
class ListElement:
    """One element of a list. For `pkgs.firefox` or `firefox` under `with pkgs;`, `name` is `firefox`."""

    node: Node
    text: str
    name: str | None
    qualifier: str | None  # `pkgs` in `pkgs.firefox`, None for a bare name


@attrs.frozen
class NixList:
    """A list literal and what governs how its elements read: the `with X;` around it, the binding it sets."""

    node: Node
    elements: tuple[ListElement, ...]
    with_scope: str | None  # `pkgs` for `with pkgs; [ … ]`
    owner: tuple[str, ...] | None  # option path of the binding whose value holds this list


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def unwrap(node: Node | None) -> Node | None:
    """Look through parentheses, a function's body, `let … in`, `with …;` and `assert …;` to the expression
    that gives the value."""
    while node is not None:
        kind = node.type
        if kind == "parenthesized_expression":
            node = node.child_by_field_name("expression")
        elif kind in ("function_expression", "let_expression", "with_expression", "assert_expression"):
            node = node.child_by_field_name("body")
        else:
            return node
    return None


def module_attrset(tree: Tree) -> Node | None:
    """The attribute set a NixOS module returns: `{ … }`, `{ … }: { … }`, `{ … }: let … in { … }`, etc."""
    node = unwrap(tree.root_node.child_by_field_name("expression"))
    return node if node is not None and node.type in ATTRSET_TYPES else None


def attr_name(attr: Node) -> str | None:
    """Static name of one attribute path segment: `a`, `"a.b"`; None for `${x}` or `"${x}"`."""
    if attr.type == "identifier":
        return text_of(attr)
    if attr.type == "string_expression":
        parts = attr.named_children
        if all(p.type in ("string_fragment", "escape_sequence") for p in parts):
            return "".join(text_of(p) if p.type == "string_fragment" else _unescape(text_of(p)) for p in parts)
    return None


def _unescape(escape: str) -> str:
    return {"\\n": "\n", "\\t": "\t", "\\r": "\r"}.get(escape, escape[1:])


def attrpath_names(attrpath: Node) -> tuple[str, ...] | None:
    """All segments of an attribute path, or None when one is dynamic."""
    names = []
    for attr in attrpath.children_by_field_name("attr"):
        name = attr_name(attr)
        if name is None:
            return None
        names.append(name)
    return tuple(names)


def set_value(value: Node | None) -> Node | None:
    """The attribute set a binding's value is, looking through wrappers such as `lib.mkIf cond { … }`."""
    node = unwrap(value)
    while node is not None and node.type == "apply_expression":
        if _applied_function_name(node) not in VALUE_WRAPPERS:
            return None
        node = unwrap(node.child_by_field_name("argument"))
    return node if node is not None and node.type in ATTRSET_TYPES else None


def _applied_function_name(apply: Node) -> str | None:
    """`mkIf` for `lib.mkIf c x` or `mkIf c x` (the head of a curried application)."""
    head = apply
    while head is not None and head.type == "apply_expression":
        head = head.child_by_field_name("function")
    if head is None:
        return None
    if head.type == "variable_expression":
        return text_of(head)
    if head.type == "select_expression":
        path = head.child_by_field_name("attrpath")
        names = attrpath_names(path) if path is not None else None
        return names[-1] if names else None
    return None


def direct_bindings(attrset: Node) -> Iterator[Node]:
    """The `binding` nodes written directly in an attribute set (or a `let`)."""
    for child in attrset.named_children:
        if child.type == "binding_set":
            yield from (b for b in child.named_children if b.type == "binding")


def static_bindings(container: Node, base: tuple[str, ...] = ()) -> Iterator[Binding]:
    """The bindings written directly in a set (or `let`) whose names are static, with `base` put in front."""
    for binding in direct_bindings(container):
        attrpath = binding.child_by_field_name("attrpath")
        value = binding.child_by_field_name("expression")
        names = attrpath_names(attrpath) if attrpath is not None else None
        if names is not None and value is not None:
            yield Binding(base + names, binding, attrpath, value)


def bindings(attrset: Node, prefix: tuple[str, ...] = ()) -> Iterator[Binding]:
    """Every binding under `attrset`, outermost first, with absolute paths; descends into nested sets."""
    stack: list[tuple[Node, tuple[str, ...]]] = [(attrset, prefix)]
    while stack:
        node, base = stack.pop()
        found = list(static_bindings(node, base))
        yield from found
        for item in reversed(found):
            inner = set_value(item.value)
            if inner is not None:
                stack.append((inner, item.path))


def find_bindings(attrset: Node, path: Sequence[str]) -> list[Binding]:
    """Bindings that set exactly `path`, whether written `a.b.c = v;`, `a = { b.c = v; };` or `a.b = { c = v; };`.

    Only sets on the way to `path` are entered, so this stays cheap on large files.
    """
    path = tuple(path)
    stack: list[tuple[Node, tuple[str, ...]]] = [(attrset, ())]
    found: list[Binding] = []
    while stack:
        node, base = stack.pop()
        for binding in static_bindings(node, base):
            if binding.path == path:
                found.append(binding)
            elif path[: len(binding.path)] == binding.path:
                inner = set_value(binding.value)
                if inner is not None:
                    stack.append((inner, binding.path))
    found.sort(key=lambda b: b.node.start_byte)
    return found


MAX_CLIMB_DEPTH = 1000  # tree levels; configurations reach about 50


def shallow_enough(tree: Tree, offset: int) -> bool:
    """Whether the node at `offset` lies fewer than `MAX_CLIMB_DEPTH` levels down, counted on one walk down with
    a tree cursor. Features that climb from there by `Node.parent` ask first: tree-sitter answers `parent` by
    searching down from the root again, so a climb is quadratic in depth (a hover ten thousand sets deep took
    20 s) and, for zero-width nodes that deep, recurses in C far enough to crash."""
    cursor = tree.walk()
    for _ in range(MAX_CLIMB_DEPTH):
        if cursor.goto_first_child_for_byte(offset) is None:
            return True
    return False


def binding_path(binding: Node) -> tuple[str, ...] | None:
    """Absolute path of a `binding` node, climbing through the sets (and set wrappers) that contain it.

    The climb stops at a `let`, a list or a function argument: a binding there is not part of an option path,
    so the path is relative to that point. None when a segment is dynamic.
    """
    parts: list[tuple[str, ...]] = []
    node: Node | None = binding
    while node is not None:
        if node.type == "binding":
            attrpath = node.child_by_field_name("attrpath")
            names = attrpath_names(attrpath) if attrpath is not None else None
            if names is None:
                return None
            parts.append(names)
        parent = node.parent
        if parent is None or parent.type in ("let_expression", "list_expression", "formals"):
            break
        if parent.type == "binding" and parent.child_by_field_name("expression") != node:
            break
        node = parent
    return tuple(name for names in reversed(parts) for name in names)


def sets_options(tree: Tree, binding: Node) -> bool:
    """True when `binding` lies in the module's own set, so its path is an option path: not in a `let`, a
    list or a function's arguments."""
    module = module_attrset(tree)
    node: Node | None = binding
    while node is not None:
        if module is not None and node == module:
            return True
        if node.type in ("let_expression", "list_expression", "formals"):
            return False
        node = node.parent
    return False


def enclosing_binding(node: Node) -> Node | None:
    """The nearest `binding` whose value contains `node`."""
    current = node.parent
    while current is not None:
        if current.type == "binding":
            return current
        current = current.parent
    return None


def comments(node: Node, start: int | None = None, end: int | None = None) -> list[Node]:
    """Comment nodes under `node`, optionally only those overlapping the byte range `start`..`end`."""
    cursor = QueryCursor(_COMMENTS)
    if start is not None and end is not None:
        cursor.set_byte_range(start, end)
    return sorted(cursor.captures(node).get("comment", []), key=lambda n: n.start_byte)


def list_elements(list_node: Node, with_scope: str | None) -> tuple[ListElement, ...]:
    elements = []
    for element in list_node.children_by_field_name("element"):
        name: str | None = None
        qualifier: str | None = None
        if element.type == "variable_expression" and with_scope is not None:
            name = text_of(element)
        elif element.type == "select_expression" and element.child_by_field_name("default") is None:
            base = element.child_by_field_name("expression")
            path = element.child_by_field_name("attrpath")
            names = attrpath_names(path) if path is not None else None
            if base is not None and base.type == "variable_expression" and names:
                qualifier = ".".join((text_of(base), *names[:-1]))
                name = names[-1]
        elements.append(ListElement(element, text_of(element), name, qualifier))
    return tuple(elements)


def lists_in_value(value: Node, owner: tuple[str, ...] | None = None) -> list[NixList]:
    """The list literals a value is built from: `[ … ]`, `with pkgs; [ … ]`, `(with pkgs; [ … ]) ++ [ … ]`,
    `lib.mkIf c [ … ]`, `if c then [ … ] else [ … ]`, and names bound by an enclosing `let` (`myPkgs ++ [ … ]`)."""
    found: list[NixList] = []
    seen_names: set[str] = set()
    stack: list[tuple[Node, str | None]] = [(value, None)]
    while stack:
        node, scope = stack.pop()
        kind = node.type
        if kind == "list_expression":
            found.append(NixList(node, list_elements(node, scope), scope, owner))
        elif kind == "parenthesized_expression":
            _push(stack, node.child_by_field_name("expression"), scope)
        elif kind == "with_expression":
            env = node.child_by_field_name("environment")
            _push(stack, node.child_by_field_name("body"), text_of(env) if env is not None else scope)
        elif kind == "let_expression":
            _push(stack, node.child_by_field_name("body"), scope)
        elif kind == "binary_expression" and text_of(node.child_by_field_name("operator") or node) == "++":
            _push(stack, node.child_by_field_name("right"), scope)
            _push(stack, node.child_by_field_name("left"), scope)
        elif kind == "if_expression":
            _push(stack, node.child_by_field_name("alternative"), scope)
            _push(stack, node.child_by_field_name("consequence"), scope)
        elif kind == "apply_expression" and _applied_function_name(node) in VALUE_WRAPPERS:
            _push(stack, node.child_by_field_name("argument"), scope)
        elif kind == "variable_expression" and text_of(node) not in seen_names:
            seen_names.add(text_of(node))
            target = let_binding_value(node, text_of(node))
            _push(stack, target, scope)
    found.sort(key=lambda item: item.node.start_byte)
    return found


def _push(stack: list[tuple[Node, str | None]], node: Node | None, scope: str | None) -> None:
    if node is not None:
        stack.append((node, scope))


def let_binding_value(at: Node, name: str) -> Node | None:
    """The value a `let` (or `rec` set) around `at` binds to `name`, innermost scope first."""
    node = at.parent
    while node is not None:
        scope = None
        if node.type == "let_expression":
            scope = next((c for c in node.named_children if c.type == "binding_set"), None)
        elif node.type == "rec_attrset_expression":
            scope = next((c for c in node.named_children if c.type == "binding_set"), None)
        if scope is not None:
            for binding in scope.named_children:
                if binding.type != "binding":
                    continue
                attrpath = binding.child_by_field_name("attrpath")
                if attrpath is not None and attrpath_names(attrpath) == (name,):
                    return binding.child_by_field_name("expression")
        node = node.parent
    return None


def all_lists(node: Node) -> list[Node]:
    """Every list literal under `node`, in document order."""
    return sorted(QueryCursor(_LISTS).captures(node).get("list", []), key=lambda n: n.start_byte)


def option_lists(attrset: Node, path: Sequence[str]) -> list[NixList]:
    """The lists that make up the value of option `path` (e.g. `environment.systemPackages`) in a module."""
    found: list[NixList] = []
    for binding in find_bindings(attrset, path):
        found.extend(lists_in_value(binding.value, binding.path))
    return found


def nodes_of_type(root: Node, node_type: str) -> Iterator[Node]:
    """Every node of `node_type` under `root` (and `root` itself), in document order, without recursion."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == node_type:
            yield node
        stack.extend(reversed(node.named_children))


def leaves(node: Node) -> Iterator[Node]:
    """The tokens under `node` in order (children-less nodes), without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0:
            yield current
        else:
            stack.extend(reversed(current.children))
