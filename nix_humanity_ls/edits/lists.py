"""Adding to and removing from list options such as `environment.systemPackages`, in the list's own style:
`with pkgs; [ … ]` or `[ pkgs.x … ]`, one item per line or all on one line, sorted or in the user's order."""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import NixList, option_lists
from .layout import layout_of, line_end, line_indent, starts_line
from .options import module_set, set_option
from .text_edit import TextEdit


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
    lists = package_lists(doc, path)
    missing = [n for n in dict.fromkeys(names) if n not in present_packages(lists, package_set)]
    if not missing:
        return []
    if not lists:
        return set_option(doc, path, _new_list(doc, missing, package_set))
    target = next((lst for lst in lists if lst.with_scope == package_set), None) or next(
        (lst for lst in lists if any(e.qualifier == package_set for e in lst.elements)), lists[0]
    )
    texts = [name if target.with_scope == package_set else f"{package_set}.{name}" for name in missing]
    return [_insert_elements(doc, target, texts)]


def _new_list(doc: Document, names: Sequence[str], package_set: str) -> str:
    """A new package list in the style the file already uses (`with pkgs; [ … ]` unless it writes `pkgs.x`)."""
    marker = package_set.encode()
    uses_with = b"with " + marker + b";" in doc.source or marker + b"." not in doc.source
    items = " ".join(names if uses_with else [f"{package_set}.{n}" for n in names])
    return f"with {package_set}; [ {items} ]" if uses_with else f"[ {items} ]"


def add_to_list(doc: Document, path: Sequence[str], literals: Sequence[str]) -> list[TextEdit]:
    """Edits that add Nix literals (`8080`, `"docker"`) to the list option `path`; [] when all are there."""
    lists = option_lists(module_set(doc), tuple(path))
    present = {element.text for nix_list in lists for element in nix_list.elements}
    missing = [item for item in dict.fromkeys(literals) if item not in present]
    if not missing:
        return []
    if not lists:
        return set_option(doc, path, "[ " + " ".join(missing) + " ]")
    return [_insert_elements(doc, lists[0], missing)]


def remove_from_list(doc: Document, path: Sequence[str], literals: Sequence[str]) -> list[TextEdit]:
    """Edits that remove the Nix literals from the list option `path`; [] when none is there."""
    wanted = set(literals)
    return [
        _delete_element(doc, element.node)
        for nix_list in option_lists(module_set(doc), tuple(path))
        for element in nix_list.elements
        if element.text in wanted
    ]


def _order_key(text: str) -> tuple[int, int | str]:
    """Numbers sort as numbers, names without `pkgs.` and case."""
    bare = text.removeprefix("pkgs.").strip('"')
    return (0, int(bare)) if bare.isdigit() else (1, bare.lower())


def _insert_elements(doc: Document, target: NixList, texts: Sequence[str]) -> TextEdit:
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


def remove_packages(doc: Document, path: Sequence[str], names: Sequence[str], package_set: str = "pkgs") -> list[TextEdit]:
    """Edits that remove packages `names` from the list option `path`; [] when none of them is there."""
    edits = []
    wanted = set(names)
    for nix_list in package_lists(doc, path):
        for element in nix_list.elements:
            if element.name in wanted and element.qualifier in (None, package_set):
                edits.append(_delete_element(doc, element.node))
    return edits


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

