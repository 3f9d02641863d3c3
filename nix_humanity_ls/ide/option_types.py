"""Option types read from their source text, and literal values judged against them.

The static index keeps an option's `type` as the text nixpkgs wrote (`types.listOf types.port`,
`with lib.types; nullOr str`, `lib.types.enum [ "yes" "no" ]`). That text is itself Nix, so it is parsed with
tree-sitter and read into a small `OptionType`. Only names of `lib.types` are understood; anything else (a
`let`-bound type, a custom `mkOptionType`) is `unknown`, and an unknown part is never judged.

A value is judged only when it is written literally (a string, a number, `true`/`false`/`null`, a list, a set,
a path), possibly inside `lib.mkDefault`, `lib.mkForce`, `lib.mkIf cond`, … A verdict says a value is wrong
only when Nix's own check (`isBool`, `isInt`, `isString`, `isList`, …, as `lib/types.nix` defines them)
would certainly reject it, so every mismatch reported here is an evaluation error in waiting.
"""

from __future__ import annotations

import difflib
import functools
import re

import attrs
from tree_sitter import Node

from ..edits.values import nix_string
from ..nixpkgs.literals import call_parts, string_text
from ..syntax.parser import parse
from ..syntax.query import attrpath_names, text_of


@attrs.frozen
class OptionType:
    """`kind`: anything, unknown, bool, int, float, number, str, path, package, list, attrs, submodule,
    enum, null_or, either. `items` are the element / inner / alternative types; `low`/`high` bound numbers;
    `values` are an enum's allowed values; `name` is the type's own name for messages (`port`, `lines`)."""

    kind: str
    items: tuple[OptionType, ...] = ()
    low: int | float | None = None
    high: int | float | None = None
    values: tuple[object, ...] = ()
    name: str = ""
    non_empty: bool = False


UNKNOWN = OptionType("unknown")
ANYTHING = OptionType("anything")

_INT_RANGES = {
    "u8": (0, 255), "u16": (0, 65535), "u32": (0, 4294967295), "s8": (-128, 127), "s16": (-32768, 32767),
    "s32": (-2147483648, 2147483647), "unsigned": (0, None), "positive": (1, None),
}
_PLAIN = {
    "bool": OptionType("bool"), "boolByOr": OptionType("bool"), "int": OptionType("int"),
    "port": OptionType("int", low=0, high=65535, name="port"), "float": OptionType("float"),
    "number": OptionType("number"), "str": OptionType("str"), "lines": OptionType("str", name="lines"),
    "commas": OptionType("str"), "envVar": OptionType("str"), "string": OptionType("str"),
    "singleLineStr": OptionType("str"), "nonEmptyStr": OptionType("str", non_empty=True),
    "path": OptionType("path"), "package": OptionType("package"), "shellPackage": OptionType("package"),
    "attrs": OptionType("attrs"), "anything": ANYTHING, "raw": ANYTHING, "unspecified": ANYTHING,
    **{f"ints.{name}": OptionType("int", low=low, high=high, name=name) for name, (low, high) in _INT_RANGES.items()},
    "numbers.nonnegative": OptionType("number", low=0), "numbers.positive": OptionType("number", low=0, name="positive"),
}
# Calls whose result is checked as their (last) type argument: the extra checks they add are not judged.
_SAME_AS_ARGUMENT = frozenset({"uniq", "unique", "addCheck", "passwdEntry"})
_STRING_CALLS = frozenset({"strMatching", "separatedString"})


@functools.lru_cache(maxsize=4096)
def parse_type(text: str) -> OptionType | None:
    """The type `text` spells, or None when its outermost part is not a known `lib.types` name."""
    if not text:
        return None
    tree = parse(text.replace("{ … }", "{ }").encode("utf-8"))
    expression = tree.root_node.child_by_field_name("expression")
    if tree.root_node.has_error or expression is None:
        return None
    found = _read(expression, False)
    return None if found.kind == "unknown" else found


def _read(node: Node, with_types: bool) -> OptionType:
    kind = node.type
    if kind == "parenthesized_expression":
        inner = node.child_by_field_name("expression")
        return _read(inner, with_types) if inner is not None else UNKNOWN
    if kind == "with_expression":
        environment, body = node.child_by_field_name("environment"), node.child_by_field_name("body")
        opens_types = environment is not None and _types_name(environment, False) == ""
        return _read(body, with_types or opens_types) if body is not None else UNKNOWN
    if kind in ("variable_expression", "select_expression"):
        return _PLAIN.get(_types_name(node, with_types) or "", UNKNOWN)
    if kind == "apply_expression":
        return _read_call(node, with_types)
    return UNKNOWN


def _types_name(node: Node, with_types: bool) -> str | None:
    """`types.ints.u8`, `lib.types.ints.u8` or (under `with types;`) `ints.u8` → "ints.u8"; `types` itself →
    ""; None for a name that is not one of `lib.types`."""
    if node.type == "variable_expression":
        names: tuple[str, ...] = (text_of(node),)
    elif node.type == "select_expression" and node.child_by_field_name("default") is None:
        base, path = node.child_by_field_name("expression"), node.child_by_field_name("attrpath")
        rest = attrpath_names(path) if path is not None else None
        if base is None or base.type != "variable_expression" or rest is None:
            return None
        names = (text_of(base), *rest)
    else:
        return None
    if names[:2] == ("lib", "types"):
        return ".".join(names[2:])
    if names[0] == "types":
        return ".".join(names[1:])
    return ".".join(names) if with_types and names != ("lib",) else None


def _read_call(node: Node, with_types: bool) -> OptionType:
    args: list[Node] = []
    head: Node | None = node
    while head is not None and head.type == "apply_expression":
        argument = head.child_by_field_name("argument")
        if argument is not None:
            args.append(argument)
        head = head.child_by_field_name("function")
    args.reverse()
    name = _types_name(head, with_types) if head is not None else None
    if name is None or not args:
        return UNKNOWN
    types = [_read(arg, with_types) for arg in args]
    if name in ("listOf", "nonEmptyListOf") and len(args) == 1:
        return OptionType("list", (types[0],), non_empty=name == "nonEmptyListOf")
    if name in ("attrsOf", "lazyAttrsOf") and len(args) == 1:
        return OptionType("attrs", (types[0],))
    if name in ("submodule", "submoduleWith") and len(args) == 1:
        return OptionType("submodule")
    if name == "nullOr" and len(args) == 1:
        return OptionType("null_or", (types[0],))
    if name == "either" and len(args) == 2:
        return OptionType("either", tuple(types))
    if name == "coercedTo" and len(args) == 3:
        return OptionType("either", (types[0], types[2]))
    if name == "oneOf" and len(args) == 1:
        items = [_read(element, with_types) for element in _elements(args[0])]
        return OptionType("either", tuple(items)) if items else UNKNOWN
    if name == "enum" and len(args) == 1:
        return _enum(args[0])
    if name in ("ints.between", "numbers.between") and len(args) == 2:
        low, high = _number(args[0]), _number(args[1])
        if low is None or high is None:
            return UNKNOWN
        return OptionType("int" if name == "ints.between" else "number", low=low, high=high)
    if name in _STRING_CALLS and len(args) == 1:
        return OptionType("str")
    if name in _SAME_AS_ARGUMENT:
        return types[-1]
    return UNKNOWN


def _elements(node: Node) -> list[Node]:
    while node.type == "parenthesized_expression" and node.child_by_field_name("expression") is not None:
        node = node.child_by_field_name("expression")  # type: ignore[assignment]
    return list(node.children_by_field_name("element")) if node.type == "list_expression" else []


def _enum(values: Node) -> OptionType:
    found = []
    elements = _elements(values)
    for element in elements:
        literal = read_literal(element, unwrap_calls=False)
        if literal is None or literal.kind not in ("string", "int", "bool") or literal.value is None:
            return UNKNOWN  # a value computed at evaluation: the set of allowed values is not known
        found.append(literal.value)
    return OptionType("enum", values=tuple(found)) if elements else UNKNOWN


def _number(node: Node) -> int | float | None:
    literal = read_literal(node, unwrap_calls=False)
    return literal.value if literal is not None and literal.kind in ("int", "float") else None  # type: ignore[return-value]


# -- literal values --------------------------------------------------------------------------------------------

# `lib.mkDefault v`, `lib.mkIf cond v`, … : the value they give is their last argument.
PRIORITY_WRAPPERS = frozenset({"mkDefault", "mkForce", "mkOverride", "mkIf", "mkBefore", "mkAfter", "mkOrder",
                               "mkOptionDefault", "mkImageMediaOverride", "mkVMOverride"})


@attrs.frozen
class Literal:
    """A value written literally. `kind`: string, int, float, bool, null, list, set, path, function. `value`
    is the Python value of a string (None when it has `${…}`), a number or a boolean."""

    kind: str
    node: Node
    value: object = None


def read_literal(node: Node | None, unwrap_calls: bool = True) -> Literal | None:
    """The literal a value is, looking through parentheses, `with …;`, `let … in` and priority wrappers
    (`lib.mkDefault "x"`); None when the value is computed."""
    while node is not None:
        kind = node.type
        if kind == "parenthesized_expression":
            node = node.child_by_field_name("expression")
        elif kind in ("with_expression", "let_expression"):
            node = node.child_by_field_name("body")
        elif kind == "apply_expression" and unwrap_calls and call_parts(node)[0] in PRIORITY_WRAPPERS:
            node = node.child_by_field_name("argument")
        else:
            break
    if node is None:
        return None
    kind = node.type
    if kind in ("string_expression", "indented_string_expression"):
        static = not any(child.type == "interpolation" for child in node.named_children)
        return Literal("string", node, string_text(node) if static else None)
    if kind in ("integer_expression", "float_expression"):
        return _number_literal(node, text_of(node), node.type)
    if kind == "unary_expression":
        argument = node.child_by_field_name("argument")
        operator = node.child_by_field_name("operator")
        if argument is not None and operator is not None and text_of(operator) == "-" and argument.type in (
                "integer_expression", "float_expression"):
            return _number_literal(node, "-" + text_of(argument), argument.type)
        return None
    if kind == "variable_expression":
        name = text_of(node)
        if name in ("true", "false"):
            return Literal("bool", node, name == "true")
        return Literal("null", node) if name == "null" else None
    if kind == "list_expression":
        return Literal("list", node)
    if kind in ("attrset_expression", "rec_attrset_expression"):
        return Literal("set", node)
    if kind in ("path_expression", "hpath_expression", "spath_expression"):
        return Literal("path", node)
    if kind == "function_expression":
        return Literal("function", node)
    return None


def _number_literal(node: Node, text: str, kind: str) -> Literal | None:
    try:
        return Literal("int", node, int(text)) if kind == "integer_expression" else Literal("float", node, float(text))
    except ValueError:
        return None


# -- verdicts ------------------------------------------------------------------------------------------------


@attrs.frozen
class Mismatch:
    """A literal Nix would reject. `code`: wrong-type, out-of-range or not-allowed-value. `fixes` are
    (title, text that replaces `node`)."""

    node: Node
    code: str
    got: str
    expected: OptionType
    fixes: tuple[tuple[str, str], ...] = ()


_TRUE_WORDS = frozenset({"yes", "true", "on"})
_FALSE_WORDS = frozenset({"no", "false", "off"})
_DECIMAL = re.compile(r"-?[0-9]+")


def judge(option_type: OptionType, node: Node) -> list[Mismatch]:
    """What is certainly wrong about the value `node` for `option_type`: nothing when it is fine, computed,
    or of a type we cannot read."""
    literal = read_literal(node)
    if literal is None:
        return []
    verdict = _judge(option_type, literal)
    return verdict or []


def _judge(t: OptionType, value: Literal) -> list[Mismatch] | None:
    """None when `value` is accepted (or cannot be judged); else what is wrong (never an empty list)."""
    kind = t.kind
    if kind in ("anything", "unknown"):
        return None
    if kind == "null_or":
        inner = None if value.kind == "null" else _judge(t.items[0], value)
        return [attrs.evolve(m, expected=t) if m.node == value.node else m for m in inner] if inner else None
    if kind == "either":
        found = [_judge(item, value) for item in t.items]
        if any(result is None for result in found):
            return None
        fixes = tuple(dict.fromkeys(fix for result in found for m in result or () for fix in m.fixes
                                     if m.node == value.node))
        return [Mismatch(value.node, "wrong-type", _got(value), t, fixes)]
    if kind == "list":
        if value.kind == "list":
            return _judge_elements(t, value)
        return _wrong(value, t, _wrapped(t, value))
    return _judge_single(t, value)


def _judge_single(t: OptionType, value: Literal) -> list[Mismatch] | None:
    kind, got = t.kind, value.kind
    if kind == "bool":
        if got == "bool":
            return None
        fixes: tuple[tuple[str, str], ...] = ()
        if got == "string" and isinstance(value.value, str):
            word = value.value.strip().lower()
            if word in _TRUE_WORDS | _FALSE_WORDS:
                answer = "true" if word in _TRUE_WORDS else "false"
                fixes = ((f"Use {answer}", answer),)
        return _wrong(value, t, fixes)
    if kind in ("int", "number", "float"):
        accepted = ("int",) if kind == "int" else ("float",) if kind == "float" else ("int", "float")
        if got in accepted:
            number = value.value
            assert isinstance(number, (int, float))
            if (t.low is not None and number < t.low) or (t.high is not None and number > t.high):
                return [Mismatch(value.node, "out-of-range", _got(value), t)]
            return None
        if kind == "float" and got == "int":
            return _wrong(value, t, ((f"Use {value.value}.0", f"{value.value}.0"),))
        if got == "string" and isinstance(value.value, str) and _DECIMAL.fullmatch(value.value.strip()):
            number = int(value.value.strip())
            if (t.low is None or number >= t.low) and (t.high is None or number <= t.high):
                return _wrong(value, t, ((f"Use the number {number}", str(number)),))
        return _wrong(value, t)
    if kind == "str":
        if got == "string":
            if t.non_empty and isinstance(value.value, str) and not value.value.strip():
                return _wrong(value, t)
            return None
        if got in ("int", "float"):
            written = text_of(value.node)
            return _wrong(value, t, ((f'Use the text "{written}"', nix_string(written)),))
        return _wrong(value, t)
    if kind == "path":
        if got == "path" or got == "set":
            return None
        if got == "string":
            return None if value.value is None or value.value.startswith("/") else _wrong(value, t)
        return _wrong(value, t)
    if kind == "package":
        if got in ("set", "path"):
            return None
        if got == "string":
            return None if value.value is None or value.value.startswith("/nix/store/") else _wrong(value, t)
        return _wrong(value, t)
    if kind == "attrs":
        return None if got == "set" else _wrong(value, t)
    if kind == "submodule":
        if got in ("set", "function", "path"):
            return None
        if got == "string" and (value.value is None or value.value.startswith("/")):
            return None
        return _wrong(value, t)
    if kind == "enum":
        if got in ("string", "int", "bool") and value.value is None:
            return None  # a string with `${…}`: its value is not known here
        if any(type(value.value) is type(allowed) and value.value == allowed for allowed in t.values):
            return None
        return [Mismatch(value.node, "not-allowed-value", _got(value), t, _enum_fixes(t, value))]
    return None


def _judge_elements(t: OptionType, value: Literal) -> list[Mismatch] | None:
    elements = list(value.node.children_by_field_name("element"))
    if t.non_empty and not elements:
        return _wrong(value, t)
    found: list[Mismatch] = []
    for element in elements:
        literal = read_literal(element, unwrap_calls=False)
        if literal is not None:
            found.extend(_judge(t.items[0], literal) or ())
    return found or None


def _wrapped(t: OptionType, value: Literal) -> tuple[tuple[str, str], ...]:
    """`22` for a list of ports → `[ 22 ]`, when the single value fits the list's elements."""
    if value.kind in ("list", "null", "set", "function") or (
            t.items[0].kind != "unknown" and _judge(t.items[0], value) is not None):
        return ()
    text = text_of(value.node)
    if value.kind == "int" and text.startswith("-"):
        text = f"({text})"  # `[ -1 ]` is not a list of one number
    return ((f"Put it in a list: [ {text} ]", f"[ {text} ]"),)


def _enum_fixes(t: OptionType, value: Literal) -> tuple[tuple[str, str], ...]:
    strings = [v for v in t.values if isinstance(v, str)]
    if value.kind != "string" or not isinstance(value.value, str) or not strings:
        return ()
    written = value.value
    close = [v for v in strings if v.lower() == written.lower()]
    close += [v for v in difflib.get_close_matches(written, strings, n=3, cutoff=0.6) if v not in close]
    return tuple((f'Use "{v}"', nix_string(v)) for v in close[:3])


def _wrong(value: Literal, t: OptionType, fixes: tuple[tuple[str, str], ...] = ()) -> list[Mismatch]:
    return [Mismatch(value.node, "wrong-type", _got(value), t, fixes)]


def _got(value: Literal) -> str:
    """What was written, in words."""
    kind = value.kind
    if kind == "string":
        return f"the text {nix_string(value.value)}" if isinstance(value.value, str) and len(value.value) <= 40 else "text"
    if kind in ("int", "float"):
        return f"the number {text_of(value.node)}"
    if kind == "bool":
        return f"`{text_of(value.node)}`"
    return {"null": "`null`", "list": "a list", "set": "a set `{ … }`", "path": "a path",
            "function": "a function"}[kind]


def describe(t: OptionType) -> str:
    """What a type accepts, in words: `a list of port numbers (0 to 65535)`."""
    kind = t.kind
    if kind == "bool":
        return "true or false"
    if kind in ("int", "number", "float"):
        noun = {"int": "a whole number", "number": "a number", "float": "a decimal number (such as 1.5)"}[kind]
        if t.name == "port":
            noun = "a port number"
        if t.low is not None and t.high is not None:
            return f"{noun} from {t.low} to {t.high}"
        if t.low is not None:
            return f"{noun} of at least {t.low}"
        return noun
    if kind == "str":
        return "non-empty text in quotes" if t.non_empty else "text in quotes"
    if kind == "path":
        return "an absolute path (such as ./file or \"/etc/file\")"
    if kind == "package":
        return "a package (such as pkgs.hello)"
    if kind == "list":
        inner = describe(t.items[0]) if t.items[0].kind != "unknown" else ""
        return f"a list of {_plural(inner)}" if inner else "a list `[ … ]`"
    if kind in ("attrs", "submodule"):
        return "a set `{ … }`"
    if kind == "enum":
        return "one of " + ", ".join(_shown(v) for v in t.values)
    if kind == "null_or":
        return f"{describe(t.items[0])}, or null"
    if kind == "either":
        return " or ".join(describe(item) for item in t.items)
    return "a value of another kind"


def _plural(phrase: str) -> str:
    for single, many in (("a whole number", "whole numbers"), ("a port number", "port numbers"),
                         ("a number", "numbers"), ("a decimal number", "decimal numbers"), ("a package", "packages"),
                         ("an absolute path", "absolute paths"), ("a set", "sets"), ("a list", "lists")):
        if phrase.startswith(single):
            return many + phrase[len(single):]
    return phrase


def _shown(value: object) -> str:
    if isinstance(value, str):
        return nix_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
