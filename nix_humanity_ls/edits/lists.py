"""Adding to and removing from list options such as `environment.systemPackages`, in the list's own style:
`with pkgs; [ … ]` or `[ pkgs.x … ]`, one item per line or all on one line, sorted or in the user's order."""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import (
    VALUE_WRAPPERS,
    Binding,
    bindings,
    ListElement,
    NixList,
    attrpath_names,
    find_bindings,
    lists_in_value,
    option_lists,
    text_of,
)
from .layout import layout_of, line_end, line_indent, starts_line
from .options import EditError, check_reachable, module_set, render_path, set_option
from .scope import variable_references
from .text_edit import TextEdit

SYSTEM_PACKAGES = ("environment", "systemPackages")


def package_lists(doc: Document, path: Sequence[str]) -> list[NixList]:
    return option_lists(module_set(doc), tuple(path))


def present_packages(lists: Sequence[NixList], package_set: str = "pkgs") -> set[str]:
    """Attribute names already in the lists (`firefox` from `firefox` under `with pkgs;` or `pkgs.firefox`)."""
    return {
        element.name
        for nix_list in lists
        for element in nix_list.elements
        if element.name is not None and (element.qualifier in (None, package_set))
    }


def add_packages(doc: Document, path: Sequence[str], names: Sequence[str], package_set: str = "pkgs") -> list[TextEdit]:
    """Edits that add packages `names` to the list option `path`; [] when all are there already.

    Applies to one list only (the first that already holds packages), so the result is one hunk."""
    bindings = find_bindings(module_set(doc), tuple(path))
    lists = package_lists(doc, path)
    missing = [n for n in dict.fromkeys(names) if n not in present_packages(lists, package_set)]
    if not missing:
        return []
    editable = [lst for lst in lists if not _shared(lst, bindings)]
    if not editable:
        if bindings:
            return [_append_list(bindings[0], [f"{package_set}.{name}" for name in missing])]
        return set_option(doc, path, _new_list(doc, missing, package_set))
    target = next((lst for lst in editable if lst.with_scope == package_set), None) or next(
        (lst for lst in editable if any(e.qualifier == package_set for e in lst.elements)), editable[0]
    )
    texts = [name if target.with_scope == package_set else f"{package_set}.{name}" for name in missing]
    return [insert_elements(doc, target, texts)]


def _shared(nix_list: NixList, bindings: Sequence[Binding]) -> bool:
    """True when the list is not written in the option's own value but in a `let` (or `rec`) binding that is
    read in more than one place (`ports = [ 80 ];` used for TCP and UDP): changing it for one option would
    change the others too."""
    node = nix_list.node
    if any(b.value.start_byte <= node.start_byte and node.end_byte <= b.value.end_byte for b in bindings):
        return False
    current = node.parent
    while current is not None:
        if current.type == "binding" and current.parent is not None and current.parent.parent is not None:
            scope = current.parent.parent
            if scope.type in ("let_expression", "rec_attrset_expression"):
                attrpath = current.child_by_field_name("attrpath")
                names = attrpath_names(attrpath) if attrpath is not None else None
                if not names:
                    return True
                return sum(1 for _ in variable_references(scope, names[0])) > 1
        current = current.parent
    return True


def _append_list(binding: Binding, texts: Sequence[str]) -> TextEdit:
    """`value ++ [ new ]`, for an option whose value is not a list we can edit (`lib.optionals c [ … ]`, a
    `let` list other options read too): replacing the value would throw away what it holds."""
    body: Node | None = binding.value
    while body is not None and body.type in ("with_expression", "let_expression", "assert_expression"):
        body = body.child_by_field_name("body")  # `with pkgs; x ++ [ y ]` still appends to `x`
    appendable = body is not None and body.type in (
        "variable_expression", "select_expression", "list_expression", "parenthesized_expression",
        "apply_expression", "binary_expression",
    )
    if body is not None and body.type == "binary_expression":
        operator = body.child_by_field_name("operator")
        appendable = operator is not None and text_of(operator) == "++"
    if body is not None and body.type == "apply_expression":
        head = body
        while head.type == "apply_expression" and head.child_by_field_name("function") is not None:
            head = head.child_by_field_name("function")  # type: ignore[assignment]
        appendable = text_of(head).rsplit(".", 1)[-1] not in VALUE_WRAPPERS  # `mkIf c x ++ [ y ]` is wrong
    if not appendable:
        raise EditError(
            f"`{render_path(binding.path)}` is built in a way I cannot add to safely; please add "
            f"{', '.join(texts)} by hand"
        )
    end = binding.value.end_byte
    return TextEdit(end, end, " ++ [ " + " ".join(texts) + " ]")


def _refuse_hidden(bindings: Sequence[Binding], texts: Sequence[str], path: Sequence[str]) -> None:
    """Nothing to remove was found in a list we can see, yet the option's value names it (`lib.optionals c
    [ pkgs.git ]`): saying "already so" would be wrong, so refuse."""
    wanted = set(texts)
    for binding in bindings:
        stack = [binding.value]
        while stack:
            node = stack.pop()
            if node.type in ("identifier", "integer_expression", "string_expression") and text_of(node) in wanted:
                raise EditError(
                    f"`{render_path(path)}` holds {text_of(node)} in a way I cannot edit; please remove it by hand"
                )
            stack.extend(node.children)


def _new_list(doc: Document, names: Sequence[str], package_set: str) -> str:
    """A new package list in the style the file already uses (`with pkgs; [ … ]` unless it writes `pkgs.x`)."""
    marker = package_set.encode()
    uses_with = b"with " + marker + b";" in doc.source or marker + b"." not in doc.source
    items = " ".join(names if uses_with else [f"{package_set}.{n}" for n in names])
    return f"with {package_set}; [ {items} ]" if uses_with else f"[ {items} ]"


def add_to_list(doc: Document, path: Sequence[str], literals: Sequence[str]) -> list[TextEdit]:
    """Edits that add Nix literals (`8080`, `"docker"`) to the list option `path`; [] when all are there."""
    bindings = find_bindings(module_set(doc), tuple(path))
    lists = option_lists(module_set(doc), tuple(path))
    present = {element.text for nix_list in lists for element in nix_list.elements}
    missing = [item for item in dict.fromkeys(literals) if item not in present]
    if not missing:
        return []
    editable = [lst for lst in lists if not _shared(lst, bindings)]
    if not editable:
        if bindings:
            return [_append_list(bindings[0], missing)]
        return set_option(doc, path, "[ " + " ".join(missing) + " ]")
    return [insert_elements(doc, editable[0], missing)]


def remove_from_list(doc: Document, path: Sequence[str], literals: Sequence[str]) -> list[TextEdit]:
    """Edits that remove the Nix literals from the list option `path`; [] when none is there."""
    wanted = set(literals)
    bindings = find_bindings(module_set(doc), tuple(path))
    found = [
        (nix_list, element)
        for nix_list in option_lists(module_set(doc), tuple(path))
        for element in nix_list.elements
        if element.text in wanted
    ]
    return _removal_edits(doc, found, bindings, literals, path)


def _removal_edits(
    doc: Document, found: Sequence[tuple[NixList, ListElement]], bindings: Sequence[Binding],
    texts: Sequence[str], path: Sequence[str],
) -> list[TextEdit]:
    if not found:
        if not bindings:
            check_reachable(module_set(doc), path)  # `nix.settings = import ./x.nix;` may hold it: not "already so"
        if bindings and not any(lists_in_value(b.value, b.path) for b in bindings):
            raise EditError(
                f"`{render_path(path)}` is set in a way I cannot see into (not a list), so I cannot tell whether "
                f"it holds {', '.join(texts)}; please check it by hand"
            )
        _refuse_hidden(bindings, texts, path)
        return []
    for nix_list, element in found:
        if _shared(nix_list, bindings):
            raise EditError(
                f"{element.text} is in a list that `{render_path(path)}` shares with other settings; removing it "
                "there would change them too, so please remove it by hand"
            )
    return [_delete_element(doc, element.node) for _, element in found]


def _order_key(text: str) -> tuple[int, int | str]:
    """Numbers sort as numbers, names without `pkgs.` and case."""
    bare = text.removeprefix("pkgs.").strip('"')
    return (0, int(bare)) if bare.isdigit() else (1, bare.lower())


def insert_elements(doc: Document, target: NixList, texts: Sequence[str]) -> TextEdit:
    """Insert element texts into a list literal, one per line when the list is written that way, at the
    sorted place when the list is sorted, else at the end."""
    node = target.node
    elements = [e.node for e in target.elements]
    closing = node.children[-1]
    layout = layout_of(doc)
    per_line = doc.line_of(node.start_byte) != doc.line_of(closing.start_byte)
    keys = [_order_key(e.text) for e in target.elements]
    is_sorted = len(keys) >= 2 and keys == sorted(keys)
    if is_sorted and len(texts) == 1:
        key = _order_key(texts[0])
        before = next((el for el, other in zip(elements, keys) if other > key), None)
        if before is not None:
            if per_line and starts_line(doc, before.start_byte):
                start = doc.line_starts[doc.line_of(before.start_byte)]
                return TextEdit(start, start, f"{line_indent(doc, before.start_byte)}{texts[0]}{layout.newline}")
            return TextEdit(before.start_byte, before.start_byte, f"{texts[0]} ")
    if per_line:
        if elements and starts_line(doc, elements[-1].start_byte):
            indent = line_indent(doc, elements[-1].start_byte)
        else:
            indent = line_indent(doc, closing.start_byte) + layout.indent_unit
        anchor = elements[-1].end_byte if elements else node.children[0].end_byte
        if elements and doc.line_of(elements[-1].end_byte) == doc.line_of(closing.start_byte):
            return TextEdit(elements[-1].end_byte, elements[-1].end_byte, "".join(f" {t}" for t in texts))
        end = line_end(doc, anchor)
        return TextEdit(end, end, "".join(f"{layout.newline}{indent}{t}" for t in texts))
    if elements:
        return TextEdit(elements[-1].end_byte, elements[-1].end_byte, "".join(f" {t}" for t in texts))
    opener = node.children[0]
    return TextEdit(opener.end_byte, closing.start_byte, " " + " ".join(texts) + " ")


def package_list_paths(doc: Document) -> list[tuple[str, ...]]:
    """Where this module installs packages: `environment.systemPackages` and `users.users.<name>.packages`."""
    found = {
        b.path
        for b in bindings(module_set(doc))
        if b.path == SYSTEM_PACKAGES or (len(b.path) == 4 and b.path[:2] == ("users", "users") and b.path[3] == "packages")
    }
    return sorted(found, key=lambda p: (p != SYSTEM_PACKAGES, p))


def remove_packages(doc: Document, path: Sequence[str], names: Sequence[str], package_set: str = "pkgs") -> list[TextEdit]:
    """Edits that remove packages `names` from the list option `path`; [] when none of them is there."""
    wanted = set(names)
    bindings = find_bindings(module_set(doc), tuple(path))
    found = [
        (nix_list, element)
        for nix_list in package_lists(doc, path)
        for element in nix_list.elements
        if element.name in wanted and element.qualifier in (None, package_set)
    ]
    return _removal_edits(doc, found, bindings, list(names), path)


def _delete_element(doc: Document, element: Node) -> TextEdit:
    """Remove an element with the space around it; its whole line (and a comment on it) when it stands alone
    on that line."""
    line = doc.line_of(element.start_byte)
    line_start, line_stop = doc.line_span(line)
    before = doc.source[line_start : element.start_byte]
    after = doc.source[element.end_byte : line_stop].strip(b" \t")
    if not before.strip(b" \t") and (not after or after.startswith(b"#")):
        next_line = doc.line_starts[line + 1] if line + 1 < doc.line_count else line_stop
        return TextEdit(line_start, next_line, "")
    start = element.start_byte
    while start > 0 and doc.source[start - 1 : start] in (b" ", b"\t"):
        start -= 1
    return TextEdit(start, element.end_byte, "")

