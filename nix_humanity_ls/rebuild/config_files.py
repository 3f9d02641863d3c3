"""The files a NixOS configuration is made of, found without evaluating it, and how to map a path Nix printed
to one of them.

Nix names the files it read by the path it read them from: `/etc/nixos/services/web.nix`, or, for a flake,
`/nix/store/<hash>-source/services/web.nix`. The user edits `~/nixos-config/services/web.nix`. Errors are
located in the user's copy by following the configuration's `imports` (and a flake's `modules` lists)
statically from its entry files, then matching the printed path to the file with the longest common tail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence

import attrs
from tree_sitter import Node

from ..config_folder import store_relative
from ..files import FileProblem, read_nix_file
from ..syntax.document import Document
from ..syntax.query import attrpath_names, lists_in_value, nodes_of_type, text_of, unwrap

MAX_FILES = 500  # a configuration with more files than this is not followed further
_IMPORT_LISTS = frozenset({"imports", "modules"})  # a module's imports; nixosSystem's `modules` in a flake


@attrs.frozen
class PathLiteral:
    """A path written in a file (`./services/web.nix`) and the file it names on disk (directories mean their
    `default.nix`)."""

    file: str
    node: Node
    target: str


def resolve(base_file: str, written: str) -> str | None:
    """The absolute path a path literal in `base_file` names; None for `<nixpkgs>`-style and interpolated
    paths, which cannot be known without evaluating."""
    if "${" in written or written.startswith("<"):
        return None
    if written.startswith("~/"):
        path = os.path.join(os.path.expanduser("~"), written[2:])
    elif written.startswith("/"):
        path = written
    else:
        path = os.path.join(os.path.dirname(os.path.abspath(base_file)), written)
    path = os.path.normpath(path)
    return os.path.join(path, "default.nix") if os.path.isdir(path) else path


class ConfigFiles:
    """The configuration's files: the entry files and every file their `imports` name, in the order found
    (breadth first). `sources` gives the current text of files open in an editor; others are read from disk."""

    def __init__(self, entries: Sequence[str], sources: Mapping[str, str | bytes] | None = None) -> None:
        self._sources = {os.path.abspath(path): text for path, text in (sources or {}).items()}
        self._documents: dict[str, Document | None] = {}
        self.entries = tuple(os.path.abspath(path) for path in entries)
        self.files = self._follow()

    def document(self, path: str) -> Document | None:
        """The parsed file, or None when it cannot be read as Nix text."""
        path = os.path.abspath(path)
        if path not in self._documents:
            if path in self._sources:
                self._documents[path] = Document(path, self._sources[path])
            else:
                try:
                    self._documents[path] = Document(path, read_nix_file(path))
                except FileProblem:
                    self._documents[path] = None
        return self._documents[path]

    def path_literals(self, path: str) -> list[PathLiteral]:
        """Paths written in the file's import lists (`imports = [ ./a.nix (import ./b.nix) ];`, a flake's
        `modules = [ ./configuration.nix ];`), including those of files that do not exist."""
        doc = self.document(path)
        if doc is None:
            return []
        found = []
        for node in _import_list_elements(doc.tree.root_node):
            target = resolve(path, text_of(node))
            if target is not None:
                found.append(PathLiteral(path, node, target))
        return found

    def match(self, named: str | None) -> str | None:
        """The configuration file that a path Nix printed stands for: the file itself when it is one of
        ours, else the one sharing the longest tail of path segments with it. A flake's store copy
        (`/nix/store/…-source/a/b.nix`) must match all of `a/b.nix`; a file that exists here and is not ours
        (nixpkgs' own modules) matches nothing, unless it is the system's /etc/nixos, of which the user may
        be editing a copy."""
        if not named:
            return None
        named = os.path.normpath(named)
        if named in self.files:
            return named
        relative = store_relative(named)
        stored = relative is not None
        if not stored and os.path.exists(named) and not named.startswith("/etc/nixos/"):
            return None
        wanted = (relative if relative is not None else named).strip("/").split("/")
        best, best_length = None, len(wanted) - 1 if stored else 0
        for candidate in self.files:
            parts = candidate.strip("/").split("/")
            length = 0
            while length < min(len(parts), len(wanted)) and parts[-1 - length] == wanted[-1 - length]:
                length += 1
            if length > best_length:
                best, best_length = candidate, length
        return best

    def main_module(self) -> str | None:
        """The file a configuration-wide change goes to (`nixpkgs.config.allowUnfree`): the first module that
        is not a flake's `flake.nix`."""
        return next((path for path in self.files if os.path.basename(path) != "flake.nix"
                     and self.document(path) is not None), None)

    def _follow(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        queue = [path for path in self.entries]
        while queue and len(seen) < MAX_FILES:
            path = queue.pop(0)
            if path in seen or self.document(path) is None:
                continue
            seen[path] = None
            queue.extend(literal.target for literal in self.path_literals(path) if literal.target.endswith(".nix"))
        return tuple(seen)


def _import_list_elements(root: Node) -> Iterator[Node]:
    """Path literals that are elements of a list bound to `imports` or `modules`, anywhere in the file,
    directly or as `import ./x.nix`."""
    for node in nodes_of_type(root, "binding"):
        attrpath = node.child_by_field_name("attrpath")
        value = node.child_by_field_name("expression")
        names = attrpath_names(attrpath) if attrpath is not None else None
        if names and names[-1] in _IMPORT_LISTS and value is not None:
            for nix_list in lists_in_value(value):
                for element in nix_list.elements:
                    path = _imported_path(element.node)
                    if path is not None:
                        yield path


def _imported_path(element: Node) -> Node | None:
    node = unwrap(element)
    if node is not None and node.type == "apply_expression":
        function = node.child_by_field_name("function")
        if function is not None and text_of(function) in ("import", "builtins.import"):
            node = unwrap(node.child_by_field_name("argument"))
    return node if node is not None and node.type == "path_expression" else None
