"""Completion: the next segment of an option path where a binding's name is being typed (inside
`services = {` → `openssh`, …; after `services.` → the same), an option's value where it is typed
(`time.timeZone = "Eu|"`) or an element of its list (`[ "de|" ]`, see `value_completion`), and package names in package lists (`with pkgs; [ fi| ]`,
`pkgs.fi|`). Options come from the user's indexed nixpkgs, or, without it, from the option paths our
vocabulary knows. Documentation is looked up only when an item is shown (`resolve`)."""

from __future__ import annotations

import re

import attrs
from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import ATTRSET_TYPES, binding_path, sets_options, shallow_enough, text_of
from .hover import Sources, package_text
from .option_explanation import option_text
from .value_completion import STATE_VERSION, ValueSite, element_site, element_values, option_values, value_site

MAX_ITEMS = 200
_WORD = re.compile(rb"[A-Za-z0-9_'.-]*$")


@attrs.frozen
class Item:
    label: str  # also the text inserted
    kind: str  # option, group (more settings below it), package, value
    detail: str
    key: tuple[str, ...]  # what `resolve` explains: the option path, or ("pkgs", name)
    documentation: str = ""  # shown at once (resolve adds nothing to an item that has it)
    filter: str = ""  # what the typed text is matched against, when not the label (a quoted string's inside)


@attrs.frozen
class Completions:
    start: int  # the typed part of the last segment (or value), which an item replaces
    end: int
    items: tuple[Item, ...]
    incomplete: bool = False  # more would match: ask again as the user types on


PLACEHOLDER = "nixHumanityCompletion"


def complete(doc: Document, offset: int, sources: Sources) -> Completions | None:
    if not shallow_enough(doc.tree, offset):
        return None
    site = value_site(doc, offset)
    if site is not None:
        return _values(site, sources)
    line_start = doc.line_starts[doc.line_of(offset)]
    word = _WORD.search(doc.source[line_start:offset])
    typed = word.group(0).decode() if word else ""
    start = offset - len(typed.encode())
    node = doc.tree.root_node.descendant_for_byte_range(max(start - 1, 0), max(start - 1, 0))
    nix_list = _list_around(node)
    if nix_list is not None:
        element = element_site(doc, offset, nix_list)
        found = _values(element, sources) if element is not None else None
        return found if found is not None else _packages(nix_list, typed, offset, sources)
    if not _at_name_position(doc, start):
        return None
    return _options(doc, typed, start, offset, sources)


def _list_around(node: Node | None) -> Node | None:
    """The list the cursor is in, unless a set is nearer."""
    while node is not None:
        if node.type == "list_expression":
            return node
        if node.type in ATTRSET_TYPES:
            return None
        node = node.parent
    return None


def _at_name_position(doc: Document, start: int) -> bool:
    """A binding's name starts here: only white space and comments back to a `{` or `;`."""
    end = len(doc.source[:start].rstrip())
    while end > 0:
        token = doc.tree.root_node.descendant_for_byte_range(end - 1, end)
        if token is None or token.type != "comment":
            break
        end = len(doc.source[: token.start_byte].rstrip())
    return end > 0 and doc.source[end - 1 : end] in (b"{", b";")


def _options(doc: Document, typed: str, start: int, offset: int, sources: Sources) -> Completions | None:
    """Half-typed names rarely parse, and error recovery hides the sets around them; so the typed name is
    completed into a whole binding (`services.open` → `services.<placeholder> = null;`) in a copy, and the
    copy's tree says which option path the cursor is at."""
    *parents, partial = typed.split(".")
    written = ".".join([*parents, PLACEHOLDER]) + " = null; "
    repaired = Document(doc.uri, doc.source[:start] + written.encode() + doc.source[offset:])
    node = repaired.tree.root_node.descendant_for_byte_range(start, start)
    while node is not None and node.type != "binding":
        node = node.parent
    if node is None or not sets_options(repaired.tree, node):
        return None
    path = binding_path(node)
    if path is None or path[-1:] != (PLACEHOLDER,):
        return None
    prefix = path[:-1]
    items = []
    for name, is_option, has_children, detail in _children(prefix, sources):
        if name.startswith(partial) and name != "*":
            kind = "group" if has_children and not is_option else "option"
            items.append(Item(name, kind, detail, prefix + (name,)))
    return Completions(offset - len(partial.encode()), offset, tuple(items[:MAX_ITEMS]))


def _values(site: ValueSite, sources: Sources) -> Completions | None:
    """The values option `site.path` takes that match what is typed (a time zone also by its city); strings
    without quotes inside a string; for a list's element, not what the list already holds.
    `system.stateVersion` has one value, offered whatever is typed."""
    if site.element:
        values = [v for v in element_values(site.path, sources)
                  if (v.text if v.text is not None else v.nix) not in site.present]
    else:
        values = option_values(site.path, sources, site.written)
    typed = site.typed.lower() if site.path != STATE_VERSION else ""
    items, by_city = [], []
    for value in values:
        if site.in_string and value.text is None:
            continue
        text = value.text if value.text is not None else value.nix
        whole = text.lower().startswith(typed)
        if not whole and not any(part.startswith(typed) for part in text.lower().split("/")[1:]):
            continue
        label = value.nix[1:-1] if site.in_string else value.nix
        item = Item(label, "value", value.detail, site.path, value.documentation, text if label != text else "")
        (items if whole else by_city).append(item)
    items += by_city
    if not items:
        return None
    return Completions(site.start, site.end, tuple(items[:MAX_ITEMS]), len(items) > MAX_ITEMS)


def _children(path: tuple[str, ...], sources: Sources) -> list[tuple[str, bool, bool, str]]:
    """(segment, is an option, has more below, detail) for what may follow `path`."""
    if sources.options is not None:
        return [
            (child.name, child.option is not None, child.has_children,
             child.option.type if child.option is not None and child.option.type else "settings")
            for child in sources.options.children(path)
            if not (child.option is not None and child.option.internal)
        ]
    below: dict[str, bool] = {}
    for feature in sources.vocabulary.features:
        for setting in feature.enable:
            if len(setting.path) > len(path) and setting.path[: len(path)] == path:
                name = setting.path[len(path)]
                below[name] = below.get(name, False) or len(setting.path) > len(path) + 1
    return [(name, not more, more, "settings" if more else "") for name, more in sorted(below.items())]


def _packages(nix_list: Node, typed: str, offset: int, sources: Sources) -> Completions | None:
    """Package names in a list under `with pkgs;`, or after `pkgs.` in any list."""
    outer = nix_list.parent
    while outer is not None and outer.type == "parenthesized_expression":
        outer = outer.parent
    environment = outer.child_by_field_name("environment") if outer is not None and outer.type == "with_expression" else None
    scoped = environment is not None and text_of(environment) == "pkgs"
    if typed.startswith("pkgs."):
        partial = typed[len("pkgs."):]
    elif scoped and "." not in typed:
        partial = typed
    else:
        return None
    names = sources.packages.names_starting(partial, MAX_ITEMS)
    items = tuple(Item(n, "package", _description(n, sources), ("pkgs", n)) for n in names)
    return Completions(offset - len(partial.encode()), offset, items)


def _description(name: str, sources: Sources) -> str:
    package = sources.packages.get(name)
    return package.description if package is not None else ""


def documentation(key: tuple[str, ...], sources: Sources, style: str) -> str:
    """The full explanation of a completion item, in the user's style (what hover would say)."""
    if len(key) == 2 and key[0] == "pkgs":
        return package_text(key[1], sources, style)
    return option_text(key, sources, style)
