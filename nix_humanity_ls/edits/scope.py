"""Which names a spot in a module can see, and how to give the module an argument it lacks.

An edit that writes `with pkgs; [ htop ]` into `{ }` or `{ config, ... }: { … }` produces a file Nix rejects
(`undefined variable 'pkgs'`), so after the edits the module's argument list gets the names the new text
uses (`{ config, pkgs, ... }:`), and a bare set becomes `{ pkgs, ... }: { … }`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tree_sitter import Node, QueryCursor

from ..syntax.document import Document
from ..syntax.parser import load_query
from ..syntax.query import attrpath_names, text_of, unwrap
from .text_edit import TextEdit

MODULE_ARGUMENTS = ("pkgs", "lib", "config")


class ScopeError(Exception):
    """The module's arguments cannot be extended by an edit (e.g. it is written `args: { … }`)."""


_VARIABLES = load_query("variables")


def variable_references(node: Node, name: str) -> Iterator[Node]:
    """`variable_expression` nodes under `node` that read `name` (found by a query: one pass in C)."""
    encoded = name.encode()
    for variable in QueryCursor(_VARIABLES).captures(node).get("variable", []):
        if variable.text == encoded:
            yield variable


def binder(scope: Node, name: str) -> Node | None:
    """Where this `let … in`, `rec { … }` or function binds `name` for the expressions inside it: the
    argument's name (`{ pkgs, ... }:`, `args@{ … }:`, `x:`), the first attribute of a binding (`a` of
    `a.b = …;`) or the inherited name; None when it does not."""
    if scope.type == "function_expression":
        universal = scope.child_by_field_name("universal")
        if universal is not None and text_of(universal) == name:
            return universal
        formals = scope.child_by_field_name("formals")
        for formal in formals.children_by_field_name("formal") if formals is not None else ():
            formal_name = formal.child_by_field_name("name")
            if formal_name is not None and text_of(formal_name) == name:
                return formal_name
        return None
    if scope.type in ("let_expression", "rec_attrset_expression"):
        for binding_set in (c for c in scope.named_children if c.type == "binding_set"):
            for binding in binding_set.named_children:
                if binding.type == "binding":
                    attrpath = binding.child_by_field_name("attrpath")
                    if attrpath is not None and (attrpath_names(attrpath) or ())[:1] == (name,):
                        return attrpath.children_by_field_name("attr")[0]
                elif binding.type in ("inherit", "inherit_from"):
                    attrs_node = binding.child_by_field_name("attrs")
                    for attr in attrs_node.named_children if attrs_node is not None else ():
                        if text_of(attr) == name:
                            return attr
    return None


def is_bound(reference: Node, name: str) -> bool:
    """True when a function, `let` or `rec` set around `reference` binds `name`. A `with` does not count:
    `with lib;` does not provide `pkgs`, and Nix only finds out when it evaluates (an error then)."""
    return definition(reference, name) is not None


def definition(reference: Node, name: str) -> Node | None:
    """The innermost place around `reference` that binds `name` (see `binder`), or None."""
    node = reference.parent
    while node is not None:
        found = binder(node, name)
        if found is not None:
            return found
        node = node.parent
    return None


def unbound_names(doc: Document, names: Iterable[str] = MODULE_ARGUMENTS) -> list[str]:
    """Which of `names` the document reads without anything binding them."""
    root = doc.tree.root_node
    return [name for name in names if any(not is_bound(ref, name) for ref in variable_references(root, name))]


def module_argument_edits(doc: Document, names: Iterable[str]) -> list[TextEdit]:
    """Edits that make the module take `names` as arguments: added to `{ config, ... }:` before the `...`,
    or `{ pkgs, ... }:` put in front of a module that is a bare set."""
    names = list(names)
    if not names:
        return []
    expression = doc.tree.root_node.child_by_field_name("expression")
    if expression is None:
        raise ScopeError("the file has no expression")
    function = expression
    while function.type == "parenthesized_expression" and function.child_by_field_name("expression") is not None:
        function = function.child_by_field_name("expression")  # type: ignore[assignment]
    if function.type != "function_expression":
        if unwrap(expression) is None:
            raise ScopeError("the file has no module")
        newline = "\r\n" if b"\r\n" in doc.source else "\n"
        return [TextEdit(expression.start_byte, expression.start_byte, f"{{ {', '.join(names)}, ... }}:{newline}")]
    formals = function.child_by_field_name("formals")
    if formals is None:
        universal = function.child_by_field_name("universal")
        raise ScopeError(
            f"the module takes its arguments as `{text_of(universal) if universal else 'args'}`, so the new text "
            f"cannot use `{names[0]}`; write `{{ {', '.join(names)}, ... }}:` at its top first"
        )
    ellipses = formals.child_by_field_name("ellipses")
    if ellipses is None:
        ellipses = next((c for c in formals.named_children if c.type == "ellipses"), None)
    if ellipses is not None:
        return [TextEdit(ellipses.start_byte, ellipses.start_byte, "".join(f"{n}, " for n in names))]
    existing = formals.children_by_field_name("formal")
    if existing:
        end = existing[-1].end_byte
        return [TextEdit(end, end, "".join(f", {n}" for n in names))]
    opener, closer = formals.children[0], formals.children[-1]
    return [TextEdit(opener.end_byte, closer.start_byte, f" {', '.join(names)} ")]
