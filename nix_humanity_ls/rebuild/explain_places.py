"""Where in the user's files a problem is, when Nix does not say or says it by another path.

The module system names only a file (`- In `/etc/nixos/services/web.nix'`) or nothing; check-meta names the
package, not the list it is in; a hash mismatch names the derivation, not the string to change. Each is found
in the configuration's syntax trees instead: the binding of the option (any spelling, `config.` prefix or
not), the list element of the package, the string literal holding the hash, the path literal in `imports`.
Positions Nix does print are moved onto the user's copy of the file (see `ConfigFiles.match`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from tree_sitter import Node

from ..config_folder import store_relative
from ..edits.lists import package_list_paths
from ..edits.options import EditError
from ..syntax.document import Document, Position, PositionEncoding
from ..syntax.query import Binding, bindings, find_bindings, module_attrset, nodes_of_type, option_lists, text_of
from . import nix_hash
from .config_files import ConfigFiles


@attrs.frozen
class Place:
    """A byte range `start`..`end` of `file` (as `doc` holds it)."""

    file: str
    doc: Document
    start: int
    end: int

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of a byte offset."""
        position = self.doc.position_at(offset, PositionEncoding.UTF32)
        return position.line + 1, position.character + 1


def _ordered(files: ConfigFiles, named: str | None) -> list[str]:
    """The file Nix named first (mapped onto ours), then every other file of the configuration."""
    first = files.match(named)
    return [path for path in dict.fromkeys(([first] if first else []) + list(files.files))]


def option_binding(files: ConfigFiles, option: Sequence[str], named: str | None) -> tuple[Place, Binding] | None:
    """The binding that sets `option` (or `config.<option>`); else the first binding inside it
    (`virtualHost."example.org".root = …;` for an unknown `services.nginx.virtualHost`); else the deepest
    binding of a prefix of at least two segments (`services.foo = { … };` for a misspelled `services.foo.bar`)."""
    option = tuple(option)
    order = _ordered(files, named)
    for strategy in ("exact", "inside", "prefix"):
        for path in order:
            doc = files.document(path)
            attrset = module_attrset(doc.tree) if doc is not None else None
            if doc is None or attrset is None:
                continue
            binding = _find(attrset, option, strategy)
            if binding is not None:
                return Place(path, doc, binding.attrpath.start_byte, binding.attrpath.end_byte), binding
    return None


def _find(attrset: Node, option: tuple[str, ...], strategy: str) -> Binding | None:
    for base in ((), ("config",)):
        wanted = base + option
        if strategy == "exact":
            found = find_bindings(attrset, wanted)
            if found:
                return found[0]
        elif strategy == "inside":
            inside = next((b for b in bindings(attrset) if b.path[: len(wanted)] == wanted), None)
            if inside is not None:
                return inside
        else:
            for length in range(len(wanted) - 1, len(base) + 1, -1):
                found = find_bindings(attrset, wanted[:length])
                if found:
                    return found[0]
    return None


def package_element(files: ConfigFiles, pname: str) -> Place | None:
    """The list element naming package `pname` in a package list (systemPackages, a user's packages)."""
    for path in files.files:
        doc = files.document(path)
        if doc is None or doc.tree.root_node.has_error or module_attrset(doc.tree) is None:
            continue
        try:
            owners = package_list_paths(doc)
        except EditError:
            continue
        attrset = module_attrset(doc.tree)
        for owner in owners:
            for nix_list in option_lists(attrset, owner):
                for element in nix_list.elements:
                    if element.name == pname:
                        return Place(path, doc, element.node.start_byte, element.node.end_byte)
    return None


def hash_literal(files: ConfigFiles, specified: nix_hash.NixHash) -> tuple[Place, nix_hash.NixHash] | None:
    """The string in the user's files that holds the hash Nix says was specified, in whatever spelling."""
    for path in files.files:
        doc = files.document(path)
        if doc is None:
            continue
        for fragment in nodes_of_type(doc.tree.root_node, "string_fragment"):
            written = nix_hash.parse(text_of(fragment), specified.algo)
            if written is not None and written.digest == specified.digest and written.algo == specified.algo:
                return Place(path, doc, fragment.start_byte, fragment.end_byte), written
    return None


def import_literal(files: ConfigFiles, missing: str) -> Place | None:
    """The path literal in an import list that names the file Nix could not find: the same path, else one
    with the same file name (or, for a flake's store copy, the same path inside the flake)."""
    tail = "/" + (store_relative(missing) or missing.rsplit("/", 1)[-1])
    near = None
    for path in files.files:
        doc = files.document(path)
        for literal in files.path_literals(path):
            if doc is not None and literal.target == missing:
                return Place(path, doc, literal.node.start_byte, literal.node.end_byte)
            if doc is not None and near is None and literal.target.endswith(tail):
                near = Place(path, doc, literal.node.start_byte, literal.node.end_byte)
    return near


def position(files: ConfigFiles, named: str | None, line: int | None, column: int | None,
             quoted: str | None = None) -> Place | None:
    """Nix's `at FILE:LINE:COLUMN`, moved onto the user's copy of FILE; the span is the token there. When Nix
    quoted the line (its code frame) and our copy differs there, the position follows the quoted line to
    where it is now; if the copy has no such line, the position cannot be trusted and None is returned."""
    path = files.match(named)
    doc = files.document(path) if path else None
    if doc is None or line is None or line < 1 or line > doc.line_count:
        return None
    if quoted is not None and _line_text(doc, line - 1) != quoted.rstrip():
        same = [n for n in range(doc.line_count) if _line_text(doc, n) == quoted.rstrip()]
        if not same:
            return None
        line = 1 + min(same, key=lambda n: abs(n - (line - 1)))
    offset = doc.offset_at(Position(line - 1, max((column or 1) - 1, 0)), PositionEncoding.UTF8)
    node = doc.tree.root_node.named_descendant_for_byte_range(offset, offset)
    end = node.end_byte if node is not None and node.start_byte == offset else offset
    return Place(path, doc, offset, end) if path else None


def _line_text(doc: Document, line: int) -> str:
    start, end = doc.line_span(line)
    return doc.slice(start, end).rstrip()


def node_at(place: Place, types: Sequence[str]) -> Node | None:
    """The outermost node of one of `types` that starts exactly at `place.start`."""
    node = place.doc.tree.root_node.named_descendant_for_byte_range(place.start, place.start)
    found = None
    while node is not None and node.start_byte == place.start:
        if node.type in types:
            found = node
        node = node.parent
    return found
