"""Completion of an option's value where one is typed: `time.timeZone = "Eu|";`, `enable = t|`,
`services.xserver.xkb.layout = |` (also after `lib.mkDefault` or `lib.mkForce`), and of an element of an
option's list: `i18n.supportedLocales = [ "de|" ];`, `authProtocols = [ | ];` (an element type `enum [ … ]`, or
well-known values), leaving out what the list already holds.

What may be offered comes from the option's type in the user's nixpkgs (`enum [ … ]`, `bool`, `nullOr`), from
the system's own databases (time zones, keyboard layouts), from the locales plain-words requests know, and,
without any index, from our vocabulary (options named `enable` take true or false). `system.stateVersion` is
the exception: only the value it already has, or for a new file the release of the nixpkgs in use, is offered,
with a warning, because changing it on an upgrade is a mistake.

Inside a string literal an item completes the string's inside (no quotes); outside, strings come quoted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from tree_sitter import Node, Tree

from ..edits.values import nix_string
from ..syntax.document import Document
from ..syntax.query import binding_path, enclosing_binding, lists_in_value, sets_options
from ..syntax.parser import parse
from .option_types import OptionType, parse_type

if TYPE_CHECKING:
    from ..knowledge.vocabulary import Vocabulary
    from .hover import Sources

STATE_VERSION = ("system", "stateVersion")
STATE_VERSION_NOTE = (
    "Keep `system.stateVersion` at the release this system was first installed with. It is not the NixOS "
    "version you run, and raising it on an upgrade upgrades nothing: it tells services that keep data "
    "(PostgreSQL, Nextcloud and others) which defaults and on-disk formats that data was created with. "
    "Change it only after moving that data over by hand, as the release notes describe."
)
# Where keyboard layouts are listed: NixOS's own system profile first, then the usual place elsewhere.
XKB_RULES = (Path("/run/current-system/sw/share/X11/xkb/rules/evdev.lst"), Path("/usr/share/X11/xkb/rules/evdev.lst"))
WINDOW = 512  # bytes looked back for the `=` a value follows

_BEFORE = rb"=\s*(?:(?:lib\.)?mk(?:Default|Force)\s+)?"
_IN_STRING = re.compile(_BEFORE + rb'"(?P<typed>[^"\\$\n]*)\Z')
_BARE = re.compile(_BEFORE + rb"(?P<typed>[A-Za-z0-9_'-]*)\Z")
_STRING_REST = re.compile(rb'[^"\\$\n]*')
_WORD_REST = re.compile(rb"[A-Za-z0-9_'-]*")
_SEMICOLON = re.compile(rb"[ \t]*;")


@attrs.frozen
class Value:
    nix: str  # as Nix text: `"Europe/Berlin"`, `true`, `null`
    text: str | None  # a string's contents; None for other literals
    detail: str = ""
    documentation: str = ""


@attrs.frozen
class ValueSite:
    """Where a value is being typed, and which option it is for."""

    path: tuple[str, ...]
    in_string: bool
    start: int  # what an item replaces: the string's inside, or the bare word
    end: int
    typed: str
    written: str | None  # the contents of a string value already closed by its quote
    element: bool = False  # an element of the option's list is typed, not the whole value
    present: frozenset[str] = frozenset()  # the list's other elements (a string's contents, else its Nix text)


@attrs.frozen
class _Span:
    in_string: bool
    value_start: int  # the value's first byte (its opening quote, for a string)
    start: int
    end: int
    value_end: int  # after the closing quote, if any
    rest: int  # after the value and its `;`
    typed: str


def value_site(doc: Document, offset: int) -> ValueSite | None:
    """The option binding whose value the cursor is typing, if any. The tree is asked first; a half-typed
    value often does not parse, so then the value is replaced by `null;` in a copy, and the copy is asked."""
    span = _span(doc.source, offset)
    if span is None:
        return None
    binding = _value_binding(doc.tree, span.value_start, span.value_end)
    tree = doc.tree
    if binding is None or not sets_options(tree, binding):
        tree = parse(doc.source[: span.value_start] + b"null; " + doc.source[span.rest :])
        binding = _value_binding(tree, span.value_start, span.value_start + len(b"null"))
        if binding is None or not sets_options(tree, binding):
            return None
    path = binding_path(binding)
    if not path:
        return None
    closed = span.in_string and span.value_end > span.end
    written = doc.source[span.start : span.end].decode("utf-8", "replace") if closed else None
    return ValueSite(path, span.in_string, span.start, span.end, span.typed, written)


def _span(source: bytes, offset: int) -> _Span | None:
    window_start = max(0, offset - WINDOW)
    before = source[window_start:offset]
    found = _IN_STRING.search(before)
    in_string = found is not None
    if found is None:
        found = _BARE.search(before)
    if found is None or before[found.start() - 1 : found.start()] in (b"=", b"!", b"<", b">"):
        return None  # `==`, `!=`, `<=`, `>=` compare; they do not bind
    start = window_start + found.start("typed")
    typed = found.group("typed").decode("utf-8", "replace")
    if in_string:
        end = _STRING_REST.match(source, offset).end()  # type: ignore[union-attr]
        value_end = end + 1 if source[end : end + 1] == b'"' else end
        value_start = start - 1
    else:
        end = value_end = _WORD_REST.match(source, offset).end()  # type: ignore[union-attr]
        value_start = start
    semicolon = _SEMICOLON.match(source, value_end)
    rest = semicolon.end() if semicolon is not None else value_end
    return _Span(in_string, value_start, start, end, value_end, rest, typed)


def _value_binding(tree: Tree, start: int, end: int) -> Node | None:
    """The binding whose value is exactly the bytes `start`..`end` (directly, or as the argument of
    `mkDefault`/`mkForce`)."""
    node = tree.root_node.descendant_for_byte_range(start, end)
    if node is None or node.start_byte != start or node.end_byte != end or node.has_error:
        return None
    while node.parent is not None and node.parent.start_byte == start and node.parent.end_byte == end:
        node = node.parent
    parent = node.parent
    if parent is not None and parent.type == "apply_expression" and parent.child_by_field_name("argument") == node:
        node, parent = parent, parent.parent
    if parent is None or parent.type != "binding" or parent.child_by_field_name("expression") != node:
        return None
    return parent


def element_site(doc: Document, offset: int, nix_list: Node) -> ValueSite | None:
    """Where an element of an option's list is typed: inside a closed string that is an element
    (`[ "de|" ]`), or a bare word or nothing between elements (`[ | ]`). None when the list is not (part of)
    an option's value, or the cursor is inside some other element."""
    binding = enclosing_binding(nix_list)
    value = binding.child_by_field_name("expression") if binding is not None else None
    if value is None or not sets_options(doc.tree, binding) or all(
            found.node != nix_list for found in lists_in_value(value)):
        return None
    path = binding_path(binding)
    elements = list(nix_list.children_by_field_name("element"))
    typing = next((e for e in elements if e.start_byte < offset < e.end_byte
                   or (e.type != "string_expression" and e.start_byte <= offset <= e.end_byte)), None)
    source = doc.source
    if typing is not None and typing.type == "string_expression":
        start, end = typing.start_byte + 1, typing.end_byte - 1
        inside = source[start:end]
        if source[end : end + 1] != b'"' or any(c in inside for c in (b'"', b"\\", b"$", b"\n")):
            return None
        in_string = True
    elif typing is None or typing.type == "variable_expression":
        start, end = (typing.start_byte, typing.end_byte) if typing is not None else (offset, offset)
        if typing is None and nix_list.has_error:
            return None
        in_string = False
    else:
        return None
    if not path:
        return None
    present = frozenset(_element_text(e) for e in elements if e != typing)
    typed = source[start:offset].decode("utf-8", "replace")
    return ValueSite(path, in_string, start, end, typed, None, True, present)


def _element_text(element: Node) -> str:
    text = (element.text or b"").decode("utf-8", "replace")
    return text[1:-1] if element.type == "string_expression" and len(text) >= 2 else text


# -- what an option takes ---------------------------------------------------------------------------------

TRUE, FALSE, NULL = Value("true", None), Value("false", None), Value("null", None)


def values_of_type(type_text: str) -> list[Value]:
    """The literal values a type admits when it names them: `enum [ "a" "b" ]` → "a", "b"; `bool` → true,
    false; `nullOr …` → null as well; alternatives (`either`, `oneOf`) → each one's. Nothing for strings,
    numbers, lists, sets and types we cannot read."""
    parsed = parse_type(type_text)
    return _named_values(parsed) if parsed is not None else []


def _named_values(option_type: OptionType) -> list[Value]:
    kind = option_type.kind
    if kind == "bool":
        return [TRUE, FALSE]
    if kind == "enum":
        return [_literal(v) for v in option_type.values]
    if kind == "null_or":
        return [*_named_values(option_type.items[0]), NULL]
    if kind == "either":
        return [value for item in option_type.items for value in _named_values(item)]
    return []


def _literal(value: object) -> Value:
    if isinstance(value, str):
        return Value(nix_string(value), value)
    if isinstance(value, bool):
        return TRUE if value else FALSE
    return Value(str(value), None)


def option_values(path: tuple[str, ...], sources: Sources, written: str | None = None) -> list[Value]:
    """What may be written as the value of option `path`, in the order offered."""
    if path == STATE_VERSION:
        return _state_version(written, sources.nixpkgs_root)
    declared = sources.options.find(path) if sources.options is not None else None
    found = values_of_type(declared.type) if declared is not None and declared.type else []
    known = WELL_KNOWN.get(path)
    if known is not None:
        found = [v for v in found if v != NULL] + known() + [v for v in found if v == NULL]
    if not found and declared is None and _switch(path, sources.vocabulary):
        found = [TRUE, FALSE]
    default = declared.default.strip() if declared is not None and declared.default else None
    unique = list(dict.fromkeys(found))
    return [attrs.evolve(v, detail="default") if v.nix == default and not v.detail else v for v in unique]


def element_values(path: tuple[str, ...], sources: Sources) -> list[Value]:
    """What may be written as an element of option `path`'s list: its element type's named values (`listOf
    (enum [ … ])`), then well-known ones (`i18n.supportedLocales`: the locales requests know)."""
    declared = sources.options.find(path) if sources.options is not None else None
    parsed = parse_type(declared.type) if declared is not None and declared.type else None
    found = _named_values(parsed.items[0]) if parsed is not None and parsed.kind == "list" else []
    known = WELL_KNOWN_ELEMENTS.get(path)
    if known is not None:
        found += known()
    return list(dict.fromkeys(found))


def _switch(path: tuple[str, ...], vocabulary: Vocabulary) -> bool:
    """Without an index: options named `enable`, and those our vocabulary sets to true or false, are switches."""
    if path[-1:] == ("enable",):
        return True
    return any(
        setting.path == path and setting.value in ("true", "false")
        for feature in vocabulary.features for setting in (*feature.enable, *feature.disable)
    )


def _state_version(written: str | None, root: Path | None) -> list[Value]:
    current = written if written is not None and re.fullmatch(r"\d\d\.\d\d", written) else nixpkgs_release(root)
    if current is None:
        return []
    detail = "keep the release this system was installed with"
    return [Value(nix_string(current), current, detail, STATE_VERSION_NOTE)]


def nixpkgs_release(root: Path | None) -> str | None:
    """`25.11` from a nixpkgs tree's `.version` (or `lib/.version`, which it links to)."""
    if root is None:
        return None
    for name in (".version", "lib/.version"):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found = re.match(r"\s*(\d\d\.\d\d)", text)
        if found is not None:
            return found.group(1)
    return None


def _strings(texts: Iterable[tuple[str, str]]) -> list[Value]:
    return [Value(nix_string(text), text, detail) for text, detail in texts]


def _time_zones() -> list[Value]:
    from ..language.resolve import time_zones

    return _strings((zone, "") for zone in time_zones())


def _locale_names() -> list[str]:
    from ..language.resolve import LANGUAGES

    return [*dict.fromkeys(f"{code}.UTF-8" for codes in LANGUAGES.values() for code in codes), "C.UTF-8"]


def _locales() -> list[Value]:
    return _strings((locale, "") for locale in _locale_names())


def _supported_locales() -> list[Value]:
    """glibc's `name/charset` entries of `i18n.supportedLocales`, and `all`."""
    return _strings([*((f"{locale}/UTF-8", "") for locale in _locale_names()), ("all", "every locale glibc has")])


@functools.cache
def _keyboard_layouts() -> tuple[tuple[str, str], ...]:
    """(code, name) of each keyboard layout the system's xkeyboard-config lists; empty when it has none."""
    for rules in XKB_RULES:
        try:
            lines = rules.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        found, inside = [], False
        for line in lines:
            if line.startswith("!"):
                inside = line.strip() == "! layout"
            elif inside and line.strip():
                code, _, name = line.strip().partition(" ")
                found.append((code, name.strip()))
        return tuple(found)
    return ()


def _layouts() -> list[Value]:
    return _strings(_keyboard_layouts())


WELL_KNOWN = {
    ("time", "timeZone"): _time_zones,
    ("i18n", "defaultLocale"): _locales,
    ("services", "xserver", "xkb", "layout"): _layouts,
}

WELL_KNOWN_ELEMENTS = {
    ("i18n", "supportedLocales"): _supported_locales,
}
