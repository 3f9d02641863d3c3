"""What Nix source says literally, read without evaluation: the text of a string, a list of strings, the
name and arguments of a call.

Option descriptions, examples and messages in nixpkgs are `"…"` or `''…''` strings, often wrapped in
`lib.mdDoc`, `literalExpression` or `literalMD`. We decode escapes and the indentation of `''` strings the way
Nix does, and keep any `${…}` interpolation as its source text: showing `${name}` is more honest than
guessing its value.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ..syntax.query import attr_name, attrpath_names, text_of, unwrap

# Functions that only mark how a text is rendered; the text itself is their one argument.
TEXT_WRAPPERS = frozenset({"mdDoc", "literalExpression", "literalExample", "literalMD", "literalDocBook"})

_DOUBLE_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_INDENTED_ESCAPE = re.compile(r"'''|''\$|''\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r"}
_WHITESPACE = re.compile(r"\s+")


def string_text(node: Node | None) -> str | None:
    """The value of a string literal (`"…"` or `''…''`) with interpolations kept as source; None otherwise."""
    if node is None:
        return None
    if node.type == "string_expression":
        return quoted_text(text_of(node)[1:-1])
    if node.type == "indented_string_expression":
        return indented_text(text_of(node)[2:-2])
    return None


def quoted_text(content: str) -> str:
    """The value of what is written between the quotes of a `"…"` string."""
    return _DOUBLE_ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), content)


def indented_text(content: str) -> str:
    """The value of what is written between the `''` of an indented string."""
    return _INDENTED_ESCAPE.sub(_indented_escape, _strip_indentation(content))


def _indented_escape(match: re.Match[str]) -> str:
    token = match.group(0)
    if token == "'''":
        return "''"
    if token == "''$":
        return "$"
    return _ESCAPED.get(match.group(1), match.group(1))


def _strip_indentation(content: str) -> str:
    """Nix's rule for `''` strings: drop the smallest indentation of the non-blank lines, a first line that is
    blank, and the spaces of a last line that holds nothing else."""
    lines = content.split("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip(" \t")]
    cut = min(indents, default=0)
    if len(lines) > 1 and not lines[0].strip(" \t"):
        lines = lines[1:]
    if lines and not lines[-1].strip(" \t"):
        lines[-1] = ""
    return "\n".join(line[cut:] if line.strip(" \t") else line.lstrip(" \t") for line in lines)


def one_line(text: str) -> str:
    """Source text folded to one line (type expressions and defaults spread over several lines)."""
    return _WHITESPACE.sub(" ", text).strip()


def call_parts(node: Node | None) -> tuple[str | None, list[Node]]:
    """`lib.mkOption { … }` → ("mkOption", [set]); `mkRenamedOptionModule a b` → (name, [a, b]). A curried
    call is one apply node per argument; the name is the last segment of the function (`lib.types.attrsOf`
    → `attrsOf`), so `lib.` prefixes and bare names under `with lib;` read the same. (None, []) when `node`
    is not a call."""
    args: list[Node] = []
    head = node
    while head is not None and head.type == "apply_expression":
        argument = head.child_by_field_name("argument")
        if argument is not None:
            args.append(argument)
        head = head.child_by_field_name("function")
        while head is not None and head.type == "parenthesized_expression":
            head = head.child_by_field_name("expression")
    if not args or head is None:
        return None, []
    args.reverse()
    if head.type == "variable_expression":
        return text_of(head), args
    if head.type == "select_expression":
        path = head.child_by_field_name("attrpath")
        names = attrpath_names(path) if path is not None else None
        if names:
            return names[-1], args
    return None, args


def doc_text(node: Node | None) -> str | None:
    """The text of a documentation value: a string, or one wrapped in `lib.mdDoc`, `literalExpression`, …;
    None for anything else."""
    node = unwrap(node)
    while node is not None and node.type == "apply_expression":
        name, args = call_parts(node)
        if name not in TEXT_WRAPPERS or len(args) != 1:
            return None
        node = unwrap(args[0])
    return string_text(node)


def string_list(node: Node | None) -> tuple[str, ...] | None:
    """`[ "services" "foo" ]` → ("services", "foo"); None when an element is not a constant string."""
    node = unwrap(node)
    if node is None or node.type != "list_expression":
        return None
    names = []
    for element in node.children_by_field_name("element"):
        name = attr_name(element) if element.type == "string_expression" else None
        if name is None:
            return None
        names.append(name)
    return tuple(names)
