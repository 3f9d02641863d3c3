"""Setting an option to a value, in whatever style the module is written.

In order of preference: change the existing binding's value (keeping `lib.mkForce`/`mkDefault` around it);
switch on a commented-out line that sets exactly this option (the installer's `# services.openssh.enable =
true;`); add the rest of the path inside the deepest set that already exists (`services = { … };` must not
get a `services.x = …;` sibling); or add a dotted binding next to the bindings it has most in common with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import (
    Binding,
    attrpath_names,
    binding_path,
    comments,
    direct_bindings,
    find_bindings,
    module_attrset,
    set_value,
    text_of,
)
from .layout import insert_binding, starts_line
from .text_edit import TextEdit
from .values import nix_string

PRIORITY_WRAPPERS = ("mkForce", "mkDefault", "mkOverride", "mkImageMediaOverride", "mkOptionDefault")


class EditError(Exception):
    """The edit cannot be made safely; the message says why in plain words. Nothing is changed."""


def render_path(path: Sequence[str]) -> str:
    """`services.nginx.virtualHosts."example.org"`: quote segments that are not plain identifiers."""
    return ".".join(name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_'-]*", name) else nix_string(name) for name in path)


def module_set(doc: Document) -> Node:
    if doc.tree.root_node.has_error:
        raise EditError("the file has syntax errors; fix them first (see the problems list), then try again")
    attrset = module_attrset(doc.tree)
    if attrset is None:
        raise EditError("could not find the attribute set this module returns (expected `{ ... }: { ... }`)")
    return attrset


def set_option(doc: Document, path: Sequence[str], value: str) -> list[TextEdit]:
    """Edits that make option `path` equal the Nix expression `value`; [] when it already is."""
    path = tuple(path)
    attrset = module_set(doc)
    existing = find_bindings(attrset, path)
    if existing:
        target = _priority_wrapped_value(existing[0].value)
        if text_of(target) == value:
            return []
        return [TextEdit(target.start_byte, target.end_byte, value)]
    check_reachable(attrset, path)
    uncommented = _uncomment(doc, attrset, path, value)
    if uncommented is not None:
        return [uncommented]
    container, prefix = _deepest_set(attrset, path)
    rest = path[len(prefix) :]
    return [insert_binding(doc, container, f"{render_path(rest)} = {value};", _neighbour(container, prefix, rest))]


def hiding_binding(attrset: Node, path: Sequence[str]) -> Binding | None:
    """A binding of a proper prefix of `path` whose value is not a set we can see into (`services = common;`,
    `networking.firewall = lib.mkMerge [ … ];`): it may set `path` already, and Nix rejects a `services.x = …;`
    next to it ("attribute already defined"), so nothing may be added for `path`."""
    path = tuple(path)
    for length in range(1, len(path)):
        for binding in find_bindings(attrset, path[:length]):
            if set_value(binding.value) is None:
                return binding
    return None


def check_reachable(attrset: Node, path: Sequence[str]) -> None:
    """Raise `EditError` when `hiding_binding` finds that `path` is out of reach of an edit."""
    hidden = hiding_binding(attrset, path)
    if hidden is not None:
        value = " ".join(text_of(hidden.value).split())
        value = value if len(value) <= 40 else value[:37] + "…"
        raise EditError(
            f"`{render_path(hidden.path)}` is set to `{value}`, which I cannot look into, so I cannot change "
            f"`{render_path(path)}` without breaking it; please make this change by hand"
        )


def _priority_wrapped_value(value: Node) -> Node:
    """For `lib.mkForce true` the part to replace is `true`; for a plain value, the value itself."""
    node = value
    while node.type == "parenthesized_expression":
        inner = node.child_by_field_name("expression")
        if inner is None:
            break
        node = inner
    if node.type == "apply_expression":
        head = node
        while head.type == "apply_expression":
            head = head.child_by_field_name("function")
        name = text_of(head).rsplit(".", 1)[-1]
        argument = node.child_by_field_name("argument")
        if name in PRIORITY_WRAPPERS and argument is not None:
            return _priority_wrapped_value(argument)
    return value


def _deepest_set(attrset: Node, path: tuple[str, ...]) -> tuple[Node, tuple[str, ...]]:
    """The innermost existing set on the way to `path` (as `a = { … };` or `a.b = { … };`), and its path."""
    for length in range(len(path) - 1, 0, -1):
        for binding in find_bindings(attrset, path[:length]):
            inner = set_value(binding.value)
            if inner is not None:
                return inner, path[:length]
    return attrset, ()


def _neighbour(container: Node, prefix: tuple[str, ...], rest: tuple[str, ...]) -> Node | None:
    """The binding a new one should follow: the last that shares the longest leading path with it; else the
    last binding before `system.stateVersion` (which by custom closes a configuration)."""
    best: Node | None = None
    best_shared = 0
    last_before_state: Node | None = None
    bindings = list(direct_bindings(container))
    closing = bool(bindings) and binding_path(bindings[-1]) == ("system", "stateVersion")
    for binding in bindings:
        attrpath = binding.child_by_field_name("attrpath")
        names = attrpath_names(attrpath) if attrpath is not None else None
        if names is None:
            continue
        if closing and binding == bindings[-1]:
            break  # `system.autoUpgrade.enable` goes before a closing stateVersion, not after it
        shared = 0
        while shared < min(len(names), len(rest)) and names[shared] == rest[shared]:
            shared += 1
        if shared and shared >= best_shared:
            best, best_shared = binding, shared
        if prefix + names != ("system", "stateVersion"):
            last_before_state = binding
    if best is not None:
        return best
    if bindings and binding_path(bindings[-1]) == ("system", "stateVersion"):
        return last_before_state
    return None


_COMMENTED_BINDING = re.compile(r"#\s*([A-Za-z_][\w'.\"-]*)\s*=\s*(.*?);(.*)$")


def _uncomment(doc: Document, attrset: Node, path: tuple[str, ...], value: str) -> TextEdit | None:
    """`# services.openssh.enable = true;` on a line of its own, directly in the module's set (or in the set
    that holds the option's prefix): turn that line into the binding, keeping any trailing comment.

    A line that says the opposite switch (`# services.pulseaudio.enable = true;` when asked for `false`) is
    left alone: its explanation above ("# Enable sound.") would then read wrong. In a CRLF file the comment
    node ends with the `\r`, which must stay in the file."""
    for comment in comments(attrset, attrset.start_byte, attrset.end_byte):
        text = text_of(comment)
        match = _COMMENTED_BINDING.match(text)
        if match is None or not starts_line(doc, comment.start_byte):
            continue
        names = tuple(part.strip('"') for part in match.group(1).split("."))
        if _enclosing_prefix(comment) + names != path:
            continue
        if {match.group(2).strip(), value} == {"true", "false"}:
            continue
        trailing = match.group(3).strip()
        new = f"{render_path(names)} = {value};" + (f" {trailing}" if trailing.startswith("#") else "")
        end = comment.end_byte - len(text) + len(text.rstrip("\r\n"))
        return TextEdit(comment.start_byte, end, new)
    return None


def _enclosing_prefix(node: Node) -> tuple[str, ...]:
    """The option path of the set a comment sits in: () for the module's own set."""
    current = node.parent
    while current is not None and current.type not in ("attrset_expression", "rec_attrset_expression"):
        current = current.parent
    if current is None:
        return ()
    owner = current.parent
    while owner is not None and owner.type not in ("binding", "source_code", "function_expression", "let_expression"):
        owner = owner.parent
    if owner is None or owner.type != "binding":
        return ()
    return binding_path(owner) or ()

